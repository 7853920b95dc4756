"""The fluid engine: each replica's queue evolved piece by piece, booked per period.

Time is cut into *pieces*: at every change of the ready set (a replica entering service,
one drained), at every monitoring period's end, wherever the arrival rate jumps or bends
(an ``mmpp`` state's end, a trace's interval or second, a flash crowd's edges: see
`sim.model.service.arrivals.next_rate_change`), and at most `STEP_S` apart. In a piece
every replica in service gets an equal share of the arrivals (what round robin, random
choice and least outstanding requests give on average), their number being the integral
of the arrival process's rate (midpoint rule on cells of at most `CELL_S`), and each
replica's queue evolves in two layers:

* **A fluid backlog** ``b`` for overload, carried from piece to piece (Newell's
  deterministic fluid approximation of a queue with a time-varying arrival rate: G. F.
  Newell, *Applications of Queueing Theory*, 2nd ed., Chapman and Hall 1982, ch. 6): it
  grows at ``λ − cμ`` when the replica's arrival rate ``λ`` exceeds its capacity (``c``
  workers, ``μ = 1 / E[S]`` each), drains at ``cμ − λ`` otherwise, and stops at the bound
  ``B = min(queue, timeout × cμ)``: what flows in beyond it is dropped, as ``queue full``
  when the waiting room binds, else as ``timeout``. Within a piece the rate is constant,
  so ``b`` is a ramp then a flat (empty or full), solved exactly; a request arriving at
  ``t`` waits ``b(t) / cμ`` for it (first come, first served behind the backlog), so a
  burst's requests are spread over the ramp (`DELAY_POINTS` points) rather than given
  its average (`sim.model.service.fluid.backlog`).
* **The stationary queue** below capacity (``ρ = λ / cμ < 1``), taken at the piece's rate
  (`sim.model.service.fluid.queueing`): the wait is 0 with the complement of the
  probability of waiting and otherwise exponential with the matching mean — exact for
  M/M/c, Kingman's heavy-traffic exponential tail otherwise. A request whose wait would
  exceed ``B / cμ`` is dropped (probability ``P(wait) · exp(−B / (cμ · E[Wq | wait]))``).

Because pieces end where the rate changes, a burst above capacity is a piece of its own
whose backlog builds and drains as the fluid says, instead of being averaged with the
quiet time around it into a steady load.

Sampling noise: a period's CPU time and bytes out are sums over a random number of
requests, so the monitoring gets each replica's expected values plus a normal draw of
their standard deviation, ``sqrt(n (Ca² E[X]² + Var X))`` for ``n`` completions of size
``X`` (two draws per replica and period from the stream ``traffic/fluid-noise``). An
autoscaler whose target sits at the load (target tracking at exactly 50 % CPU) then acts
on noise as it does in the request mode, instead of never. Counts, latency and the
summary carry no noise.

What it does not see: the variance of counts (a fluid's served count is the mean over
seeds), queues that fill by chance beyond the fluid (the stationary drop share below
capacity; none above it, so a burst that nearly fills the queue drops less than the
request mode), and balancing that corrects per-replica imbalance (all replicas in
service get the same share). A random arrival process follows the same path in both
modes: ``mmpp`` draws its states from a stream of their own.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.core.records import DropReason
from sim.model.service.arrivals import ArrivalProcess, next_rate_change, recorded_before
from sim.model.service.fluid.backlog import Piece, evolve
from sim.model.service.fluid.queueing import arrival_scv, gi_g_c_wait, squared_cv
from sim.model.service.fluid.stats import Delays, FluidStats
from sim.model.service.monitoring import Monitoring
from sim.model.service.replica_queue import ReplicaQueue
from sim.model.service.workload import RequestSpec

STEP_S = 5.0
"""The longest piece: the rate of the arrivals is re-read at least this often."""

CELL_S = 1.0
"""The midpoint rule's cell for the number of arrivals in a piece."""


class FluidReplica:
    """One replica's queue as a fluid; the fleet drains it as it drains a `ReplicaQueue`."""

    __slots__ = (
        "name",
        "workers",
        "bound",
        "bound_reason",
        "draining",
        "backlog",
        "in_service",
        "assigned",
        "completed",
        "booked_assigned",
        "booked_completed",
        "busy_s",
        "bytes_out",
        "latency_sum_s",
        "busy_variance_s2",
        "bytes_variance",
        "drained_s",
    )

    def __init__(self, queue: ReplicaQueue, service_rate_per_s: float) -> None:
        self.name = queue.name
        self.workers = queue.workers
        capacity_per_s = queue.workers * service_rate_per_s
        by_timeout = queue.timeout_s * capacity_per_s
        self.bound = min(float(queue.queue_capacity), by_timeout)
        self.bound_reason = (
            DropReason.QUEUE_FULL if queue.queue_capacity <= by_timeout else DropReason.TIMEOUT
        )
        self.draining = False
        self.backlog = 0.0
        self.in_service = 0.0
        self.assigned = 0.0
        self.completed = 0.0
        self.booked_assigned = 0
        self.booked_completed = 0
        self.busy_s = 0.0
        self.bytes_out = 0.0
        self.latency_sum_s = 0.0
        self.busy_variance_s2 = 0.0
        self.bytes_variance = 0.0
        self.drained_s = math.inf

    def outstanding(self, t_s: float) -> int:
        """Requests assigned and not finished (rounded; 0 once drained)."""
        return 0 if t_s >= self.drained_s else round(self.backlog + self.in_service)

    def drain(self) -> None:
        self.draining = True

    def drained_at_s(self) -> float:
        return self.drained_s


class FluidTraffic:
    """The fluid traffic of a service: the counterpart of `sim.model.service.traffic.TrafficDriver`.

    Args:
        env: the simulation environment.
        arrivals: when requests arrive (only its rate is read).
        arrival_kind: the arrival process's kind (``constant`` is deterministic).
        request_spec: each request's CPU time and response size.
        balancer: the balancer's kind (how a replica's arrivals are thinned).
        monitoring: where each period's metrics go.
        noise_rng: the stream of the metrics' sampling noise (two normal draws per
            replica and period).
    """

    def __init__(
        self,
        env: simpy.Environment,
        arrivals: ArrivalProcess,
        arrival_kind: str,
        request_spec: RequestSpec,
        balancer: str,
        monitoring: Monitoring,
        noise_rng: np.random.Generator,
    ) -> None:
        self.env = env
        self.noise_rng = noise_rng
        self.arrivals = arrivals
        self.arrival_kind = arrival_kind
        self.balancer = balancer
        self.monitoring = monitoring
        self.period_s = monitoring.period_s
        cpu = request_spec.cpu_s
        self.mean_service_s = cpu.mean()
        if not self.mean_service_s > 0:
            raise ValueError("the fluid mode needs a positive mean CPU time per request")
        self.service_rate_per_s = 1 / self.mean_service_s
        self.service_scv = squared_cv(cpu)
        self.mean_response_bytes = request_spec.response_bytes.mean()
        self.response_variance = squared_cv(request_spec.response_bytes) * (
            self.mean_response_bytes**2
        )
        self.stats = FluidStats(self, cpu)
        self._ready: list[FluidReplica] = []
        self._draining: list[FluidReplica] = []
        self._started = False
        self._t_s = 0.0
        self._drops: dict[str, float] = {}
        self._booked_drops: dict[str, int] = {}
        monitoring.before_close(self._close)

    @property
    def ready_replicas(self) -> tuple[str, ...]:
        return tuple(replica.name for replica in self._ready)

    def add_replica(self, queue: ReplicaQueue) -> None:
        """`queue`'s replica takes a share of the arrivals from now on."""
        self.advance(self.env.now)
        if any(ready.name == queue.name for ready in self._ready):
            raise ValueError(f"{queue.name} is already ready")
        self._ready.append(FluidReplica(queue, self.service_rate_per_s))

    def remove_replica(self, name: str) -> FluidReplica:
        """Stop sending requests to `name`; it serves out its queue."""
        self.advance(self.env.now)
        for index, replica in enumerate(self._ready):
            if replica.name == name:
                del self._ready[index]
                capacity_per_s = replica.workers * self.service_rate_per_s
                replica.drained_s = self.env.now + replica.backlog / capacity_per_s
                if replica.in_service > 0:
                    replica.drained_s += self.mean_service_s
                self._draining.append(replica)
                return replica
        raise KeyError(name)

    def drain_replica(self, name: str) -> FluidReplica:
        """Stop sending requests to `name`, mark it draining and return its queue."""
        replica = self.remove_replica(name)
        replica.drain()
        return replica

    def drop_unstarted(self, t_s: float, open_since_s: float) -> int:
        """Count the recorded arrivals before `t_s` as dropped, ``not started``, in the
        period open now (see `sim.model.service.traffic.TrafficDriver.drop_unstarted`)."""
        count = len(recorded_before(self.arrivals, t_s))
        if count:
            self.stats.arrived += count
            self._drop(DropReason.NOT_STARTED, count)
        return count

    def run(self) -> Generator[simpy.Event, Any, None]:
        """Open to traffic now; pieces are computed when anything asks (no events)."""
        self._started = True
        self._t_s = self.env.now
        yield from ()

    def advance(self, t_s: float) -> None:
        """Evolve every queue up to `t_s`, booking each piece in its period."""
        if not self._started:
            return
        period_s = self.period_s
        while self._t_s < t_s:
            start_s = self._t_s
            index = int(start_s // period_s)
            period_end_s = (index + 1) * period_s
            change_s = next_rate_change(self.arrivals, start_s)
            end_s = min(t_s, start_s + STEP_S, period_end_s, change_s)
            self._piece(start_s, end_s, index)
            self._t_s = end_s
            if end_s >= period_end_s:
                self._flush(index)
        self.stats.flush()

    def _close(self, index: int) -> None:
        self.advance(self.env.now)
        self._flush(index)

    def _arrivals_between(self, start_s: float, end_s: float) -> float:
        cells = max(1, math.ceil((end_s - start_s) / CELL_S - 1e-9))
        width_s = (end_s - start_s) / cells
        rate_at = self.arrivals.rate_at
        return width_s * math.fsum(rate_at(start_s + (k + 0.5) * width_s) for k in range(cells))

    def _piece(self, start_s: float, end_s: float, index: int) -> None:
        duration_s = end_s - start_s
        arrivals = self._arrivals_between(start_s, end_s)
        stats = self.stats
        stats.arrived += arrivals
        ready = self._ready
        if not ready:
            self._drop(DropReason.NO_READY_REPLICA, arrivals)
            rate_per_s = 0.0
        else:
            rate_per_s = arrivals / duration_s / len(ready)
        workers = ready[0].workers if ready else 1
        waits, mean_wait_s, drop_share = self._stationary(rate_per_s, workers, len(ready))
        arrival_cv2 = arrival_scv(self.arrival_kind, self.balancer, max(1, len(ready)))
        served_by_delays: dict[Delays, float] = {}
        # Replicas in the same state do the same: each state is computed once.
        groups: dict[tuple[float, float], list[FluidReplica]] = {}
        for replica in ready:
            groups.setdefault((replica.backlog, replica.in_service), []).append(replica)
        for members in groups.values():
            piece = self._evolve(members[0], rate_per_s, duration_s, drop_share)
            increments = self._increments(piece, mean_wait_s, arrival_cv2)
            for replica in members:
                _account(replica, piece, increments)
            if piece.dropped:
                self._drop(members[0].bound_reason, piece.dropped * len(members))
            if piece.served:
                served = piece.served * len(members)
                served_by_delays[piece.delays] = served_by_delays.get(piece.delays, 0.0) + served
        for replica in self._draining:
            if replica.backlog or replica.in_service:
                piece = self._evolve(replica, 0.0, duration_s, 0.0)
                _account(replica, piece, self._increments(piece, 0.0, 0.0))
        for delays, served in sorted(served_by_delays.items()):
            stats.add_served(served, delays, waits, index)

    def _stationary(
        self, rate_per_s: float, workers: int, replicas: int
    ) -> tuple[tuple[float, float], float, float]:
        """``((C, conditional mean wait), mean wait, drop share)`` below capacity."""
        capacity_per_s = workers * self.service_rate_per_s
        if rate_per_s <= 0 or rate_per_s >= capacity_per_s or not replicas:
            return (0.0, 0.0), 0.0, 0.0
        load = rate_per_s / capacity_per_s
        arrival_cv2 = arrival_scv(self.arrival_kind, self.balancer, replicas)
        waits, mean_wait_s = gi_g_c_wait(
            workers, load, capacity_per_s, arrival_cv2, self.service_scv
        )
        if waits <= 0 or mean_wait_s <= 0:
            return (0.0, 0.0), 0.0, 0.0
        conditional_s = mean_wait_s / waits
        bound_s = self._ready[0].bound / capacity_per_s
        drop_share = waits * math.exp(-bound_s / conditional_s) if bound_s < math.inf else 0.0
        return (waits, conditional_s), mean_wait_s, drop_share

    def _evolve(
        self, replica: FluidReplica, rate_per_s: float, duration_s: float, drop_share: float
    ) -> Piece:
        """The replica's queue over one piece at a constant arrival rate."""
        return evolve(
            replica.backlog,
            replica.in_service,
            replica.workers,
            replica.bound,
            replica.workers * self.service_rate_per_s,
            self.mean_service_s,
            rate_per_s,
            duration_s,
            drop_share,
        )

    def _increments(
        self, piece: Piece, mean_wait_s: float, arrival_cv2: float
    ) -> tuple[float, float, float, float]:
        """Bytes out, latency sum and the variances of CPU time and bytes of a piece.

        A period's work and bytes are sums over a random number of requests (compound
        sums): variance ``n (Ca² E[X]² + Var X)``, the metrics' sampling noise.
        """
        completed = piece.completed
        return (
            completed * self.mean_response_bytes,
            completed * (piece.mean_delay_s + mean_wait_s + self.mean_service_s),
            completed * self.mean_service_s**2 * (arrival_cv2 + self.service_scv),
            completed * (arrival_cv2 * self.mean_response_bytes**2 + self.response_variance),
        )

    def _drop(self, reason: str, count: float) -> None:
        self._drops[reason] = self._drops.get(reason, 0.0) + count

    def _flush(self, index: int) -> None:
        """Book every replica's period so far in period `index` (rounded cumulatively)."""
        monitoring = self.monitoring
        normal = self.noise_rng.standard_normal
        for replica in [*self._ready, *self._draining]:
            assigned, completed = round(replica.assigned), round(replica.completed)
            busy_noise_s, bytes_noise = normal(2).tolist()
            busy_s = replica.busy_s + busy_noise_s * math.sqrt(replica.busy_variance_s2)
            busy_s = min(max(busy_s, 0.0), replica.workers * self.period_s)
            bytes_out = max(
                0.0, replica.bytes_out + bytes_noise * math.sqrt(replica.bytes_variance)
            )
            monitoring.book(
                index,
                replica.name,
                assigned - replica.booked_assigned,
                busy_s,
                bytes_out,
                replica.latency_sum_s,
                completed - replica.booked_completed,
            )
            replica.booked_assigned, replica.booked_completed = assigned, completed
            replica.busy_s = replica.bytes_out = replica.latency_sum_s = 0.0
            replica.busy_variance_s2 = replica.bytes_variance = 0.0
        self._draining = [r for r in self._draining if r.backlog > 0 or r.in_service > 0]
        for reason in sorted(self._drops):
            count = round(self._drops[reason])
            booked = self._booked_drops.get(reason, 0)
            if count > booked:
                monitoring.book_dropped(index, reason, count - booked)
                self._booked_drops[reason] = count

    def in_flight(self) -> float:
        """Requests assigned and not finished now (expected)."""
        return math.fsum(r.backlog + r.in_service for r in [*self._ready, *self._draining])

    def drops(self) -> dict[str, float]:
        return dict(self._drops)


def _account(
    replica: FluidReplica, piece: Piece, increments: tuple[float, float, float, float]
) -> None:
    """Move `replica` through `piece`, adding to its period's accumulators."""
    replica.backlog = piece.backlog_end
    replica.in_service = piece.in_service_end
    replica.assigned += piece.served
    replica.completed += piece.completed
    replica.busy_s += piece.busy_s
    bytes_out, latency_sum_s, busy_variance_s2, bytes_variance = increments
    replica.bytes_out += bytes_out
    replica.latency_sum_s += latency_sum_s
    replica.busy_variance_s2 += busy_variance_s2
    replica.bytes_variance += bytes_variance
