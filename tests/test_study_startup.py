"""The start-up study (experiments/startup.py) on its quick size: its files, and the
relations the model implies between platforms and caches."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.model.platforms.vm import VmParams as VmPlatformParams

MIB = 2**20


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    out = tmp_path_factory.mktemp("startup")
    rows = run_quick(load_study("startup"), out)
    return out, {row["point"]: row for row in rows}


def test_writes_the_table_the_figures_and_the_sanity_line(quick: Any) -> None:
    out, rows = quick
    with (out / "startup.csv").open() as file:
        table = list(csv.DictReader(file))
    assert [row["point"] for row in table] == [
        "vm",
        "microvm",
        "container cold",
        "container cold lazy",
        "container warm",
        "container base cached",
        "beanstalk-docker",
    ]
    for column in (
        "runs",
        "startup_s_mean",
        "startup_s_mean_ci95",
        "startup_s_p95",
        "pull_download_s",
        "pull_extract_s",
        "boot_s",
        "init_s",
        "pull_share",
        "memory_reserved_mib",
    ):
        assert column in table[0]
    assert all(row["runs"] == "2" and float(row["replicas"]) == 6 for row in table)
    for figure in ("startup_breakdown.png", "startup_cdf.png"):
        assert (out / figure).stat().st_size > 10_000
    sanity = (out / "sanity.txt").read_text()
    assert "76 %" in sanity and "cold pull share" in sanity


def test_phases_add_up_to_the_start_up(quick: Any) -> None:
    _, rows = quick
    phases = (
        "wait_s",
        "provision_s",
        "boot_s",
        "pull_download_s",
        "pull_extract_s",
        "create_s",
        "start_s",
        "init_s",
    )
    for row in rows.values():
        assert math.isclose(sum(row[p] for p in phases), row["startup_s_mean"], rel_tol=1e-9)


def test_containers_start_faster_the_more_of_the_image_is_cached(quick: Any) -> None:
    _, rows = quick
    warm, base, cold = (rows[f"container {c}"] for c in ("warm", "base cached", "cold"))
    assert warm["startup_s_mean"] < base["startup_s_mean"] < cold["startup_s_mean"]
    assert warm["pull_download_s"] == 0 and warm["pull_share"] == 0
    assert 0 < base["pull_download_s"] < cold["pull_download_s"]
    assert 0 < base["pull_extract_s"] < cold["pull_extract_s"]


def test_a_lazy_cold_container_starts_before_the_image_has_arrived(quick: Any) -> None:
    _, rows = quick
    lazy, cold = rows["container cold lazy"], rows["container cold"]
    assert lazy["startup_s_mean"] < cold["startup_s_mean"]
    assert 0 < lazy["pull_download_s"] < cold["pull_download_s"]
    assert lazy["pull_extract_s"] == 0  # nothing is unpacked before the start


def test_microvm_beats_vm_and_beanstalk_is_slower_than_a_cold_container(quick: Any) -> None:
    _, rows = quick
    assert rows["microvm"]["startup_s_mean"] < rows["vm"]["startup_s_mean"]
    assert rows["beanstalk-docker"]["startup_s_mean"] > rows["container cold"]["startup_s_mean"]
    assert rows["beanstalk-docker"]["pull_download_s"] > 0  # its instance's cache is empty


def test_a_vm_reserves_its_guest_memory_plus_the_kvm_overhead(quick: Any) -> None:
    _, rows = quick
    params = scenario_params(to_plain(sim.load_config(["+experiment=startup"])))
    app = params.apps["web"]
    for name in ("vm", "microvm"):
        platform = params.platforms[name]
        assert isinstance(platform, VmPlatformParams)
        guest = platform.guest_memory_bytes(app)
        overhead = platform.memory_overhead_bytes(app)
        assert overhead > 0
        assert rows[name]["memory_reserved_mib"] * MIB == pytest.approx(guest + overhead, abs=1)
    kvm = params.platforms["vm"]
    assert isinstance(kvm, VmPlatformParams)  # 1 GiB app + 512 MiB guest OS, 1 vCPU
    assert kvm.memory_overhead_bytes(app) == round(0.002 * 1536 * MIB + 218 * MIB + 8 * MIB)


def test_the_preset_runs_the_cold_container_point() -> None:
    result = sim.simulate(sim.load_config(["+experiment=startup", "progress=false"]))
    assert result.summary["replicas_started"] == 6
    assert result.summary["layers_already_exists"] == 0
    assert {replica.platform for replica in result.replicas} == {"container"}
