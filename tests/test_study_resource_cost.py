"""The resource-cost study (experiments/resource_cost.py), quick: its table, its figures,
and what the model says about VMs, containers and Beanstalk on the same traffic."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

APP_MEMORY_GIB = 1.0  # workload=diurnal: the web app's memory
INSTANCE_MEMORY_GIB = 8.0  # m5.large
INSTANCE_VCPU = 2.0


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Any]], Path]:
    out = tmp_path_factory.mktemp("resource_cost")
    rows = run_quick(load_study("resource_cost"), out)
    return {row["point"]: row for row in rows}, out


def test_writes_the_table_and_the_figures(study: tuple[dict[str, dict[str, Any]], Path]) -> None:
    rows, out = study
    assert list(rows) == ["vm", "container", "beanstalk-docker"]
    with open(out / "resource_cost.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["point"] for row in table] == list(rows)
    for column in (
        "runs",
        "cost_usd",
        "cost_usd_ci95",
        "vcpu_h_billed",
        "vcpu_h_reserved",
        "vcpu_h_used",
        "memory_gib_h_reserved",
        "memory_gib_h_used",
        "replicas_per_host",
        "latency_s_p95",
        "requests_dropped",
    ):
        assert column in table[0]
    assert all(int(row["runs"]) == 2 for row in table)
    for name in ("resource_cost_capacity.png", "resource_cost_bars.png"):
        assert (out / name).stat().st_size > 10_000


def test_used_never_exceeds_reserved_nor_reserved_billed(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    for row in study[0].values():
        assert 0 < row["vcpu_h_used"] <= row["vcpu_h_reserved"] <= row["vcpu_h_billed"] + 1e-9
        assert 0 < row["memory_gib_h_used"] <= row["memory_gib_h_reserved"]


def test_a_replica_on_its_own_instance_reserves_the_whole_instance(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    for label in ("vm", "beanstalk-docker"):
        row = rows[label]
        # Every replica holds a whole m5.large for its life: 8 GiB for a 1 GiB app.
        ratio = row["memory_gib_h_reserved"] / row["memory_gib_h_used"]
        assert ratio == pytest.approx(INSTANCE_MEMORY_GIB / APP_MEMORY_GIB)
        assert row["memory_gib_h_reserved"] / row["vcpu_h_reserved"] == pytest.approx(
            INSTANCE_MEMORY_GIB / INSTANCE_VCPU
        )
        assert row["replicas_per_host"] <= 1.0
    # A container reserves exactly its request: the app's memory.
    container = rows["container"]
    assert container["memory_gib_h_reserved"] == pytest.approx(container["memory_gib_h_used"])
    assert container["replicas_per_host"] <= INSTANCE_VCPU  # 1-vCPU containers on 2 vCPUs


def test_every_platform_pays_and_sees_the_same_requests(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = list(study[0].values())
    for row in rows:
        assert row["cost_usd"] > 0
        assert row["requests_total"] == pytest.approx(
            row["requests_served"] + row["requests_in_flight"] + row["requests_dropped"]
        )
    # Traffic from t = 0 on a named stream: the same arrivals for the same seed.
    assert len({row["requests_total"] for row in rows}) == 1
    assert len({row["requests_total_ci95"] for row in rows}) == 1


def test_containers_pack_and_cost_less_than_an_instance_per_replica(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    # Two 1-vCPU replicas fit on an m5.large host; a VM or Beanstalk replica takes one.
    assert rows["container"]["replicas_per_host"] > rows["vm"]["replicas_per_host"]
    assert rows["container"]["cost_usd"] < rows["vm"]["cost_usd"]
    assert rows["container"]["cost_usd"] < rows["beanstalk-docker"]["cost_usd"]
