"""Fluid traffic: replica queues as fluids, for day-long services at thousands of requests/s.

The request mode settles every request (`sim.model.service.traffic`); at 10,000 requests per
second a day is 864 million of them. The fluid mode settles none. Time is cut into
*pieces*: at every change of the ready set (a replica entering service, one drained), at
every monitoring period's end, and at most `STEP_S` apart. In a piece every replica in
service gets an equal share of the arrivals (what round robin, random choice and least
outstanding requests give on average), their number being the integral of the arrival
process's rate (`ArrivalProcess.rate_at`, midpoint rule on cells of at most `CELL_S`),
and each replica's queue evolves in two layers:

* **A fluid backlog** ``b`` for overload: it grows at ``λ − cμ`` when the replica's
  arrival rate ``λ`` exceeds its capacity (``c`` workers, ``μ = 1 / E[S]`` each), drains
  at ``cμ − λ`` otherwise, and stops at the bound ``B = min(queue, timeout × cμ)``: what
  flows in beyond it is dropped, as ``queue full`` when the waiting room binds, else as
  ``timeout``. Within a piece the rate is constant, so ``b`` is piecewise linear and is
  solved exactly; a request waits the time-average backlog over ``cμ``.
* **The stationary queue** below capacity (``ρ = λ / cμ < 1``): the GI/G/c waiting time
  (`gi_g_c_wait`): the Allen–Cunneen mean ``E[Wq] ≈ C(c, λ/μ) / (cμ − λ) × (Ca² + Cs²) /
  2``, with ``C`` Erlang C's probability of waiting and ``Ca²``, ``Cs²`` the squared
  coefficients of variation of the replica's inter-arrival and service times (A. O.
  Allen, *Probability, Statistics, and Queueing Theory*, 2nd ed., Academic Press 1990;
  W. Whitt, "Approximations for the GI/G/m queue", *Production and Operations
  Management* 2(2), 1993), times the Krämer–Langenbach-Belz factor when arrivals are
  smoother than Poisson; the probability of waiting is Erlang C's with the correction
  of Whitt's Queueing Network Analyzer (*Bell System Technical Journal* 62(9), 1983).
  The wait is 0 with that probability's complement and otherwise exponential with the
  matching mean — exact for M/M/c, Kingman's heavy-traffic exponential tail otherwise. A
  request whose wait would exceed ``B / cμ`` is dropped (probability
  ``P(wait) · exp(−B / (cμ · E[Wq | wait]))``).

Arrivals are Poisson but for the ``constant`` kind (``Ca² = 0``), thinned by the
balancer: round robin and least outstanding pass every n-th request to a replica
(``Ca²/n``), random choice a random share (``1 − (1 − Ca²)/n``). ``Cs²`` and the
quantiles of the service time come from the CPU-time distribution's inverse (each
distribution samples by inverse transform).

Percentiles: each piece adds to the latency sketch (and, by the monitoring, to the wait
sketch) a grid of values — the fluid delay plus the exponential wait's quantiles (plus
the service time's, for latency) on a probability grid finer in the tail — weighted by
the expected number of requests, so the summary's keys and the time series read as in the
request mode. Counts are expectations: the summary and each period round cumulative
counts, so ``requests_total = served + in flight + dropped`` holds exactly. CPU is busy
``E[S]`` per completed request, NetworkOut is the mean response size per completion.

Sampling noise: a period's CPU time and bytes out are sums over a random number of
requests, so the monitoring gets each replica's expected values plus a normal draw of
their standard deviation, ``sqrt(n (Ca² E[X]² + Var X))`` for ``n`` completions of size
``X`` (two draws per replica and period from the stream ``traffic/fluid-noise``). An
autoscaler whose target sits at the load (target tracking at exactly 50 % CPU) then acts
on noise as it does in the request mode, instead of never. Counts, latency and the
summary carry no noise.

What it does not see: the variance of counts (a fluid's served count is the mean over
seeds), queues that fill by chance while the mean load is below capacity (beyond the
stationary drop share), balancing that corrects per-replica imbalance (all replicas in
service get the same share), and the same random path as the request mode for a random
arrival process (``mmpp`` draws its states in another order: the two modes see
different bursts for one seed).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.core.distributions import Distribution
from sim.core.records import DropReason
from sim.core.sketch import QuantileSketch
from sim.model.service.arrivals import ArrivalProcess, recorded_before
from sim.model.service.monitoring import Monitoring
from sim.model.service.replica_queue import ReplicaQueue
from sim.model.service.traffic import TrafficSummary
from sim.model.service.workload import RequestSpec

STEP_S = 5.0
"""The longest piece: the rate of the arrivals is re-read at least this often."""

CELL_S = 1.0
"""The midpoint rule's cell for the number of arrivals in a piece."""

PROBABILITY_EDGES = np.array(
    [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99]
    + [0.995, 0.998, 0.999, 1.0]
)
"""The grid a distribution is represented on: each cell by its midpoint's quantile,
weighted by its width (finer in the tail, where the 95th and 99th percentiles lie)."""

_MIDPOINTS = (PROBABILITY_EDGES[:-1] + PROBABILITY_EDGES[1:]) / 2
_WIDTHS = np.diff(PROBABILITY_EDGES)
_UNIT_EXPONENTIAL = -np.log1p(-_MIDPOINTS)


class _FixedUniform:
    """Stands for a generator whose next ``random()`` is `u`: a distribution's quantile."""

    __slots__ = ("u",)

    def __init__(self, u: float) -> None:
        self.u = u

    def random(self) -> float:
        return self.u


def quantile_of(distribution: Distribution, p: float) -> float:
    """The `p`-quantile of a distribution that samples by inverse transform."""
    return distribution.sample(_FixedUniform(p))  # type: ignore[arg-type]


def squared_cv(distribution: Distribution, cells: int = 4096) -> float:
    """The squared coefficient of variation, by the midpoint rule on the inverse."""
    values = np.array([quantile_of(distribution, (k + 0.5) / cells) for k in range(cells)])
    mean = float(values.mean())
    return float(values.var() / mean**2) if mean > 0 else 0.0


def erlang_c(servers: int, offered_load: float) -> float:
    """C(c, a): the probability that an arrival waits in M/M/c, a = λ/μ < c."""
    if offered_load <= 0:
        return 0.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return servers * blocking / (servers - offered_load * (1 - blocking))


def gi_g_c_wait(
    workers: int, load: float, capacity_per_s: float, arrival_cv2: float, service_cv2: float
) -> tuple[float, float]:
    """``(P(wait), E[Wq])`` of a GI/G/c queue at utilisation `load` < 1.

    The mean is Allen–Cunneen's ``C(c, a) / (cμ − λ) × (Ca² + Cs²) / 2`` with, for
    smoother than Poisson arrivals (``Ca² < 1``), the Krämer–Langenbach-Belz factor
    ``exp(−2 (1 − ρ)(1 − Ca²)² / (3ρ (Ca² + Cs²)))`` (exact to 1 % for D/M/1 at ρ = 0.5);
    the probability of waiting is Erlang C's times the GI/G/1 correction of Whitt's
    Queueing Network Analyzer (Bell System Technical Journal 62(9), 1983),
    ``1 − (1 − Ca²)(1 − ρ) h`` with ``h = (1 + Ca² + ρCs²) / (1 + ρ(Cs² − 1) + ρ²(4Ca²
    + Cs²))``, which is 1 for Poisson arrivals.
    """
    waits = erlang_c(workers, load * workers)
    variability = (arrival_cv2 + service_cv2) / 2
    mean_wait_s = waits / (capacity_per_s * (1 - load)) * variability
    if arrival_cv2 < 1 and variability > 0:
        mean_wait_s *= math.exp(
            -2 * (1 - load) * (1 - arrival_cv2) ** 2 / (3 * load * (arrival_cv2 + service_cv2))
        )
        h = (1 + arrival_cv2 + load * service_cv2) / (
            1 + load * (service_cv2 - 1) + load**2 * (4 * arrival_cv2 + service_cv2)
        )
        waits *= min(1.0, max(0.0, 1 - (1 - arrival_cv2) * (1 - load) * h))
    return waits, mean_wait_s


def arrival_scv(kind: str, balancer: str, replicas: int) -> float:
    """The squared coefficient of variation of one replica's inter-arrival times."""
    source = 0.0 if kind == "constant" else 1.0
    if balancer == "random_choice":
        return 1 - (1 - source) / replicas
    return source / replicas


@dataclass(frozen=True, slots=True)
class _Piece:
    """What one replica's queue does in one piece (per replica, expected numbers)."""

    backlog_s: float  # the fluid delay: time-average backlog over the capacity
    served: float  # requests given a worker
    dropped: float  # requests dropped
    completed: float
    busy_s: float
    backlog_end: float
    in_service_end: float


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
        services = np.array([quantile_of(cpu, p) for p in _MIDPOINTS])
        self._service_values, self._service_weights = _merged(services, _WIDTHS)
        self.mean_response_bytes = request_spec.response_bytes.mean()
        self.response_variance = squared_cv(request_spec.response_bytes) * (
            self.mean_response_bytes**2
        )
        self.stats = FluidStats(self)
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
        period open now (see `sim.model.traffic.TrafficDriver.drop_unstarted`)."""
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
            end_s = min(t_s, start_s + STEP_S, period_end_s)
            self._piece(start_s, end_s, index)
            self._t_s = end_s
            if end_s >= period_end_s:
                self._flush(index)

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
        served_by_delay: dict[float, float] = {}
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
                delay_s = piece.backlog_s
                served = piece.served * len(members)
                served_by_delay[delay_s] = served_by_delay.get(delay_s, 0.0) + served
        for replica in self._draining:
            if replica.backlog or replica.in_service:
                piece = self._evolve(replica, 0.0, duration_s, 0.0)
                _account(replica, piece, self._increments(piece, 0.0, 0.0))
        for delay_s, served in sorted(served_by_delay.items()):
            stats.add_served(served, delay_s, waits, self, index)

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
    ) -> _Piece:
        """The replica's fluid over one piece at a constant arrival rate."""
        capacity_per_s = replica.workers * self.service_rate_per_s
        backlog, bound = replica.backlog, replica.bound
        net_per_s = rate_per_s - capacity_per_s
        overflow = 0.0
        if net_per_s <= 0:
            if backlog > 0 and net_per_s < 0 and backlog / -net_per_s < duration_s:
                emptied_s = backlog / -net_per_s
                end_backlog = 0.0
                area = backlog * emptied_s / 2
            else:
                end_backlog = max(0.0, backlog + net_per_s * duration_s)
                area = (backlog + end_backlog) / 2 * duration_s
        else:
            room = max(0.0, bound - backlog)
            filled_s = room / net_per_s
            if filled_s >= duration_s:
                end_backlog = backlog + net_per_s * duration_s
                area = (backlog + end_backlog) / 2 * duration_s
            else:
                end_backlog = max(bound, 0.0) if backlog <= bound else backlog
                area = (backlog + end_backlog) / 2 * filled_s + end_backlog * (
                    duration_s - filled_s
                )
                overflow = net_per_s * (duration_s - filled_s)
        arrivals = rate_per_s * duration_s
        admitted = arrivals - overflow
        dropped = overflow + admitted * drop_share
        served = admitted * (1 - drop_share)
        if end_backlog > 0:
            in_service_end = float(replica.workers)
        else:
            in_service_end = min(float(replica.workers), served / duration_s * self.mean_service_s)
        completed = max(
            0.0, served + replica.backlog + replica.in_service - end_backlog - in_service_end
        )
        busy_s = min(replica.workers * duration_s, completed * self.mean_service_s)
        return _Piece(
            area / duration_s / capacity_per_s,
            served,
            dropped,
            completed,
            busy_s,
            end_backlog,
            in_service_end,
        )

    def _increments(
        self, piece: _Piece, mean_wait_s: float, arrival_cv2: float
    ) -> tuple[float, float, float, float]:
        """Bytes out, latency sum and the variances of CPU time and bytes of a piece.

        A period's work and bytes are sums over a random number of requests (compound
        sums): variance ``n (Ca² E[X]² + Var X)``, the metrics' sampling noise.
        """
        completed = piece.completed
        return (
            completed * self.mean_response_bytes,
            completed * (piece.backlog_s + mean_wait_s + self.mean_service_s),
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
    replica: FluidReplica, piece: _Piece, increments: tuple[float, float, float, float]
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


def _merged(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equal values' weights added (a constant distribution becomes one value)."""
    unique, inverse = np.unique(values, return_inverse=True)
    return unique, np.bincount(inverse, weights=weights)


class FluidStats:
    """The request statistics of the fluid mode, as `sim.model.service.traffic.TrafficStats` gives.

    Counts are expectations, rounded when read; latency's mean, deviation and sketch are
    over the weighted grid each piece adds.
    """

    def __init__(self, traffic: FluidTraffic) -> None:
        self.traffic = traffic
        self.arrived = 0.0
        self.served = 0.0
        self.latency_sketch = QuantileSketch()
        self._wait_sum_s = 0.0
        self._latency_sum_s = 0.0
        self._latency_square_sum_s2 = 0.0
        self._grids: dict[tuple[float, float, float], tuple[Any, Any, float, float, float]] = {}

    def add_served(
        self,
        served: float,
        delay_s: float,
        waits: tuple[float, float],
        traffic: FluidTraffic,
        index: int,
    ) -> None:
        """`served` requests got a worker after `delay_s` plus the stationary wait."""
        key = (delay_s, *waits)
        grid = self._grids.get(key)
        if grid is None:
            if len(self._grids) > 4096:  # a varying rate rarely repeats a grid
                self._grids.clear()
            grid = self._grids[key] = self._grid(delay_s, *waits, traffic)
        wait_counts, latency_counts, wait_mean_s, latency_mean_s, latency_square_s2 = grid
        if wait_counts is not None:
            counts, smallest, largest = wait_counts
            traffic.monitoring.book_waits(
                index, counts * served, smallest, largest, wait_mean_s * served
            )
        if latency_counts is not None:
            counts, smallest, largest = latency_counts
            self.latency_sketch.add_bucket_counts(counts * served, smallest, largest)
        self.served += served
        self._wait_sum_s += wait_mean_s * served
        self._latency_sum_s += latency_mean_s * served
        self._latency_square_sum_s2 += latency_square_s2 * served

    def _grid(
        self, delay_s: float, chance: float, conditional_s: float, traffic: FluidTraffic
    ) -> tuple[Any, Any, float, float, float]:
        """The wait and latency grids of one request (weights summing to 1), as bucket
        counts, with the wait's mean and the latency's first two moments."""
        wait_values = np.concatenate(([delay_s], delay_s + conditional_s * _UNIT_EXPONENTIAL))
        wait_weights = np.concatenate(([1 - chance], chance * _WIDTHS))
        latency_values = (wait_values[:, None] + traffic._service_values[None, :]).ravel()
        latency_weights = (wait_weights[:, None] * traffic._service_weights[None, :]).ravel()
        sketch = self.latency_sketch
        return (
            sketch.bucket_counts(wait_values, wait_weights),
            sketch.bucket_counts(latency_values, latency_weights),
            float(wait_values @ wait_weights),
            float(latency_values @ latency_weights),
            float((latency_values**2) @ latency_weights),
        )

    def in_flight(self, t_s: float) -> int:
        """Requests in flight at `t_s` (rounded), after evolving the queues to it."""
        self.traffic.advance(t_s)
        return min(round(self.traffic.in_flight()), self._counts()[1])

    def _counts(self) -> tuple[int, int, dict[str, int]]:
        arrived = round(self.arrived)
        dropped = {reason: round(count) for reason, count in self.traffic.drops().items()}
        dropped = {reason: count for reason, count in dropped.items() if count}
        served = max(0, arrived - sum(dropped.values()))
        return arrived, served, dropped

    def summary(self, wait_sketch: QuantileSketch | None = None) -> TrafficSummary:
        """The statistics so far, as the request mode's record."""
        self.traffic.advance(self.traffic.env.now)
        arrived, served, dropped = self._counts()
        weight = self.served
        mean_wait_s = self._wait_sum_s / weight if weight > 0 else math.nan
        mean_latency_s = self._latency_sum_s / weight if weight > 0 else math.nan
        variance = self._latency_square_sum_s2 / weight - mean_latency_s**2 if weight > 0 else 0
        sketch = wait_sketch

        def wait_quantile_s(q: float) -> float:
            return sketch.quantile(q) if sketch is not None else math.nan

        return TrafficSummary(
            arrived=arrived,
            served=served,
            dropped=tuple(sorted(dropped.items())),
            mean_wait_s=mean_wait_s,
            wait_p50_s=wait_quantile_s(0.5),
            wait_p95_s=wait_quantile_s(0.95),
            wait_p99_s=wait_quantile_s(0.99),
            mean_latency_s=mean_latency_s,
            latency_sd_s=math.sqrt(max(variance, 0.0)) if weight > 0 else math.nan,
            latency_p50_s=self.latency_sketch.quantile(0.5),
            latency_p95_s=self.latency_sketch.quantile(0.95),
            latency_p99_s=self.latency_sketch.quantile(0.99),
            served_within_slo=served,
        )
