"""The sensitivity screen (experiments/sensitivity.py): how each default is scaled, when a
conclusion counts as flipped, and a small screen whose directions are known."""

from __future__ import annotations

from pathlib import Path

import pytest
from studies import load_study

from sim.batch.study import Point

sensitivity = load_study("sensitivity")
ALL = frozenset({"container", "vm", "microvm", "traffic"})


def test_each_default_is_scaled_where_the_config_has_it() -> None:
    by_name = {default.name: default for default in sensitivity.DEFAULTS}
    assert by_name["extraction"].overrides(0.5, ALL) == ("cluster.engine.extraction=75MB/s",)
    assert by_name["vm_boot"].overrides(2.0, ALL) == (
        "platform.vm.boot={dist: lognormal, median: 26s, sigma: 0.6}",
        "platform.microvm.boot={dist: lognormal, median: 0.12s, sigma: 0.32}",
    )
    # A VM on its own instance: the provision is the EC2 launch.
    assert by_name["vm_provision"].overrides(2.0, frozenset({"vm", "vm-instance"})) == (
        "platform.vm.provision={dist: lognormal, median: 29s, sigma: 0.55}",
    )
    assert by_name["registry_bandwidth"].overrides(0.5, ALL) == (
        "registry.hub.bandwidth=0.5Gbps",
        "registry.mirror.bandwidth=5Gbps",
        "registry.ecr.bandwidth=2.5Gbps",
    )
    # Without requests to serve, the request CPU does not apply.
    assert by_name["request_cpu"].overrides(2.0, frozenset({"container"})) == ()


def test_a_point_of_one_platform_takes_no_other_platforms_settings() -> None:
    point = Point("web vm", (), {"platforms": ("vm",)})
    extra = ("platform.vm.boot=1s", "platform.container.runtime_start=1s", "horizon=1h")
    assert sensitivity._for_point(point, extra) == ("platform.vm.boot=1s", "horizon=1h")
    assert sensitivity._for_point(Point("any", ()), extra) == extra


@pytest.mark.parametrize(
    ("baseline", "varied", "flipped"),
    [(1.0, (0.5, 2.0), False), (1.0, (0.5, -0.1), True), (-1.0, (-2.0, 0.0), True)],
)
def test_a_conclusion_flips_when_a_margin_changes_sign_or_vanishes(
    baseline: float, varied: tuple[float, ...], flipped: bool
) -> None:
    assert sensitivity.flips(baseline, *varied) is flipped


def test_a_small_screen_moves_the_margin_the_way_the_model_says(tmp_path: Path) -> None:
    """Cold container start-up against 10 s: slower extraction or a longer app init
    shrink the margin; defaults the scenario does not use leave it as it is."""
    cold = next(s.point for s in sensitivity.startup.SCENARIOS if s.point.label == "container cold")

    def margins(runs: object) -> dict[str, float]:
        replicas = [r for run in runs for r in run.result.replicas if r.startup_s]  # type: ignore[attr-defined]
        return {"cold/10s": 10.0 - sum(r.startup_s for r in replicas) / len(replicas)}

    experiment = sensitivity.Experiment(
        points=(cold,),
        replications=1,
        common=sensitivity.startup.COMMON,
        has=frozenset({"container"}),
        conclusions=(sensitivity.Conclusion("cold/10s", "a cold start is under 10 s", "s"),),
        margins=margins,
    )
    rows = {row["default"]: row for row in sensitivity.screen([experiment])}
    assert rows["extraction"]["at_half"] < rows["extraction"]["baseline"]
    assert rows["extraction"]["at_double"] > rows["extraction"]["baseline"]
    assert rows["app_init"]["at_double"] < rows["app_init"]["baseline"]
    for unused in ("vm_boot", "vm_provision", "request_cpu"):
        assert not rows[unused]["applies"]
        assert rows[unused]["at_half"] == rows[unused]["at_double"] == rows[unused]["baseline"]
    assert not any(row["flips"] for row in rows.values())
    paths = sensitivity.plot(list(rows.values()), tmp_path)
    assert [path.name for path in paths] == ["sensitivity_tornado.png", "sensitivity_cold_10s.png"]
    assert all(path.stat().st_size > 10_000 for path in paths)
