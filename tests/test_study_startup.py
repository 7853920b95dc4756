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
        "vm, cloned disk",
        "microvm",
        "container cold",
        "container cold lazy",
        "container cold lazy, prefetched",
        "container warm",
        "container base cached",
        "beanstalk-docker",
    ]
    for column in (
        "runs",
        "startup_s_mean",
        "startup_s_mean_low",
        "startup_s_mean_high",
        "startup_s_p95",
        "read_stall_s",
        "pull_download_s",
        "pull_extract_s",
        "boot_s",
        "init_s",
        "pull_share",
        "memory_reserved_mib",
    ):
        assert column in table[0]
    assert all(row["runs"] == "2" and float(row["replicas"]) == 6 for row in table)
    for figure in ("startup_breakdown.png", "startup_cdf.png", "startup_lazy.png"):
        assert (out / figure).stat().st_size > 10_000
    for row in table:  # every interval holds its estimate and stays at or above 0
        low, mean, high = (float(row[f"startup_s_mean{end}"]) for end in ("_low", "", "_high"))
        assert 0 <= low <= mean <= high
    with (out / "startup_claims.csv").open() as file:
        claims = {row["claim"]: row for row in csv.DictReader(file)}
    assert claims["a container starts faster than a VM"]["verdict"] == "holds"
    assert {row["verdict"] for row in claims.values()} <= {"holds", "flips", "tie"}
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
    bound = rows["container cold lazy, prefetched"]
    assert 0 < lazy["pull_download_s"] < bound["pull_download_s"] < cold["pull_download_s"]
    assert lazy["pull_extract_s"] == bound["pull_extract_s"] == 0  # nothing is unpacked
    # Reading on demand stalls init; the prefetched read set never does (the upper bound).
    assert lazy["read_stall_s"] > 0 and bound["read_stall_s"] == 0
    assert lazy["init_s"] == pytest.approx(bound["init_s"] + lazy["read_stall_s"])
    assert bound["startup_s_mean"] < min(lazy["startup_s_mean"], cold["startup_s_mean"])


def test_lazy_pulling_gains_more_the_larger_the_image(quick: Any) -> None:
    out, _ = quick
    with (out / "startup_lazy.csv").open() as file:
        rows = {(row["mode"], int(row["image_scale"])): row for row in csv.DictReader(file)}
    gain = {
        scale: float(rows[("overlayfs", scale)]["startup_s_mean"])
        - float(rows[("lazy, read on demand", scale)]["startup_s_mean"])
        for scale in (1, 4)
    }
    assert gain[4] > gain[1]
    for scale in (1, 4):  # the prefetched read set bounds what lazy pulling gains
        assert float(rows[("lazy, prefetched (upper bound)", scale)]["startup_s_mean"]) < float(
            rows[("lazy, read on demand", scale)]["startup_s_mean"]
        )


def test_microvm_beats_vm_and_beanstalk_is_slower_than_a_cold_container(quick: Any) -> None:
    _, rows = quick
    assert rows["microvm"]["startup_s_mean"] < rows["vm"]["startup_s_mean"]
    # Without the 8 GiB disk copy a VM starts sooner, and still later than a container.
    clone = rows["vm, cloned disk"]
    assert rows["container cold"]["startup_s_mean"] < clone["startup_s_mean"]
    assert clone["provision_s"] < rows["vm"]["provision_s"]
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
