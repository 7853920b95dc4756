"""Node allocatable: replicas are placed against capacity less reserves and DaemonSets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.core.errors import ConfigError
from sim.core.units import parse_cpu
from sim.model.hosts.allocatable import (
    DaemonSet,
    Reserved,
    eks_reserved_memory_bytes,
    eks_reserved_vcpu,
    overhead,
)
from sim.scenario import Scenario

MiB = 2**20
GiB = 2**30

# One 2-vCPU / 8 GiB host (an m5.large's size) keeping 70 m CPU and 574 MiB (EKS's
# reserves for an m5.large), one DaemonSet of 100 m / 64 MiB on it.
HOST = [
    "platform=container",
    "cluster.scaler.enabled=false",
    "cluster.pools.node.count=1",
    "cluster.pools.node.vcpu=2",
    "cluster.pools.node.memory=8GiB",
    "horizon=10min",
]
RESERVES = [
    "cluster.pools.node.reserved={vcpu: 70m, memory: 574MiB}",
    "cluster.daemonsets=[{name: logs, vcpu: 100m, memory: 64MiB}]",
]


def run(*overrides: str) -> Scenario:
    world = Scenario(scenario_params(to_plain(sim.load_config(list(overrides)))))
    world.run()
    return world


def deploy(vcpu: str, memory: str, replicas: int = 4) -> list[str]:
    return [
        f"workload.apps.web.vcpu={vcpu}",
        f"workload.apps.web.memory={memory}",
        f"workload.deployments=[{{app: web, replicas: {replicas}, platform: container}}]",
    ]


def placed(world: Scenario) -> int:
    return sum(1 for record in world.ledger.records if record.host == "node-1")


def pending_reasons(world: Scenario) -> list[str]:
    return [e.detail("reason") for e in world.log if e.detail_or("state") == "pending"]


def test_half_vcpu_replicas_fit_four_on_capacity_and_three_on_allocatable() -> None:
    """2 vCPU hold 4 x 0.5; 2 - 0.07 - 0.1 = 1.83 vCPU hold 3."""
    assert placed(run(*HOST, *deploy("0.5", "256MiB"))) == 4
    world = run(*HOST, *RESERVES, *deploy("0.5", "256MiB"))
    assert placed(world) == 3
    assert pending_reasons(world) == [
        f"unschedulable: 0/1 hosts have 0.5 vCPU and {256 * MiB} B of memory free"
    ]


def test_two_gib_replicas_fit_four_on_capacity_and_three_on_allocatable() -> None:
    """8 GiB hold 4 x 2 GiB; 8192 - 574 - 64 = 7554 MiB hold 3."""
    assert placed(run(*HOST, *deploy("0.1", "2GiB"))) == 4
    world = run(*HOST, *RESERVES, *deploy("0.1", "2GiB"))
    assert placed(world) == 3
    assert pending_reasons(world) == [
        f"unschedulable: 0/1 hosts have 0.1 vCPU and {2 * GiB} B of memory free"
    ]


def test_a_replica_fitting_capacity_but_not_allocatable_never_fits() -> None:
    world = run(*HOST, *RESERVES, *deploy("1.9", "256MiB", replicas=1))
    assert world.ledger.records == []
    assert pending_reasons(world) == [
        "never fits: needs 1.9 vCPU and 268 MB of memory; the largest host has 1.83 vCPU "
        "and 7.92 GB allocatable; no cluster scaler adds hosts"
    ]
    assert placed(run(*HOST, *deploy("1.9", "256MiB", replicas=1))) == 1


SCALER = [
    "cluster.scaler.enabled=true",
    "cluster.scaler.instance_type=m5.large",
    "cluster.scaler.min_hosts=0",
    "cluster.scaler.max_hosts=3",
    "cluster.scaler.reserved={vcpu: 70m, memory: 574MiB}",
]


def test_the_cluster_scaler_adds_hosts_by_their_allocatable() -> None:
    """Five 0.5-vCPU replicas: 3 on node-1, 2 on one new m5.large (3 fit its 1.83 vCPU)."""
    world = run(*HOST, *RESERVES, *SCALER, *deploy("0.5", "256MiB", replicas=5))
    hosts = sorted(record.host for record in world.ledger.records)
    assert hosts == ["node-1"] * 3 + ["scaled-1"] * 2
    [scaled] = [h for h in world.cluster.cloud.launched if h.name == "scaled-1"]
    assert (scaled.params.allocatable_vcpu, scaled.params.allocatable_memory_bytes) == (
        pytest.approx(1.83),
        8 * GiB - 638 * MiB,
    )


def test_the_cluster_scaler_adds_no_host_its_allocatable_cannot_hold() -> None:
    world = run(*HOST, *RESERVES, *SCALER, *deploy("1.9", "256MiB", replicas=1))
    assert world.ledger.records == []
    assert world.cluster.cloud.launched == []
    assert pending_reasons(world) == [
        "never fits: needs 1.9 vCPU and 268 MB of memory; the largest host has 1.83 vCPU "
        "and 7.92 GB allocatable; the cluster scaler adds m5.large (1.83 vCPU, 7.92 GB "
        "allocatable)"
    ]


def test_reserves_and_daemonsets_are_read_with_their_units() -> None:
    params = scenario_params(to_plain(sim.load_config([*HOST, *RESERVES, *deploy("1", "1GiB")])))
    [host] = params.hosts
    assert host.overhead_vcpu == pytest.approx(0.17)
    assert host.overhead_memory_bytes == 638 * MiB
    assert (host.vcpu, host.memory_bytes) == (2.0, 8 * GiB)


def test_defaults_keep_nothing() -> None:
    params = scenario_params(to_plain(sim.load_config([])))
    assert all(h.overhead_vcpu == 0 and h.overhead_memory_bytes == 0 for h in params.hosts)
    scaler = Scenario(params).cluster.scaler
    assert scaler is not None
    assert scaler.allocatable == (8.0, 32 * GiB)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("overrides", "key", "value"),
    [
        (["cluster.pools.node.reserved.vcpu=2"], "cluster.pools.node.reserved.vcpu", "2"),
        (
            ["cluster.pools.node.reserved.memory=8GiB"],
            "cluster.pools.node.reserved.memory",
            "8.59 GB",
        ),
        (["cluster.pools.node.reserved.vcpu=70x"], "cluster.pools.node.reserved.vcpu", "70x"),
        (["cluster.daemonsets=[{name: a, vcpu: -1}]"], "cluster.daemonsets[0].vcpu", "-1"),
    ],
)
def test_bad_reserves_name_their_key(overrides: list[str], key: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        scenario_params(to_plain(sim.load_config([*HOST, *deploy("1", "1GiB"), *overrides])))
    assert raised.value.key == key
    assert str(raised.value.value) == value


def test_cpu_quantities() -> None:
    assert parse_cpu("70m", "k") == 0.07
    assert parse_cpu("1500m", "k") == 1.5
    assert parse_cpu(0.5, "k") == 0.5
    assert parse_cpu(2, "k") == 2.0
    for bad in ("70", "70 mc", "-1m", True, -0.5, "m"):
        with pytest.raises(ConfigError):
            parse_cpu(bad, "k")


@given(
    st.floats(0, 4, allow_nan=False),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 2**30)), max_size=5),
)
def test_overhead_is_the_reserves_plus_every_daemonset(
    vcpu: float, daemonsets: list[tuple[float, int]]
) -> None:
    entries = [
        DaemonSet(name=f"d{i}", vcpu=c, memory_bytes=m) for i, (c, m) in enumerate(daemonsets)
    ]
    kept = overhead(Reserved(vcpu=vcpu, memory_bytes=MiB), entries)
    assert kept[0] == pytest.approx(vcpu + sum(c for c, _ in daemonsets))
    assert kept[1] == MiB + sum(m for _, m in daemonsets)


def test_eks_reserves_of_an_m5_large() -> None:
    """The EKS AMI keeps 70 m CPU of 2 vCPU and 574 MiB for 29 pods."""
    assert eks_reserved_vcpu(2) == 0.07
    assert eks_reserved_memory_bytes(29) == 574 * MiB
    assert [eks_reserved_vcpu(n) for n in (1, 4, 8, 96)] == [0.06, 0.08, 0.09, 0.31]


def test_eks_max_pods_sets_the_reserves_from_the_hosts_size() -> None:
    """reserved: {eks_max_pods: 29} on a 2-vCPU host keeps what an m5.large keeps."""
    params = scenario_params(
        to_plain(
            sim.load_config(
                [*HOST, *deploy("1", "1GiB"), "cluster.pools.node.reserved={eks_max_pods: 29}"]
            )
        )
    )
    [host] = params.hosts
    assert (host.overhead_vcpu, host.overhead_memory_bytes) == (0.07, 574 * MiB)
    with pytest.raises(ConfigError) as raised:
        scenario_params(
            to_plain(
                sim.load_config(
                    [
                        *HOST,
                        *deploy("1", "1GiB"),
                        "cluster.pools.node.reserved={eks_max_pods: 29, vcpu: 70m}",
                    ]
                )
            )
        )
    assert raised.value.key == "cluster.pools.node.reserved.eks_max_pods"
