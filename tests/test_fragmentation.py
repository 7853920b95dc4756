"""Fragmentation columns (``cluster.stranded_probe``): free CPU on nodes where a probe pod
fits no more, with exact values for a packed and a spread placement."""

from __future__ import annotations

import pytest
from node_scaling import deployments, run_world

BASE = [
    "+experiment=scheduling",
    "cluster.pools.node.count=2",
    "cluster.pools.node.instance_type=m5.xlarge",
    "cluster.pools.warm.count=0",
    "cluster.stranded_probe={vcpu: 2, memory: 1GiB}",
    "+workload.apps.small={image: web, vcpu: 1, memory: 1GiB}",
    deployments("{app: small, replicas: 3, platform: container}"),
    "horizon=3min",
]


@pytest.mark.parametrize(
    ("placement", "stranded", "underused"),
    [
        # Three 1-vCPU pods on two 4-vCPU nodes. Packed: 3 + 0, the full node's last
        # vCPU cannot hold a 2-vCPU pod; the empty node is underused.
        ("binpack", 1.0, 1),
        # Spread: 2 + 1, both keep room for the probe; the node at 1 of 4 is underused,
        # the one at 2 of 4 (exactly the threshold) is not.
        ("spread", 0.0, 1),
    ],
)
def test_stranded_cpu_of_a_packed_and_a_spread_placement(
    placement: str, stranded: float, underused: int
) -> None:
    world = run_world(BASE, f"platform.container.placement={placement}")
    row = world.sample()
    assert row["cpu_allocatable"] == pytest.approx(8.0)
    assert row["cpu_free"] == pytest.approx(5.0)
    assert row["cpu_stranded"] == pytest.approx(stranded)
    assert row["nodes_underused"] == underused


def test_no_columns_without_a_probe() -> None:
    world = run_world([b for b in BASE if "stranded_probe" not in b])
    assert "cpu_stranded" not in world.sample()
