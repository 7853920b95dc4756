"""Tuning contenders alike (sim.batch.tune): the Pareto front, and the planner's search
finding the cheapest settings that meet each drop bound, each point run once."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.batch.tune import Outcome, Setting, dominates, pareto_front, setting, tune


def test_the_front_keeps_what_nothing_beats_on_both_ordered_by_cost() -> None:
    outcomes = {
        "a": Outcome(0.10, 1.0),
        "b": Outcome(0.05, 2.0),
        "c": Outcome(0.05, 3.0),  # b is as good on drops and cheaper
        "d": Outcome(0.00, 4.0),
        "e": Outcome(0.20, 1.0),  # a is as cheap with fewer drops
    }
    assert pareto_front(outcomes) == ["a", "b", "d"]
    assert dominates(outcomes["b"], outcomes["c"])
    assert not dominates(outcomes["a"], outcomes["a"])


def test_a_setting_sets_every_key_to_each_value() -> None:
    cooldown = setting("cooldown", ("a.out", "a.in"), ["60s", "300s"], "up")
    assert cooldown.labels == ("60s", "300s")
    assert cooldown.overrides == (("a.out=60s", "a.in=60s"), ("a.out=300s", "a.in=300s"))
    with pytest.raises(ValueError, match="one list of overrides per label"):
        Setting("x", ("1",), (), "up")


def _toy(target: int, replicas: int) -> Outcome:
    """More replicas and a lower target: fewer drops, more cost (monotone)."""
    capacity = replicas * (100 - target)
    return Outcome(drops=max(0.0, 0.5 - capacity / 400), cost=float(capacity))


def _toy_settings() -> list[Setting]:
    return [
        setting("target", "t", [20, 40, 60, 80], "down"),
        setting("replicas", "r", [1, 2, 3, 4, 5], "up"),
    ]


def _evaluate(runs: list[tuple[str, ...]]):  # type: ignore[no-untyped-def]
    def evaluate(overrides: tuple[str, ...]) -> Outcome:
        runs.append(overrides)
        values = dict(item.split("=") for item in overrides)
        return _toy(int(values["t"]), int(values["r"]))

    return evaluate


def test_tuning_finds_the_cheapest_point_meeting_each_bound_in_fewer_runs_than_the_grid() -> None:
    runs: list[tuple[str, ...]] = []
    tuning = tune(_toy_settings(), _evaluate(runs), bounds=(0.3, 0.1, 0.0))
    grid = {
        (t, r): _toy(target, replicas)
        for (t, target), (r, replicas) in itertools.product(
            enumerate([20, 40, 60, 80]), enumerate([1, 2, 3, 4, 5])
        )
    }
    for bound, point in tuning.tuned.items():
        meeting = [o.cost for o in grid.values() if o.drops <= bound]
        assert point is not None and grid[point].cost == min(meeting)
    assert len(runs) == len(set(runs)) == len(tuning.outcomes) < len(grid)
    assert tuning.label((1, 2)) == "target=40, replicas=3"
    assert tuning.overrides((1, 2)) == ("t=40", "r=3")
    assert set(tuning.scanned.values()) == {0}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 10)), min_size=6, max_size=6),
    st.lists(st.floats(0, 1), min_size=1, max_size=3),
)
def test_every_tuned_point_is_on_the_front_of_the_points_run(
    values: list[tuple[float, float]], bounds: list[float]
) -> None:
    """Whatever the runs give (monotone or not), a tuned point is never beaten."""
    table = dict(zip(itertools.product(range(2), range(3)), values, strict=True))

    def evaluate(overrides: tuple[str, ...]) -> Outcome:
        key = tuple(int(item.split("=")[1]) for item in overrides)
        drops, cost = table[key]  # type: ignore[index]
        return Outcome(drops, cost)

    grid = [setting("a", "a", [0, 1], "up"), setting("b", "b", [0, 1, 2], "down")]
    tuning = tune(grid, evaluate, bounds)
    front = tuning.front()
    for bound, point in tuning.tuned.items():
        if point is None:
            assert all(o.drops > bound for o in tuning.outcomes.values())
            continue
        assert tuning.outcomes[point].drops <= bound
        assert not any(dominates(o, tuning.outcomes[point]) for o in tuning.outcomes.values())
        assert any(tuning.outcomes[f] == tuning.outcomes[point] for f in front)
