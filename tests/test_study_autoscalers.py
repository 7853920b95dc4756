"""The autoscaler study (experiments/autoscalers.py), quick: its table, its figures, and
what must hold for every policy on a flash crowd."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from studies import load_study, run_quick

POLICIES = ["none", "beanstalk", "simple", "step", "target_tracking", "hpa"]


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
        "time_to_recover_s_ci95",
        "requests_dropped",
        "latency_s_p95",
        "cost_usd",
    ):
        assert column in table[0]
    for name in ("autoscalers_timeline.png", "autoscalers_bars.png"):
        assert (out / name).stat().st_size > 10_000


def test_every_policy_stays_within_its_bounds(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    assert (rows["none"]["min_capacity"], rows["none"]["max_capacity"]) == (2, 2)
    assert (rows["beanstalk"]["min_capacity"], rows["beanstalk"]["max_capacity"]) == (1, 4)
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


def test_scaling_never_leaves_fewer_replicas_at_the_peak_than_the_fixed_fleet(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    rows = study[0]
    fixed = rows["none"]
    assert fixed["in_service_at_peak"] == 2 and fixed["scaling_actions"] == 0
    for row in rows.values():
        assert row["in_service_at_peak"] >= fixed["in_service_at_peak"]


def test_a_fixed_fleet_too_small_for_the_crowd_drops_requests(
    study: tuple[dict[str, dict[str, Any]], Path],
) -> None:
    fixed = study[0]["none"]
    # Two 1-vCPU replicas against a peak needing four for minutes: the queues fill.
    assert fixed["requests_dropped"] > 0
    assert fixed["time_to_recover_s"] > 0 and fixed["degraded_min"] > 0
