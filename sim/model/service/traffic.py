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
*in flight* until its finish time (`sim.model.service.requests.TrafficStats.in_flight`).

With an `Interceptor` (a service that scales to zero), a request that finds no ready
replica is held instead of dropped, and settled later: when a replica becomes ready
(`add_replica` hands it every held request, which keeps its arrival time, so the hold
counts in its wait), or dropped ``"activation timeout"`` when its wait runs out, or
``"activation buffer full"`` at once when the interceptor holds as many as it can. Then
``arrived == served + dropped + held``.

The request's CPU time and response size are drawn for every arrival, dropped ones
included, so the streams stay aligned between runs that differ only in capacity. The
driver owns those two generators and takes their uniforms in blocks
(`sim.core.uniforms`): the same numbers in the same order, faster.

Observers are called in the middle of a batch, when the simulation clock still lags the
request's arrival time; they record, and must not schedule SimPy events (the driver
relies on the next event's time staying put during a batch).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator, Sequence
from typing import Any, cast, overload

import numpy as np
import simpy

from sim.core.records import DropReason
from sim.core.uniforms import BlockUniforms
from sim.model.service.arrivals import ArrivalProcess, recorded_before
from sim.model.service.interceptor import (
    ACTIVATION_BUFFER_FULL,
    ACTIVATION_TIMEOUT,
    Interceptor,
)
from sim.model.service.replica_queue import ReplicaQueue
from sim.model.service.requests import RequestObserver
from sim.model.service.workload import RequestSpec
from sim.policies.balancing import Balancer

NO_READY_REPLICA = DropReason.NO_READY_REPLICA
NOT_STARTED = DropReason.NOT_STARTED


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
        interceptor: holds requests while no replica is ready (None: they are dropped,
            ``no ready replica``).
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
        interceptor: Interceptor | None = None,
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
        self.interceptor = interceptor
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
        if self.interceptor is not None and self.interceptor.held:
            self._release(self.interceptor, self.env.now)

    @property
    def held(self) -> int:
        """Requests held at the interceptor now, waiting for a ready replica."""
        return len(self.interceptor.held) if self.interceptor is not None else 0

    def settle_held(self, now_s: float) -> int:
        """Drop the held requests whose wait ran out by `now_s`; returns how many are
        still held (at the end of a run: neither served nor dropped yet)."""
        if self.interceptor is not None:
            for request in self.interceptor.expired(now_s):
                self.observer.dropped(request.arrival_s, ACTIVATION_TIMEOUT, None)
        return self.held

    def _hold(
        self, interceptor: Interceptor, arrival_s: float, cpu_s: float, response_bytes: float
    ) -> None:
        """A request found no ready replica: the interceptor holds it, or drops it when
        full."""
        self.settle_held(arrival_s)
        if not interceptor.hold(arrival_s, cpu_s, response_bytes):
            self.observer.dropped(arrival_s, ACTIVATION_BUFFER_FULL, None)

    def _release(self, interceptor: Interceptor, now_s: float) -> None:
        """A replica is ready: the held requests whose wait has not run out go to the
        ready replicas now, oldest first, as the balancer spreads them."""
        self.settle_held(now_s)
        loads = self._loads
        loads.now_s = now_s
        for request in interceptor.release():
            queue = self._ready[self.balancer.choose(loads, self.balancer_rng)]
            outcome = queue.offer(now_s, request.cpu_s)
            if isinstance(outcome, tuple):
                self.observer.served(
                    queue.name,
                    request.arrival_s,
                    outcome[0],
                    outcome[1],
                    request.cpu_s,
                    request.response_bytes,
                )
            else:
                self.observer.dropped(request.arrival_s, outcome, queue.name)

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
        interceptor = self.interceptor
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
            if interceptor is not None:
                interceptor.count(arrival_s)
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
            elif interceptor is not None:
                self._hold(interceptor, arrival_s, cpu_s, response_bytes)
            else:
                report_dropped(arrival_s, NO_READY_REPLICA, None)
            arrival_s = next_after(arrival_s)
