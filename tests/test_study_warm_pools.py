"""The warm pools study (experiments/warm_pools.py), quick: its table, claims and figure,
and what must hold for every lever on every crowd shape."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from node_scaling import run_world
from studies import load_study, run_quick

SHAPES = ("ramp", "step", "spike")
LEVERS = ("baseline", "min 4", "cached image", "headroom 2")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Any]], Path]:
    out = tmp_path_factory.mktemp("warm_pools")
    rows = run_quick(load_study("warm_pools"), out)
    return {row["point"]: row for row in rows}, out


def test_writes_the_table_claims_and_figure(study: tuple[dict[str, dict[str, Any]], Path]) -> None:
    rows, out = study
    assert list(rows) == [f"{shape}/{lever}" for shape in SHAPES for lever in LEVERS]
    with open(out / "warm_pools.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["point"] for row in table] == list(rows)
    for column in ("crowd_drop_ratio_low", "replica_hours_high", "cost_usd", "front"):
        assert column in table[0]
    with open(out / "warm_pools_claims.csv", newline="") as file:
        claims = list(csv.DictReader(file))
    assert [(c["shape"], c["lever"], c["against"]) for c in claims] == [
        (shape, lever, "baseline") for shape in SHAPES for lever in LEVERS[1:]
    ]
    for claim in claims:
        assert {claim["fewer drops"], claim["lower p95"], claim["dearer"]} <= {
            "holds",
            "flips",
            "tie",
        }
    assert (out / "warm_pools.png").stat().st_size > 10_000


def test_every_lever_meets_the_same_requests_and_loses_none(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    for shape in SHAPES:
        members = [rows[f"{shape}/{lever}"] for lever in LEVERS]
        assert len({row["requests_total"] for row in members}) == 1
        for row in members:
            assert row["requests_total"] == pytest.approx(
                row["requests_served"] + row["requests_in_flight"] + row["requests_dropped"]
            )


def test_more_warm_replicas_never_fewer_replica_hours_and_headroom_costs_nodes(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    for shape in SHAPES:
        base = rows[f"{shape}/baseline"]
        assert rows[f"{shape}/min 4"]["replica_hours"] >= base["replica_hours"]
        # Two pause pods hold a 1-vCPU / 2 GiB room each all run long: more node-hours.
        assert rows[f"{shape}/headroom 2"]["node_hours"] > base["node_hours"]
        assert rows[f"{shape}/headroom 2"]["cost_usd"] > base["cost_usd"]


def test_the_front_holds_the_cheapest_and_the_fewest_drops(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    for shape in SHAPES:
        members = [rows[f"{shape}/{lever}"] for lever in LEVERS]
        on_front = [row for row in members if row["front"]]
        fewest = min(row["crowd_drop_ratio"] for row in members)
        cheapest = min(row["cost_usd"] for row in members)
        assert any(row["crowd_drop_ratio"] == fewest for row in on_front)
        assert any(row["cost_usd"] == cheapest for row in on_front)
        for row in on_front:  # nothing beats a front row on both
            assert not any(
                other["crowd_drop_ratio"] <= row["crowd_drop_ratio"]
                and other["cost_usd"] <= row["cost_usd"]
                and (other["crowd_drop_ratio"], other["cost_usd"])
                != (row["crowd_drop_ratio"], row["cost_usd"])
                for other in members
            )


def test_intervals_stay_within_each_metrics_range(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    for row in study[0].values():
        for share in ("crowd_drop_ratio", "drop_ratio"):
            assert 0.0 <= row[f"{share}_low"] <= row[share] <= row[f"{share}_high"] <= 1.0
        for column in ("replica_hours", "node_hours", "cost_usd", "latency_s_p95"):
            assert 0.0 <= row[f"{column}_low"] <= row[column] <= row[f"{column}_high"]


def test_node_hours_add_up_from_the_nodes_lives() -> None:
    """One quick run with headroom: the summary's node-hours are the instances' lives
    (launch to termination, or to the horizon), pause pods' nodes included."""
    study = load_study("warm_pools")
    world = run_world(
        [*study.COMMON, *study.QUICK.overrides("step"), *study.headroom(2)],
    )
    end = world.env.now
    lives = [
        ((record.terminated_s if record.terminated_s is not None else end) - record.launched_s)
        for record in world.cluster.cloud.records.values()
    ]
    result = world.collect(())
    assert result.summary["node_hours"] == pytest.approx(sum(lives) / 3600.0)
    assert world.cluster.scheduler.preemptions > 0
    assert not math.isnan(result.summary["cost_usd"])
