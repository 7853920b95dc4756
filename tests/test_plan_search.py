"""The plan's search on synthetic grids (no simulation): which points it runs, in which
batches, and what it answers, when its assumptions hold and when they do not."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.batch.plan.search import Evaluation, Point, Search, Space, Violation

Meets = Callable[[Point], bool]
Cost = Callable[[Point], float]


def search(
    space: Space, meets: Meets, cost: Cost | None = None
) -> tuple[Search, list[list[Point]]]:
    """Drive a search to its end with a function in place of runs; its batches."""
    driven = Search(space)
    batches = []
    while batch := driven.ask():
        batches.append(batch)
        driven.tell({p: Evaluation(meets(p), cost(p) if cost else None) for p in batch})
    return driven, batches


def cheapest(space: Space, meets: Meets, cost: Cost) -> Point:
    """The answer of the full grid (ties: first in grid order)."""
    grid = itertools.product(*(range(size) for size in space.sizes))
    return min((p for p in grid if meets(p)), key=cost)


WORKERS = Space(
    (16,), ("up",), objective_knob=0, objective_values=tuple(float(v) for v in range(1, 17))
)


def test_one_monotone_key_is_bisected_to_its_first_point_that_meets() -> None:
    # Values 1..16 at indices 0..15; points meet from 5 on. The bisection runs 8, 4, 6, 5;
    # the answer's neighbours (4 below, 6 above) were run, so nothing is left to verify.
    driven, batches = search(WORKERS, lambda p: p[0] >= 4)
    assert batches == [[(7,)], [(3,)], [(5,)], [(4,)]]
    assert driven.best == (4,)
    assert driven.violations == [] and driven.scanned == []


def test_a_measured_objective_bisects_the_same_way() -> None:
    space = Space((16,), ("up",))
    driven, batches = search(space, lambda p: p[0] >= 4, lambda p: float(p[0]))
    assert batches == [[(7,)], [(3,)], [(5,)], [(4,)]]
    assert driven.best == (4,)


def test_a_key_that_gives_capacity_downwards_is_bisected_from_its_end() -> None:
    # A target utilization 40..80 (indices 0..4): points meet at 60 and below, and cost
    # more the lower the target. Capacity grows from 80 down: 60 meets, 80 and 70 miss;
    # then the answer's neighbour one step up in capacity (50) is run to verify it.
    space = Space((5,), ("down",))
    driven, batches = search(space, lambda p: p[0] <= 2, lambda p: 100.0 - 10 * p[0])
    assert batches == [[(2,)], [(4,)], [(3,)], [(1,)]]
    assert driven.best == (2,)


def test_two_monotone_keys_skip_what_earlier_runs_settle() -> None:
    # A 4 x 8 grid, meeting when a + b >= 6, costing 3a + b. Line a = 0 is bisected (3,
    # 5 miss, 6 meets: cost 6); on line a = 1, b = 5 and 4 cannot cost less than (1, 3)
    # did (6), so they are not run; lines 2 and 3 run only their lowest points, whose
    # cost nothing bounds yet; the answer is verified by its neighbours up in a and in b.
    space = Space((4, 8), ("up", "up"))
    meets = lambda p: p[0] + p[1] >= 6  # noqa: E731
    cost = lambda p: 3.0 * p[0] + p[1]  # noqa: E731
    driven, batches = search(space, meets, cost)
    assert batches == [
        [(0, 3)],
        [(0, 5)],
        [(0, 6)],
        [(1, 3)],
        [(2, 1)],
        [(3, 0)],
        [(1, 6), (0, 7)],
    ]
    assert driven.best == (0, 6) == cheapest(space, meets, cost)
    assert len(driven.evaluations) == 8 < space.grid_size


def test_a_key_without_direction_makes_slices_searched_side_by_side() -> None:
    # Three unordered choices, each with its own boundary on an 8-value key: one probe of
    # each slice per batch, so a parallel launcher runs three at once.
    space = Space((3, 8), ("none", "up"))
    meets = lambda p: p[1] >= 2 + p[0]  # noqa: E731
    cost = lambda p: p[1] * (3.0 - p[0])  # noqa: E731
    driven, batches = search(space, meets, cost)
    assert batches == [
        [(0, 3), (1, 3), (2, 3)],
        [(0, 1), (1, 1), (2, 5)],
        [(0, 2), (1, 2), (2, 4)],
    ]
    assert driven.best == (2, 4) == cheapest(space, meets, cost)


def test_a_violation_seen_when_verifying_falls_back_to_a_scan() -> None:
    # Points meet at 3, at 6 and from 8 on (indices 2, 5, 7..15): not monotone. The
    # bisection stops at 6 (index 5); verifying it runs 7, which misses though it has
    # more capacity: the key is scanned, but for the points whose value (the objective)
    # cannot beat 6, and the scan finds 3.
    driven, batches = search(WORKERS, lambda p: p[0] in (2, 5) or p[0] >= 7)
    assert batches == [[(7,)], [(3,)], [(5,)], [(4,)], [(6,)], [(0,), (1,), (2,)]]
    assert driven.violations == [Violation("meets", (5,), (6,))]
    assert driven.scanned == [()]
    assert driven.best == (2,)


def test_a_violation_no_run_shows_goes_unseen() -> None:
    # Points meet at 3 and from 8 on: the bisection never runs 3, and every point it and
    # the verification run agrees with a boundary at 8. This is the documented limit.
    driven, batches = search(WORKERS, lambda p: p[0] == 2 or p[0] >= 7)
    assert batches == [[(7,)], [(3,)], [(5,)], [(6,)], [(8,)]]
    assert driven.violations == []
    assert driven.best == (7,)


def test_more_capacity_costing_less_falls_back_to_a_scan_of_every_point() -> None:
    # Index 7 meets for 1.0 while index 3, with less capacity, cost 3.0: the cost is not
    # monotone, so no bound holds and every point not run is run, in one batch.
    space = Space((16,), ("up",))
    cost = lambda p: 1.0 if p[0] == 7 else float(p[0])  # noqa: E731
    driven, batches = search(space, lambda p: p[0] >= 4, cost)
    assert batches[:2] == [[(7,)], [(3,)]]
    assert batches[2] == [(i,) for i in range(16) if i not in (3, 7)]
    assert len(batches) == 3
    assert driven.violations == [Violation("cost", (3,), (7,))]
    assert driven.best == (7,)


def test_no_point_that_meets_leaves_no_answer() -> None:
    driven, batches = search(WORKERS, lambda p: False)
    assert batches == [[(7,)], [(11,)], [(13,)], [(14,)], [(15,)]]
    assert driven.best is None


@pytest.mark.parametrize("boundary", range(17))
def test_every_boundary_of_a_monotone_key_is_found_in_at_most_five_runs(boundary: int) -> None:
    driven, batches = search(WORKERS, lambda p: p[0] >= boundary)
    assert driven.best == ((boundary,) if boundary < 16 else None)
    assert len(driven.evaluations) <= 5


def test_the_same_answers_give_the_same_batches() -> None:
    space = Space((3, 4, 5), ("none", "up", "down"))
    meets = lambda p: p[1] - p[2] >= 0  # noqa: E731
    cost = lambda p: 1.0 + p[0] + 2 * p[1] - p[2]  # noqa: E731
    first, second = search(space, meets, cost), search(space, meets, cost)
    assert first[1] == second[1]
    assert first[0].best == second[0].best == cheapest(space, meets, cost)


def test_a_space_refuses_an_objective_key_that_lowers_capacity() -> None:
    with pytest.raises(ValueError, match="objective key"):
        Space((4,), ("down",), objective_knob=0, objective_values=(1.0, 2.0, 3.0, 4.0))


def test_between_equal_objectives_the_point_with_less_capacity_is_the_answer() -> None:
    # min replicas 1..3 (up) x max 4..6 (up): every point meets and costs the same (the
    # load keeps two replicas up whatever the minimum). The first found is (1, 0); the
    # point of least capacity, (0, 0), is still run (it may win the tie) and wins it.
    space = Space((3, 3), ("up", "up"))
    searched = Search(space)
    searched.tell({(1, 0): Evaluation(True, 2.0)})
    assert searched.best == (1, 0)
    assert not searched.cannot_improve((0, 0))
    assert searched.cannot_improve((0, 1)) is False  # incomparable: bound unknown
    searched.tell({(0, 0): Evaluation(True, 2.0)})
    assert searched.best == (0, 0)
    searched.tell({(2, 0): Evaluation(True, 2.0)})
    assert searched.best == (0, 0)


def test_a_tie_across_slices_keeps_the_first_found() -> None:
    space = Space((2, 3), ("none", "up"))
    searched = Search(space)
    searched.tell({(1, 1): Evaluation(True, 2.0), (0, 0): Evaluation(True, 2.0)})
    assert searched.best == (1, 1)


@settings(max_examples=80, deadline=None)
@given(
    threshold=st.integers(0, 9),
    prices=st.tuples(st.floats(0.5, 4.0), st.floats(0.5, 4.0)),
    width=st.integers(2, 4),
)
def test_lines_side_by_side_find_the_same_answer(
    threshold: int, prices: tuple[float, float], width: int
) -> None:
    """Bisecting several lines of a slice at once (for idle workers) answers the grid's
    cheapest point that meets, as one line at a time does, never asking a point twice."""
    space = Space((4, 6), ("up", "up"))

    def meets(point: Point) -> bool:
        return point[0] + point[1] >= threshold

    def cost(point: Point) -> float:
        return prices[0] * point[0] + prices[1] * point[1]

    one, _ = search(space, meets, cost)
    side_by_side = Search(space, width=width)
    asked: list[Point] = []
    while batch := side_by_side.ask():
        assert not set(batch) & set(asked)
        asked += batch
        side_by_side.tell({p: Evaluation(meets(p), cost(p)) for p in batch})
    if one.best is None:
        assert side_by_side.best is None
        return
    assert side_by_side.best is not None
    assert cost(side_by_side.best) == cost(one.best) == cost(cheapest(space, meets, cost))


def test_a_second_line_starts_only_to_fill_a_batch() -> None:
    space = Space((4, 6), ("up", "up"))
    assert Search(space, width=2).ask() == [(0, 2), (1, 2)]
    sliced = Space((3, 4, 6), ("none", "up", "up"))
    assert Search(sliced, width=2).ask() == [(0, 0, 2), (1, 0, 2), (2, 0, 2)]
