"""What is known about a service's requests: the observer protocol every settled request
is reported to, and the running statistics in constant memory (`TrafficStats`) that the
request mode keeps and summarises (`TrafficSummary`; the fluid mode's statistics give the
same summary).

A request is reported once, when it is settled at its arrival: ``served`` with its start
and finish times (which may lie in the future of the simulation clock), or ``dropped``
with a reason (`sim.core.records.DropReason`); a served request is *in flight* until its
finish time.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sim.core.sketch import QuantileSketch


class RequestObserver(Protocol):
    """Told about every request once, when it is settled at its arrival.

    It records and never schedules SimPy events: it is called during a batch, while
    ``env.now`` is still before the arrival time it is given.
    """

    def served(
        self,
        replica: str,
        arrival_s: float,
        start_s: float,
        finish_s: float,
        cpu_s: float,
        response_bytes: float,
    ) -> None:
        """The request is assigned to `replica`; it will run from `start_s` to `finish_s`."""
        ...

    def dropped(self, arrival_s: float, reason: str, replica: str | None) -> None:
        """The request is turned away at arrival; `replica` is None when none was ready."""
        ...


class RequestObservers:
    """Several observers told the same thing, in order."""

    def __init__(self, observers: Sequence[RequestObserver]) -> None:
        self.observers = tuple(observers)

    def served(
        self,
        replica: str,
        arrival_s: float,
        start_s: float,
        finish_s: float,
        cpu_s: float,
        response_bytes: float,
    ) -> None:
        for observer in self.observers:
            observer.served(replica, arrival_s, start_s, finish_s, cpu_s, response_bytes)

    def dropped(self, arrival_s: float, reason: str, replica: str | None) -> None:
        for observer in self.observers:
            observer.dropped(arrival_s, reason, replica)


@dataclass(frozen=True, slots=True)
class TrafficSummary:
    """Request counts and latency statistics of a run (latency = finish − arrival).

    Attributes:
        arrived: requests that arrived.
        served: requests assigned to a replica (finished or in flight), not failed.
        dropped: requests turned away, as ``(reason, count)`` pairs sorted by reason.
        failed: requests cut before they finished, as ``(reason, count)`` pairs.
        served_within_slo: served requests whose latency met the SLO's.
        mean_wait_s: mean time from arrival to start (the wait in the replica's queue
            for a worker), over served requests.
        wait_p50_s: the median of that wait, within 1 % (see `sim.core.sketch`).
        wait_p95_s: its 95th percentile, within 1 %.
        wait_p99_s: its 99th percentile, within 1 %.
        mean_latency_s: mean time from arrival to finish, over served requests.
        latency_sd_s: the standard deviation of that time.
        latency_p50_s: its median, within 1 % (see `sim.core.sketch`).
        latency_p95_s: its 95th percentile, within 1 %.
        latency_p99_s: its 99th percentile, within 1 %.
    """

    arrived: int
    served: int
    dropped: tuple[tuple[str, int], ...]
    mean_wait_s: float
    wait_p50_s: float
    wait_p95_s: float
    wait_p99_s: float
    mean_latency_s: float
    latency_sd_s: float
    latency_p50_s: float
    latency_p95_s: float
    latency_p99_s: float
    failed: tuple[tuple[str, int], ...] = ()
    served_within_slo: int = 0


class TrafficStats:
    """Running request statistics in constant memory: a `RequestObserver`.

    Counts, means by Welford's update (numerically stable over millions of requests),
    and a `QuantileSketch` of latency, with 1 % relative error on its quantiles. The
    quantiles of the wait for a worker come from the monitoring's sketches of it (one
    per period, merged), which `summary` is given: one sketch per request, not two. It also
    keeps the finish times of requests still in flight, which is bounded by the
    replicas' workers and waiting rooms, not by the number of requests.

    Args:
        relative_accuracy: the latency sketch's relative error on quantiles.
    """

    def __init__(self, relative_accuracy: float = 0.01) -> None:
        self.arrived = 0
        self.served_count = 0
        self.drops_by_reason: dict[str, int] = {}
        self.latency_sketch = QuantileSketch(relative_accuracy)
        self._add_latency = self.latency_sketch.add
        self._mean_wait_s = 0.0
        self._mean_latency_s = 0.0
        self._latency_square_deviations_s2 = 0.0
        self._finishes_s: list[float] = []
        self._latest_s = -math.inf
        self.slo_latency_s = math.inf
        """A request served within this latency counts toward availability."""
        self.served_within_slo = 0
        self.failures_by_reason: dict[str, int] = {}

    def served(
        self,
        replica: str,
        arrival_s: float,
        start_s: float,
        finish_s: float,
        cpu_s: float,
        response_bytes: float,
    ) -> None:
        self.arrived += 1
        count = self.served_count = self.served_count + 1
        self._mean_wait_s += (start_s - arrival_s - self._mean_wait_s) / count
        latency_s = finish_s - arrival_s
        mean_latency_s = self._mean_latency_s
        deviation_s = latency_s - mean_latency_s
        mean_latency_s += deviation_s / count
        self._mean_latency_s = mean_latency_s
        self._latency_square_deviations_s2 += deviation_s * (latency_s - mean_latency_s)
        self._add_latency(latency_s)
        if latency_s <= self.slo_latency_s:
            self.served_within_slo += 1
        finishes_s = self._finishes_s
        if arrival_s > self._latest_s:
            self._latest_s = arrival_s
            while finishes_s and finishes_s[0] <= arrival_s:
                heapq.heappop(finishes_s)
        heapq.heappush(finishes_s, finish_s)

    def dropped(self, arrival_s: float, reason: str, replica: str | None) -> None:
        self.arrived += 1
        self.drops_by_reason[reason] = self.drops_by_reason.get(reason, 0) + 1

    def failed(self, requests: Sequence[tuple[float, float, float]], reason: str) -> None:
        """Requests reported served were cut before they finished (their replica went
        away): each ``(arrival_s, start_s, finish_s)`` leaves the served ones, their
        latencies leave the statistics, and they count as failed for `reason`."""
        finishes_s = self._finishes_s
        for arrival_s, start_s, finish_s in requests:
            count = self.served_count
            latency_s = finish_s - arrival_s
            if count == 1:
                self._mean_wait_s = self._mean_latency_s = 0.0
                self._latency_square_deviations_s2 = 0.0
            else:
                # Welford's update run backwards.
                self._mean_wait_s = (count * self._mean_wait_s - (start_s - arrival_s)) / (
                    count - 1
                )
                mean_s = self._mean_latency_s
                before_s = (count * mean_s - latency_s) / (count - 1)
                square_s2 = self._latency_square_deviations_s2
                square_s2 -= (latency_s - before_s) * (latency_s - mean_s)
                self._latency_square_deviations_s2 = max(square_s2, 0.0)
                self._mean_latency_s = before_s
            self.served_count = count - 1
            self.latency_sketch.remove(latency_s)
            if latency_s <= self.slo_latency_s:
                self.served_within_slo -= 1
            finishes_s.remove(finish_s)
            self.failures_by_reason[reason] = self.failures_by_reason.get(reason, 0) + 1
        heapq.heapify(finishes_s)

    @property
    def failed_count(self) -> int:
        """Requests cut before they finished, whatever the reason."""
        return sum(self.failures_by_reason.values())

    @property
    def dropped_count(self) -> int:
        """Requests dropped, whatever the reason."""
        return sum(self.drops_by_reason.values())

    @property
    def mean_wait_s(self) -> float:
        """Mean time from arrival to start over served requests (NaN before any)."""
        return self._mean_wait_s if self.served_count else math.nan

    @property
    def mean_latency_s(self) -> float:
        """Mean time from arrival to finish over served requests (NaN before any)."""
        return self._mean_latency_s if self.served_count else math.nan

    @property
    def latency_sd_s(self) -> float:
        """Sample standard deviation of latency (NaN before two requests)."""
        if self.served_count < 2:
            return math.nan
        return math.sqrt(self._latency_square_deviations_s2 / (self.served_count - 1))

    def latency_quantile_s(self, q: float) -> float:
        """The `q`-quantile of latency, within the sketch's relative accuracy."""
        return self.latency_sketch.quantile(q)

    def in_flight(self, t_s: float) -> int:
        """Served requests whose finish is after `t_s` (at or after the latest arrival)."""
        if t_s < self._latest_s:
            raise ValueError(f"in_flight({t_s}) asked before the latest arrival {self._latest_s}")
        self._latest_s = t_s
        finishes_s = self._finishes_s
        while finishes_s and finishes_s[0] <= t_s:
            heapq.heappop(finishes_s)
        return len(finishes_s)

    def summary(self, wait_sketch: QuantileSketch | None = None) -> TrafficSummary:
        """The statistics so far, as an immutable record.

        Args:
            wait_sketch: the waits of the same requests (`Monitoring.wait_sketch`), for
                the wait's quantiles; without it they are NaN.
        """

        def wait_quantile_s(q: float) -> float:
            return wait_sketch.quantile(q) if wait_sketch is not None else math.nan

        return TrafficSummary(
            arrived=self.arrived,
            served=self.served_count,
            dropped=tuple(sorted(self.drops_by_reason.items())),
            mean_wait_s=self.mean_wait_s,
            wait_p50_s=wait_quantile_s(0.5),
            wait_p95_s=wait_quantile_s(0.95),
            wait_p99_s=wait_quantile_s(0.99),
            mean_latency_s=self.mean_latency_s,
            latency_sd_s=self.latency_sd_s,
            latency_p50_s=self.latency_quantile_s(0.5),
            latency_p95_s=self.latency_quantile_s(0.95),
            latency_p99_s=self.latency_quantile_s(0.99),
            failed=tuple(sorted(self.failures_by_reason.items())),
            served_within_slo=self.served_within_slo,
        )
