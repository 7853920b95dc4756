"""The ``karpenter`` node scaler in whole runs, with exact expectations.

Nodes provision in exactly 60 s; containers start in fixed times (a 500 ms runtime
start, a 50 ms create), so replicas on nodes that join together are ready together.
The disruption controller looks every 10 s from t = 10 s and a command waits 15 s to be
validated; each decision's time follows from the replicas' own times, read back here.
"""

from __future__ import annotations

import math

import pytest
from node_scaling import deployments, of_kind, refused, run_world

from sim.model.cluster.scalers.karpenter import Karpenter
from sim.scenario import Scenario

BASE = [
    "cluster/scaler=karpenter",
    "platform=container",
    "cluster.pools.node.count=1",
    "cluster.pools.node.instance_type=t3.medium",
    "cluster.scaler.provision=60s",
    "platform.container.runtime_start=500ms",
    "platform.container.create=50ms",
    "horizon=40min",
]
M5 = [
    "cluster.scaler.node_pools.default.families=[m5]",
    "cluster.scaler.node_pools.default.sizes=[xlarge,2xlarge]",
]
APPS = [
    f"+workload.apps.{name}={{image: web, vcpu: 1, memory: 2GiB}}"
    for name in ("system", "keep", "burst")
]
SYSTEM = "{app: system, replicas: 2, platform: container}"  # fills the t3.medium


def run(*overrides: str) -> Scenario:
    return run_world(BASE, *overrides)


def next_poll(t_s: float) -> float:
    return math.ceil(t_s / 10.0) * 10.0


def ended(world: Scenario, app: str, lifetime_s: float) -> float:
    """When the last replica of `app` ended (ready + its lifetime)."""
    ready = [r.ready_s for r in world.ledger.records if r.app == app and r.ready_s is not None]
    return max(ready) + lifetime_s


def test_pending_pods_are_bin_packed_onto_the_cheapest_types() -> None:
    """Sixteen 1-vCPU / 2 GiB pods wait at t = 0: the batch closes 1 s later (no pod
    came within the idle second) and two m5.2xlarge NodeClaims hold eight each."""
    world = run(*M5, *APPS, deployments(SYSTEM, "{app: keep, replicas: 16, platform: container}"))
    [up] = of_kind(world, "node_scale_up")
    assert (up.time_s, up.detail("nodeclaims"), up.detail("pods")) == (1.0, 2, 16)
    assert up.detail("nodes") == "default-1:m5.2xlarge:on-demand,default-2:m5.2xlarge:on-demand"


def test_memory_heavy_pods_get_memory_optimised_nodes() -> None:
    """A 1-vCPU / 12 GiB pod: r5.large (2 vCPU, 16 GiB, $0.126) is the cheapest of the
    default pool's families that holds it (m5.xlarge $0.192; c5 has at most 8 GiB)."""
    world = run(
        "+workload.apps.fat={image: web, vcpu: 1, memory: 12GiB}",
        deployments("{app: fat, replicas: 1, platform: container}"),
    )
    [up] = of_kind(world, "node_scale_up")
    assert up.detail("nodes") == "default-1:r5.large:on-demand"


def test_a_batch_window_grows_with_pods_up_to_its_maximum() -> None:
    """Pods arrive every 0.5 s for 30 s: each arrival extends the window by the idle
    second, until the 10 s maximum closes it at t = 10 s (the first pod waits from 0);
    the next window opens with the next pod and closes 10 s later again."""
    world = run(
        *APPS,
        deployments(SYSTEM, "{app: keep, replicas: 60, platform: container, stagger: 500ms}"),
    )
    ups = [e.time_s for e in of_kind(world, "node_scale_up")]
    assert ups[:2] == [10.0, 20.5]


def test_the_issues_example_two_half_empty_2xlarge_become_one_xlarge() -> None:
    """Two m5.2xlarge hold two lasting pods and six brief ones each. When the brief ones
    end (together: the nodes joined together), each node is a quarter used; with a budget
    letting both go, multi-node consolidation replaces the two ($0.768 an hour) by one
    m5.xlarge ($0.192) that holds the four pods: decided at the next poll, validated 15 s
    later, the m5.xlarge launched then; both old nodes go when it has joined, 60 s on."""
    world = run(
        *M5,
        *APPS,
        "cluster.scaler.node_pools.default.budgets=[{nodes: 100%}]",
        deployments(
            SYSTEM,
            "{app: keep, replicas: 2, platform: container}",
            "{app: burst, replicas: 6, platform: container, lifetime: 10min}",
            "{app: keep, replicas: 2, platform: container}",
            "{app: burst, replicas: 6, platform: container, lifetime: 10min}",
        ),
    )
    decided = next_poll(ended(world, "burst", 600.0))
    [disruption] = of_kind(world, "node_disruption")
    assert (
        disruption.time_s,
        disruption.detail("method"),
        disruption.detail("decision"),
        disruption.detail("nodes"),
        disruption.detail("replacement"),
        disruption.detail("savings_usd_per_hour"),
    ) == (
        decided + 15.0,
        "multi-node consolidation",
        "replace",
        "default-1,default-2",
        "m5.xlarge (on-demand)",
        0.576,
    )
    terminated = {e.source: e.time_s for e in of_kind(world, "instance_terminated")}
    assert terminated == {"default-1": decided + 75.0, "default-2": decided + 75.0}
    keep = [r for r in world.ledger.records if r.app == "keep" and r.ready_s is not None]
    assert sorted(r.host for r in keep)[-4:] == ["default-3"] * 4
    summary = world.collect(())
    assert summary.summary["nodes_removed_replaced"] == 2
    assert summary.summary["node_disruptions"] == 1


def test_with_the_default_budget_one_node_at_a_time() -> None:
    """10 % of two nodes allows one disruption: single-node consolidation deletes one node
    (its pods fit the other), then replaces the other by a cheaper one."""
    world = run(
        *M5,
        *APPS,
        deployments(
            SYSTEM,
            "{app: keep, replicas: 2, platform: container}",
            "{app: burst, replicas: 6, platform: container, lifetime: 10min}",
            "{app: keep, replicas: 2, platform: container}",
            "{app: burst, replicas: 6, platform: container, lifetime: 10min}",
        ),
    )
    decisions = [
        (e.detail("method"), e.detail("decision")) for e in of_kind(world, "node_disruption")
    ]
    assert decisions == [
        ("single-node consolidation", "delete"),
        ("single-node consolidation", "replace"),
    ]


def test_an_empty_node_is_deleted_at_the_next_poll_after_validation() -> None:
    world = run(
        *APPS,
        deployments(SYSTEM, "{app: burst, replicas: 2, platform: container, lifetime: 5min}"),
    )
    decided = next_poll(ended(world, "burst", 300.0))
    [disruption] = of_kind(world, "node_disruption")
    assert (disruption.time_s, disruption.detail("method")) == (decided + 15.0, "emptiness")
    [terminated] = [e for e in of_kind(world, "instance_terminated") if e.source == "default-1"]
    assert terminated.time_s == decided + 15.0


def test_consolidate_after_holds_an_empty_node() -> None:
    world = run(
        *APPS,
        "cluster.scaler.node_pools.default.consolidate_after=5min",
        deployments(SYSTEM, "{app: burst, replicas: 2, platform: container, lifetime: 5min}"),
    )
    decided = next_poll(ended(world, "burst", 300.0) + 300.0)
    [disruption] = of_kind(world, "node_disruption")
    assert disruption.time_s == decided + 15.0


def test_never_consolidating_keeps_the_empty_node() -> None:
    world = run(
        *APPS,
        "cluster.scaler.node_pools.default.consolidate_after=Never",
        deployments(SYSTEM, "{app: burst, replicas: 2, platform: container, lifetime: 5min}"),
    )
    assert of_kind(world, "node_disruption") == []


def test_an_expired_node_is_drained_and_its_pods_get_a_new_node() -> None:
    """expireAfter 15 min: at 1 s + 15 min the node is drained at once (no budget, no
    replacement waited for); its pods go pending and a new NodeClaim takes them 1 s
    later, which expires in its turn 15 min after it launched."""
    world = run(
        *APPS,
        "cluster.scaler.node_pools.default.expire_after=15min",
        deployments(SYSTEM, "{app: keep, replicas: 2, platform: container}"),
    )
    disruptions = [
        (e.time_s, e.detail("method"), e.detail("nodes")) for e in of_kind(world, "node_disruption")
    ]
    assert disruptions == [(901.0, "expiration", "default-1"), (1802.0, "expiration", "default-2")]
    terminated = {e.source: e.time_s for e in of_kind(world, "instance_terminated")}
    assert terminated["default-1"] == 901.0
    ups = [(e.time_s, e.detail("nodes")) for e in of_kind(world, "node_scale_up")]
    assert ups[1][0] == 902.0 and ups[1][1].startswith("default-2:")


def test_a_pod_a_starting_node_will_hold_launches_nothing_and_nominates_it() -> None:
    """One pod at 0 s: a c5.large (room for two) is launched at 1 s. A second pod pending
    at 30 s goes, in the 31 s pass, to that node still starting: nothing is launched, and
    the node is nominated for 2 x batch_max_duration (20 s), until 51 s."""
    world = run(
        *APPS,
        deployments(
            SYSTEM,
            "{app: keep, replicas: 1, platform: container}",
            "{app: burst, replicas: 1, platform: container, at: 30s}",
        ),
    )
    assert [e.detail("nodes") for e in of_kind(world, "node_scale_up")] == [
        "default-1:c5.large:on-demand"
    ]
    scaler = world.cluster.scaler
    assert isinstance(scaler, Karpenter)
    [node] = scaler.launcher.nodes
    assert node.nominated_until_s == 51.0
    hosts = {r.app: r.host for r in world.ledger.records if r.app in ("keep", "burst")}
    assert hosts == {"keep": "default-1", "burst": "default-1"}


def test_limits_stop_provisioning() -> None:
    """A 4-vCPU limit: one c5.xlarge (4 vCPU) and no more; the other pods stay pending."""
    world = run(
        *APPS,
        "cluster.scaler.node_pools.default.limits.cpu=4",
        "cluster.scaler.node_pools.default.families=[c5]",
        deployments(SYSTEM, "{app: keep, replicas: 6, platform: container}"),
    )
    launched = [e.detail("instance_type") for e in of_kind(world, "instance_launched")]
    assert launched == ["c5.xlarge"]
    assert len(world.cluster.scheduler.pending) == 2


BATCH = "{key: dedicated, value: batch, effect: NoSchedule}"


def test_a_tainted_pool_launches_for_the_pods_that_tolerate_it_and_they_run_there() -> None:
    """The NodePool's nodes carry ``dedicated=batch:NoSchedule``: its NodeClaim is sized
    for the four tolerating pods alone (one m5.xlarge); the two pods without the
    toleration stay pending though they have the same requests (the scheduler must not
    take the taint's refusal of one pod for a refusal of the other)."""
    world = run(
        *M5,
        f"cluster.scaler.node_pools.default.taints=[{BATCH}]",
        *APPS[:2],
        f"+workload.apps.burst={{image: web, vcpu: 1, memory: 2GiB, tolerations: [{BATCH}]}}",
        deployments(
            SYSTEM,
            "{app: keep, replicas: 2, platform: container}",
            "{app: burst, replicas: 4, platform: container}",
        ),
        "horizon=5min",
    )
    [up] = of_kind(world, "node_scale_up")
    assert (up.time_s, up.detail("nodeclaims"), up.detail("pods")) == (1.0, 1, 4)
    assert up.detail("nodes") == "default-1:m5.xlarge:on-demand"
    placed = sorted((r.app, r.host) for r in world.ledger.records if r.app != "system")
    assert placed == [("burst", "default-1")] * 4
    assert sorted(world.cluster.scheduler.pending) == ["keep-container-1", "keep-container-2"]


def test_spot_is_launched_first_and_an_interrupted_node_is_replaced() -> None:
    """Spot and on-demand allowed: the node is spot (c5.large, the cheapest of the default
    pool's families for two 1-vCPU pods), billed at 30 %. Interrupted (a high rate), its
    replicas are lost at the reclaim and a new spot node takes them 1 s later."""
    world = run(
        *APPS,
        "cluster.scaler.node_pools.default.capacity_types=[on-demand,spot]",
        "cluster.scaler.node_pools.default.spot.interruptions_per_h=6",
        deployments(SYSTEM, "{app: keep, replicas: 2, platform: container}"),
    )
    [first, *rest] = of_kind(world, "node_scale_up")
    assert first.detail("nodes") == "default-1:c5.large:spot"
    reclaimed = [
        e for e in of_kind(world, "instance_terminated") if e.detail_or("reason") == "spot"
    ]
    assert reclaimed and rest
    assert rest[0].time_s == reclaimed[0].time_s + 1.0
    record = world.cluster.cloud.records["default-1"]
    assert record.usd_per_hour == pytest.approx(0.3 * 0.085)


@pytest.mark.parametrize(
    ("override", "key", "allowed"),
    [
        (
            "cluster.scaler.node_pools.default.families=[z9]",
            "cluster.scaler.node_pools.default",
            "requirements some instance type",
        ),
        (
            "cluster.scaler.node_pools.default.capacity_types=[reserved]",
            "cluster.scaler.node_pools.default.capacity_types[0]",
            "one of on-demand, spot",
        ),
        (
            "cluster.scaler.node_pools.default.budgets=[{nodes: 150%}]",
            "cluster.scaler.node_pools.default.budgets[0].nodes",
            "a count of nodes",
        ),
        (
            "cluster.scaler.node_pools.default.consolidation_policy=Sometimes",
            "cluster.scaler.node_pools.default.consolidation_policy",
            "one of WhenEmpty",
        ),
        (
            "cluster.scaler.node_pools.default.instance_types=[m9.huge]",
            "cluster.scaler.node_pools.default.instance_types[0]",
            "an instance type of pricing",
        ),
    ],
)
def test_bad_settings_are_one_line(override: str, key: str, allowed: str) -> None:
    error = refused([*BASE, *APPS, deployments(SYSTEM), override])
    assert error.key == key
    assert allowed in error.allowed
