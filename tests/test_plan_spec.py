"""Reading a plan's keys: every form ``plan.vary``, ``plan.slo``, ``plan.minimize``,
``plan.replications`` and ``plan.monotone`` take, and the one-line error of each
mistake."""

from __future__ import annotations

import pytest

from sim.batch.plan.spec import Knob, Slo, plan_spec, split_items
from sim.core.errors import ConfigError

METRICS = ("latency_s_p95", "requests_dropped", "cost_usd", "drop_ratio", "wait_s_mean")


def knobs(*vary: str, monotone: tuple[str, ...] = ()) -> tuple[Knob, ...]:
    return plan_spec(list(vary), ["latency_s_p95<=0.3"], monotone=monotone).knobs


def test_items_are_a_list_or_one_item_with_quotes_and_brackets_kept_whole() -> None:
    assert split_items("vary", "[a=1:4, b=x,y]") == ["a=1:4", "b=x", "y"]
    assert split_items("vary", "a=1:4") == ["a=1:4"]
    assert split_items("vary", "['a=1,2', \"b=3\"]") == ["a=1,2", "b=3"]
    assert split_items("vary", "[p=[container,vm], q={dist: exponential, mean: 1s}]") == [
        "p=[container,vm]",
        "q={dist: exponential, mean: 1s}",
    ]
    assert split_items("vary", "[]") == []


def test_a_whole_number_range_steps_by_one_or_its_step() -> None:
    (workers,) = knobs("workload.service.workers=1:4")
    assert workers == Knob(
        "workload.service.workers",
        ("1", "2", "3", "4"),
        (1.0, 2.0, 3.0, 4.0),
        "up",
        "workload.service.workers=1:4",
        is_range=True,
    )
    (maximum,) = knobs("autoscaler.max_capacity=2:10:3")
    assert maximum.values == ("2", "5", "8")


def test_a_decimal_range_is_counted_in_decimal() -> None:
    (target,) = knobs("autoscaler.target_value=0.1:0.3:0.1")
    assert target.values == ("0.1", "0.2", "0.3")
    assert target.numbers == (0.1, 0.2, 0.3)
    (scale,) = knobs("x.y=1.5:2.5:0.5")
    assert scale.values == ("1.5", "2", "2.5")


def test_choices_keep_their_order_and_the_items_that_continue_them() -> None:
    instance, workers = knobs(
        "cluster.scaler.instance_type=t3.medium", "m5.large", "workload.service.workers=1,2,4"
    )
    assert instance.values == ("t3.medium", "m5.large")
    assert instance.numbers is None and instance.direction == "none" and not instance.is_range
    assert instance.source == "cluster.scaler.instance_type=t3.medium,m5.large"
    assert workers.values == ("1", "2", "4") and workers.numbers == (1.0, 2.0, 4.0)
    (added,) = knobs("+workload.extra=a")
    assert added.key == "+workload.extra" and added.name == "workload.extra"
    assert added.override(0) == "+workload.extra=a"


def test_directions_default_to_up_for_ranges_and_can_be_stated() -> None:
    target, instance = knobs(
        "autoscaler.target_value=40:80:10",
        "cluster.scaler.instance_type=t3.medium,m5.large",
        monotone=("autoscaler.target_value=down", "cluster.scaler.instance_type=up"),
    )
    assert (target.direction, instance.direction) == ("down", "up")


def test_objectives_read_both_comparisons() -> None:
    spec = plan_spec(["w=1:2"], ["latency_s_p95<=0.3", "requests_dropped >= 1e-3"], metrics=METRICS)
    assert spec.slos == (Slo("latency_s_p95", "<=", 0.3), Slo("requests_dropped", ">=", 0.001))
    assert [slo.text for slo in spec.slos] == ["latency_s_p95<=0.3", "requests_dropped>=0.001"]
    assert Slo("m", "<=", 0.3).met_by(0.3) and not Slo("m", "<=", 0.3).met_by(None)
    assert Slo("m", ">=", 2.0).met_by(2.5) and not Slo("m", ">=", 2.0).met_by(1.0)


def test_the_objective_is_a_metric_or_a_numeric_varied_key() -> None:
    spec = plan_spec(["w=1:4"], ["wait_s_mean<=0.025"], minimize="w", metrics=METRICS)
    assert spec.objective_knob == 0 and spec.metrics() == ["wait_s_mean"]
    spec = plan_spec(["w=1:4"], ["latency_s_p95<=0.3"], metrics=METRICS)
    assert spec.minimize == "cost_usd" and spec.objective_knob is None
    assert spec.metrics() == ["latency_s_p95", "cost_usd"]


def test_settings_read_back_into_the_same_plan() -> None:
    spec = plan_spec(
        ["a=1:3", "b=x", "y", "c=0.5:1:0.25"],
        ["latency_s_p95<=0.3"],
        replications="2",
        monotone=["c=down"],
    )
    settings = spec.settings()
    assert settings["monotone"] == ["a=up", "b=none", "c=down"]
    again = plan_spec(**settings)
    assert again == spec and spec.grid_size == 3 * 2 * 3


@pytest.mark.parametrize(
    ("vary", "slo", "minimize", "replications", "monotone", "line"),
    [
        ([], ["cost_usd<=1"], "cost_usd", 1, [], "plan.vary: (none): at least one item"),
        (["workers"], ["cost_usd<=1"], "cost_usd", 1, [], "plan.vary[0]: workers: key=low"),
        (["w=4:1"], ["cost_usd<=1"], "cost_usd", 1, [], "plan.vary[0]: w=4:1: key=low"),
        (["w=1:4:0"], ["cost_usd<=1"], "cost_usd", 1, [], "plan.vary[0]: w=1:4:0: key=low"),
        (["w=0.1:0.5"], ["cost_usd<=1"], "cost_usd", 1, [], "plan.vary[0]: w=0.1:0.5: key="),
        (["w=1:x"], ["cost_usd<=1"], "cost_usd", 1, [], "plan.vary[0]: w=1:x: key=low"),
        (["w=1:1000000"], ["cost_usd<=1"], "cost_usd", 1, [], "(at most 10000 values)"),
        (["w=1:2", "w=3:4"], ["cost_usd<=1"], "cost_usd", 1, [], "plan.vary[1]: w=3:4: "),
        (["w=a,,b"], ["cost_usd<=1"], "cost_usd", 1, [], "plan.vary[0]: w=a,,b: key=low"),
        (["w=1:2"], [], "cost_usd", 1, [], "plan.slo: (none): at least one item"),
        (["w=1:2"], ["latency<=x"], "cost_usd", 1, [], "plan.slo[0]: latency<=x: <metric><="),
        (["w=1:2"], ["cost_usd<=1", "latency<=1"], "cost_usd", 1, [], "plan.slo[1]: latency<=1"),
        (["w=1:2"], ["cost_usd<1"], "cost_usd", 1, [], "plan.slo[0]: cost_usd<1: <metric><="),
        (["w=1:2"], ["cost_usd<=inf"], "cost_usd", 1, [], "plan.slo[0]: cost_usd<=inf: "),
        (["w=1:2"], ["cost_usd<=1"], "latency", 1, [], "plan.minimize: latency: a metric or"),
        (["w=a,b"], ["cost_usd<=1"], "w", 1, [], "plan.minimize: w: a varied key with num"),
        (["w=1:2"], ["cost_usd<=1"], "w", 1, ["w=down"], "plan.minimize: w: a varied key"),
        (["w=1:2"], ["cost_usd<=1"], "cost_usd", 0, [], "plan.replications: 0: a whole num"),
        (["w=1:2"], ["cost_usd<=1"], "cost_usd", "2.5", [], "plan.replications: 2.5: a whole"),
        (["w=1:2"], ["cost_usd<=1"], "cost_usd", 1, ["w=sideways"], "plan.monotone[0]: w=sid"),
        (["w=1:2"], ["cost_usd<=1"], "cost_usd", 1, ["v=up"], "plan.monotone[0]: v=up: key=up"),
        (["w=1:2"], ["cost_usd<=1"], "cost_usd", 1, ["w=up", "w=up"], "(each key once)"),
    ],
)
def test_each_mistake_is_one_line_naming_the_plan_key(
    vary: list[str],
    slo: list[str],
    minimize: str,
    replications: str | int,
    monotone: list[str],
    line: str,
) -> None:
    with pytest.raises(ConfigError) as raised:
        plan_spec(vary, slo, minimize, replications, monotone, metrics=METRICS)
    assert line in raised.value.line()
    assert raised.value.line().startswith("config error: plan.")
    assert "\n" not in raised.value.line()


def test_an_unknown_metric_error_lists_the_metrics() -> None:
    with pytest.raises(ConfigError) as raised:
        plan_spec(["w=1:2"], ["latency<=x"], metrics=METRICS)
    assert raised.value.line() == (
        "config error: plan.slo[0]: latency<=x: <metric><=<number> or <metric>>=<number>, "
        "metric one of latency_s_p95, requests_dropped, cost_usd, drop_ratio, wait_s_mean"
    )


def test_unbalanced_brackets_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"plan.vary: \[a=1:2: a list"):
        split_items("vary", "[a=1:2")


def test_a_run_whose_minimized_metric_is_null_does_not_meet() -> None:
    """plan.csv must not say a run meets when the answer can never be its point: a run
    that measures nothing to minimize is as good as one that misses."""
    from sim.batch.plan.table import choose, point_records, run_record

    spec = plan_spec(
        ["cluster.pools.node.count=1:2"], ["startup_s_p95<=100"], "latency_s_mean", 1, []
    )
    unranked = run_record(spec, (0,), 0, {"startup_s_p95": 5.0, "latency_s_mean": None})
    ranked = run_record(spec, (1,), 0, {"startup_s_p95": 5.0, "latency_s_mean": 0.2})
    assert (unranked.meets, ranked.meets) == (False, True)
    best = choose(spec, point_records(spec, [unranked, ranked]))
    assert best is not None and best.point == (1,)


def test_the_screen_is_fluid_unless_told_and_round_trips_through_the_settings() -> None:
    spec = plan_spec(["workload.service.workers=1:4"], ["latency_s_p95<=0.3"])
    assert spec.screen == "fluid"
    unscreened = plan_spec(["workload.service.workers=1:4"], ["latency_s_p95<=0.3"], screen="none")
    settings = unscreened.settings()
    assert settings["screen"] == "none"
    assert plan_spec(**{k: v for k, v in settings.items()}) == unscreened  # type: ignore[arg-type]
