"""The sensitivity study (experiments/sensitivity.py), quick: one row per (conclusion,
default), a base equal to each study's own value for the same seeds, and scaled defaults
that move start-up by exactly what they scale (common random numbers)."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from studies import load_study

from sim.batch.study import run_study
from sim.core.distributions import parse_distribution
from sim.core.units import parse_duration

sensitivity = load_study("sensitivity")


@pytest.fixture(scope="module")
def quick() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    study_tables, rows = sensitivity.evaluate(quick=True)
    return study_tables, rows


def test_one_row_per_conclusion_and_default_and_the_files(quick: Any, tmp_path: Path) -> None:
    _, rows = quick
    pairs = [(row["conclusion"], row["default"]) for row in rows]
    expected = [
        (conclusion.key, default.name)
        for conclusion, default in itertools.product(sensitivity.CONCLUSIONS, sensitivity.DEFAULTS)
    ]
    assert pairs == expected
    assert len(sensitivity.CONCLUSIONS) == 10 and len(sensitivity.DEFAULTS) == 10
    sensitivity.write_outputs(rows, tmp_path)
    with (tmp_path / "sensitivity.csv").open() as file:
        table = list(csv.DictReader(file))
    assert [(row["conclusion"], row["default"]) for row in table] == expected
    assert {"x0.5", "base", "x2", "flips", "verdict_base", "verdict_x2", "moved"} <= set(table[0])
    for conclusion in sensitivity.CONCLUSIONS:
        figure = tmp_path / f"sensitivity_{conclusion.key}.png"
        moved = any(r["moved"] for r in rows if r["conclusion"] == conclusion.key)
        # A conclusion no default moves gets no (empty) tornado.
        assert figure.exists() == moved
        if moved:
            assert figure.stat().st_size > 10_000
    assert {row["verdict_base"] for row in rows} <= {"holds", "flips", "tie"}


def test_the_base_is_each_studys_own_value_for_the_same_seeds(quick: Any) -> None:
    """Each study run as its script runs it (composed afresh, its own adjust and table),
    without the sensitivity's cached composition or scaling, gives the base column."""
    _, rows = quick
    base = {row["conclusion"]: row["base"] for row in rows}
    for study in sensitivity.studies(quick=True).values():
        runs = run_study(
            study.points,
            study.replications,
            common=study.common,
            adjust=study.adjust,
            progress=False,
        )
        table = {row["point"]: row for row in study.table(runs)}
        for conclusion in sensitivity.CONCLUSIONS:
            if conclusion.study == study.name:
                assert conclusion.value(table) == base[conclusion.key], conclusion.key


@pytest.mark.parametrize("factor", sensitivity.FACTORS)
def test_vm_boot_and_provisioning_move_vm_startup_by_the_scaled_phase(
    quick: Any, factor: float
) -> None:
    """With the same draws, ×k of the boot adds (k - 1) × the base boot to every VM's
    start-up; the provisioning phase (its draw and the disk copy) scales by k."""
    study_tables, _ = quick
    tables = study_tables["startup"]
    base = tables[sensitivity.BASE]["vm"]
    boot = tables["vm_boot", factor]["vm"]
    assert boot["boot_s"] == pytest.approx(factor * base["boot_s"], rel=1e-12)
    expected = base["startup_s_mean"] + (factor - 1) * base["boot_s"]
    assert boot["startup_s_mean"] == pytest.approx(expected, rel=1e-12)
    assert (boot["startup_s_mean"] < base["startup_s_mean"]) == (factor < 1)
    assert boot["provision_s"] == base["provision_s"]
    provisioning = tables["vm_provisioning", factor]["vm"]
    assert provisioning["provision_s"] == pytest.approx(factor * base["provision_s"], rel=1e-12)
    assert provisioning["boot_s"] == base["boot_s"]
    # Containers do not see either VM default.
    for default in ("vm_boot", "vm_provisioning"):
        cold = tables[default, factor]["container cold"]
        assert (
            cold["startup_s_mean"] == tables[sensitivity.BASE]["container cold"]["startup_s_mean"]
        )


def test_container_start_and_extraction_move_their_own_phases(quick: Any) -> None:
    study_tables, rows = quick
    tables = study_tables["startup"]
    base = tables[sensitivity.BASE]["container warm"]
    for factor in sensitivity.FACTORS:
        warm = tables["container_start", factor]["container warm"]
        for phase in ("create_s", "start_s"):
            assert warm[phase] == pytest.approx(factor * base[phase], rel=1e-12)
        assert warm["init_s"] == base["init_s"]
    # A slower extraction makes the pull a larger share of start-up, a faster one smaller.
    (share,) = (
        row
        for row in rows
        if row["conclusion"] == "pull_share" and row["default"] == "extraction throughput"
    )
    assert share["x0.5"] > share["base"] > share["x2"]


def test_a_default_a_study_does_not_contain_reuses_its_base(quick: Any) -> None:
    _, rows = quick
    for row in rows:
        if row["default"] == "request CPU" and row["study"] != "autoscalers":
            assert row["x0.5"] == row["base"] == row["x2"] and row["flips"] == "no"


@pytest.mark.parametrize(
    "spec",
    [
        "30s",
        "{dist: lognormal, median: 8s, sigma: 0.3}",
        {"dist": "lognormal", "median": "13s", "sigma": 0.6, "min": "1s", "max": "60s"},
        {"dist": "normal", "mean": "40s", "sd": "5s", "min": "20s"},
        {"dist": "exponential", "mean": "50ms"},
        {"dist": "uniform", "low": "1s", "high": "3s"},
    ],
)
@pytest.mark.parametrize("factor", [0.5, 2.0, 3.0])
def test_a_scaled_distribution_scales_every_draw(spec: Any, factor: float) -> None:
    original = parse_distribution(spec, "key")
    scaled = parse_distribution(sensitivity.scaled_distribution(spec, factor, "key"), "key")
    first, second = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(50):
        assert scaled.sample(second) == pytest.approx(factor * original.sample(first), rel=1e-12)
    assert scaled.mean() == pytest.approx(factor * original.mean(), rel=1e-12)


def test_flips_names_the_factors_and_ties() -> None:
    assert sensitivity.flips({0.5: "holds", 2.0: "holds"}) == "no"
    assert sensitivity.flips({0.5: "tie", 2.0: "holds"}) == "×0.5 (tie)"
    assert sensitivity.flips({0.5: "flips", 2.0: "flips"}) == "×0.5, ×2"


def test_a_verdict_weighs_the_seeds_noise() -> None:
    (margin,) = (c for c in sensitivity.CONCLUSIONS if c.key == "hpa_drops_least")
    (share,) = (c for c in sensitivity.CONCLUSIONS if c.key == "pull_share")
    # Every seed well above the line: holds; straddling it: a tie; all below: flips.
    assert sensitivity.judge(margin, [1.0, 1.2, 0.9, 1.1], "a")[1] == "holds"
    assert sensitivity.judge(margin, [0.4, -0.3, 0.2, -0.1], "b")[1] == "tie"
    assert sensitivity.judge(margin, [-1.0, -1.2, -0.9], "c")[1] == "flips"
    # One seed is judged by its value; on the line it is a tie.
    assert sensitivity.judge(margin, [0.0], "d")[1] == "tie"
    # "About half" (40-60 %): inside holds, across a bound a tie, outside flips.
    assert sensitivity.judge(share, [50.0, 52.0, 48.0], "e")[1] == "holds"
    assert sensitivity.judge(share, [58.0, 63.0, 61.0, 57.0], "f")[1] == "tie"
    assert sensitivity.judge(share, [70.0, 72.0, 71.0], "g")[1] == "flips"


def test_image_sizes_and_policy_reaction_scale_what_they_name(quick: Any) -> None:
    study_tables, rows = quick
    tables = study_tables["startup"]
    base = tables[sensitivity.BASE]["container cold"]
    # Twice the bytes: the cold pull's download and extraction both take longer.
    bigger = tables["image_sizes", 2.0]["container cold"]
    assert bigger["pull_download_s"] > base["pull_download_s"]
    assert bigger["pull_extract_s"] > base["pull_extract_s"]
    # Reaction times and Beanstalk's boot are in no start-up point: their runs are the base.
    for row in rows:
        if row["study"] == "startup" and row["default"] in (
            "policy cooldowns/warm-up",
            "Beanstalk boot",
        ):
            assert row["x0.5"] == row["base"] == row["x2"]


def test_the_reaction_times_of_every_policy_scale() -> None:
    from sim.api import load_config, to_plain

    for policy, keys in (
        (
            "target_tracking",
            ("scale_out_cooldown", "scale_in_cooldown", "estimated_instance_warmup"),
        ),
        ("simple", ("cooldown",)),
        ("hpa", ("downscale_stabilization",)),
        ("beanstalk", ("cooldown",)),
    ):
        config = to_plain(load_config(["+experiment=autoscalers", f"autoscaler={policy}"]))
        before = dict(config["autoscaler"])
        sensitivity.scale_policy_reaction(config, 0.5)
        for key in keys:
            assert config["autoscaler"][key] == 0.5 * parse_duration(before[key], key)
    config = to_plain(load_config(["+experiment=autoscalers", "autoscaler=step"]))
    sensitivity.scale_policy_reaction(config, 2.0)
    # The step policies' warm-up is unset: its default (300 s) is scaled.
    assert [m["estimated_instance_warmup"] for m in config["autoscaler"]["policies"]] == [
        600.0,
        600.0,
    ]


def test_factorial_effects_of_a_known_response() -> None:
    """y = 10 + 3a + 2b - c + 1.5ab (codes -1/+1): effects are twice the coefficients."""
    values = {
        (a, b, c): 10 + 3 * a + 2 * b - c + 1.5 * a * b
        for a, b, c in itertools.product((-1, 1), repeat=3)
    }
    found = dict(sensitivity.effects(["A", "B", "C"], values))
    assert found == pytest.approx(
        {"A": 6.0, "B": 4.0, "C": -2.0, "A × B": 3.0, "A × C": 0.0, "B × C": 0.0}
    )


def test_the_screening_takes_the_widest_swings_and_reports_every_term(quick: Any) -> None:
    _, rows = quick
    (pull,) = (c for c in sensitivity.CONCLUSIONS if c.key == "pull_share")
    top = sensitivity.top_defaults(pull, rows)
    swings = {
        row["default"]: abs(row["x2"] - row["x0.5"])
        for row in rows
        if row["conclusion"] == "pull_share"
    }
    assert len(top) == sensitivity.SCREENED
    assert [swings[d.name] for d in top] == sorted(swings.values(), reverse=True)[:3]
    assert "extraction throughput" in {d.name for d in top}


def test_the_screening_of_the_pull_share_runs_every_corner(quick: Any) -> None:
    _, rows = quick
    (pull,) = (c for c in sensitivity.CONCLUSIONS if c.key == "pull_share")
    screened = sensitivity.screening_rows(rows, quick=True, conclusions=[pull])
    names = [d.name for d in sensitivity.top_defaults(pull, rows)]
    assert [row["term"] for row in screened] == [
        *names,
        f"{names[0]} × {names[1]}",
        f"{names[0]} × {names[2]}",
        f"{names[1]} × {names[2]}",
    ]
    assert {row["corners"] for row in screened} == {8}
    effect = {row["term"]: row["effect"] for row in screened}
    # A faster extraction (x2, code +1) makes the pull a smaller share of start-up.
    assert effect["extraction throughput"] < 0
    assert screened[0]["low"] < screened[0]["high"]
