"""The wait for a worker (arrival to start of service, Wq): summary and time series.

Exact values on a deterministic queue, then M/M/1 and M/M/2 against the analytical
distribution of the wait: ``P(Wq > t) = C · exp(−(cμ − λ) t)`` with ``C`` the Erlang C
probability of waiting (``C = ρ`` for one worker), so ``E[Wq] = C / (cμ − λ)`` and the
``q``-quantile is ``ln(C / (1 − q)) / (cμ − λ)`` when ``C > 1 − q``, else 0.

Tolerances of the random cases: one run of a fixed seed; over seeds 0–4 the mean wait
of the M/M/1 run spread by ±2.5 % around its value and its 95th percentile by ±1.5 %
(besides the sketch's 1 %), so 6 % and 5 % hold with margin while a queue 10 % busier
(mean wait +22 %) fails them.
"""

from __future__ import annotations

import math

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.core.distributions import Constant
from sim.core.sketch import QuantileSketch
from sim.core.streams import RandomStreams
from sim.model.service.arrivals.constant import ConstantArrivals
from sim.model.service.metric_queries import period_row
from sim.model.service.monitoring import Monitoring
from sim.model.service.replica_queue import ReplicaQueue
from sim.model.service.traffic import RequestObservers, TrafficDriver, TrafficStats
from sim.model.service.workload import RequestSpec
from sim.output.summary import keys
from sim.policies.balancing.round_robin import RoundRobin
from sim.scenario import Scenario

WAIT_KEYS = ["wait_s_mean", "wait_s_p50", "wait_s_p95", "wait_s_p99"]


def test_wait_keys_follow_the_latency_keys_in_the_summary() -> None:
    names = keys()
    at = names.index("latency_s_p99")
    assert names[at + 1 : at + 5] == WAIT_KEYS


def test_a_deterministic_queue_gives_each_wait_exactly() -> None:
    """One worker, a request every 1 s needing 1.5 s: request k (from 0) arrives at
    1 + k, starts at 1 + 1.5 k and waits 0.5 k."""
    env = simpy.Environment()
    stats = TrafficStats()
    monitoring = Monitoring(5.0, lambda replica: 1.0)
    streams = RandomStreams(1)
    driver = TrafficDriver(
        env,
        ConstantArrivals(1.0),
        RequestSpec(Constant(1.5), Constant(0.0, "number")),
        RoundRobin(),
        streams.generator("cpu"),
        streams.generator("response"),
        streams.generator("balancer"),
        RequestObservers([stats, monitoring]),
        max_requests=10,
    )
    driver.add_replica(ReplicaQueue("r", 1, math.inf, math.inf))
    env.process(driver.run())
    env.run()
    summary = stats.summary(monitoring.wait_sketch())
    # Waits 0, 0.5, ..., 4.5: mean 2.25; ranks floor(q × 9) give 2.0, 4.0 and 4.0.
    assert summary.mean_wait_s == pytest.approx(2.25, rel=1e-12)
    assert summary.wait_p50_s == pytest.approx(2.0, rel=0.01)
    assert summary.wait_p95_s == pytest.approx(4.0, rel=0.01)
    assert summary.wait_p99_s == pytest.approx(4.0, rel=0.01)
    assert summary.mean_latency_s == pytest.approx(2.25 + 1.5, rel=1e-12)

    # Starts 1, 2.5, 4 | 5.5, 7, 8.5 | 10, 11.5, 13, 14.5 in the 5 s periods.
    rows = [period_row(monitoring, monitoring.close(index)) for index in range(3)]
    assert [row["wait_s_mean"] for row in rows] == pytest.approx([0.5, 2.0, 3.75], rel=1e-12)
    assert [row["wait_s_p50"] for row in rows] == pytest.approx([0.5, 2.0, 3.5], rel=0.01)
    assert [row["wait_s_p95"] for row in rows] == pytest.approx([0.5, 2.0, 4.0], rel=0.01)
    assert [row["wait_s_p99"] for row in rows] == pytest.approx([0.5, 2.0, 4.0], rel=0.01)
    assert [period.wait.started for period in monitoring.closed] == [3, 3, 4]
    assert period_row(monitoring, None)["wait_s_p95"] == 0.0
    assert monitoring.wait_sketch().count == 10
    assert math.isnan(stats.summary().wait_p95_s)  # without the monitoring's sketch


def erlang_c(servers: int, offered_load: float) -> float:
    """C(c, a): the probability that an arrival waits in M/M/c (a = λ/μ < c)."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return servers * blocking / (servers - offered_load * (1 - blocking))


def wait_quantile_s(q: float, waits: float, drain_per_s: float) -> float:
    """The q-quantile of Wq with P(Wq > t) = waits · exp(−drain_per_s · t)."""
    return math.log(waits / (1 - q)) / drain_per_s if waits > 1 - q else 0.0


def run_summary(*overrides: str) -> dict[str, object]:
    config = sim.load_config(
        [
            "workload=poisson",
            "autoscaler=none",
            "platform=container",
            "cluster.scaler.enabled=false",
            "workload.service.initial_replicas=1",
            "workload.service.queue=1000000",
            "workload.service.timeout=1d",
            "workload.traffic.request.cpu={dist: exponential, mean: 100ms}",
            "horizon=2h",
            "seed=0",
            *overrides,
        ]
    )
    return dict(Scenario(scenario_params(to_plain(config))).run().summary)


@pytest.mark.parametrize(("workers", "rate_per_s"), [(1, 5.0), (2, 15.0)])
def test_mean_and_p95_wait_of_mm1_and_mm2_match_erlang_c(workers: int, rate_per_s: float) -> None:
    """M/M/1 at λ = 5, μ = 10: Wq = ρ/(μ − λ) = 0.1 s; M/M/2 at λ = 15: C = 0.643."""
    summary = run_summary(
        f"workload.service.workers={workers}", f"workload.traffic.arrivals.rate_per_s={rate_per_s}"
    )
    service_rate_per_s = 10.0
    waits = erlang_c(workers, rate_per_s / service_rate_per_s)
    drain_per_s = workers * service_rate_per_s - rate_per_s
    if workers == 1:
        assert waits == pytest.approx(rate_per_s / service_rate_per_s)
    assert summary["wait_s_mean"] == pytest.approx(waits / drain_per_s, rel=0.06)
    assert summary["wait_s_p95"] == pytest.approx(
        wait_quantile_s(0.95, waits, drain_per_s), rel=0.05
    )
    median_s = wait_quantile_s(0.5, waits, drain_per_s)
    if median_s == 0:  # half never wait: the sketch's zero bucket answers exactly 0
        assert summary["wait_s_p50"] == 0.0
    else:
        assert summary["wait_s_p50"] == pytest.approx(median_s, rel=0.08)
    assert summary["wait_s_p99"] == pytest.approx(
        wait_quantile_s(0.99, waits, drain_per_s), rel=0.08
    )


def test_constant_work_waits_its_latency_less_its_service() -> None:
    summary = run_summary(
        "workload.traffic.request.cpu=80ms",
        "workload.traffic.arrivals.rate_per_s=10",
        "horizon=20min",
    )
    assert isinstance(summary["wait_s_mean"], float) and summary["wait_s_mean"] > 0
    assert summary["wait_s_mean"] == pytest.approx(summary["latency_s_mean"] - 0.08, rel=1e-9)
    assert summary["wait_s_p95"] == pytest.approx(summary["latency_s_p95"] - 0.08, rel=0.03)


def test_a_run_without_traffic_has_null_waits() -> None:
    config = sim.load_config(["horizon=1min"])
    summary = Scenario(scenario_params(to_plain(config))).run().summary
    assert [summary[key] for key in WAIT_KEYS] == [None] * 4


@given(
    st.lists(
        st.one_of(st.just(0.0), st.floats(min_value=0, max_value=1e12, allow_nan=False)),
        max_size=300,
    )
)
@settings(max_examples=60)
def test_adding_many_values_at_once_counts_as_adding_them_one_by_one(
    values: list[float],
) -> None:
    one_by_one, at_once = QuantileSketch(), QuantileSketch()
    for value in values:
        one_by_one.add(value)
    at_once.add_many(values)
    assert at_once.count == one_by_one.count
    for q in (0.0, 0.25, 0.5, 0.95, 0.99, 1.0):
        expected = one_by_one.quantile(q)
        assert at_once.quantile(q) == expected or (math.isnan(expected) and not values)
    merged = QuantileSketch()
    merged.merge(at_once.copy())
    assert [merged.quantile(q) for q in (0.5, 0.99)] == [
        at_once.quantile(q) for q in (0.5, 0.99)
    ] or not values
