"""The bin-packing vs spread study (experiments/binpacking.py), quick: its table, claims
and figure, and what must hold for both scorings under every node autoscaler."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

SCALERS = ("ca", "karpenter", "karpenter-empty")
SCORINGS = ("spread", "binpack")
POINTS = [f"{scaler}/{scoring}" for scaler in SCALERS for scoring in SCORINGS]
HOURS = 0.5


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Any]], Path]:
    out = tmp_path_factory.mktemp("binpacking")
    rows = run_quick(load_study("binpacking"), out)
    return {row["point"]: row for row in rows}, out


def test_writes_the_table_claims_and_figure(study: tuple[dict[str, dict[str, Any]], Path]) -> None:
    rows, out = study
    assert list(rows) == POINTS
    with open(out / "binpacking.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["point"] for row in table] == POINTS
    for column in ("cpu_stranded_mean_low", "cpu_stranded_share_high", "underused_node_hours"):
        assert column in table[0]
    with open(out / "binpacking_claims.csv", newline="") as file:
        claims = list(csv.DictReader(file))
    assert [claim["scaler"] for claim in claims] == list(SCALERS)
    for claim in claims:
        assert claim["binpack bills less"] in ("holds", "flips", "tie")
    assert (out / "binpacking.png").stat().st_size > 10_000


def test_both_scorings_meet_the_same_workload_and_lose_no_request(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    assert len({row["requests_total"] for row in rows.values()}) == 1
    for row in rows.values():
        assert row["requests_total"] == pytest.approx(
            row["requests_served"] + row["requests_in_flight"] + row["requests_dropped"]
        )


def test_node_hours_add_up_over_instance_types_and_cover_the_system_node(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    for row in study[0].values():
        by_kind = {
            key.removeprefix("node_hours:"): value
            for key, value in row.items()
            if key.startswith("node_hours:") and not key.endswith(("_low", "_high"))
        }
        assert sum(by_kind.values()) == pytest.approx(row["node_hours"])
        assert by_kind["m5.large:on-demand"] >= HOURS  # the system node, all run long


def test_stranded_cpu_is_part_of_the_free_cpu_and_intervals_stay_in_range(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    for row in study[0].values():
        assert 0.0 <= row["cpu_stranded_mean"] <= row["cpu_free_mean"]
        assert row["cpu_stranded_mean"] <= row["cpu_stranded_max"]
        low, share, high = (row[f"cpu_stranded_share{s}"] for s in ("_low", "", "_high"))
        assert 0.0 <= low <= share <= high <= 1.0
        for column in ("cost_usd", "node_hours", "underused_node_hours", "cpu_stranded_max"):
            assert 0.0 <= row[f"{column}_low"] <= row[column] <= row[f"{column}_high"]


def test_only_consolidation_disrupts_nodes_running_pods(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    for point, row in study[0].items():
        if point.startswith("karpenter-empty/"):
            assert row["node_disruptions"] == 0 and row["pods_evicted"] == 0
