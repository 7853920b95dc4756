"""The scheduling study (experiments/scheduling.py) on its quick size: its files, image
locality drawing a rollout onto warm nodes, and the zone spread holding in an outage."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

import sim

study = load_study("scheduling")


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("scheduling")
    rows = run_quick(study, out)
    return out, {row["point"]: row for row in rows}


def test_writes_both_tables_and_the_figure(quick: Any) -> None:
    out, _ = quick
    with (out / "scheduling_locality.csv").open() as file:
        locality = list(csv.DictReader(file))
    with (out / "scheduling_zones.csv").open() as file:
        zones = list(csv.DictReader(file))
    assert [row["point"] for row in locality] == [
        "web, 3 replicas, ImageLocality on",
        "web, 3 replicas, ImageLocality off",
    ]
    assert [row["point"] for row in zones] == ["default profile", "bin-packing + zone spread"]
    assert all(row["runs"] == "2" for row in locality + zones)
    assert (out / "scheduling.png").stat().st_size > 10_000


def test_image_locality_puts_a_rollout_as_large_as_the_warm_nodes_on_them(quick: Any) -> None:
    """Three warm nodes hold the image: with ImageLocality each of the three replicas goes
    to one (the default spreading keeps them apart), and none pulls; without it the
    replicas land anywhere among the eight nodes."""
    _, rows = quick
    on = rows["web, 3 replicas, ImageLocality on"]
    off = rows["web, 3 replicas, ImageLocality off"]
    assert on["warm_share"] == 1.0
    assert off["warm_share"] < 1.0
    assert on["startup_s_p95"] < off["startup_s_p95"]
    # The warm-up pulled the image once per warm node (3 x 106.4 MB); nothing more.
    assert on["mb_pulled"] == pytest.approx(3 * 106.401032)
    assert off["mb_pulled"] > on["mb_pulled"]


def test_a_hard_zone_spread_loses_one_replica_in_three_in_a_zone_outage(quick: Any) -> None:
    _, rows = quick
    spread = rows["bin-packing + zone spread"]
    assert spread["lost_share"] == pytest.approx(1 / 3)


def test_the_preset_runs_the_representative_point() -> None:
    result = sim.simulate(sim.load_config(["+experiment=scheduling", "progress=false"]))
    hosts = sorted(r.host for r in result.replicas if r.app == "app")
    assert hosts == ["warm-1", "warm-2", "warm-3"]
