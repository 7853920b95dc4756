"""Whole runs that exercise the scheduler: the kubelet's pod limit, node labels and taints
from config, and the ``scheduler`` placement."""

from __future__ import annotations

import pytest

import sim
from sim.api import parameters
from sim.core.errors import ConfigError

ONE_NODE = [
    "cluster.pools.node.count=1",
    "cluster.scaler.enabled=false",
    "horizon=10min",
    "+workload.apps.tiny={image: worker, vcpu: 10m, memory: 16MiB}",
    "~workload.deployments",
]


def tiny(replicas: int, placement: str = "spread") -> list[str]:
    return [
        *ONE_NODE,
        f"+workload.deployments=[{{app: tiny, replicas: {replicas}, at: 0s, platform: container}}]",
        f"platform.container.placement={placement}",
    ]


@pytest.mark.parametrize("placement", ["spread", "scheduler"])
def test_150_small_replicas_on_one_default_node_start_110(placement: str) -> None:
    """The kubelet's default maxPods is 110 (fit_test.go TestNotEnoughRequests: "Too many
    pods"): 150 replicas of 10m CPU and 16 MiB fit an m5.2xlarge's CPU and memory, but
    only 110 of them are admitted; the other 40 stay pending."""
    result = sim.simulate(sim.load_config(tiny(150, placement)))

    assert result.summary["replicas_started"] == 110
    assert result.summary["replicas_unfinished"] == 40
    pending = [r for r in result.replicas if r.state == "pending"]
    assert {r.reason for r in pending} == {
        "unschedulable: 0/1 nodes are available: 1 Too many pods."
    }


def test_max_pods_from_the_eks_formula() -> None:
    """An m5.2xlarge attaches 4 interfaces of 15 addresses: 4 x 14 + 2 = 58 pods."""
    result = sim.simulate(sim.load_config([*tiny(70), "cluster.pools.node.max_pods=eks"]))

    assert result.summary["replicas_started"] == 58


def test_eks_max_pods_needs_interface_data() -> None:
    with pytest.raises(ConfigError) as caught:
        parameters(
            sim.load_config(
                [
                    *tiny(1),
                    "~cluster.pools.node.instance_type",
                    "+cluster.pools.node.vcpu=8",
                    "+cluster.pools.node.memory=32GiB",
                    "cluster.pools.node.max_pods=eks",
                ]
            )
        )
    assert caught.value.key == "cluster.pools.node.max_pods"


def placements(overrides: list[str]) -> dict[str, str]:
    """Each ready replica's host."""
    result = sim.simulate(sim.load_config(overrides))
    return {r.replica: r.host for r in result.replicas if r.state == "ready"}


THREE_ZONES = [
    "cluster.pools.node.count=3",
    "cluster.scaler.enabled=false",
    "cluster.pools.node.zones=[a,b,c]",
    "horizon=10min",
    "~workload.deployments",
]


@pytest.mark.parametrize("placement", ["spread", "binpack", "scheduler"])
def test_taints_keep_replicas_off_unless_tolerated(placement: str) -> None:
    overrides = [
        *THREE_ZONES,
        "+cluster.pools.gpu={count: 1, instance_type: m5.2xlarge, disk: 100GB, "
        "taints: [{key: gpu, value: 'true', effect: NoSchedule}], labels: {accel: gpu}}",
        "+workload.apps.trainer={image: worker, vcpu: 1, memory: 1GiB, node_selector: "
        "{accel: gpu}, tolerations: [{key: gpu, operator: Exists}]}",
        "+workload.deployments=[{app: web, replicas: 6, at: 0s, platform: container}, "
        "{app: trainer, replicas: 2, at: 0s, platform: container}]",
        f"platform.container.placement={placement}",
    ]

    hosts = placements(overrides)

    assert {hosts[f"trainer-container-{n}"] for n in (1, 2)} == {"gpu-1"}
    assert "gpu-1" not in {hosts[f"web-container-{n}"] for n in range(1, 7)}


def test_a_hard_zone_spread_puts_six_replicas_two_to_a_zone() -> None:
    """maxSkew 1 over three zones, one host each: no zone may be two replicas ahead of
    another, so six replicas end two to a zone."""
    overrides = [
        *THREE_ZONES,
        "+workload.apps.web.topology_spread=[{max_skew: 1, topology_key: "
        "topology.kubernetes.io/zone}]",
        "+workload.deployments=[{app: web, replicas: 6, at: 0s, platform: container}]",
        "platform.container.placement=scheduler",
    ]

    hosts = placements(overrides)

    zones = {"node-1": "a", "node-2": "b", "node-3": "c"}
    per_zone = {zone: sum(zones[h] == zone for h in hosts.values()) for zone in "abc"}
    assert per_zone == {"a": 2, "b": 2, "c": 2}


@pytest.mark.parametrize(
    ("override", "key"),
    [
        (
            "+workload.apps.web.tolerations=[{key: gpu, operator: Like}]",
            "workload.apps.web.tolerations[0].operator",
        ),
        (
            "+workload.apps.web.topology_spread=[{max_skew: 0, topology_key: zone}]",
            "workload.apps.web.topology_spread[0].max_skew",
        ),
        ("cluster.pools.node.max_pods=0", "cluster.pools.node.max_pods"),
        ("cluster.pools.node.max_pods=many", "cluster.pools.node.max_pods"),
        ("+cluster.scheduler.scores.ImageLocalty=1", "cluster.scheduler.scores.ImageLocalty"),
        ("cluster.scheduler.scoring_strategy=Random", "cluster.scheduler.scoring_strategy"),
        (
            "+cluster.pools.node.taints=[{key: a, effect: Never}]",
            "cluster.pools.node.taints[0].effect",
        ),
    ],
)
def test_bad_scheduling_keys_are_one_line_naming_the_key(override: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parameters(sim.load_config([override]))
    assert caught.value.key == key
