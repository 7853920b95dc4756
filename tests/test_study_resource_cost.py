"""The VM-vs-container cost study (experiments/resource_cost.py): the EKS node arithmetic
against its published formula, the packing and right-sizing rules, and a quick run."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

study = load_study("resource_cost")
TYPES = {instance.name: instance for instance in study.INSTANCE_TYPES}


@pytest.mark.parametrize(
    ("name", "cpu", "memory_mib"),
    [
        # 6 % of the first core + 1 % of the second = 70 m; 11 MiB x 29 pods + 255 MiB.
        ("m5.large", 0.070, 574),
        # + 0.5 % of cores 3-4 + 0.25 % of 5-8 = 90 m; 58 pods.
        ("m5.2xlarge", 0.090, 893),
        ("t3.medium", 0.070, 442),
    ],
)
def test_kube_reserved_follows_the_eks_ami_formula(name: str, cpu: float, memory_mib: int) -> None:
    instance = TYPES[name]
    shape = study.node_shape(instance, daemonsets=())
    assert instance.vcpu - shape.allocatable_cpu == pytest.approx(cpu)
    reserved_mib = instance.memory_mib - shape.allocatable_memory_mib
    assert reserved_mib == memory_mib + study.EVICTION_HARD_MIB


def test_allocatable_leaves_room_for_reserves_and_daemonsets() -> None:
    large = study.node_shape(TYPES["m5.large"])
    # 2 vCPU - 70 m reserved - 125 m of DaemonSets: one 1-vCPU replica, not two.
    assert large.allocatable_cpu == pytest.approx(1.805)
    assert large.allocatable_memory_mib == 8192 - 574 - 100
    assert large.replicas(study.WEB) == 1
    assert study.node_shape(TYPES["m5.2xlarge"]).replicas(study.WEB) == 7
    # Small replicas are limited by the pods the node's network interfaces allow.
    assert study.node_shape(TYPES["t3.micro"]).replicas(study.SMALL) == 2


def test_nodes_hold_every_replica_and_stay_for_the_scale_down_delay() -> None:
    assert study.nodes_over_time([0, 1, 7, 8, 3, 3, 3, 0], per_node=7, keep_periods=2) == [
        1,
        1,
        1,
        2,
        2,
        2,
        1,
        1,
    ]


def test_a_burstable_instance_pays_for_cpu_above_its_baseline() -> None:
    small = TYPES["t3.small"]  # baseline 20 % of 2 vCPU: 0.4 vCPU
    assert study.instance_cost_usd(small, 10.0, 3.0) == pytest.approx(0.208)
    assert study.instance_cost_usd(small, 10.0, 6.0) == pytest.approx(0.208 + 2.0 * 0.05)
    assert study.instance_cost_usd(TYPES["m5.large"], 10.0, 20.0) == pytest.approx(0.96)


def test_right_sizing_picks_the_cheapest_type_that_holds_the_working_set() -> None:
    # web: 600 MiB + a 512 MiB guest OS fits t3.small (2 GiB), not t3.micro (1 GiB).
    assert study.cheapest_vm(study.WEB, 10.0, 6.0)[0].name == "t3.small"
    assert study.cheapest_vm(study.SMALL, 10.0, 1.0)[0].name == "t3.micro"
    # Busy enough, the surplus credits make a fixed-performance type cheaper.
    assert study.cheapest_vm(study.WEB, 10.0, 20.0)[0].name == "c5.large"


def test_the_crossing_of_two_cost_lines_is_interpolated() -> None:
    assert study.crossing([1, 2, 4], [1.0, 2.0, 4.0], [2.0, 2.5, 3.0]) == pytest.approx(2 + 2 / 3)
    assert study.crossing([1, 2], [1.0, 2.0], [3.0, 4.0]) is None


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    out = tmp_path_factory.mktemp("resource_cost")
    return run_quick(study, out), out


def test_a_quick_run_writes_its_tables_and_figures(
    quick: tuple[list[dict[str, Any]], Path],
) -> None:
    rows, out = quick
    assert [row["point"] for row in rows] == [
        "web container 20/s",
        "web vm 20/s",
        "small container 2/s",
        "small vm 2/s",
    ]
    with open(out / "resource_cost_services.csv", newline="") as file:
        services = list(csv.DictReader(file))
    assert {row["profile"] for row in services} == {"web", "small"}
    for name in ("resource_cost_breakeven.png", "resource_cost_capacity.png"):
        assert (out / name).stat().st_size > 10_000


def test_memory_used_is_the_working_set_not_the_request(
    quick: tuple[list[dict[str, Any]], Path],
) -> None:
    for row in quick[0]:
        profile = study.WEB if row["profile"] == "web" else study.SMALL
        # A VM's replica-hours are its instance's billed hours (60 s minimum): within 1 %.
        assert row["memory_gib_h_used_per_day"] == pytest.approx(
            row["replica_h_per_day"] * profile.working_set_mib / 1024, rel=0.01
        )
        assert row["memory_gib_h_used_per_day"] < row["memory_gib_h_billed_per_day"]


def test_both_platforms_see_the_same_requests_and_hold_about_the_same_replicas(
    quick: tuple[list[dict[str, Any]], Path],
) -> None:
    rows = {row["point"]: row for row in quick[0]}
    vm, container = rows["web vm 20/s"], rows["web container 20/s"]
    # The same autoscaler on the same signal: replica-hours within 5 %.
    assert vm["replica_h_per_day"] == pytest.approx(container["replica_h_per_day"], rel=0.05)
    # One service: the containers pay the control plane ($2.40 a day) on top.
    assert container["usd_per_day"] > study.CONTROL_PLANE_USD_PER_HOUR * 24


def test_the_catalogues_with_and_without_burstables_and_one_vcpu_types() -> None:
    names = {name: {t.name for t in types} for name, types in study.CATALOGUES.items()}
    assert names["t3 + m5/c5/r5"] == set(TYPES)
    assert not any(name.startswith("t3.") for name in names["m5/c5/r5"])
    assert {"c7a.medium", "m7a.medium"} <= names["m5/c5/r5 + c7a/m7a.medium"]
    # Without burstables a busy 1-vCPU VM takes the 1-vCPU type, not a 2-vCPU one.
    one_vcpu = study.CATALOGUES["m5/c5/r5 + c7a/m7a.medium"]
    assert study.cheapest_vm(study.WEB, 10.0, 20.0, one_vcpu)[0].name == "c7a.medium"
    assert study.cheapest_vm(study.WEB, 10.0, 20.0, study.CATALOGUES["m5/c5/r5"])[0].name == (
        "c5.large"
    )
    # 1 vCPU - 60 m reserved - 125 m of DaemonSets cannot hold a 1-vCPU pod.
    medium = study.node_shape(one_vcpu[-2])
    assert medium.allocatable_cpu == pytest.approx(0.815) and medium.replicas(study.WEB) == 0


def test_sizing_by_requests_or_working_set() -> None:
    by_requests = study.sized_by(study.WEB, "requests")
    by_working_set = study.sized_by(study.WEB, "working set")
    assert (by_requests.memory_mib, by_requests.working_set_mib) == (1024, 1024)
    assert (by_working_set.memory_mib, by_working_set.working_set_mib) == (600, 600)
    # By requests a VM needs 1 GiB + a 512 MiB guest OS: t3.small (2 GiB) still holds it.
    assert study.cheapest_vm(by_requests, 10.0, 6.0)[0].name == "t3.small"
    with pytest.raises(ValueError, match="allowed: requests, working set"):
        study.sized_by(study.WEB, "limits")


def test_the_catalogue_table_covers_every_catalogue_and_basis(
    quick: tuple[list[dict[str, Any]], Path],
) -> None:
    out = quick[1]
    with open(out / "resource_cost_catalogues.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert {(row["catalogue"], row["basis"]) for row in rows} == {
        (name, basis) for name in study.CATALOGUES for basis in study.BASES
    }
    assert len(rows) == len(study.CATALOGUES) * len(study.BASES) * len(study.SERVICES)
    assert (out / "resource_cost_catalogues.png").stat().st_size > 10_000


def test_nodes_in_the_loop_covers_each_catalogue_and_both_node_scalers() -> None:
    points = study.nodes_in_the_loop_points(study.WEB, 20)
    assert [point.label for point in points] == [
        "karpenter m5/c5/r5",
        "karpenter t3 + m5/c5/r5",
        "karpenter m5/c5/r5 + c7a/m7a.medium",
        "cluster-autoscaler",
    ]
    assert "cluster.scaler.node_pools.default.families=[m5,c5,r5,c7a,m7a]" in points[2].overrides
    assert {point.extra["scaler"] for point in points} == set(study.NODE_SCALERS)
    if not study.node_scalers_available():
        assert study.nodes_in_the_loop(study.WEB, 1) == []
