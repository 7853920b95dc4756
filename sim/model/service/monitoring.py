"""CloudWatch-like monitoring: what each replica did, collected per period.

Requests are reported as they are resolved (see `sim.model.service.traffic`): a request counts
toward ``RequestCount`` in the period it arrives in, toward ``NetworkOut`` and
``Latency`` in the period it finishes in, and its service time counts as busy CPU in
every period it overlaps, so ``CPUUtilization`` is exact per period. A period is closed
at its end; by then every request that can contribute to it has been reported.

Per-replica metrics (``CPUUtilization`` in percent of the replica's vCPUs,
``NetworkOut`` in bytes per period, ``RequestCount``, ``Latency`` in seconds) combine
across the replicas in service during the period by a statistic (``Average``, ``Sum``,
``Minimum``, ``Maximum``), as CloudWatch aggregates an Auto Scaling group's instances.
``HealthyHostCount`` is the number of replicas in service at the end of the period.
The wait for a worker (arrival to start of service) counts in the period the request
starts in, by its mean and its percentiles from a `QuantileSketch`. A period notes its
waits while it is open and sketches them at once (vectorised) when it closes, then
merges that sketch into the run's (`Monitoring.wait_sketch`), which gives the summary's
wait percentiles: a request costs one list append, not two sketch updates, and memory
holds one period's waits at most.
The queries over closed periods (a metric at a statistic over longer, aligned periods,
as CloudWatch answers them) are `sim.model.service.metric_queries`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from sim.core.metrics import PRODUCED, Statistic
from sim.core.sketch import QuantileSketch

METRICS = PRODUCED
STATISTICS = tuple(Statistic)


@dataclass(slots=True)
class _Usage:
    """What one replica did in one base period."""

    requests: int = 0
    busy_s: float = 0.0
    bytes_out: float = 0.0
    latency_sum_s: float = 0.0
    completed: int = 0
    waits_s: list[float] = field(default_factory=list)
    """The waits of the requests that started in the period, until it closes."""


@dataclass(slots=True)
class _Period:
    usage: dict[str, _Usage] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    weighted_waits: QuantileSketch | None = None
    """Waits counted in expected numbers of requests (the fluid traffic mode)."""
    weighted_wait_sum_s: float = 0.0

    def wait_sketch(self) -> QuantileSketch:
        """The waits of the requests that started in the period so far, in a sketch."""
        sketch = QuantileSketch()
        for replica in sorted(self.usage):
            sketch.add_many(self.usage[replica].waits_s)
        if self.weighted_waits is not None:
            sketch.merge(self.weighted_waits)
        return sketch


@dataclass(frozen=True, slots=True)
class PeriodWait:
    """The wait for a worker of the requests that started service in one period.

    Attributes:
        started: how many requests started (an expectation in the fluid mode).
        mean_s: their mean wait (0 when none started).
        p50_s: its median, within 1 % (0 when none started).
        p95_s: its 95th percentile, within 1 %.
        p99_s: its 99th percentile, within 1 %.
    """

    started: float = 0
    mean_s: float = 0.0
    p50_s: float = 0.0
    p95_s: float = 0.0
    p99_s: float = 0.0


class ReplicaUsage(NamedTuple):
    """What one replica did in one closed base period."""

    requests: int
    """Requests that arrived for it in the period."""
    busy_s: float
    """Worker-seconds it was busy in the period (CPU time)."""
    bytes_out: float
    """Response bytes of the requests that finished in the period."""
    latency_sum_s: float
    """The sum of their latencies (arrival to finish)."""
    completed: int
    """Requests that finished in the period."""


@dataclass(frozen=True, slots=True)
class PeriodMetrics:
    """One closed base period.

    Attributes:
        index: the period's number (it covers ``[index × period, (index + 1) × period)``).
        in_service: the replicas in service at some time during the period, in order.
        healthy: replicas in service at its end.
        usage: what each replica did (`ReplicaUsage`).
        dropped: requests dropped in the period, by reason.
        wait: the wait of the requests that started service in the period.
    """

    index: int
    in_service: tuple[str, ...]
    healthy: int
    usage: dict[str, ReplicaUsage]
    dropped: dict[str, int]
    wait: PeriodWait = PeriodWait()


class Monitoring:
    """Collects request metrics per base period and closes each period at its end.

    Args:
        period_s: the base period (CloudWatch's detailed monitoring: 60 s).
        vcpus_of: a replica's vCPUs, by name (for ``CPUUtilization``).
    """

    def __init__(self, period_s: float, vcpus_of: Callable[[str], float]) -> None:
        self.period_s = period_s
        self.vcpus_of = vcpus_of
        """A replica's vCPUs, by name (``CPUUtilization`` is in percent of them)."""
        self._open: dict[int, _Period] = {}
        self._in_service: dict[str, None] = {}
        self._seen: dict[str, None] = {}
        self.closed: list[PeriodMetrics] = []
        self.busy_total_s = 0.0
        # Requests busy through whole periods: per replica, how many such spans start
        # (+1) or end (-1) at a period, and how many cover the period being closed.
        self._span_changes: dict[int, dict[str, int]] = {}
        self._spans: dict[str, int] = {}
        self._closed_waits = QuantileSketch()
        self._withdrawn_waits_s: list[float] = []
        self._before_close: list[Callable[[int], None]] = []

    @property
    def open_since_s(self) -> float:
        """When the first period not closed yet began."""
        return len(self.closed) * self.period_s

    def _period(self, index: int) -> _Period:
        period = self._open.get(index)
        if period is None:
            period = self._open[index] = _Period()
        return period

    def _usage(self, index: int, replica: str) -> _Usage:
        usage = self._period(index).usage
        record = usage.get(replica)
        if record is None:
            record = usage[replica] = _Usage()
        return record

    def replica_in_service(self, replica: str) -> None:
        """The replica starts taking traffic (it passed its health check)."""
        self._in_service[replica] = None
        self._seen[replica] = None

    def replica_out_of_service(self, replica: str) -> None:
        """The replica stops taking new traffic (draining or gone)."""
        self._in_service.pop(replica, None)

    def served(
        self,
        replica: str,
        arrival_s: float,
        start_s: float,
        finish_s: float,
        cpu_s: float,
        response_bytes: float,
    ) -> None:
        """Account one request served by `replica`."""
        period_s = self.period_s
        self.busy_total_s += finish_s - start_s
        arrived_in = int(arrival_s // period_s)
        finished_in = int(finish_s // period_s)
        index = int(start_s // period_s)
        arrived = self._usage(arrived_in, replica)
        arrived.requests += 1
        finished = arrived if finished_in == arrived_in else self._usage(finished_in, replica)
        finished.bytes_out += response_bytes
        finished.latency_sum_s += finish_s - arrival_s
        finished.completed += 1
        started = arrived if index == arrived_in else self._usage(index, replica)
        started.waits_s.append(start_s - arrival_s)
        boundary = (index + 1) * period_s
        if finish_s <= boundary:
            started.busy_s += finish_s - start_s
            return
        started.busy_s += boundary - start_s
        last = int(finish_s // period_s)
        if last * period_s >= finish_s:
            last -= 1
        self._usage(last, replica).busy_s += finish_s - last * period_s
        if last > index + 1:
            # The periods strictly between are busy throughout: booked as one span that
            # `close` adds period by period, so a request's cost does not grow with its
            # length.
            self._span_change(index + 1, replica, 1)
            self._span_change(last, replica, -1)

    def _span_change(self, index: int, replica: str, change: int) -> None:
        changes = self._span_changes.get(index)
        if changes is None:
            changes = self._span_changes[index] = {}
        changes[replica] = changes.get(replica, 0) + change

    def dropped(self, arrival_s: float, reason: str, replica: str | None) -> None:
        """Account one request dropped on arrival."""
        drops = self._period(int(arrival_s // self.period_s)).dropped
        drops[reason] = drops.get(reason, 0) + 1

    def before_close(self, hook: Callable[[int], None]) -> None:
        """Call `hook` with a period's index before closing it (to book what it owes)."""
        self._before_close.append(hook)

    def book(
        self,
        index: int,
        replica: str,
        requests: int,
        busy_s: float,
        bytes_out: float,
        latency_sum_s: float,
        completed: int,
    ) -> None:
        """Account what `replica` did in open period `index` in one go (fluid traffic)."""
        usage = self._usage(index, replica)
        usage.requests += requests
        usage.busy_s += busy_s
        usage.bytes_out += bytes_out
        usage.latency_sum_s += latency_sum_s
        usage.completed += completed
        self.busy_total_s += busy_s

    def book_dropped(self, index: int, reason: str, count: int) -> None:
        """Account `count` requests dropped for `reason` in open period `index`."""
        drops = self._period(index).dropped
        drops[reason] = drops.get(reason, 0) + count

    def book_waits(
        self,
        index: int,
        counts: np.ndarray,
        smallest_s: float,
        largest_s: float,
        sums_s: Sequence[float],
    ) -> None:
        """Account waits that started in open period `index`: counts per bucket of a
        `QuantileSketch` (`QuantileSketch.bucket_counts`), their range, and the sums of
        their waits (added in order, one per piece)."""
        period = self._period(index)
        if period.weighted_waits is None:
            period.weighted_waits = QuantileSketch()
        period.weighted_waits.add_bucket_counts(counts, smallest_s, largest_s)
        for sum_s in sums_s:
            period.weighted_wait_sum_s += sum_s

    def close(self, index: int) -> PeriodMetrics:
        """Close base period `index` (call at its end) and return its metrics."""
        for hook in self._before_close:
            hook(index)
        for replica, change in sorted(self._span_changes.pop(index, {}).items()):
            spans = self._spans.get(replica, 0) + change
            if spans:
                self._spans[replica] = spans
            else:
                del self._spans[replica]
        if self._spans:
            for replica, spans in self._spans.items():
                self._usage(index, replica).busy_s += spans * self.period_s
        period = self._open.pop(index, None) or _Period()
        waits = _wait_of(period)
        if waits.sketch.count:
            self._closed_waits.merge(waits.sketch)
        in_service = tuple(self._seen)
        self._seen = dict(self._in_service)
        usage = {
            replica: ReplicaUsage(u.requests, u.busy_s, u.bytes_out, u.latency_sum_s, u.completed)
            for replica, u in period.usage.items()
        }
        metrics = PeriodMetrics(
            index, in_service, len(self._in_service), usage, period.dropped, waits.wait
        )
        self.closed.append(metrics)
        return metrics

    def withdraw_wait(self, wait_s: float) -> None:
        """A request that started service was cut before it finished (its replica was
        lost): its wait leaves the run's wait percentiles, which are over served requests
        as the mean is; the period it started in still counts it."""
        self._withdrawn_waits_s.append(wait_s)

    def wait_sketch(self) -> QuantileSketch:
        """The waits of every request given a worker so far and not cut, closed periods
        and open."""
        sketch = self._closed_waits.copy()
        for index in sorted(self._open):
            sketch.merge(self._open[index].wait_sketch())
        for wait_s in self._withdrawn_waits_s:
            sketch.remove(wait_s)
        return sketch


class _Waits(NamedTuple):
    wait: PeriodWait
    sketch: QuantileSketch


def _wait_of(period: _Period) -> _Waits:
    sketch = period.wait_sketch()
    if not sketch.count:
        return _Waits(PeriodWait(), sketch)
    wait_sum_s = math.fsum([math.fsum(usage.waits_s) for usage in period.usage.values()])
    wait_sum_s += period.weighted_wait_sum_s
    wait = PeriodWait(
        sketch.count,
        wait_sum_s / sketch.count,
        sketch.quantile(0.5),
        sketch.quantile(0.95),
        sketch.quantile(0.99),
    )
    return _Waits(wait, sketch)
