"""The autoscaler study (experiments/autoscalers.py), quick: its table, its figures, and
what must hold for every policy on a flash crowd."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

POLICIES = ["none", "beanstalk", "beanstalk_cpu", "simple", "step", "target_tracking", "hpa"]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Any]], Path]:
    out = tmp_path_factory.mktemp("autoscalers")
    rows = run_quick(load_study("autoscalers"), out)
    return {row["point"]: row for row in rows}, out


def test_writes_the_table_and_the_figures(study: tuple[dict[str, dict[str, Any]], Path]) -> None:
    rows, out = study
    assert list(rows) == POLICIES
    with open(out / "autoscalers.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["point"] for row in table] == POLICIES
    for column in (
        "runs",
        "min_capacity",
        "max_capacity",
        "time_to_recover_s",
        "time_to_recover_s_low",
        "time_to_recover_s_high",
        "requests_dropped",
        "latency_s_p95",
        "cost_usd",
    ):
        assert column in table[0]
    for name in ("autoscalers_timeline.png", "autoscalers_bars.png", "autoscalers_drops_cost.png"):
        assert (out / name).stat().st_size > 10_000


def test_every_policy_stays_within_its_bounds(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    assert (rows["none"]["min_capacity"], rows["none"]["max_capacity"]) == (2, 2)
    assert (rows["beanstalk"]["min_capacity"], rows["beanstalk"]["max_capacity"]) == (1, 4)
    # Tuned alike: every policy but the fixed fleet and Beanstalk's default has 1..10.
    for name in ("beanstalk_cpu", "simple", "step", "target_tracking", "hpa"):
        assert (rows[name]["min_capacity"], rows[name]["max_capacity"]) == (1, 10)
    for row in rows.values():
        # No sample with the desired count outside [min, max] or more than max serving.
        assert row["samples_out_of_bounds"] == 0
        assert row["replicas_max"] <= row["max_capacity"]


def test_nothing_is_lost_and_every_policy_sees_the_same_requests(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = list(study[0].values())
    for row in rows:
        assert row["requests_total"] == pytest.approx(
            row["requests_served"] + row["requests_in_flight"] + row["requests_dropped"]
        )
    assert len({row["requests_total"] for row in rows}) == 1


def test_only_a_fast_policy_has_more_than_the_fixed_fleet_at_the_peak(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    fixed = rows["none"]
    assert fixed["in_service_at_peak"] == 2 and fixed["scaling_actions"] == 0
    # The HPA (15 s sync) grows within the crowd; Beanstalk on CPU scaled in to 1 in the
    # quiet minutes and its 5-minute periods leave it there at the quick crowd's peak.
    assert rows["hpa"]["in_service_at_peak"] > fixed["in_service_at_peak"]
    assert rows["beanstalk_cpu"]["in_service_at_peak"] < fixed["in_service_at_peak"]
    for row in rows.values():
        assert row["in_service_at_peak"] >= row["min_capacity"]


def test_a_fixed_fleet_too_small_for_the_crowd_drops_requests(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    fixed = study[0]["none"]
    # Two 1-vCPU replicas against a peak needing four for minutes: the queues fill.
    assert fixed["requests_dropped"] > 0
    assert fixed["time_to_recover_s"] > 0 and fixed["degraded_min"] > 0


def test_the_drop_share_is_per_seed_and_its_interval_stays_within_0_and_1(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    for row in study[0].values():
        assert 0.0 <= row["drop_ratio_low"] <= row["drop_ratio"] <= row["drop_ratio_high"] <= 1.0
    # A policy that drops nothing in any seed has the exact interval [0, 0].
    beanstalk = study[0]["beanstalk"]
    assert beanstalk["drop_ratio"] == beanstalk["drop_ratio_high"] == 0.0


def test_the_timeline_band_holds_every_seed(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    module = load_study("autoscalers")
    crowd = module.QUICK
    runs = module.run_study(
        [module.Point("hpa", module.POLICIES["hpa"])],
        2,
        common=(*module.COMMON, *crowd.overrides()),
        progress=False,
    )
    minutes, low, median, high = module.capacity_band(runs)
    # The whole run, one entry per 1-minute period.
    assert minutes[0] == 1.0 and minutes[-1] == crowd.horizon_s / 60
    for i, minute in enumerate(minutes):
        seen = [
            row["in_service"]
            for run in runs
            for row in run.result.timeseries
            if row["time_s"] == minute * 60
        ]
        assert (low[i], high[i]) == (min(seen), max(seen))
        assert low[i] <= median[i] <= high[i]


@pytest.fixture(scope="module")
def tuned() -> list[Any]:
    """The HPA and simple scaling tuned on the quick spike crowd, one seed per point."""
    module = load_study("autoscalers")
    return [
        module.tune_policy(policy, "spike", module.QUICK, 1, True) for policy in ("hpa", "simple")
    ]


def test_every_tuned_point_meets_its_bound_and_is_on_its_own_front(tuned: list[Any]) -> None:
    from sim.batch.tune import dominates

    for result in tuned:
        outcomes = result.tuning.outcomes
        front = result.tuning.front()
        assert front and set(front) <= set(outcomes)
        for bound, point in result.tuning.tuned.items():
            if point is None:
                assert all(o.drops > bound for o in outcomes.values())
                continue
            assert outcomes[point].drops <= bound
            assert not any(dominates(other, outcomes[point]) for other in outcomes.values())
    hpa = tuned[0].tuning
    # The cheapest HPA settings with at most 1 % dropped on the quick spike (seed 0).
    assert hpa.label(hpa.tuned[0.01]) == "target=40, stabilisation=60s"


def test_the_tuned_table_keeps_the_defaults_and_every_point_sees_the_same_requests(
    tuned: list[Any],
) -> None:
    module = load_study("autoscalers")
    rows = [row for result in tuned for row in module.tuned_rows(result)]
    for result in tuned:
        mine = [row for row in rows if row["policy"] == result.policy]
        assert mine[0]["role"] == mine[0]["settings"] == "defaults"
        assert len(mine) == 1 + len(result.tuning.outcomes)
        tags = {f"tuned<={bound:g}" for bound in module.DROP_BOUNDS}
        for row in mine[1:]:
            assert row["role"] in ("front", "run") or set(row["role"].split()) <= tags
    # Common random numbers: every policy and setting meets the same arrivals.
    assert len({row["requests_total"] for row in rows}) == 1
    for row in rows:
        assert (
            row["requests_total"]
            == row["requests_served"] + row["requests_in_flight"] + (row["requests_dropped"])
        )
        assert 0.0 <= row["drop_ratio"] <= 1.0
        # One seed per point here: a mean over one run has no interval (NaN ends).
        if row["runs"] > 1:
            assert 0.0 <= row["drop_ratio_low"] <= row["drop_ratio"] <= row["drop_ratio_high"]
            assert row["drop_ratio_high"] <= 1.0
        else:
            assert math.isnan(row["drop_ratio_low"]) and math.isnan(row["drop_ratio_high"])


def test_the_fronts_are_drawn_again_from_the_tuned_table(tuned: list[Any], tmp_path: Path) -> None:
    module = load_study("autoscalers")
    rows = [row for result in tuned for row in module.tuned_rows(result)]
    module.write_table(rows, tmp_path / "tuned.csv")
    again = module.main(["--replot", str(tmp_path / "tuned.csv"), "--out", str(tmp_path)])
    assert [(r["policy"], r["role"], r["settings"]) for r in again] == [
        (r["policy"], r["role"], r["settings"]) for r in rows
    ]
    assert [r["drop_ratio"] for r in again] == pytest.approx([r["drop_ratio"] for r in rows])
    assert (tmp_path / "autoscalers_fronts.png").stat().st_size > 10_000
