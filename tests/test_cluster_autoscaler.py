"""The ``cluster-autoscaler`` node scaler in whole runs, with exact expectations.

Every run here provisions nodes in exactly 60 s (``provision=60s``) and scans every 10 s
from t = 10 s, so each decision's time follows from the replicas' own times, which the
tests read back from the run.
"""

from __future__ import annotations

import math

import pytest
from node_scaling import deployments, of_kind, refused, run_world

from sim.scenario import Scenario

BASE = [
    "cluster/scaler=cluster-autoscaler",
    "platform=container",
    "cluster.pools.node.count=1",
    "cluster.pools.node.instance_type=m5.xlarge",
    "cluster.scaler.provision=60s",
    "horizon=30min",
]
ONLY_GENERAL = [
    "~cluster.scaler.node_groups.compute",
    "~cluster.scaler.node_groups.memory",
    "cluster.scaler.node_groups.general.max=2",
]


WEB = "workload.deployments=[{app: web, replicas: 1, platform: container}]"


def app(name: str, vcpu: float, memory: str = "1GiB") -> str:
    return f"+workload.apps.{name}={{image: web, vcpu: {vcpu}, memory: {memory}}}"


def run(*overrides: str) -> Scenario:
    return run_world(BASE, *overrides)


def next_scan(t_s: float, interval_s: float = 10.0) -> float:
    """The first scan at or after `t_s` (scans at 10, 20, ... s)."""
    return math.ceil(t_s / interval_s) * interval_s


def test_least_waste_grows_the_group_that_wastes_least() -> None:
    """Eight 1-vCPU / 1 GiB pods pending: two c5.xlarge (4 vCPU, 8 GiB) waste half their
    memory, two m5.xlarge (16 GiB) three quarters, four r5.large (2 vCPU, 16 GiB) 7/8:
    the compute group grows by two."""
    world = run(
        app("web", 1),
        deployments("{app: web, replicas: 12, platform: container}"),
    )
    [up] = of_kind(world, "node_scale_up")
    assert (up.time_s, up.detail("group"), up.detail("nodes"), up.detail("pods")) == (
        10.0,
        "compute",
        2,
        8,
    )
    hosts = sorted(record.host for record in world.ledger.records)
    assert hosts == ["compute-1"] * 4 + ["compute-2"] * 4 + ["node-1"] * 4


def test_the_price_expander_weighs_price_and_node_size() -> None:
    """Eight 1-vCPU / 1 GiB pods, priced 0.0376 $/h each (upstream's GCE model), on a
    1-node cluster (preferred node: 1 vCPU). Two c5.xlarge cost 0.34 $/h: price ratio
    (0.34 + 0.0188) / (0.301 + 0.0188) = 1.12, unfitness 4 suppressed to 3.80: 4.27;
    two m5.xlarge: 1.26 x 3.80 = 4.79; four r5.large (2 vCPU) cost 0.504 $/h, ratio
    1.64, but unfitness 2 suppressed to 1.80: 2.95, the lowest: the memory group."""
    world = run(
        "cluster.scaler.expander=price",
        app("web", 1),
        deployments("{app: web, replicas: 12, platform: container}"),
    )
    [up] = of_kind(world, "node_scale_up")
    assert (up.detail("group"), up.detail("nodes")) == ("memory", 4)


def test_an_underutilized_node_whose_pods_fit_elsewhere_goes_ten_minutes_after_the_drop() -> None:
    """node-1 (4 vCPU) is full: two fillers for two minutes and two long replicas. Two
    1.2-vCPU replicas wait and general-1 is added for them (60 %: needed). When one of
    them ends (its lifetime), general-1 is at 30 % and the other fits node-1 (the
    fillers have left): unneeded from the next scan, deleted 10 minutes later, drained
    (its replica replaced on node-1) and terminated at once."""
    world = run(
        *ONLY_GENERAL,
        app("filler", 1),
        app("steady", 1),
        app("b", 1.2),
        app("brief", 1.2),
        deployments(
            "{app: filler, replicas: 2, platform: container, lifetime: 2min}",
            "{app: steady, replicas: 2, platform: container}",
            "{app: b, replicas: 1, platform: container}",
            "{app: brief, replicas: 1, platform: container, lifetime: 5min}",
        ),
    )
    [up] = of_kind(world, "node_scale_up")
    assert (up.time_s, up.detail("group"), up.detail("nodes")) == (10.0, "general", 1)
    [brief] = [r for r in world.ledger.records if r.app == "brief"]
    assert brief.host == "general-1" and brief.ready_s is not None
    drop_s = brief.ready_s + 300.0
    unneeded = [e for e in of_kind(world, "node_unneeded") if e.time_s > drop_s]
    assert [(e.time_s, e.source, e.detail("utilization")) for e in unneeded] == [
        (next_scan(drop_s), "general-1", 0.3)
    ]
    [down] = of_kind(world, "node_scale_down")
    assert (down.time_s, down.source, down.detail("reason")) == (
        next_scan(drop_s) + 600.0,
        "general-1",
        "underutilized",
    )
    [terminated] = [e for e in of_kind(world, "instance_terminated") if e.source == "general-1"]
    assert terminated.time_s == down.time_s
    moved = [r for r in world.ledger.records if r.app == "b"]
    assert [r.host for r in moved] == ["general-1", "node-1"]
    assert world.cluster.scaler is not None
    assert world.cluster.scaler.tally.removed["underutilized"] == 1
    assert world.cluster.scaler.tally.pods_evicted == 1


@pytest.mark.parametrize(("delay", "after_add"), [("10min", True), ("0s", False)])
def test_no_scale_down_within_the_delay_after_a_scale_up(delay: str, after_add: bool) -> None:
    """A node added at 10 s for a 3-vCPU replica (75 %: needed) is empty once it ends a
    minute after it is ready; unneeded for 1 minute, it is deleted then, or at 610 s when
    the 10-minute delay after the scale-up ends later."""
    world = run(
        *ONLY_GENERAL,
        "cluster.scaler.scale_down_unneeded_time=1min",
        f"cluster.scaler.scale_down_delay_after_add={delay}",
        app("steady", 1),
        app("brief", 3),
        deployments(
            "{app: steady, replicas: 4, platform: container}",
            "{app: brief, replicas: 1, platform: container, lifetime: 1min}",
        ),
    )
    [brief] = [r for r in world.ledger.records if r.app == "brief"]
    assert brief.ready_s is not None
    idle_s = next_scan(brief.ready_s + 60.0)
    [down] = of_kind(world, "node_scale_down")
    expected = 610.0 if after_add else idle_s + 60.0
    assert idle_s + 60.0 < 610.0
    assert (down.time_s, down.detail("reason")) == (expected, "empty")


def test_the_group_minimum_holds() -> None:
    world = run(
        *ONLY_GENERAL,
        "cluster.scaler.node_groups.general.min=1",
        app("web", 1),
        deployments("{app: web, replicas: 2, platform: container}"),
    )
    assert [e.source for e in of_kind(world, "instance_launched")] == ["general-1"]
    assert of_kind(world, "node_scale_down") == []
    assert world.cluster.cloud.records["general-1"].launched_s == 0.0


def test_a_node_that_never_joins_is_removed_and_its_group_backs_off() -> None:
    """The general group's nodes take 20 minutes to provision: at 15 minutes the node is
    removed and general backed off for 5 minutes; the pods go to the compute group."""
    world = run(
        "cluster.scaler.provision=20min",
        "~cluster.scaler.node_groups.memory",
        "cluster.scaler.expander=priority",
        "cluster.scaler.node_groups.general.priority=10",
        "cluster.scaler.node_groups.compute.priority=5",
        app("web", 1),
        deployments("{app: web, replicas: 5, platform: container}"),
    )
    ups = [(e.time_s, e.detail("group")) for e in of_kind(world, "node_scale_up")]
    assert ups[0] == (10.0, "general")
    [backoff] = of_kind(world, "node_group_backoff")
    assert (backoff.time_s, backoff.source, backoff.detail("until_s")) == (
        910.0,
        "general-1",
        1210.0,
    )
    assert ups[1] == (910.0, "compute")
    assert world.cluster.scaler is not None
    assert world.cluster.scaler.tally.removed["unregistered"] == 1


def test_balancing_similar_groups_splits_the_nodes() -> None:
    """Two m5.xlarge groups in zones a and b are similar: four nodes go two and two."""
    world = run(
        "~cluster.scaler.node_groups.compute",
        "~cluster.scaler.node_groups.memory",
        "~cluster.scaler.node_groups.general",
        "+cluster.scaler.node_groups.zone_a={instance_type: m5.xlarge, max: 5, zone: a}",
        "+cluster.scaler.node_groups.zone_b={instance_type: m5.xlarge, max: 5, zone: b}",
        "cluster.scaler.balance_similar_node_groups=true",
        app("web", 4),
        deployments("{app: web, replicas: 5, platform: container}"),
    )
    [up] = of_kind(world, "node_scale_up")
    assert (up.detail("nodes"), up.detail("groups")) == (4, "zone_a,zone_b")
    launched = sorted(e.source for e in of_kind(world, "instance_launched"))
    assert launched == ["zone_a-1", "zone_a-2", "zone_b-1", "zone_b-2"]


def test_a_groups_max_pods_bounds_its_template_node() -> None:
    """Six 0.25-vCPU pods would fit one m5.xlarge, but general's nodes take 2 pods
    (``maxPods``): the estimator asks for 3."""
    world = run(
        *ONLY_GENERAL,
        "cluster.scaler.node_groups.general.max=5",
        "cluster.scaler.node_groups.general.max_pods=2",
        "cluster.pools.node.max_pods=1",
        app("web", 0.25),
        deployments("{app: web, replicas: 7, platform: container}"),
    )
    [up] = of_kind(world, "node_scale_up")
    assert (up.detail("nodes"), up.detail("pods")) == (3, 6)


def test_a_node_selector_chooses_the_group_whose_template_has_the_label() -> None:
    """The pods of the least-waste test, selecting ``tier: memory``: only the memory
    group's template node carries the label (the scheduler's NodeAffinity filter on the
    template), so four r5.large come although two c5.xlarge would waste less, and the
    unlabelled node-1 takes none."""
    world = run(
        "+cluster.scaler.node_groups.memory.labels.tier=memory",
        "+workload.apps.web={image: web, vcpu: 1, memory: 1GiB, node_selector: {tier: memory}}",
        deployments("{app: web, replicas: 8, platform: container}"),
    )
    [up] = of_kind(world, "node_scale_up")
    assert (up.time_s, up.detail("group"), up.detail("nodes"), up.detail("pods")) == (
        10.0,
        "memory",
        4,
        8,
    )
    hosts = sorted(record.host for record in world.ledger.records)
    assert hosts == [f"memory-{n}" for n in (1, 1, 2, 2, 3, 3, 4, 4)]


@pytest.mark.parametrize(
    ("override", "key", "allowed"),
    [
        ("cluster.scaler.expander=cheapest", "cluster.scaler.expander", "one or more of random"),
        (
            "cluster.scaler.expander=[price,price]",
            "cluster.scaler.expander",
            "each expander once",
        ),
        (
            "cluster.scaler.node_groups.general.instance_type=m9.huge",
            "cluster.scaler.node_groups.general.instance_type",
            "an instance type of pricing",
        ),
        (
            "cluster.scaler.node_groups.general.min=20",
            "cluster.scaler.node_groups.general.max",
            "at least min",
        ),
        (
            "cluster.scaler.node_groups.general.taints=[{key: dedicated, effect: Never}]",
            "cluster.scaler.node_groups.general.taints[0].effect",
            "one of NoSchedule",
        ),
        (
            "cluster.scaler.node_groups.general.max_pods=lots",
            "cluster.scaler.node_groups.general.max_pods",
            "one of eks",
        ),
        (
            "+cluster.scaler.node_groups.node={instance_type: m5.large, max: 1}",
            "cluster.scaler.node_groups.node",
            "a name no pool",
        ),
    ],
)
def test_bad_settings_are_one_line(override: str, key: str, allowed: str) -> None:
    error = refused([*BASE, WEB, override])
    assert error.key == key
    assert allowed in error.allowed
