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
