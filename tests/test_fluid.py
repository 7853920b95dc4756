"""The fluid traffic mode: exact fluid dynamics, conservation, agreement with requests."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.core.distributions import Constant, Exponential
from sim.core.errors import ConfigError
from sim.model.service.arrivals.constant import ConstantArrivals
from sim.model.service.fluid import FluidTraffic, erlang_c, gi_g_c_wait
from sim.model.service.metric_queries import period_row
from sim.model.service.monitoring import Monitoring
from sim.model.service.replica_queue import ReplicaQueue
from sim.model.service.workload import RequestSpec
from sim.output.summary import request_part
from sim.scenario import Scenario


def summary_of(*overrides: str) -> dict[str, object]:
    config = sim.load_config(["platform=container", *overrides])
    return dict(Scenario(scenario_params(to_plain(config))).run().summary)


def test_an_overloaded_replica_fills_its_queue_then_drops_exactly() -> None:
    """15 requests/s at one worker of 10/s: the backlog grows 5/s to the 100-place queue
    (20 s; the 30 s timeout allows 300), then 5/s are dropped as queue full."""
    env = simpy.Environment()
    monitoring = Monitoring(60.0, lambda replica: 1.0)
    traffic = FluidTraffic(
        env,
        ConstantArrivals(15.0),
        "constant",
        RequestSpec(Constant(0.1), Constant(1000.0, "number")),
        "round_robin",
        monitoring,
        np.random.default_rng(0),
    )
    env.process(traffic.run())
    traffic.add_replica(ReplicaQueue("r", 1, 100, 30.0))
    monitoring.replica_in_service("r")
    env.run(until=120.0)
    traffic.advance(120.0)  # pieces are computed when asked: a run's last close asks
    stats = traffic.stats
    part = request_part(stats.summary(monitoring.wait_sketch()), stats.in_flight(120.0))
    assert part.requests_total == 1800
    assert part.drops_by_reason["queue full"] == 500
    assert part.requests_in_flight == 101  # 100 waiting, 1 in service
    assert part.requests_served == 1199
    # Waits: 2.5 k + 1.25 s in the four 5 s pieces of the filling (75 requests each),
    # then 10 s (the full queue over 10/s) for 50 requests a piece.
    assert part.wait_s_mean == pytest.approx(11_500 / 1300, rel=1e-12)
    assert part.latency_s_mean == pytest.approx(11_500 / 1300 + 0.1, rel=1e-12)
    assert part.wait_s_p95 == pytest.approx(10.0, rel=0.01)
    rows = [period_row(monitoring, monitoring.close(index)) for index in range(2)]
    assert [row["requests"] for row in rows] == [700, 600]  # given a worker
    assert [row["dropped"] for row in rows] == [200, 300]
    assert [row["completed"] for row in rows] == [599, 600]  # the first fills a worker
    # Constant work and arrivals: no sampling noise, 0.1 s of CPU per completion.
    assert [row["cpu_percent_avg"] for row in rows] == pytest.approx([59.9 / 0.6, 100.0])


class _Burst:
    """5 requests/s, 15/s from 10 s to 14 s: a rate that jumps at known times."""

    def rate_at(self, t_s: float) -> float:
        return 15.0 if 10.0 <= t_s < 14.0 else 5.0

    def next_change_after(self, t_s: float) -> float:
        return next((edge_s for edge_s in (10.0, 14.0) if edge_s > t_s), math.inf)

    def next_after(self, t_s: float) -> float:
        raise NotImplementedError


def test_a_burst_is_a_piece_of_its_own_and_its_backlog_a_transient() -> None:
    """Deterministic arrivals and work on one worker of 10/s: the 4 s burst at 15/s
    builds a backlog of 20 (5/s), drained at 5/s by 18 s. Each request waits the backlog
    it finds over 10/s: the 60 of the burst and the 20 after it wait 1 s on average (a
    ramp from 0 to 2 s and back), the others nothing: 80 s over 340 requests."""
    env = simpy.Environment()
    monitoring = Monitoring(60.0, lambda replica: 1.0)
    traffic = FluidTraffic(
        env,
        _Burst(),  # type: ignore[arg-type]
        "constant",
        RequestSpec(Constant(0.1), Constant(1000.0, "number")),
        "round_robin",
        monitoring,
        np.random.default_rng(0),
    )
    env.process(traffic.run())
    traffic.add_replica(ReplicaQueue("r", 1, 100, 30.0))
    monitoring.replica_in_service("r")
    env.run(until=60.0)
    traffic.advance(60.0)
    stats = traffic.stats
    part = request_part(stats.summary(monitoring.wait_sketch()), stats.in_flight(60.0))
    assert part.requests_total == 340
    assert part.requests_dropped == 0
    assert part.wait_s_mean == pytest.approx(80 / 340, rel=1e-12)
    # 95 % of the requests wait at most 1.575 s (the ramp's points are 0.25 s apart).
    assert 1.45 <= part.wait_s_p95 <= 1.7


def test_the_fluid_follows_bursts_above_capacity() -> None:
    """The bursty case: an mmpp at 10 and 60 requests/s (sojourns 10 s and 2 s) on one
    replica of 4 workers at 100 ms (40/s: bursts at 1.5 times capacity), queue 100. Both
    modes see the same bursts; the fluid's mean wait and p95 are within 10 % of the
    request mode's and its drops within 25 %."""
    common = (
        "workload=bursty",
        "autoscaler=none",
        "cluster.scaler.enabled=false",
        "workload.service.initial_replicas=1",
        "workload.service.workers=4",
        "workload.service.queue=100",
        "workload.traffic.arrivals.rates_per_s=[10,60]",
        "workload.traffic.arrivals.mean_sojourn=[10s,2s]",
        "workload.traffic.request.cpu={dist: exponential, mean: 100ms}",
        "horizon=1h",
        "seed=0",
    )
    requests = summary_of(*common)
    fluid = summary_of(*common, "workload.traffic.mode=fluid")
    assert fluid["wait_s_mean"] == pytest.approx(requests["wait_s_mean"], rel=0.10)
    assert fluid["wait_s_p95"] == pytest.approx(requests["wait_s_p95"], rel=0.10)
    assert fluid["latency_s_p95"] == pytest.approx(requests["latency_s_p95"], rel=0.10)
    assert fluid["requests_dropped"] == pytest.approx(requests["requests_dropped"], rel=0.25)


def test_the_stationary_wait_is_exact_for_mm1_and_dm1() -> None:
    # M/M/1 at rho = 0.5, mu = 10: P(wait) = 0.5, E[Wq] = 0.5 / 5 = 0.1 s.
    assert gi_g_c_wait(1, 0.5, 10.0, 1.0, 1.0) == pytest.approx((0.5, 0.1))
    # M/M/4 at a = 3: Erlang C, E[Wq] = C / (c mu - lambda).
    waits, mean_s = gi_g_c_wait(4, 0.75, 40.0, 1.0, 1.0)
    assert waits == pytest.approx(erlang_c(4, 3.0)) and mean_s == pytest.approx(waits / 10)
    # D/M/1 at rho = 0.5: sigma = exp(-2 (1 - sigma)) = 0.2032, E[Wq] = sigma / (mu (1 - sigma)).
    sigma = 0.5
    for _ in range(200):
        sigma = math.exp(-2 * (1 - sigma))
    waits, mean_s = gi_g_c_wait(1, 0.5, 20.0, 0.0, 1.0)
    assert waits == pytest.approx(sigma, rel=0.02)
    assert mean_s == pytest.approx(sigma / (20 * (1 - sigma)), rel=0.01)


@pytest.mark.parametrize(
    ("workload", "autoscaler", "extra"),
    [
        ("poisson", "hpa", ()),
        ("flash_crowd", "step", ("workload.service.queue=10",)),
        ("constant", "none", ("workload.traffic.start=at_zero",)),
        ("diurnal", "target_tracking", ("horizon=3h",)),
        ("trace", "simple", ()),
        ("bursty", "beanstalk", ()),
    ],
)
def test_every_fluid_request_is_served_in_flight_or_dropped(
    workload: str, autoscaler: str, extra: tuple[str, ...]
) -> None:
    summary = summary_of(
        f"workload={workload}",
        f"autoscaler={autoscaler}",
        "workload.traffic.mode=fluid",
        "horizon=30min",
        *extra,
    )
    assert summary["requests_total"] > 1000
    assert summary["requests_total"] == (
        summary["requests_served"] + summary["requests_in_flight"] + summary["requests_dropped"]
    )
    by_reason = [v for k, v in summary.items() if k.startswith("requests_dropped_")]
    assert sum(by_reason) == summary["requests_dropped"]
    if "at_zero" in str(extra):
        assert summary["requests_dropped_no_ready_replica"] > 0
    if "queue=10" in extra:
        assert summary["requests_dropped_queue_full"] > 0


@pytest.mark.parametrize("autoscaler", ["none", "hpa"])
def test_fluid_and_request_modes_agree_on_a_short_case(autoscaler: str) -> None:
    """Poisson at 20/s on two 1-vCPU replicas (rho = 0.5), 30 min: served within 1 %,
    cost within 2 %, the same scaling actions, p95 latency within 10 %; the mean wait
    within 15 % (each replica sees Erlang-2 gaps under round robin: exactly 0.0309 s,
    Krämer–Langenbach-Belz 0.0336 s)."""
    common = ("workload=poisson", f"autoscaler={autoscaler}", "horizon=30min", "seed=0")
    requests = summary_of(*common)
    fluid = summary_of(*common, "workload.traffic.mode=fluid")
    assert fluid["requests_served"] == pytest.approx(requests["requests_served"], rel=0.01)
    assert fluid["cost_usd"] == pytest.approx(requests["cost_usd"], rel=0.02)
    assert fluid["scaling_actions"] == requests["scaling_actions"]
    assert fluid["latency_s_p95"] == pytest.approx(requests["latency_s_p95"], rel=0.10)
    assert fluid["wait_s_mean"] == pytest.approx(requests["wait_s_mean"], rel=0.15)
    assert fluid["vcpu_seconds_used"] == pytest.approx(requests["vcpu_seconds_used"], rel=0.02)
    # Without an SLO every request served (finished or in flight) counts as available.
    for summary in (requests, fluid):
        answered = summary["requests_served"] + summary["requests_in_flight"]
        assert summary["availability"] == answered / summary["requests_total"]


def test_fluid_runs_are_reproducible() -> None:
    overrides = ("workload=flash_crowd", "autoscaler=target_tracking", "horizon=1h")
    first = summary_of(*overrides, "workload.traffic.mode=fluid")
    assert summary_of(*overrides, "workload.traffic.mode=fluid") == first


def test_an_unknown_mode_is_one_config_error() -> None:
    config = sim.load_config(["workload=poisson", "workload.traffic.mode=fluidd"])
    with pytest.raises(ConfigError) as raised:
        scenario_params(to_plain(config))
    assert str(raised.value) == "workload.traffic.mode: fluidd: one of fluid, requests"


@pytest.mark.parametrize(
    "override",
    [
        "+slo.latency_p95=300ms",
        "+faults=[{kind: host-crash, target: node-1, at: 10min, duration: 5min}]",
    ],
)
def test_faults_and_slos_need_the_request_mode(override: str) -> None:
    overrides = ["platform=container", "workload=poisson", "workload.traffic.mode=fluid"]
    config = sim.load_config([*overrides, override])
    with pytest.raises(ConfigError) as raised:
        scenario_params(to_plain(config))
    assert str(raised.value).startswith("workload.traffic.mode: fluid: requests when faults")


def test_the_fluid_needs_a_positive_mean_cpu_time() -> None:
    with pytest.raises(ValueError, match="positive mean CPU"):
        FluidTraffic(
            simpy.Environment(),
            ConstantArrivals(1.0),
            "constant",
            RequestSpec(Constant(0.0), Constant(0.0, "number")),
            "round_robin",
            Monitoring(60.0, lambda replica: 1.0),
            np.random.default_rng(0),
        )
    assert Exponential(0.1).mean() == pytest.approx(0.1)
