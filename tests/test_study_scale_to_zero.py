"""The scale-to-zero study (experiments/scale_to_zero.py) on its quick size: its files,
zero saving replica-hours, the warm replica dropping nothing, nothing lost, and every
interval inside its metric's range."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

study = load_study("scale_to_zero")


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("scale_to_zero")
    rows = run_quick(study, out)
    return out, {row["point"]: row for row in rows}


def test_writes_the_table_the_trace_and_the_figure(quick: Any) -> None:
    out, rows = quick
    with (out / "scale_to_zero.csv").open() as file:
        assert [row["point"] for row in csv.DictReader(file)] == list(rows)
    assert (out / "scale_to_zero.png").stat().st_size > 0
    assert (out / "sparse_day.csv").read_text() == (
        Path(__file__).parent.parent / "configs/workload/traces/sparse_day.csv"
    ).read_text()


def test_zero_saves_replica_hours_and_warm_drops_nothing(quick: Any) -> None:
    _, rows = quick
    for platform in study.PLATFORMS:
        cold, warm = rows[f"{platform} min 0"], rows[f"{platform} min 1"]
        assert cold["replica_hours"] < warm["replica_hours"]
        assert warm["drop_ratio"] == 0.0 and warm["activation_drops"] == 0.0
        # One warm replica from the first poll (30 s) on: every minute's sample but
        # the first of twelve hours.
        assert warm["replica_hours"] >= 12.0 - 1 / 60


def test_every_interval_stays_in_its_range(quick: Any) -> None:
    _, rows = quick
    for row in rows.values():
        for metric in study.METRICS:
            low, value, high = row[f"{metric}_low"], row[metric], row[f"{metric}_high"]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            assert 0.0 <= low <= value <= high, (row["point"], metric)
        assert row["drop_ratio_high"] <= 1.0


def test_a_longer_hold_serves_what_the_default_hold_drops(quick: Any) -> None:
    _, rows = quick
    assert (
        rows["container hold 2min"]["activation_drops"]
        < rows["container min 0"]["activation_drops"]
    )
