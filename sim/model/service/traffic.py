"""Request traffic: arrivals spread over a service's ready replicas by a load balancer.

Millions of requests cannot each be a SimPy process, or even an event. The driver is
one SimPy process that settles requests analytically (see `sim.model.service.replica_queue`): for an
arrival at ``t`` it draws the request's CPU time and response size, asks the balancer
for a ready replica, and lets that replica's queue say at once when the request starts
and finishes, or why it is dropped. Arrivals are handled in batches: while the next
arrival comes strictly before the next scheduled SimPy event (``env.peek()``), it is
handled without yielding, as pure computation; only then does the process wait until
that arrival. Changes to the ready set (a replica passing its health check, one being
drained) happen only in SimPy events, so every request sees the ready set as it is at
its arrival time. An arrival at the same instant as an already scheduled event is
handled after it, as SimPy orders events at one instant; in particular ``env.run(until=T)``
sees exactly the arrivals before ``T``.

Every request is reported once to a `RequestObserver`, when it is settled at its
arrival: ``served`` with its start and finish times (which may lie in the future of the
simulation clock), or ``dropped`` with a reason: ``"queue full"``, ``"timeout"``, or
``"no ready replica"`` when none is ready. So at every instant
``arrived == served + dropped``, with nothing pending; a request counted as served is
*in flight* until its finish time (`TrafficStats.in_flight`).

The request's CPU time and response size are drawn for every arrival, dropped ones
included, so the streams stay aligned between runs that differ only in capacity. The
driver owns those two generators and takes their uniforms in blocks
(`sim.core.uniforms`): the same numbers in the same order, faster.

Observers are called in the middle of a batch, when the simulation clock still lags the
request's arrival time; they record, and must not schedule SimPy events (the driver
relies on the next event's time staying put during a batch).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast, overload

import numpy as np
import simpy

from sim.core.records import DropReason
from sim.core.sketch import QuantileSketch
from sim.core.uniforms import BlockUniforms
from sim.model.service.arrivals import ArrivalProcess, recorded_before
from sim.model.service.replica_queue import ReplicaQueue
from sim.model.service.workload import RequestSpec
from sim.policies.balancing import Balancer

NO_READY_REPLICA = DropReason.NO_READY_REPLICA
NOT_STARTED = DropReason.NOT_STARTED


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


class _Loads(Sequence[int]):
    """Outstanding requests per ready replica at one instant, computed only when read.

    Round robin and random choice only ask how many replicas there are; computing every
    replica's load for them would cost O(replicas) per request.
    """

    __slots__ = ("_queues", "now_s")

    def __init__(self, queues: list[ReplicaQueue]) -> None:
        self._queues = queues
        self.now_s = 0.0

    def __len__(self) -> int:
        return len(self._queues)

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...

    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        if isinstance(index, slice):
            return [queue.outstanding(self.now_s) for queue in self._queues[index]]
        return self._queues[index].outstanding(self.now_s)

    def __iter__(self) -> Iterator[int]:
        now_s = self.now_s
        return (queue.outstanding(now_s) for queue in self._queues)


class TrafficDriver:
    """Sends a workload's requests to a service's ready replicas.

    Run its `run` as one SimPy process. Replicas join and leave the ready set with
    `add_replica`, `drain_replica` and `remove_replica`; only ready replicas get
    requests, in the order they joined.

    Args:
        env: the simulation environment.
        arrivals: when requests arrive (it owns its generator).
        request_spec: each request's CPU time and response size.
        balancer: picks a ready replica per request.
        cpu_rng: the stream CPU times are drawn from, one uniform per request; it
            belongs to the driver.
        response_rng: the stream response sizes are drawn from, one uniform per
            request; it belongs to the driver.
        balancer_rng: the stream a drawing balancer uses.
        observer: told about every request.
        max_requests: stop after this many arrivals (None: when the arrivals end).
    """

    def __init__(
        self,
        env: simpy.Environment,
        arrivals: ArrivalProcess,
        request_spec: RequestSpec,
        balancer: Balancer,
        cpu_rng: np.random.Generator,
        response_rng: np.random.Generator,
        balancer_rng: np.random.Generator,
        observer: RequestObserver,
        max_requests: int | None = None,
    ) -> None:
        self.env = env
        self.arrivals = arrivals
        self.request_spec = request_spec
        self.balancer = balancer
        self.cpu_rng = cpu_rng
        self.response_rng = response_rng
        self.balancer_rng = balancer_rng
        self.observer = observer
        self.max_requests = max_requests
        self.arrived = 0
        """Requests that have arrived so far (each was reported to the observer)."""
        self._ready: list[ReplicaQueue] = []
        self._loads = _Loads(self._ready)

    @property
    def ready_replicas(self) -> tuple[str, ...]:
        """The names of the replicas taking requests, in balancing order."""
        return tuple(queue.name for queue in self._ready)

    def add_replica(self, queue: ReplicaQueue) -> None:
        """`queue`'s replica is ready: it takes requests from now on, last in order."""
        if queue.draining:
            raise ValueError(f"{queue.name} is draining")
        if any(ready.name == queue.name for ready in self._ready):
            raise ValueError(f"{queue.name} is already ready")
        self._ready.append(queue)

    def remove_replica(self, name: str) -> ReplicaQueue:
        """Stop sending requests to `name` and return its queue.

        Requests already assigned to it keep the finish times they were given and
        were reported as served: requests are settled at arrival and cannot be
        recalled, so a replica that crashes still completes them in this model. The
        queue is not marked draining and may be added back; `drain_replica` marks it.

        Raises:
            KeyError: `name` is not ready.
        """
        for index, queue in enumerate(self._ready):
            if queue.name == name:
                # In place: the running process and the load view share this list.
                del self._ready[index]
                return queue
        raise KeyError(name)

    def drain_replica(self, name: str) -> ReplicaQueue:
        """Stop sending requests to `name`, mark it draining and return its queue.

        Its in-flight requests finish; it is idle from ``queue.drained_at_s()`` on.

        Raises:
            KeyError: `name` is not ready.
        """
        queue = self.remove_replica(name)
        queue.drain()
        return queue

    def drop_unstarted(self, t_s: float, open_since_s: float) -> int:
        """Count the recorded arrivals before `t_s` (a trace's rows before traffic
        starts) as dropped, ``not started``; returns how many.

        Call it once, when traffic starts or at the end of a run it never started in.
        Each is reported at its own time, or at `open_since_s` (the start of the first
        monitoring period still open) if that is later, so it lands in a period that is
        still to be written. No CPU time or response size is drawn for them.
        """
        times_s = recorded_before(self.arrivals, t_s)
        for time_s in times_s:
            self.observer.dropped(max(time_s, open_since_s), NOT_STARTED, None)
        self.arrived += len(times_s)
        return len(times_s)

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The SimPy process: settle every arrival, in batches between other events."""
        env = self.env
        peek = env.peek
        next_after = self.arrivals.next_after
        sample_cpu_s = self.request_spec.cpu_s.sample
        sample_response_bytes = self.request_spec.response_bytes.sample
        # A distribution samples with exactly one `random()` call (its contract), which
        # is all a block source offers: the same uniforms, without numpy's per-call cost.
        cpu_rng = cast(np.random.Generator, BlockUniforms(self.cpu_rng))
        response_rng = cast(np.random.Generator, BlockUniforms(self.response_rng))
        balancer_rng = self.balancer_rng
        choose = self.balancer.choose
        report_served = self.observer.served
        report_dropped = self.observer.dropped
        ready, loads = self._ready, self._loads
        limit = math.inf if self.max_requests is None else self.max_requests
        arrived = self.arrived
        arrival_s = next_after(env.now)
        # Only a yield lets other events be scheduled, so the next one's time holds
        # for the whole batch.
        next_event_s = peek()
        while arrival_s != math.inf and arrived < limit:
            if arrival_s >= next_event_s:
                yield env.timeout(arrival_s - env.now)
                next_event_s = peek()
            arrived += 1
            self.arrived = arrived
            cpu_s = sample_cpu_s(cpu_rng)
            response_bytes = sample_response_bytes(response_rng)
            if ready:
                loads.now_s = arrival_s
                queue = ready[choose(loads, balancer_rng)]
                outcome = queue.offer(arrival_s, cpu_s)
                if isinstance(outcome, tuple):
                    report_served(
                        queue.name, arrival_s, outcome[0], outcome[1], cpu_s, response_bytes
                    )
                else:
                    report_dropped(arrival_s, outcome, queue.name)
            else:
                report_dropped(arrival_s, NO_READY_REPLICA, None)
            arrival_s = next_after(arrival_s)


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
