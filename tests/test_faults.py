"""Faults: host crashes lose replicas and fail their requests; owners replace them; the
counts add up under any fault schedule."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.core.errors import ConfigError
from sim.scenario import Scenario

# Three hosts, three replicas with no start-up randomness (create, start and init take
# no time), constant arrivals: a replacement on a host that has the image is in service
# exactly one health check (2 x 10 s) after it is asked for.
BASE = [
    "workload=constant",
    "platform=container",
    "autoscaler=none",
    "horizon=15min",
    "workload.service.initial_replicas=3",
    "workload.apps.web.init=0s",
    "platform.container.create=0s",
    "platform.container.runtime_start=0s",
    "cluster.scaler.enabled=false",
    # Replacements at once, as when the control plane gave up on a host immediately (the
    # default grace period and toleration are tested on their own below).
    "cluster.node_lifecycle.grace_period=0",
    "cluster.node_lifecycle.toleration=0",
]


def config(*overrides: str, faults: list[dict[str, Any]] | None = None, **root: Any) -> dict:
    plain = to_plain(sim.load_config([*BASE, *overrides]))
    if faults is not None:
        plain["faults"] = faults
    plain.update(root)
    return plain


def world(*overrides: str, faults: list[dict[str, Any]] | None = None, **root: Any) -> Scenario:
    return Scenario(scenario_params(config(*overrides, faults=faults, **root)))


def crash(target: str, at: str, duration: str | None = "3min", **more: Any) -> dict[str, Any]:
    fault: dict[str, Any] = {"kind": "host-crash", "target": target, "at": at, **more}
    if duration is not None:
        fault["duration"] = duration
    return fault


def conserved(summary: dict[str, Any]) -> None:
    assert summary["requests_total"] == (
        summary["requests_served"]
        + summary["requests_in_flight"]
        + summary["requests_dropped"]
        + summary["requests_failed"]
    )
    assert summary["requests_failed"] == sum(
        value for key, value in summary.items() if key.startswith("requests_failed_")
    )
    assert summary["replicas_requested"] == (
        summary["replicas_started"] + summary["replicas_failed"] + summary["replicas_unfinished"]
    )
    assert summary["pulls_requested"] == (
        summary["pulls_completed"] + summary["pulls_failed"] + summary["pulls_unfinished"]
    )


def test_without_faults_nothing_fails_and_every_fault_metric_is_zero() -> None:
    summary = world().run().summary
    assert (summary["hosts_failed"], summary["replicas_lost"], summary["replicas_replaced"]) == (
        0,
        0,
        0,
    )
    assert summary["time_to_recover_s"] is None
    assert summary["time_to_recover_after_fault_s"] is None
    assert summary["requests_failed"] == 0
    assert summary["availability"] == 1.0
    assert summary["slo_violation_s"] == 0.0


def test_a_crash_loses_the_hosts_replica_fails_its_requests_and_a_replacement_serves() -> None:
    # 1 s of CPU per request, 20 requests/s over three one-worker replicas: each is
    # saturated: one request in service and 30 waiting (a request would wait at most the
    # 30 s timeout, at 1 s per request ahead of it).
    w = world("workload.traffic.request.cpu=1s", faults=[crash("node-1", "5min")])
    assert w.service is not None
    seen: dict[str, Any] = {}

    def look() -> Generator[Any, Any, None]:
        # Scheduled before the fault's own timeout, so it runs first at the same instant.
        yield w.env.timeout(300.0)
        fleet = w.service.fleet  # type: ignore[union-attr]
        on_host = [name for name in w.ledger.on_host(w.cluster.host("node-1"))]
        seen["on_host"] = on_host
        seen["outstanding"] = sum(
            fleet.members[name].queue.outstanding(300.0)  # type: ignore[union-attr]
            for name in on_host
        )

    w.env.process(look())
    result = w.run()
    summary = result.summary
    assert seen["on_host"] == ["web-container-1"]
    assert seen["outstanding"] == 31
    assert summary["hosts_failed"] == 1
    assert summary["replicas_lost"] == 1
    assert summary["replicas_replaced"] == 1
    assert summary["requests_failed_host_failure"] == seen["outstanding"]
    assert summary["time_to_recover_s"] == 20.0
    # The replacement served at 320 s, before node-1 came back at 480 s.
    assert summary["time_to_recover_after_fault_s"] == 0.0
    conserved(summary)
    story = [
        (e.time_s, e.source, str(e.kind), e.detail_or("state"))
        for e in result.events
        if str(e.kind) in ("host_failed", "host_recovered", "service_recovered")
        or (e.time_s >= 300.0 and e.detail_or("state") in ("lost", "requested", "in_service"))
    ]
    assert story == [
        (300.0, "node-1", "host_failed", None),
        (300.0, "web-container-1", "replica_state", "lost"),
        (300.0, "web-container-4", "replica_state", "requested"),
        (320.0, "web-container-4", "replica_state", "in_service"),
        (320.0, "host-crash:node-1", "service_recovered", None),
        (480.0, "node-1", "host_recovered", None),
    ]
    # The replacement went to a host that had the image: no pull after the crash.
    assert len(result.pulls) == 3
    # The wait percentiles, like the mean, are over the requests served: the 31 cut
    # requests' waits leave them.
    answered = summary["requests_served"] + summary["requests_in_flight"]
    assert w.service.monitoring.wait_sketch().count == answered == w.service.stats.served_count


def test_with_every_host_down_recovery_is_timed_from_the_faults_end_too() -> None:
    # The whole pool is down from 300 to 480 s: nowhere to recover until it is back.
    # Rebooted hosts keep the image; a replacement is in service one health check
    # (20 s) after it is placed at 480 s.
    summary = world(faults=[crash("node", "5min")]).run().summary
    assert (summary["hosts_failed"], summary["replicas_lost"]) == (3, 3)
    assert summary["time_to_recover_s"] == 200.0
    assert summary["time_to_recover_after_fault_s"] == 20.0
    conserved(summary)


def test_a_fault_that_never_ends_has_no_recovery_after_its_end() -> None:
    summary = world(faults=[crash("node-1", "5min", None, recovery="none")]).run().summary
    assert summary["time_to_recover_s"] == 20.0
    assert summary["time_to_recover_after_fault_s"] is None


def test_a_rebooted_host_keeps_its_cache_and_a_replaced_one_starts_empty() -> None:
    rebooted = world(faults=[crash("node-1", "5min")])
    rebooted.run()
    assert rebooted.cluster.host("node-1").engine.store.layer_bytes() > 0
    assert [h.name for h in rebooted.cluster.hosts][-1] == "node-1"
    replaced = world(faults=[crash("node-1", "5min", recovery="replace")])
    result = replaced.run()
    names = [h.name for h in replaced.cluster.hosts]
    assert "node-1" not in names and names[-1] == "node-1-r1"
    assert replaced.cluster.host("node-1-r1").engine.store.layer_bytes() == 0
    records = replaced.cluster.cloud.records
    assert (records["node-1"].launched_s, records["node-1"].terminated_s) == (0, 300.0)
    assert (records["node-1-r1"].launched_s, records["node-1-r1"].terminated_s) == (480.0, None)
    kinds = [
        (e.time_s, e.source, str(e.kind)) for e in result.events if e.source.startswith("node-1")
    ]
    assert (300.0, "node-1", "instance_terminated") in kinds
    assert (480.0, "node-1-r1", "instance_launched") in kinds


def test_a_host_that_stays_down_leaves_two_hosts_for_four_replicas() -> None:
    summary = world(faults=[crash("node-1", "5min", None, recovery="none")]).run().summary
    assert summary["hosts_failed"] == 1 and summary["replicas_replaced"] == 1
    conserved(summary)


def test_a_fault_at_zero_loses_the_start_up_placed_there_one_at_the_horizon_never_happens() -> None:
    # The replicas are placed at t = 0 before the fault strikes at that instant: the
    # one on node-1 is lost while starting, fails with the host, and is replaced.
    at_zero = world(faults=[crash("node-1", "0s", None, recovery="none")])
    summary = at_zero.run().summary
    assert (summary["hosts_failed"], summary["replicas_lost"]) == (1, 1)
    assert [
        (r.replica, r.host, r.reason) for r in at_zero.ledger.records if r.state == "failed"
    ] == [("web-container-1", "node-1", "host failure")]
    assert all(r.host != "node-1" for r in at_zero.ledger.records if r.state == "ready")
    assert summary["replicas_started"] == 3
    conserved(summary)
    at_end = world(faults=[crash("node-1", "15min")]).run().summary
    assert (at_end["hosts_failed"], at_end["replicas_lost"]) == (0, 0)


def test_overlapping_faults_on_one_host_crash_it_once_and_a_pool_crash_takes_all() -> None:
    twice = world(faults=[crash("node-1", "5min"), crash("node-1", "6min")]).run().summary
    assert (twice["hosts_failed"], twice["replicas_lost"]) == (1, 1)
    everything = world(faults=[crash("node", "5min", "1min")]).run()
    summary = everything.summary
    assert (summary["hosts_failed"], summary["replicas_lost"]) == (3, 3)
    assert summary["requests_dropped_no_ready_replica"] > 0
    conserved(summary)
    recovered = [e for e in everything.events if str(e.kind) == "service_recovered"]
    assert len(recovered) == 1 and recovered[0].time_s > 360.0


@pytest.mark.parametrize(
    ("fault", "key", "message"),
    [
        (
            crash("node-9", "1min"),
            "faults.0.target",
            "a host or pool: node-1, node-2, node-3, node",
        ),
        ({"kind": "host-crash", "target": "node-1"}, "faults.0.at", "either at or mtbf"),
        (
            {"kind": "container-crash", "target": "web", "at": "1min", "duration": "1min"},
            "faults.0.duration",
            "not for container-crash",
        ),
        (
            {"kind": "zone-outage", "target": "a", "at": "1min"},
            "faults.0.target",
            "a zone: none",
        ),
        (
            {"kind": "link-failure", "target": "node-1--hub", "at": "1min"},
            "faults.0.target",
            "a link: switch--node-1",
        ),
        (
            {"kind": "meteor", "target": "node-1"},
            "faults.0.kind",
            "one of container-crash, disk-pressure, host-crash",
        ),
    ],
)
def test_a_bad_fault_is_one_config_error_naming_key_value_and_what_is_allowed(
    fault: dict[str, Any], key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        scenario_params(config(faults=[fault]))
    assert str(raised.value).startswith(f"{key}: ")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_stochastic_crashes_draw_from_their_own_stream_and_shift_no_other() -> None:
    plain = world().run()
    stochastic = {
        "kind": "host-crash",
        "target": "node",
        "mtbf": {"dist": "exponential", "mean": "10min"},
        "mttr": "2min",
    }
    faulty = world(faults=[stochastic]).run()
    again = world(faults=[stochastic]).run()
    assert faulty.summary == again.summary
    assert faulty.summary["hosts_failed"] >= 1
    # The arrivals and the replicas' first start-ups are the same draws as without faults.
    first = [r.startup_s for r in plain.replicas[:3]]
    assert [r.startup_s for r in faulty.replicas[:3]] == first


def test_the_slo_counts_violating_periods_and_availability_counts_slow_requests() -> None:
    slo = {"latency_p95": "10ms", "drop_ratio": 0.5}
    summary = world(slo=slo).run().summary
    # Every request takes ~50 ms of CPU: every period with traffic breaks a 10 ms p95.
    assert summary["slo_violation_s"] == 15 * 60.0
    assert summary["availability"] < 0.3
    lenient = world(slo={"latency_p95": "1h"}).run().summary
    assert lenient["slo_violation_s"] == 0.0 and lenient["availability"] == 1.0


def _disk_adds_up(w: Scenario) -> None:
    starting = {startup.host for startup in w.ledger.starting.values()}
    filled = w.resilience.filled_bytes if w.resilience is not None else {}
    for host in w.cluster.cloud.launched + list(w.cluster.pool_hosts):
        if host.name in starting or host.engine.layers_in_flight:
            continue
        held = sum(
            holding.disk_bytes
            for name in w.ledger.on_host(host)
            if (holding := w.ledger.get(name)) is not None
        )
        expected = host.engine.store.layer_bytes() + held + filled.get(host.name, 0)
        assert host.disk.used_bytes == expected, host.name


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.generate],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["node-1", "node-2", "node-3", "node"]),
            st.integers(min_value=0, max_value=600),
            st.integers(min_value=1, max_value=300),
            st.sampled_from(["reboot", "replace", "none"]),
        ),
        max_size=4,
    )
)
def test_counts_add_up_under_any_fault_schedule(
    schedule: list[tuple[str, int, int, str]],
) -> None:
    faults = [
        crash(target, f"{at}s", f"{duration}s", recovery=recovery)
        for target, at, duration, recovery in schedule
    ]
    w = world("horizon=10min", faults=faults)
    result = w.run()
    summary = result.summary
    conserved(summary)
    names = [record.replica for record in result.replicas]
    assert len(names) == len(set(names))
    fleet = w.service.fleet  # type: ignore[union-attr]
    assert not set(fleet.members) & set(w.ledger.lost)
    assert summary["replicas_lost"] == len(w.ledger.lost)
    assert summary["hosts_failed"] <= sum(3 if t == "node" else 1 for t, *_ in schedule)
    _disk_adds_up(w)


def test_a_zone_outage_takes_every_host_of_the_zone_and_replicas_move_to_the_other() -> None:
    plain = config(
        "cluster.pools.node.count=4",
        "+cluster.pools.node.zones=[a, b]",
        "workload.service.initial_replicas=4",
        faults=[{"kind": "zone-outage", "target": "a", "at": "5min", "duration": "3min"}],
    )
    w = Scenario(scenario_params(plain))
    result = w.run()
    assert [(h.name, h.params.zone) for h in w.cluster.pool_hosts] == [
        ("node-1", "a"),
        ("node-2", "b"),
        ("node-3", "a"),
        ("node-4", "b"),
    ]
    failed = [(e.time_s, e.source) for e in result.events if str(e.kind) == "host_failed"]
    assert failed == [(300.0, "node-1"), (300.0, "node-3")]
    summary = result.summary
    assert (summary["hosts_failed"], summary["replicas_lost"], summary["replicas_replaced"]) == (
        2,
        2,
        2,
    )
    replaced = [r.host for r in result.replicas if r.requested_s == 300.0]
    assert sorted(replaced) == ["node-2", "node-4"]
    conserved(summary)
    with pytest.raises(ConfigError, match=r"^faults.0.target: node-1: a zone: a, b$"):
        scenario_params({**plain, "faults": [{"kind": "zone-outage", "target": "node-1", "at": 0}]})


def storm(*overrides: str, faults: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    plain = to_plain(sim.load_config(["+experiment=registry_storm", *overrides]))
    if faults is not None:
        plain["faults"] = faults
    return Scenario(scenario_params(plain)).run().summary


def test_128_hosts_behind_one_nat_ip_share_the_hubs_limit_of_100_and_a_mirror_needs_one() -> None:
    """Docker Hub limits anonymous pulls per IPv4 address (100 per 6 h): behind one NAT
    gateway the cluster is one client, and 28 of 128 pulls are refused; through a
    pull-through mirror the hub sees one client pulling once."""
    one_try = ["cluster.pools.node.count=128", "platform.container.image_pull_backoff.attempts=1"]
    own_ips = storm(*one_try, "~cluster.registry_mirrors")
    assert own_ips["pulls_failed"] == 0
    nat = storm(*one_try, "network.nat_gateways=1", "~cluster.registry_mirrors")
    assert (nat["pulls_completed"], nat["pulls_failed"], nat["replicas_failed"]) == (100, 28, 28)
    mirrored = storm(*one_try, "network.nat_gateways=1")
    assert (mirrored["pulls_completed"], mirrored["pulls_failed"]) == (128, 0)


def test_a_registry_outage_fails_pulls_until_it_ends_and_a_warm_mirror_serves_through_it() -> None:
    outage = [{"kind": "registry-outage", "target": "hub", "at": "0s", "duration": "2min"}]
    cold = storm("cluster.pools.node.count=8", faults=outage)
    assert cold["replicas_started"] == 8
    assert cold["pulls_failed"] > 0 and cold["pull_retries"] > 0
    assert cold["startup_s_p50"] > 120.0
    warm = storm("cluster.pools.node.count=8", "registry.mirror.preload=[storm-app]", faults=outage)
    assert (warm["replicas_started"], warm["pulls_failed"], warm["pull_retries"]) == (8, 0, 0)
    assert warm["startup_s_max"] < 60.0


def _crash_loop(lifetime: str, horizon: str) -> list[tuple[float, str, Any]]:
    w = world(
        f"horizon={horizon}",
        "workload.service.initial_replicas=1",
        faults=[{"kind": "container-crash", "target": "web", "mtbf": lifetime, "restart": "2s"}],
    )
    result = w.run()
    conserved(result.summary)
    assert result.summary["requests_failed_container_crash"] == result.summary["requests_failed"]
    return [
        (e.time_s, str(e.detail_or("state")), e.detail_or("backoff_s"))
        for e in result.events
        if e.source == "web-container-1"
        and e.detail_or("state") in ("crash_loop_backoff", "in_service")
    ]


def test_a_crashing_container_restarts_in_place_with_crash_loop_backoff_doubling_to_5_min() -> None:
    """The first restart is immediate (doBackOff finds no entry yet), then 10 s doubling
    to 5 min."""
    story = _crash_loop("30s", "40min")
    first_in_service = story[0][0]
    backoffs = [backoff for _, state, backoff in story if state == "crash_loop_backoff"]
    assert backoffs[:8] == [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]
    # Each time: 30 s in service, the back-off, a 2 s restart and a 20 s health check.
    expected, t = [], first_in_service
    for backoff in backoffs[:4]:
        expected += [(t, "in_service", None), (t + 30.0, "crash_loop_backoff", backoff)]
        t += 30.0 + backoff + 2.0 + 20.0
    assert story[:8] == [(pytest.approx(a), b, c) for a, b, c in expected]


def test_crash_loop_backoff_resets_after_ten_minutes_running() -> None:
    """Each exit comes more than 600 s after the restart before it: the entry has expired,
    so every restart is immediate again."""
    backoffs = [b for _, state, b in _crash_loop("11min", "1h") if state == "crash_loop_backoff"]
    assert backoffs == [0.0] * len(backoffs) and len(backoffs) >= 4


def test_crash_loop_backoff_with_kep_4603_settings() -> None:
    """ReduceDefaultCrashLoopBackOffDecay's 1 s doubling to 60 s."""
    w = world(
        "horizon=20min",
        "workload.service.initial_replicas=1",
        "cluster.engine.crash_loop_backoff.initial=1s",
        "cluster.engine.crash_loop_backoff.max=1min",
        faults=[{"kind": "container-crash", "target": "web", "mtbf": "30s", "restart": "2s"}],
    )
    backoffs = [
        e.detail_or("backoff_s")
        for e in w.run().events
        if e.source == "web-container-1" and e.detail_or("state") == "crash_loop_backoff"
    ]
    assert backoffs[:9] == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def spot_world(*overrides: str, rate: float = 1.0) -> Scenario:
    plain = config("horizon=1h", *overrides)
    plain["cluster"]["pools"]["node"]["spot"] = {"price_fraction": 0.3, "interruptions_per_h": rate}
    return Scenario(scenario_params(plain))


def test_a_spot_interruption_gives_notice_drains_reclaims_and_replaces_the_host() -> None:
    w = spot_world()
    result = w.run()
    summary = result.summary
    conserved(summary)
    assert summary["spot_interruptions"] >= 1
    events = [(e.time_s, e.source, str(e.kind), e.details) for e in result.events]
    notices = [(t, source) for t, source, kind, _ in events if kind == "spot_interruption"]
    for at_s, host in notices:
        assert (at_s + 120.0, host, "instance_terminated", (("reason", "spot"),)) in events
        replaced = [
            (t, source)
            for t, source, kind, details in events
            if kind == "host_recovered" and ("fault", f"spot:{host}") in details
        ]
        if at_s + 210.0 <= 3600.0:
            assert [t for t, _ in replaced] == [at_s + 210.0]
    # Billed at 30 % of on demand; the savings are the other 70 %, second by second.
    records = w.cluster.cloud.records
    on_demand = records["node-2"].on_demand_usd_per_hour
    assert on_demand is not None and records["node-2"].usd_per_hour == 0.3 * on_demand
    spot = [r for r in records.values() if r.on_demand_usd_per_hour is not None]
    end_s = summary["sim_time_s"]
    expected = sum(
        max((r.terminated_s if r.terminated_s is not None else end_s) - r.launched_s, 60.0)
        * (r.on_demand_usd_per_hour - r.usd_per_hour)  # type: ignore[operator]
        / 3600.0
        for r in spot
    )
    assert summary["spot_savings_usd"] == pytest.approx(expected, rel=1e-12)


def test_requests_still_running_at_the_spot_deadline_fail_with_spot_interruption() -> None:
    # 200 s of CPU per request: a drained replica cannot finish within the 2-minute notice.
    result = spot_world("workload.traffic.request.cpu=200s", rate=2.0).run()
    summary = result.summary
    conserved(summary)
    assert summary["spot_interruptions"] >= 1
    assert summary["requests_failed_spot_interruption"] > 0
    assert summary["requests_failed"] == summary["requests_failed_spot_interruption"]


def test_without_spot_capacity_nothing_is_saved_and_nothing_interrupted() -> None:
    summary = world().run().summary
    assert (summary["spot_interruptions"], summary["spot_savings_usd"]) == (0, 0.0)


def test_disk_pressure_collects_images_taints_the_node_and_evicts_its_pods() -> None:
    fill = {"kind": "disk-pressure", "target": "node-1", "at": "5min", "duration": "3min"}
    w = world(faults=[{**fill, "fill": "95GB"}])
    result = w.run()
    summary = result.summary
    conserved(summary)
    assert (summary["replicas_lost"], summary["replicas_replaced"]) == (1, 1)
    assert summary["requests_failed_evicted"] == summary["requests_failed"]
    story = [
        (e.time_s, e.source, str(e.kind), e.detail_or("state") or e.detail_or("how"))
        for e in result.events
        if e.time_s >= 300.0
        and (
            str(e.kind) in ("disk_pressure", "host_recovered", "image_removed")
            or e.detail_or("state") in ("lost", "scheduled")
        )
    ]
    # The evicted pod's image was in use at the kubelet's detection of this instant (the
    # periodic one at 300 s), so the collection that follows the eviction at once skips
    # it as used too recently (image_gc_manager.go freeSpace): the node stays tainted
    # until the fill is gone.
    assert story == [
        (300.0, "node-1", "disk_pressure", None),
        (300.0, "web-container-1", "replica_state", "lost"),
        (300.0, "web-container-4", "replica_state", "scheduled"),
        (480.0, "node-1", "host_recovered", "untainted"),
    ]
    # Under the threshold nothing is evicted.
    light = world(faults=[{**fill, "fill": "10GB"}]).run().summary
    assert (light["replicas_lost"], light["requests_failed"]) == (0, 0)


FAULT = st.one_of(
    st.builds(
        lambda target, at, duration: {
            "kind": "link-failure",
            "target": target,
            "at": f"{at}s",
            "duration": f"{duration}s",
        },
        st.sampled_from(["switch--node-1", "node-3--switch", "switch--mirror", "hub--switch"]),
        st.integers(0, 600),
        st.integers(1, 300),
    ),
    st.builds(
        lambda target, at, duration, recovery: crash(
            target, f"{at}s", f"{duration}s", recovery=recovery
        ),
        st.sampled_from(["node-1", "node-2", "node-4", "node"]),
        st.integers(0, 600),
        st.integers(1, 300),
        st.sampled_from(["reboot", "replace", "none"]),
    ),
    st.builds(
        lambda zone, at, duration: {
            "kind": "zone-outage",
            "target": zone,
            "at": f"{at}s",
            "duration": f"{duration}s",
        },
        st.sampled_from(["a", "b"]),
        st.integers(0, 600),
        st.integers(1, 300),
    ),
    st.builds(
        lambda registry, at, duration: {
            "kind": "registry-outage",
            "target": registry,
            "at": f"{at}s",
            "duration": f"{duration}s",
        },
        st.sampled_from(["hub", "mirror"]),
        st.integers(0, 600),
        st.integers(1, 300),
    ),
    st.builds(
        lambda at: {"kind": "container-crash", "target": "web", "at": f"{at}s"},
        st.integers(0, 600),
    ),
    st.builds(
        lambda mean: {
            "kind": "container-crash",
            "target": "web",
            "mtbf": {"dist": "exponential", "mean": f"{mean}s"},
        },
        st.integers(30, 600),
    ),
    st.builds(
        lambda target, at, duration, fill: {
            "kind": "disk-pressure",
            "target": target,
            "at": f"{at}s",
            "duration": f"{duration}s",
            "fill": fill,
        },
        st.sampled_from(["node-1", "node-3", "node"]),
        st.integers(0, 600),
        st.integers(1, 300),
        st.sampled_from(["20GB", "95GB"]),
    ),
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.generate],
)
@given(
    st.lists(FAULT, max_size=4),
    st.sampled_from([None, 0.5, 4.0]),
    st.sampled_from(["1s", "50ms"]),
)
def test_counts_add_up_under_any_mix_of_fault_kinds_and_spot(
    faults: list[dict[str, Any]], spot_rate: float | None, cpu: str
) -> None:
    plain = config(
        "horizon=10min",
        "cluster.pools.node.count=4",
        "+cluster.pools.node.zones=[a, b]",
        f"workload.traffic.request.cpu={cpu}",
        faults=faults,
    )
    if spot_rate is not None:
        plain["cluster"]["pools"]["node"]["spot"] = {"interruptions_per_h": spot_rate}
    w = Scenario(scenario_params(plain))
    result = w.run()
    summary = result.summary
    conserved(summary)
    names = [record.replica for record in result.replicas]
    assert len(names) == len(set(names))
    fleet = w.service.fleet  # type: ignore[union-attr]
    assert not set(fleet.members) & set(w.ledger.lost)
    assert summary["replicas_lost"] == len(w.ledger.lost)
    in_service = [m for m in fleet.members.values() if m.state == "in_service"]
    assert sorted(m.name for m in in_service) == sorted(
        w.service.traffic.ready_replicas  # type: ignore[union-attr]
    )
    # Every replica in service holds its reservation on a host that is up.
    for member in in_service:
        holding = w.ledger.get(member.name)
        assert holding is not None and not holding.host.down
    _disk_adds_up(w)


def test_an_on_demand_fallback_replaces_a_reclaimed_spot_host_at_the_on_demand_price() -> None:
    plain = config("horizon=1h")
    plain["cluster"]["pools"]["node"]["spot"] = {
        "interruptions_per_h": 2.0,
        "on_demand_fallback": True,
    }
    w = Scenario(scenario_params(plain))
    summary = w.run().summary
    conserved(summary)
    assert summary["spot_interruptions"] >= 1
    records = w.cluster.cloud.records
    replacements = [r for name, r in records.items() if "-r" in name]
    assert replacements and all(r.on_demand_usd_per_hour is None for r in replacements)
    assert {r.usd_per_hour for r in replacements} == {records["node-1"].on_demand_usd_per_hour}
    # A replacement is on demand: it is never reclaimed, so at most one per pool host.
    assert summary["spot_interruptions"] == len(replacements) <= 3


def test_replicas_spread_over_zones_first_as_a_topology_spread_constraint_does() -> None:
    w = world(
        "cluster.pools.node.count=4",
        "+cluster.pools.node.zones=[a, b, c]",
        "workload.service.initial_replicas=6",
        "horizon=2min",
    )
    result = w.run()
    zone_of = {h.name: h.params.zone for h in w.cluster.pool_hosts}
    assert zone_of == {"node-1": "a", "node-2": "b", "node-3": "c", "node-4": "a"}
    per_zone: dict[str, int] = {}
    for record in result.replicas:
        per_zone[zone_of[record.host]] = per_zone.get(zone_of[record.host], 0) + 1
    assert per_zone == {"a": 2, "b": 2, "c": 2}


def test_a_failed_link_cuts_its_flows_and_the_pull_completes_once_it_is_back() -> None:
    plain = to_plain(
        sim.load_config(
            [
                "+experiment=registry_storm",
                "cluster.pools.node.count=2",
                "~cluster.registry_mirrors",
            ]
        )
    )
    plain["faults"] = [
        {"kind": "link-failure", "target": "node-1--switch", "at": "1s", "duration": "30s"}
    ]
    w = Scenario(scenario_params(plain))
    result = w.run()
    summary = result.summary
    down = [e for e in result.events if str(e.kind) == "link_down"]
    # Three blobs were downloading (dockerd's three slots): all three are cut.
    assert [(e.time_s, e.detail("flows_cut")) for e in down] == [(1.0, 3)]
    assert [e.time_s for e in result.events if str(e.kind) == "link_up"] == [31.0]
    assert (summary["pulls_completed"], summary["pulls_failed"]) == (2, 0)
    assert summary["pull_retries"] > 0
    on_node_1 = next(r for r in result.replicas if r.host == "node-1")
    assert on_node_1.ready_s is not None and on_node_1.ready_s > 31.0
    network = w.cluster.network
    image_bytes = 350_000_000
    # Every byte that left the hub crossed one host link, cut flows' bytes included;
    # the hub counts as served only the blobs that arrived.
    to_hosts = network.link_bytes("switch", "node-1") + network.link_bytes("switch", "node-2")
    assert network.link_bytes("hub", "switch") == pytest.approx(to_hosts)
    assert network.link_bytes("switch", "node-1") > image_bytes
    assert w.cluster.registries["hub"].bytes_served == 2 * image_bytes


def test_routes_go_around_a_failed_link_when_another_path_exists() -> None:
    import networkx as nx
    import simpy

    from sim.model.network.network import Network, TransferFailed

    graph = nx.Graph()
    graph.add_edge("a", "c", bandwidth_bytes_s=100.0, latency_s=0.0)
    graph.add_edge("a", "b", bandwidth_bytes_s=100.0, latency_s=0.5)
    graph.add_edge("b", "c", bandwidth_bytes_s=100.0, latency_s=0.5)
    env = simpy.Environment()
    network = Network(env, graph)
    outcomes: list[tuple[float, str]] = []

    def send(at_s: float) -> Any:
        yield env.timeout(at_s)
        try:
            yield network.transfer("a", "c", 1000.0)
            outcomes.append((env.now, "arrived"))
        except TransferFailed:
            outcomes.append((env.now, "cut"))

    def fail() -> Any:
        yield env.timeout(4.0)
        assert network.path("a", "c") == ("a", "c")
        network.fail_link("a", "c")
        assert network.path("a", "c") == ("a", "b", "c")

    env.process(send(0.0))
    env.process(fail())
    env.process(send(5.0))
    env.run()
    # The first transfer had 400 of 1000 bytes across when the direct link failed; the
    # second goes around, 1 s of latency then 10 s at 100 B/s.
    assert outcomes == [(4.0, "cut"), (16.0, "arrived")]
    assert network.link_bytes("a", "c") == pytest.approx(400.0)
    assert network.link_bytes("a", "b") == pytest.approx(1000.0)


# Kubernetes' defaults again over BASE's zeros: 50 s and 300 s.
DETECTED = ["cluster.node_lifecycle.grace_period=50s", "cluster.node_lifecycle.toleration=5min"]


def replica_story(result: Any, since_s: float = 300.0) -> list[tuple[float, str, str, Any]]:
    return [
        (e.time_s, e.source, str(e.kind), e.detail_or("state") or e.detail_or("how"))
        for e in result.events
        if e.time_s >= since_s
        and (
            str(e.kind) in ("host_failed", "node_not_ready", "host_recovered")
            or e.detail_or("state") in ("lost", "requested", "scheduled", "in_service")
        )
    ]


def test_a_crashed_hosts_pods_are_replaced_after_the_grace_period_and_toleration() -> None:
    """Kubernetes marks the node NotReady after node-monitor-grace-period (50 s) and
    evicts its pods after their 300 s toleration; only then is the replacement asked for.
    The host stays down 10 min, longer than both."""
    w = world(*DETECTED, "horizon=20min", faults=[crash("node-1", "5min", "10min")])
    result = w.run()

    assert replica_story(result) == [
        (300.0, "node-1", "host_failed", None),
        (300.0, "web-container-1", "replica_state", "lost"),
        (350.0, "node-1", "node_not_ready", None),
        (650.0, "web-container-4", "replica_state", "requested"),
        (650.0, "web-container-4", "replica_state", "scheduled"),
        (670.0, "web-container-4", "replica_state", "in_service"),
        (900.0, "node-1", "host_recovered", "reboot"),
    ]
    assert result.summary["time_to_recover_s"] == 370.0
    conserved(result.summary)


def test_a_host_back_before_its_pods_are_evicted_runs_them_again() -> None:
    """Rebooted after 3 min, before the eviction at 350 s: its pod starts on it again (its
    image still cached: no pull), and no eviction follows."""
    result = world(*DETECTED, faults=[crash("node-1", "5min")]).run()

    assert replica_story(result) == [
        (300.0, "node-1", "host_failed", None),
        (300.0, "web-container-1", "replica_state", "lost"),
        (350.0, "node-1", "node_not_ready", None),
        (480.0, "node-1", "host_recovered", "reboot"),
        (480.0, "web-container-4", "replica_state", "requested"),
        (480.0, "web-container-4", "replica_state", "scheduled"),
        (500.0, "web-container-4", "replica_state", "in_service"),
    ]
    assert [r.host for r in result.replicas if r.replica == "web-container-4"] == ["node-1"]
    assert len(result.pulls) == 3


def test_a_daemonset_pod_is_never_evicted_and_starts_again_when_its_host_returns() -> None:
    overrides = [
        *DETECTED,
        "horizon=20min",
        "~workload.service",
        "~workload.traffic",
        "+workload.deployments=[{app: web, per_host: true, at: 0s, platform: container}]",
    ]
    down_long = world(*overrides, faults=[crash("node-1", "5min", "10min")]).run()
    story = replica_story(down_long)

    requested = [(t, source) for t, source, kind, state in story if state == "requested"]
    assert requested == [(900.0, "web-container-4")]
    assert [r.host for r in down_long.replicas if r.replica == "web-container-4"] == ["node-1"]
