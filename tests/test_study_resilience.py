"""The resilience study (experiments/resilience.py), quick: its table, its figures,
and what the model says about spare hosts, zones and spot capacity under faults, at
published failure rates and under the labelled stress rates."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

Rows = dict[tuple[str, int, int, int], dict[str, Any]]
study_module = load_study("resilience")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Rows, Path]:
    out = tmp_path_factory.mktemp("resilience")
    rows = run_quick(study_module, out)
    keyed = {(r["rates"], r["hosts"], r["zones"], r["spot_percent"]): r for r in rows}
    return keyed, out


def test_writes_the_table_and_the_figures(study: tuple[Rows, Path]) -> None:
    rows, out = study
    published = [(h, z, s) for r, h, z, s in rows if r == "published"]
    assert sorted(published) == [
        (hosts, zones, spot) for hosts in (3, 4) for zones in (1, 3) for spot in (0, 100)
    ]
    assert sorted(k for k in rows if k[0] == "stress") == [
        ("stress", 4, 3, 0),
        ("stress", 4, 3, 100),
    ]
    with open(out / "resilience.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert len(table) == 10 and all(int(row["runs"]) == 2 for row in table)
    for column in ("availability", "availability_low", "availability_high", "cost_usd"):
        assert column in table[0]
    for name in ("published", "stress"):
        assert (out / f"resilience_{name}.png").stat().st_size > 10_000


def test_no_interval_leaves_its_metrics_range(study: tuple[Rows, Path]) -> None:
    rows, _ = study
    for row in rows.values():
        low, high = row["availability_low"], row["availability_high"]
        assert 0.0 <= low <= row["availability"] <= high <= 1.0
        for column in ("slo_violation_min", "cost_usd", "requests_failed"):
            assert math.isnan(row[f"{column}_low"]) or row[f"{column}_low"] >= 0.0


def test_one_zone_is_down_for_the_whole_outage_and_three_zones_ride_it_out(
    study: tuple[Rows, Path],
) -> None:
    rows = study[0]
    for hosts in (3, 4):
        for spot in (0, 100):
            single, spread = (
                rows[("published", hosts, 1, spot)],
                rows[("published", hosts, 3, spot)],
            )
            # Zone a is out for 10 of the 30 minutes: every period of it breaks the SLO.
            assert single["slo_violation_min"] >= 10.0
            assert spread["availability"] > single["availability"] + 0.2
            # With every host down there is no room to recover in until the zone is
            # back; from then on recovery takes a replica's start on a warm host.
            assert single["time_to_recover_s"] >= 600.0
            assert single["time_to_recover_after_fault_s"] < 60.0


def test_spot_hosts_bill_at_their_price_fraction(study: tuple[Rows, Path]) -> None:
    rows = study[0]
    for hosts in (3, 4):
        for zones in (1, 3):
            on_demand = rows[("published", hosts, zones, 0)]
            spot = rows[("published", hosts, zones, 100)]
            # Spot hosts at 30 %; a reclaimed one's replacement adds its own minimum.
            assert spot["cost_usd_instances"] == pytest.approx(
                0.3 * on_demand["cost_usd_instances"], rel=0.05
            )
            assert spot["spot_savings_usd"] > 0 and on_demand["spot_savings_usd"] == 0


def test_spot_rates_follow_from_the_advisors_monthly_bands() -> None:
    # A share p reclaimed within 720 h: rate -ln(1 - p) / 720, so exp(-720 rate) = 1 - p.
    for share in study_module.SPOT_BANDS:
        rate = study_module.interruptions_per_h(share)
        assert math.exp(-720.0 * rate) == pytest.approx(1.0 - share)
    assert study_module.PUBLISHED.spot_per_h == pytest.approx(3.0993e-4, rel=1e-4)
