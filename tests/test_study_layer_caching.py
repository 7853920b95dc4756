"""The layer-caching study (experiments/layer_caching.py) on its quick size: its files,
its generated catalog, and the relations the model implies between sharing, disk and
the cache."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

import sim
from sim.cli.main import to_plain

study = load_study("layer_caching")


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[int, int], Any]]:
    out = tmp_path_factory.mktemp("layer_caching")
    rows = run_quick(study, out)
    return out, {(row["apps_per_base"], row["disk_gb"]): row for row in rows}


def test_writes_the_table_and_the_figure(quick: Any) -> None:
    out, _ = quick
    with (out / "layer_caching.csv").open() as file:
        table = list(csv.DictReader(file))
    assert [row["point"] for row in table] == [
        "1 apps/base, 3 GB",
        "1 apps/base, 8 GB",
        "12 apps/base, 3 GB",
        "12 apps/base, 8 GB",
    ]
    for column in ("apps_per_base", "disk_gb", "runs", "hit_ratio", "hit_ratio_low"):
        assert column in table[0]
    for metric, measure in study.METRICS.items():
        assert metric in table[0] and all(f"{metric}{end}" in table[0] for end in ("_low", "_high"))
        for row in table:  # every interval stays within the metric's range
            low, high = float(row[f"{metric}_low"]), float(row[f"{metric}_high"])
            assert measure.bounds.contains(low) and measure.bounds.contains(high)
    assert all(row["runs"] == "2" for row in table)
    assert (out / "layer_caching_sharing.png").stat().st_size > 10_000


def test_more_sharing_never_pulls_more_bytes_on_the_same_disk(quick: Any) -> None:
    _, rows = quick
    for disk in study.QUICK_DISKS_GB:
        alone, shared = rows[(1, disk)], rows[(12, disk)]
        assert shared["mb_per_started"] <= alone["mb_per_started"]
        assert shared["mb_per_requested"] <= alone["mb_per_requested"]
        assert shared["failed_share"] <= alone["failed_share"]
    # Where every replica starts, the totals compare too; on a small disk the unshared
    # catalog pulls less in total only because most of its pulls find no space.
    assert rows[(1, 8)]["failed_share"] == 0 == rows[(12, 8)]["failed_share"]
    assert rows[(12, 8)]["gb_pulled"] < rows[(1, 8)]["gb_pulled"]


def test_a_bigger_disk_never_lowers_the_hit_ratio(quick: Any) -> None:
    _, rows = quick
    for sharing in study.QUICK_APPS_PER_BASE:
        small, big = rows[(sharing, 3)], rows[(sharing, 8)]
        assert big["hit_ratio"] >= small["hit_ratio"]
        assert big["failed_share"] <= small["failed_share"]


def test_hit_ratios_follow_from_the_catalog(quick: Any) -> None:
    _, rows = quick
    # A disk that keeps everything: the second round finds every image present (all 5
    # layers of 12 apps); in the first, nothing is shared without a common base, and
    # with one base each host's first pull finds nothing, the next eleven find 3 of 5.
    assert rows[(1, 8)]["hit_ratio"] == pytest.approx(60 / 120)
    assert rows[(12, 8)]["hit_ratio"] == pytest.approx((11 * 3 + 60) / 120)
    assert rows[(1, 8)]["images_removed"] == 0 == rows[(12, 8)]["images_removed"]


def test_a_small_disk_evicts_stopped_apps_images_and_pulls_them_again(quick: Any) -> None:
    _, rows = quick
    for sharing in study.QUICK_APPS_PER_BASE:
        small, big = rows[(sharing, 3)], rows[(sharing, 8)]
        assert small["images_removed"] > 0
        assert small["failed_share"] == 0  # GC made room for every pull
        assert small["gb_pulled"] > big["gb_pulled"]


def test_the_preset_is_the_generated_representative_point() -> None:
    config = to_plain(sim.load_config(["+experiment=layer_caching"]))
    assert config["images"] == study.catalog(study.PRESET_APPS_PER_BASE)
    assert config["workload"] == study.workload(range(study.APPS))
    result = sim.simulate(sim.load_config(["+experiment=layer_caching", "progress=false"]))
    assert result.summary["replicas_started"] == study.APPS * study.HOSTS * study.ROUNDS


def test_every_point_of_a_seed_deploys_the_same_order() -> None:
    orders = []
    for sharing in (1, 12):
        config = to_plain(
            sim.load_config(["+experiment=layer_caching", f"+study.apps_per_base={sharing}"])
        )
        study.adjust(config)
        assert "study" not in config
        orders.append([d["app"] for d in config["workload"]["deployments"]])
    assert orders[0] == orders[1]
    assert sorted(orders[0]) == sorted(
        [f"app-{app:02d}" for app in range(study.APPS)] * study.ROUNDS
    )
