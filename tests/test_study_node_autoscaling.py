"""The node autoscaling study (experiments/node_autoscaling.py), quick: its table, its
figure, and what must hold for every scaler on both loads."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

SCALERS = ["simple", "ca-least-waste", "ca-price", "karpenter", "karpenter-spot"]
POINTS = [f"{load}/{scaler}" for load in ("flash", "day") for scaler in SCALERS]
# The types each scaler may launch: its groups' or its NodePool's (m5, c5, r5).
POOL = {"m5.large", "m5.xlarge", "m5.2xlarge", "m5.4xlarge", "c5.large", "c5.xlarge", "r5.large"}
TYPES = {
    "simple": {"m5.xlarge"},
    "ca-least-waste": {"m5.xlarge", "c5.xlarge", "r5.large"},
    "ca-price": {"m5.xlarge", "c5.xlarge", "r5.large"},
    "karpenter": POOL,
    "karpenter-spot": POOL,
}
HOURS = {"flash": 0.5, "day": 2.0}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Any]], Path]:
    out = tmp_path_factory.mktemp("node_autoscaling")
    rows = run_quick(load_study("node_autoscaling"), out)
    return {row["point"]: row for row in rows}, out


def kinds(row: dict[str, Any]) -> dict[str, float]:
    """The row's mean node-hours per ``<type>:<capacity>``, those above 0."""
    return {
        key.removeprefix("node_hours:"): value
        for key, value in row.items()
        if key.startswith("node_hours:")
        and not key.endswith(("_ci95", "_low", "_high"))
        and value > 0
    }


def test_writes_the_table_and_the_figure(study: tuple[dict[str, dict[str, Any]], Path]) -> None:
    rows, out = study
    assert list(rows) == POINTS
    with open(out / "node_autoscaling.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["point"] for row in table] == POINTS
    for column in ("cost_usd", "time_to_schedule_s_p95", "drop_ratio_low", "node_hours_high"):
        assert column in table[0]
    assert (out / "node_autoscaling.png").stat().st_size > 10_000


def test_every_scaler_sees_the_same_requests_and_loses_none(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    for load in ("flash", "day"):
        members = [row for row in rows.values() if row["load"] == load]
        assert len({row["requests_total"] for row in members}) == 1
        for row in members:
            assert row["requests_total"] == pytest.approx(
                row["requests_served"] + row["requests_in_flight"] + row["requests_dropped"]
            )


def test_node_hours_add_up_over_the_types_each_scaler_may_launch(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    for point, row in study[0].items():
        scaler = point.split("/")[1]
        by_kind = kinds(row)
        assert sum(by_kind.values()) == pytest.approx(row["node_hours"])
        # The system node, an m5.large on demand, runs the whole run.
        system = by_kind.pop("m5.large:on-demand")
        if scaler.startswith("karpenter"):
            assert system >= HOURS[row["load"]]
        else:
            assert system == pytest.approx(HOURS[row["load"]])
        assert {kind.split(":")[0] for kind in by_kind} <= TYPES[scaler]
        spot = {kind for kind in by_kind if kind.endswith(":spot")}
        assert bool(spot) == (scaler == "karpenter-spot")
        assert (spot == set(by_kind)) == (scaler == "karpenter-spot")


def test_only_spot_is_interrupted_and_only_a_draining_scaler_evicts(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    for point, row in study[0].items():
        scaler = point.split("/")[1]
        if scaler != "karpenter-spot":
            assert row["spot_interruptions"] == 0
        if scaler == "simple":  # removes only hosts that run nothing
            assert row["node_disruptions"] == 0 and row["pods_evicted"] == 0
    rows = study[0]
    for load in ("flash", "day"):
        assert rows[f"{load}/karpenter-spot"]["cost_usd"] < rows[f"{load}/karpenter"]["cost_usd"]


def test_intervals_stay_within_each_metrics_range(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    for row in study[0].values():
        assert 0.0 <= row["drop_ratio_low"] <= row["drop_ratio"] <= row["drop_ratio_high"] <= 1.0
        for column in ("cost_usd", "time_to_schedule_s_p95", "node_hours", "pods_evicted"):
            assert 0.0 <= row[f"{column}_low"] <= row[column] <= row[f"{column}_high"]
