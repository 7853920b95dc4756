"""The served app end to end: conservation, draining, scaling loops, costs, queueing."""

from __future__ import annotations

import math
import statistics
from collections.abc import Generator
from typing import Any

import pytest

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.scenario import Scenario

SHORT = ["horizon=20min", "platform=container"]


def world(*overrides: str) -> Scenario:
    return Scenario(scenario_params(to_plain(sim.load_config(list(overrides)))))


@pytest.mark.parametrize(
    ("workload", "autoscaler"),
    [
        ("constant", "none"),
        ("poisson", "hpa"),
        ("flash_crowd", "step"),
        ("diurnal", "target_tracking"),
        ("trace", "simple"),
        ("poisson", "beanstalk"),
    ],
)
def test_every_request_is_served_in_flight_or_dropped(workload: str, autoscaler: str) -> None:
    summary = world(f"workload={workload}", f"autoscaler={autoscaler}", *SHORT).run().summary
    assert summary["requests_total"] > 1000
    assert summary["requests_total"] == (
        summary["requests_served"] + summary["requests_in_flight"] + summary["requests_dropped"]
    )
    by_reason = [v for k, v in summary.items() if k.startswith("requests_dropped_")]
    assert sum(by_reason) == summary["requests_dropped"]


def test_a_drained_replica_finishes_its_in_flight_requests() -> None:
    """Scale 3 -> 1 under load: the drained replicas stop only once idle; nothing is lost."""
    w = world(
        "workload=poisson",
        "autoscaler=none",
        "workload.service.initial_replicas=3",
        "workload.traffic.arrivals.rate_per_s=10",
        "horizon=10min",
        "platform=container",
    )
    assert w.service is not None
    fleet, traffic = w.service.fleet, w.service.traffic
    checked: list[tuple[str, float, float]] = []

    def scale_in() -> Generator[Any, Any, None]:
        yield w.env.timeout(300.0)
        queues = {name: q for name, q in ((q.name, q) for q in traffic._ready)}
        fleet.set_desired(1, "test")
        for member in list(fleet.members.values()):
            if member.state == "draining":
                queue = queues[member.name]
                checked.append((member.name, w.env.now, queue.drained_at_s()))

    w.env.process(scale_in())
    result = w.run()
    assert len(checked) == 2
    for name, drained_s, idle_s in checked:
        removed = [
            e.time_s
            for e in result.events
            if e.source == name and e.detail_or("state") == "removed"
        ]
        assert removed == [max(idle_s, drained_s)]
    summary = result.summary
    assert summary["requests_dropped"] == 0
    assert summary["requests_total"] == summary["requests_served"] + summary["requests_in_flight"]


def test_the_bill_of_a_fixed_fleet_is_computed_by_hand() -> None:
    """Three m5.2xlarge hosts for an hour, plus two m5.large Beanstalk instances launched
    at t = 0, per-second billing: 3 x 0.384 + 2 x 0.096 USD."""
    w = world(
        "workload=constant",
        "autoscaler=none",
        "platform=beanstalk-docker",
        "workload.service.initial_replicas=2",
        "horizon=1h",
        "cluster.scaler.enabled=false",
    )
    summary = w.run().summary
    assert summary["cost_usd_instances"] == pytest.approx(3 * 0.384 + 2 * 0.096, rel=1e-12)
    stored = w.cluster.registries["ecr"].stored_bytes()
    assert summary["cost_usd_registries"] == pytest.approx(
        stored / 1e9 * 0.10 * 3600 / (30 * 86400), rel=1e-9
    )
    assert summary["hosts_max"] == 5


def test_billing_minimum_is_sixty_seconds() -> None:
    from sim.model.hosts.billing import InstanceUsage, instance_cost_usd

    short = InstanceUsage(usd_per_hour=3.6, launched_s=100.0, terminated_s=110.0)
    long = InstanceUsage(usd_per_hour=3.6, launched_s=0.0, terminated_s=None)
    assert instance_cost_usd([short], end_s=500.0) == pytest.approx(0.06)
    assert instance_cost_usd([long], end_s=500.0) == pytest.approx(0.5)


def test_beanstalk_trigger_waits_for_a_period_and_respects_its_cooldown() -> None:
    """Constant load far above 6 MB per 5 min per instance: +1 once a 5-minute period has
    breached, never within 360 s of the end of the previous scaling activity."""
    result = world(
        "workload=constant", "autoscaler=beanstalk", "horizon=40min", "platform=container"
    ).run()
    actions = [e for e in result.events if e.kind == "scaling_action"]
    desired = [e.detail("desired") for e in actions]
    assert desired == [3, 4]
    times = [e.time_s for e in actions]
    assert times[0] >= 300.0  # the first complete 5-minute period
    ready = {e.source: e.time_s for e in result.events if e.detail_or("state") == "in_service"}
    for before, after in zip(times, times[1:], strict=False):
        activity_end = max(t for t in ready.values() if before <= t <= after)
        assert after - activity_end >= 360.0


def test_hpa_never_scales_down_within_its_stabilization_window() -> None:
    result = world(
        "workload=constant",
        "autoscaler=hpa",
        "workload.service.initial_replicas=4",
        "workload.traffic.arrivals.rate_per_s=2",
        "horizon=15min",
        "platform=container",
    ).run()
    downs = [
        e
        for e in result.events
        if e.kind == "scaling_action" and int(e.detail("desired")) < int(e.detail("previous"))
    ]
    assert downs and min(e.time_s for e in downs) >= 300.0


def test_the_hpa_sees_each_replicas_cpu_request_and_usage() -> None:
    """The loop shows the HPA each replica's request (the app's vCPUs) and the vCPUs it
    was busy over the last monitoring period; a replica not yet in service has none."""
    w = world(
        "workload=constant",
        "autoscaler=hpa",
        "workload.apps.web.vcpu=2",
        "workload.service.initial_replicas=3",
        "horizon=10min",
        "platform=container",
    )
    w.run()
    assert w.service is not None and w.service.autoscaler is not None
    last = w.monitoring.closed[-1]
    members = [m for m in w.service.fleet.members.values() if m.state != "stopped"]
    instances = w.service.autoscaler.observe().instances
    assert len(instances) == len(members) > 0
    for member, pod in zip(members, instances, strict=True):
        assert pod.cpu_request_vcpu == 2.0
        if member.state == "in_service" and member.name in last.in_service:
            busy_s = last.usage[member.name][1] if member.name in last.usage else 0.0
            assert pod.cpu_usage_vcpu == pytest.approx(busy_s / w.monitoring.period_s)
        else:
            assert pod.cpu_usage_vcpu is None
    assert any(pod.cpu_usage_vcpu for pod in instances)


def test_pending_replicas_make_the_cluster_scaler_add_hosts() -> None:
    """One small host, a flash crowd, an HPA: replicas that do not fit wait, hosts join."""
    result = world(
        "workload=flash_crowd",
        "autoscaler=hpa",
        "platform=container",
        "horizon=1h",
        "cluster.pools.node.count=1",
        "cluster.pools.node.instance_type=m5.large",
        "cluster.scaler.instance_type=m5.large",
    ).run()
    kinds = [e.kind for e in result.events]
    assert "cluster_scale_out" in kinds and "host_joined" in kinds
    assert result.summary["hosts_max"] > 1
    assert result.summary["cluster_scaling_actions"] >= 1
    pending = [e for e in result.events if e.detail_or("state") == "pending"]
    assert pending


def erlang_c_wait_s(arrival_per_s: float, service_per_s: float, servers: int) -> float:
    """Mean time in system of M/M/c (SEMANTICS.md): Wq + 1/mu."""
    a = arrival_per_s / service_per_s
    top = a**servers / math.factorial(servers) * servers / (servers - a)
    bottom = sum(a**k / math.factorial(k) for k in range(servers)) + top
    wait_q = top / bottom / (servers * service_per_s - arrival_per_s)
    return wait_q + 1.0 / service_per_s


def test_poisson_traffic_through_the_simulator_matches_erlang_c() -> None:
    """One replica with 4 workers, Poisson arrivals at 30/s, exponential 0.1 s service:
    M/M/4 at rho = 0.75. Ten seeds; the 95 % interval (Student t, 9 d.f.) of the mean
    latency must hold the analytical W and be narrower than 10 % of it."""
    means = []
    for seed in range(10):
        summary = (
            world(
                f"seed={seed}",
                "workload=poisson",
                "autoscaler=none",
                "platform=container",
                "workload.service.initial_replicas=1",
                "workload.apps.web.vcpu=4",
                "workload.service.queue=100000",
                "workload.service.timeout=1h",
                "workload.traffic.arrivals.rate_per_s=30",
                "workload.traffic.request.cpu={dist: exponential, mean: 100ms}",
                "horizon=1h",
                "cluster.scaler.enabled=false",
            )
            .run()
            .summary
        )
        means.append(summary["latency_s_mean"])
    expected = erlang_c_wait_s(30.0, 10.0, 4)
    half_width = 2.2622 * statistics.stdev(means) / math.sqrt(len(means))
    mean = statistics.fmean(means)
    assert abs(mean - expected) <= half_width
    assert 2 * half_width < 0.10 * expected


def test_progress_is_reported_once_per_sample_period_up_to_the_horizon() -> None:
    from sim.scenario import run_scenario

    params = scenario_params(
        to_plain(sim.load_config(["workload=constant", "platform=container", "horizon=10min"]))
    )
    seen: list[tuple[float, float]] = []
    run_scenario(params, lambda now_s, horizon_s: seen.append((now_s, horizon_s)))
    assert [now for now, _ in seen] == [60.0 * k for k in range(1, 11)]
    assert {horizon for _, horizon in seen} == {600.0}
