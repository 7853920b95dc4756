"""The resilience study (experiments/resilience.py), quick: its table, its figure, and
what the model says about spare hosts, zones and spot capacity under faults."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

Rows = dict[tuple[int, int, int], dict[str, Any]]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Rows, Path]:
    out = tmp_path_factory.mktemp("resilience")
    rows = run_quick(load_study("resilience"), out)
    return {(row["hosts"], row["zones"], row["spot_percent"]): row for row in rows}, out


def test_writes_the_table_and_the_figure(study: tuple[Rows, Path]) -> None:
    rows, out = study
    assert sorted(rows) == [
        (hosts, zones, spot) for hosts in (3, 4) for zones in (1, 3) for spot in (0, 100)
    ]
    with open(out / "resilience.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert len(table) == 8 and all(int(row["runs"]) == 2 for row in table)
    for column in ("availability", "availability_ci95", "slo_violation_min", "cost_usd"):
        assert column in table[0]
    assert (out / "resilience.png").stat().st_size > 10_000


def test_one_zone_is_down_for_the_whole_outage_and_three_zones_ride_it_out(
    study: tuple[Rows, Path],
) -> None:
    rows = study[0]
    for hosts in (3, 4):
        for spot in (0, 100):
            single, spread = rows[(hosts, 1, spot)], rows[(hosts, 3, spot)]
            # Zone a is out for 10 of the 30 minutes: every period of it breaks the SLO.
            assert single["slo_violation_min"] >= 10.0
            assert spread["availability"] > single["availability"] + 0.2


def test_spot_hosts_bill_at_their_price_fraction(study: tuple[Rows, Path]) -> None:
    rows = study[0]
    for hosts in (3, 4):
        for zones in (1, 3):
            on_demand = rows[(hosts, zones, 0)]
            spot = rows[(hosts, zones, 100)]
            # Spot hosts at 30 %; a reclaimed one's replacement adds its own minimum.
            assert spot["cost_usd_instances"] == pytest.approx(
                0.3 * on_demand["cost_usd_instances"], rel=0.05
            )
            assert spot["spot_savings_usd"] > 0 and on_demand["spot_savings_usd"] == 0
