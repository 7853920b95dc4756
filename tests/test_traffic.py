"""Request traffic through replica queues: exact traces, queueing theory, invariants.

The queueing checks run independent replications of a stable queue, each starting
empty, and compare the mean over replications with the analytical value (see "Queueing
results" in the semantics reference). The 95 % confidence interval of the mean of
``R`` replication means ``x_r`` is ``x̄ ± t(0.975, R − 1) · s / √R``, with ``s`` their
sample standard deviation and ``t`` Student's quantile (2.262 for R = 10). Each check
asserts that the interval contains the analytical value and that the interval is
narrower than 10 % of it, so that a wrong queue cannot pass by a wide interval; the
M/M/1 check also asserts that the interval excludes the wait of a queue only 3 % busier.
The start-up transient (each replication starts empty) biases the means by well under
0.1 % at these run lengths. Seeds are fixed, so every check is deterministic.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.distributions import Constant, Distribution, Exponential
from sim.core.streams import RandomStreams
from sim.model.service.arrivals import ArrivalProcess
from sim.model.service.arrivals.constant import ConstantArrivals
from sim.model.service.arrivals.poisson import PoissonArrivals
from sim.model.service.replica_queue import ReplicaQueue
from sim.model.service.requests import RequestObservers, TrafficStats
from sim.model.service.traffic import NO_READY_REPLICA, TrafficDriver
from sim.model.service.workload import RequestSpec
from sim.policies.balancing import BALANCING, Balancer, make_balancer
from sim.policies.balancing.least_outstanding import LeastOutstanding
from sim.policies.balancing.round_robin import RoundRobin

REPLICATIONS = 10
T_975_9 = 2.2622
"""Student's t quantile 0.975 with 9 degrees of freedom (R = 10 replications)."""

NO_BYTES = Constant(0.0, "number")


@dataclass(frozen=True)
class Served:
    replica: str
    arrival_s: float
    start_s: float
    finish_s: float


@dataclass(frozen=True)
class Dropped:
    arrival_s: float
    reason: str
    replica: str | None


class Recorder:
    """Keeps every report, for exact comparisons on small runs."""

    def __init__(self) -> None:
        self.log: list[Served | Dropped] = []

    def served(
        self,
        replica: str,
        arrival_s: float,
        start_s: float,
        finish_s: float,
        cpu_s: float,
        response_bytes: float,
    ) -> None:
        assert finish_s - start_s == pytest.approx(cpu_s)
        self.log.append(Served(replica, arrival_s, start_s, finish_s))

    def dropped(self, arrival_s: float, reason: str, replica: str | None) -> None:
        self.log.append(Dropped(arrival_s, reason, replica))

    def served_log(self) -> list[Served]:
        return [entry for entry in self.log if isinstance(entry, Served)]


def _driver(
    env: simpy.Environment,
    arrivals: ArrivalProcess,
    cpu_s: Distribution,
    observer: Recorder | TrafficStats | RequestObservers,
    balancer: Balancer | None = None,
    seed: int = 1,
    max_requests: int | None = None,
) -> TrafficDriver:
    streams = RandomStreams(seed)
    driver = TrafficDriver(
        env,
        arrivals,
        RequestSpec(cpu_s, NO_BYTES),
        RoundRobin() if balancer is None else balancer,
        streams.generator("cpu"),
        streams.generator("response"),
        streams.generator("balancer"),
        observer,
        max_requests=max_requests,
    )
    env.process(driver.run())
    return driver


def _at(env: simpy.Environment, time_s: float, action: Any) -> None:
    def process() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(time_s)
        action()

    env.process(process())


# Exact traces -------------------------------------------------------------------------


def test_single_worker_queue_full_and_timeout() -> None:
    """Requests every 1 s needing 2.5 s, one worker, one waiting place, 2 s patience."""
    env = simpy.Environment()
    recorder = Recorder()
    driver = _driver(env, ConstantArrivals(1.0), Constant(2.5), recorder)
    driver.add_replica(ReplicaQueue("r", workers=1, queue_capacity=1, timeout_s=2.0))
    env.run(until=8.5)
    assert recorder.log == [
        Served("r", 1.0, 1.0, 3.5),
        Served("r", 2.0, 3.5, 6.0),
        Dropped(3.0, "queue full", "r"),
        Served("r", 4.0, 6.0, 8.5),
        Dropped(5.0, "queue full", "r"),
        Dropped(6.0, "timeout", "r"),
        Served("r", 7.0, 8.5, 11.0),
        Dropped(8.0, "queue full", "r"),
    ]
    assert driver.arrived == 8


def test_earliest_free_worker_first_come_first_served() -> None:
    """Two workers, requests every 0.5 s needing 1.5 s: the third waits for the first."""
    env = simpy.Environment()
    recorder = Recorder()
    driver = _driver(env, ConstantArrivals(2.0), Constant(1.5), recorder, max_requests=5)
    queue = ReplicaQueue("r", workers=2, queue_capacity=math.inf, timeout_s=math.inf)
    driver.add_replica(queue)
    env.run()
    assert recorder.log == [
        Served("r", 0.5, 0.5, 2.0),
        Served("r", 1.0, 1.0, 2.5),
        Served("r", 1.5, 2.0, 3.5),
        Served("r", 2.0, 2.5, 4.0),
        Served("r", 2.5, 3.5, 5.0),
    ]
    assert [queue.outstanding(t) for t in (2.5, 3.0, 3.5, 4.5, 5.0)] == [3, 3, 2, 1, 0]
    assert queue.last_finish_s == 5.0


def test_no_ready_replica_and_ready_set_changes_at_events() -> None:
    """The replica joins at 3 s and drains at 5.5 s; arrivals tied with 3 s see it."""
    env = simpy.Environment()
    recorder = Recorder()
    driver = _driver(env, ConstantArrivals(1.0), Constant(0.25), recorder)
    queue = ReplicaQueue("r", workers=1, queue_capacity=0, timeout_s=math.inf)
    _at(env, 3.0, lambda: driver.add_replica(queue))
    _at(env, 5.5, lambda: driver.drain_replica("r"))
    env.run(until=7.5)
    assert recorder.log == [
        Dropped(1.0, NO_READY_REPLICA, None),
        Dropped(2.0, NO_READY_REPLICA, None),
        Served("r", 3.0, 3.0, 3.25),
        Served("r", 4.0, 4.0, 4.25),
        Served("r", 5.0, 5.0, 5.25),
        Dropped(6.0, NO_READY_REPLICA, None),
        Dropped(7.0, NO_READY_REPLICA, None),
    ]
    assert queue.draining and queue.drained_at_s() == 5.25
    assert driver.ready_replicas == ()


def test_run_until_excludes_arrivals_at_the_horizon() -> None:
    env = simpy.Environment()
    stats = TrafficStats()
    driver = _driver(env, ConstantArrivals(1.0), Constant(0.1), stats)
    driver.add_replica(ReplicaQueue("r", 1, 0, math.inf))
    env.run(until=5.0)
    assert driver.arrived == stats.arrived == 4


def test_round_robin_through_the_driver() -> None:
    env = simpy.Environment()
    recorder = Recorder()
    driver = _driver(env, ConstantArrivals(10.0), Constant(1.0), recorder, max_requests=7)
    for name in ("a", "b", "c"):
        driver.add_replica(ReplicaQueue(name, 1, math.inf, math.inf))
    env.run()
    assert [entry.replica for entry in recorder.served_log()] == list("abcabca")


def test_least_outstanding_through_the_driver() -> None:
    """Replica "a" has two workers; b and c one each. Every request takes 10 s."""
    env = simpy.Environment()
    recorder = Recorder()
    driver = _driver(
        env, ConstantArrivals(1.0), Constant(10.0), recorder, LeastOutstanding(), max_requests=6
    )
    driver.add_replica(ReplicaQueue("a", 2, math.inf, math.inf))
    driver.add_replica(ReplicaQueue("b", 1, math.inf, math.inf))
    driver.add_replica(ReplicaQueue("c", 1, math.inf, math.inf))
    env.run()
    # Loads before each request: (0,0,0) a; (1,0,0) b; (1,1,0) c; (1,1,1) a (rotation
    # after c); (2,1,1) b; (2,2,1) c.
    assert [entry.replica for entry in recorder.served_log()] == list("abcabc")


# Drain and in-flight -----------------------------------------------------------------


def test_drained_replica_gets_nothing_new_and_finishes_its_requests() -> None:
    env = simpy.Environment()
    recorder = Recorder()
    stats = TrafficStats()
    driver = _driver(
        env,
        PoissonArrivals(5.0, RandomStreams(3).generator("arrivals")),
        Exponential(0.5),
        RequestObservers([recorder, stats]),
    )
    queues = [ReplicaQueue(f"r{i}", 1, 20, math.inf) for i in range(3)]
    for queue in queues:
        driver.add_replica(queue)
    drain_s = 50.0
    outcome: dict[str, float] = {}

    def drain_and_wait() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(drain_s)
        queue = driver.drain_replica("r1")
        outcome["in_flight"] = queue.outstanding(env.now)
        yield env.timeout(max(queue.drained_at_s() - env.now, 0.0))
        outcome["idle_s"] = env.now
        outcome["left"] = queue.outstanding(env.now)

    env.process(drain_and_wait())
    env.run(until=100.0)
    on_r1 = [entry for entry in recorder.served_log() if entry.replica == "r1"]
    assert on_r1 and all(entry.arrival_s < drain_s for entry in on_r1)
    assert outcome["in_flight"] > 0
    assert queues[1].drained_at_s() == max(entry.finish_s for entry in on_r1) >= drain_s
    assert outcome["idle_s"] == pytest.approx(queues[1].drained_at_s())
    assert outcome["left"] == 0
    assert driver.ready_replicas == ("r0", "r2")
    with pytest.raises(RuntimeError):
        queues[1].offer(100.0, 1.0)
    assert stats.in_flight(env.now) == sum(
        entry.finish_s > env.now for entry in recorder.served_log()
    )


def test_in_flight_matches_the_served_requests() -> None:
    env = simpy.Environment()
    recorder = Recorder()
    stats = TrafficStats()
    driver = _driver(
        env,
        PoissonArrivals(8.0, RandomStreams(4).generator("arrivals")),
        Exponential(0.4),
        RequestObservers([recorder, stats]),
    )
    driver.add_replica(ReplicaQueue("a", 2, 5, 3.0))
    driver.add_replica(ReplicaQueue("b", 1, 5, 3.0))
    checks: list[tuple[float, int]] = []

    def probe() -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(0.7)
            checks.append((env.now, stats.in_flight(env.now)))

    env.process(probe())
    env.run(until=60.0)
    served = recorder.served_log()
    assert len(checks) > 80
    for time_s, in_flight in checks:
        expected = sum(entry.arrival_s < time_s < entry.finish_s for entry in served)
        assert in_flight == expected
    assert stats.arrived == stats.served_count + stats.dropped_count == driver.arrived


# Invariants --------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    rate_per_s=st.floats(min_value=0.5, max_value=40.0),
    mean_cpu_s=st.floats(min_value=0.01, max_value=2.0),
    replicas=st.integers(min_value=0, max_value=4),
    workers=st.integers(min_value=1, max_value=4),
    queue_capacity=st.integers(min_value=0, max_value=10),
    timeout_s=st.floats(min_value=0.0, max_value=5.0),
    balancer=st.sampled_from(BALANCING.names()),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_conservation(
    rate_per_s: float,
    mean_cpu_s: float,
    replicas: int,
    workers: int,
    queue_capacity: int,
    timeout_s: float,
    balancer: str,
    seed: int,
) -> None:
    """Every arrival is served or dropped, once; starts and finishes are consistent."""
    horizon_s = 40.0
    env = simpy.Environment()
    recorder = Recorder()
    stats = TrafficStats()
    driver = _driver(
        env,
        PoissonArrivals(rate_per_s, RandomStreams(seed).generator("arrivals")),
        Exponential(mean_cpu_s),
        RequestObservers([recorder, stats]),
        make_balancer(balancer),
        seed=seed,
    )
    for index in range(replicas):
        driver.add_replica(ReplicaQueue(f"r{index}", workers, queue_capacity, timeout_s))
    env.run(until=horizon_s)

    replay = PoissonArrivals(rate_per_s, RandomStreams(seed).generator("arrivals"))
    expected_arrivals = 0
    time_s = replay.next_after(0.0)
    while time_s < horizon_s:
        expected_arrivals += 1
        time_s = replay.next_after(time_s)
    assert driver.arrived == expected_arrivals == len(recorder.log)
    assert stats.arrived == stats.served_count + stats.dropped_count == expected_arrivals
    for entry in recorder.log:
        if isinstance(entry, Served):
            assert entry.arrival_s <= entry.start_s <= entry.finish_s
            assert entry.start_s - entry.arrival_s <= timeout_s
        elif replicas == 0:
            assert entry.reason == NO_READY_REPLICA
    if replicas == 0:
        assert stats.drops_by_reason == (
            {NO_READY_REPLICA: expected_arrivals} if expected_arrivals else {}
        )
    # Never more than `workers` requests in service on one replica at once.
    for index in range(replicas):
        intervals = [
            (e.start_s, e.finish_s) for e in recorder.served_log() if e.replica == f"r{index}"
        ]
        edges = sorted([(s, 1) for s, _ in intervals] + [(f, -1) for _, f in intervals])
        busy = 0
        for _, change in edges:
            busy += change
            assert busy <= workers


@settings(max_examples=30, deadline=None)
@given(
    workers=st.integers(min_value=1, max_value=5),
    queue_capacity=st.integers(min_value=0, max_value=6),
    arrivals=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=60),
    services=st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=60, max_size=60),
)
def test_outstanding_and_waiting_match_brute_force(
    workers: int, queue_capacity: int, arrivals: list[float], services: list[float]
) -> None:
    queue = ReplicaQueue("r", workers, queue_capacity, math.inf)
    times = np.cumsum(arrivals).tolist()
    accepted: list[tuple[float, float]] = []
    for arrival_s, service_s in zip(times, services, strict=False):
        waiting = sum(start > arrival_s for start, _ in accepted)
        in_service = sum(start <= arrival_s < finish for start, finish in accepted)
        assert queue.waiting(arrival_s) == waiting
        assert queue.outstanding(arrival_s) == waiting + in_service
        assert in_service <= workers
        outcome = queue.offer(arrival_s, service_s)
        if isinstance(outcome, tuple):
            accepted.append(outcome)
        else:
            assert outcome == "queue full" and waiting >= queue_capacity


def test_same_seed_same_summary() -> None:
    def run() -> object:
        env = simpy.Environment()
        stats = TrafficStats()
        driver = _driver(
            env,
            PoissonArrivals(30.0, RandomStreams(9).generator("arrivals")),
            Exponential(0.1),
            stats,
            make_balancer("random"),
            seed=9,
            max_requests=3000,
        )
        for index in range(3):
            driver.add_replica(ReplicaQueue(f"r{index}", 1, 3, 1.0))
        env.run()
        return stats.summary()

    assert run() == run()


def test_replica_queue_rejects_bad_arguments_and_time_reversal() -> None:
    with pytest.raises(ValueError):
        ReplicaQueue("r", 0, 1, 1.0)
    with pytest.raises(ValueError):
        ReplicaQueue("r", 1, -1, 1.0)
    queue = ReplicaQueue("r", 1, 1, 1.0)
    queue.offer(5.0, 1.0)
    with pytest.raises(ValueError):
        queue.outstanding(4.0)


def test_driver_rejects_duplicate_and_unknown_replicas() -> None:
    env = simpy.Environment()
    driver = _driver(env, ConstantArrivals(1.0), Constant(1.0), TrafficStats())
    driver.add_replica(ReplicaQueue("r", 1, 1, 1.0))
    with pytest.raises(ValueError):
        driver.add_replica(ReplicaQueue("r", 1, 1, 1.0))
    with pytest.raises(KeyError):
        driver.remove_replica("absent")
    assert driver.remove_replica("r").name == "r"


# Queueing theory ---------------------------------------------------------------------


def _replication_means(
    rate_per_s: float, cpu_s: Distribution, workers: int, requests: int, root_seed: int
) -> tuple[list[float], list[float]]:
    """Mean wait and mean latency of each of `REPLICATIONS` independent runs."""
    waits_s: list[float] = []
    latencies_s: list[float] = []
    for replication in range(REPLICATIONS):
        streams = RandomStreams(RandomStreams(root_seed).child_seed(f"replication-{replication}"))
        env = simpy.Environment()
        stats = TrafficStats()
        driver = TrafficDriver(
            env,
            PoissonArrivals(rate_per_s, streams.generator("arrivals")),
            RequestSpec(cpu_s, NO_BYTES),
            RoundRobin(),
            streams.generator("cpu"),
            streams.generator("response"),
            streams.generator("balancer"),
            stats,
            max_requests=requests,
        )
        driver.add_replica(ReplicaQueue("r", workers, math.inf, math.inf))
        env.process(driver.run())
        env.run()
        assert stats.served_count == requests
        waits_s.append(stats.mean_wait_s)
        latencies_s.append(stats.mean_latency_s)
    return waits_s, latencies_s


def _confidence_interval(means: list[float]) -> tuple[float, float]:
    centre = statistics.fmean(means)
    half_width = T_975_9 * statistics.stdev(means) / math.sqrt(len(means))
    return centre - half_width, centre + half_width


def _assert_estimates(means: list[float], analytical: float) -> tuple[float, float]:
    low, high = _confidence_interval(means)
    assert low <= analytical <= high, (low, analytical, high)
    assert high - low < 0.10 * analytical, (low, high, analytical)
    return low, high


def _mm1_wait_s(rate_per_s: float, service_rate_per_s: float) -> float:
    return (rate_per_s / service_rate_per_s) / (service_rate_per_s - rate_per_s)


def test_mm1_mean_wait_and_latency() -> None:
    """M/M/1 at ρ = 0.7: Wq = ρ / (μ − λ) = 2.333 s, W = 1 / (μ − λ) = 3.333 s."""
    rate_per_s, service_rate_per_s = 0.7, 1.0
    waits_s, latencies_s = _replication_means(
        rate_per_s, Exponential(1 / service_rate_per_s), 1, 50_000, root_seed=101
    )
    low, high = _assert_estimates(waits_s, _mm1_wait_s(rate_per_s, service_rate_per_s))
    _assert_estimates(latencies_s, 1 / (service_rate_per_s - rate_per_s))
    busier_wait_s = _mm1_wait_s(rate_per_s * 1.03, service_rate_per_s)
    assert not low <= busier_wait_s <= high


def _erlang_c(servers: int, offered_load: float) -> float:
    """C(c, a): the probability that an arrival waits in M/M/c with offered load a = λ/μ."""
    top = offered_load**servers / math.factorial(servers) * servers / (servers - offered_load)
    bottom = sum(offered_load**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom


def test_mmc_mean_wait_erlang_c() -> None:
    """M/M/4 at ρ = 0.8: Wq = C(4, 3.2) / (cμ − λ) = 0.7455 s."""
    servers, service_rate_per_s = 4, 1.0
    rate_per_s = 0.8 * servers * service_rate_per_s
    expected_wait_s = _erlang_c(servers, rate_per_s / service_rate_per_s) / (
        servers * service_rate_per_s - rate_per_s
    )
    assert expected_wait_s == pytest.approx(0.7455, abs=1e-4)
    waits_s, latencies_s = _replication_means(
        rate_per_s, Exponential(1 / service_rate_per_s), servers, 100_000, root_seed=202
    )
    _assert_estimates(waits_s, expected_wait_s)
    _assert_estimates(latencies_s, expected_wait_s + 1 / service_rate_per_s)


def test_md1_mean_wait_pollaczek_khinchine() -> None:
    """M/D/1 at ρ = 0.7 with 1 s service: Wq = λ E[S²] / (2 (1 − ρ)) = 1.1667 s."""
    rate_per_s, service_s = 0.7, 1.0
    expected_wait_s = rate_per_s * service_s**2 / (2 * (1 - rate_per_s * service_s))
    waits_s, _ = _replication_means(rate_per_s, Constant(service_s), 1, 30_000, root_seed=303)
    _assert_estimates(waits_s, expected_wait_s)
