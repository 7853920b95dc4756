"""The cheapest point of a grid that meets every objective, found in few runs.

A plan's grid is the product of its varied keys' values; a point is one index per key.
Running a point says whether it meets the objectives and what it costs (the objective).
The search is a pure ask/tell loop: `Search.ask` gives the next batch of points to run
(independent ones together, so a parallel launcher runs them at once), `Search.tell`
takes what they gave. The same answers give the same batches in the same order, so a
plan is as deterministic as its runs.

**What it assumes.** A varied key is *monotone* (direction ``up`` or ``down``) when
moving it one value toward more capacity (``up``: the next value; ``down``: the one
before)

* (M) never turns a point that meets the objectives into one that misses them, and
* (C) never lowers the objective (more capacity does not cost less).

Keys without a direction (``none``, e.g. an instance type among unordered choices) are
not assumed anything: each of their combinations is a *slice* of the grid, searched on
its own. Within a slice, points are ordered by capacity, key by key.

**How it searches.** In each slice the monotone keys but the last are walked from the
least capacity up, and along the last key a bisection finds where points start to meet
the objectives (under (M) the first such point on a line is its cheapest, under (C)).
A point is not run when earlier runs settle it:

* a point with more capacity than one that met the objectives meets them too (M), and a
  point with less capacity than one that missed misses too;
* a point whose objective cannot be below the best found so far cannot improve the
  answer (its objective is known when it is a varied key; otherwise it is at least that
  of any point run with less capacity, by (C)), so the bisection goes on below it.

Slices are searched side by side, one probe each per batch. A one-key plan over 16
values takes 4 or 5 runs; each further monotone key multiplies the lines to bisect, and
each value of a key without direction adds a slice.

**Checking the assumptions.** Every pair of points run in a slice, one with more
capacity than the other, is checked against (M) and (C). When the search has ended, the
best point is *verified*: its neighbours one step down in capacity along each monotone
key (they must miss, or cost as much) and one step up (they must meet) are run unless
they were. Any violation, there or anywhere, makes the search fall back to a scan of
that slice: every point not run yet is run (but those whose known objective cannot beat
the best), and the best is verified again. A violation no run shows stays unseen: a
point that meets the objectives below a boundary of misses is found only by a scan,
so for a key that is not monotone, say ``none``.

**Why not Optuna.** Hydra's Optuna sweeper (a separate package, hydra-optuna-sweeper)
samples a search space to minimize one value; it does not know constraints, reads no
monotone structure, and its samplers spend tens of runs before they settle, seeded or
not. Capacity questions are monotone in most knobs, where a bisection answers exactly in
a logarithmic number of runs and can say when its assumption failed; a sampler would
add a dependency and give a less certain answer for more runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

Point = tuple[int, ...]
"""One value index per varied key, in the plan's order of keys."""

Direction = Literal["up", "down", "none"]


@dataclass(frozen=True)
class Evaluation:
    """What the runs of a point gave: whether all met the objectives, and the objective
    (None when unknown, e.g. a null metric)."""

    meets: bool
    objective: float | None


@dataclass(frozen=True)
class Space:
    """The grid searched.

    Attributes:
        sizes: how many values each varied key takes.
        directions: how each key moves capacity (``up``, ``down``, ``none``).
        objective_knob: the key whose value is the objective, or None when the objective
            is measured by the runs.
        objective_values: that key's values as numbers.
    """

    sizes: tuple[int, ...]
    directions: tuple[Direction, ...]
    objective_knob: int | None = None
    objective_values: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.sizes) != len(self.directions) or not all(s >= 1 for s in self.sizes):
            raise ValueError("one size of at least 1 and one direction per key")
        if self.objective_knob is not None:
            if len(self.objective_values) != self.sizes[self.objective_knob]:
                raise ValueError("one objective value per value of the objective key")
            if self.directions[self.objective_knob] == "down":
                raise ValueError("the objective key cannot lower capacity as it grows")

    @property
    def grid_size(self) -> int:
        total = 1
        for size in self.sizes:
            total *= size
        return total


Slice = tuple[int, ...]
"""The value indices of the keys without direction: which slice a point is in."""


@dataclass(frozen=True)
class Violation:
    """Two points run in a slice that contradict an assumption.

    Attributes:
        kind: ``meets`` (M: the point with less capacity meets, the other misses) or
            ``cost`` (C: the point with less capacity costs more).
        lower: the point with less capacity.
        higher: the point with more capacity.
    """

    kind: Literal["meets", "cost"]
    lower: Point
    higher: Point


@dataclass
class _Line:
    """One line of a slice's search: the points it waits for, and what comes next."""

    steps: Iterator[tuple[Point, ...]]
    pending: tuple[Point, ...] | None = None
    done: bool = False


@dataclass
class _Task:
    """The search of one slice: its lines still to start, and those under way."""

    slice: Slice
    lines: Iterator[Iterator[tuple[Point, ...]]]
    active: list[_Line] = field(default_factory=list)


@dataclass
class Search:
    """The search over a `Space` (see the module docstring), driven by ask and tell."""

    space: Space
    cost_tolerance: float = 0.0
    """How much (relative) a point with more capacity may cost less than one with less
    before (C) counts as violated: 0 for measured costs, the fluid's accuracy on bills
    when costs come from the fluid mode (`sim.batch.plan.screen`)."""
    width: int = 1
    """The batch size the search fills when it can: while a batch is smaller, further
    lines of a slice start beside the one under way. 1 lets each line start from
    everything the lines before it found (fewest runs); more keep a parallel launcher's
    workers busy once few slices are left, for a few more runs (the fluid screen's
    choice, where runs are cheap and rounds are not)."""
    evaluations: dict[Point, Evaluation] = field(default_factory=dict, init=False)
    """Every point run so far, in the order they were told."""
    violations: list[Violation] = field(default_factory=list, init=False)
    """Each contradiction found, in the order found (one per slice: it is then scanned)."""
    scanned: list[Slice] = field(default_factory=list, init=False)
    """The slices that fell back to a scan, in the order they did."""

    def __post_init__(self) -> None:
        directions = self.space.directions
        self._monotone = tuple(k for k, d in enumerate(directions) if d != "none")
        self._free = tuple(k for k, d in enumerate(directions) if d == "none")
        self._by_slice: dict[Slice, list[Point]] = {}
        self._best: Point | None = None
        slices = itertools.product(*(range(self.space.sizes[k]) for k in self._free))
        self._tasks = [_Task(s, self._lines(s)) for s in slices]

    @property
    def best(self) -> Point | None:
        """The point with the lowest objective among those that met the objectives, or
        None. Among equals, one with less capacity than another in its slice wins (the
        capacity it does not need), else the first found."""
        return self._best

    def objective(self, point: Point) -> float | None:
        """A point's objective: its key's value, or what its runs measured (None if not
        run or unknown)."""
        knob = self.space.objective_knob
        if knob is not None:
            return self.space.objective_values[point[knob]]
        evaluation = self.evaluations.get(point)
        return evaluation.objective if evaluation is not None else None

    def slice_of(self, point: Point) -> Slice:
        return tuple(point[k] for k in self._free)

    def ask(self) -> list[Point]:
        """The next points to run, in a fixed order; empty when the search is over."""
        batch: list[Point] = []
        for task in self._tasks:
            for line in task.active:
                self._advance(line)
            task.active = [line for line in task.active if not line.done]
            if not task.active:
                self._start_line(task)
            self._add_pending(task, batch)
        for task in self._tasks:
            while len(batch) < self.width and self._start_line(task):
                self._add_pending(task, batch)
        return batch or list(self._verification())

    def _start_line(self, task: _Task) -> bool:
        """Start the slice's next line that asks for a point; whether one did."""
        for steps in task.lines:
            line = _Line(steps)
            self._advance(line)
            if not line.done:
                task.active.append(line)
                return True
        return False

    def _add_pending(self, task: _Task, batch: list[Point]) -> None:
        for line in task.active:
            assert line.pending is not None
            batch.extend(p for p in line.pending if p not in self.evaluations and p not in batch)

    def _advance(self, line: _Line) -> None:
        """Take the line's next step once what it waits for is known."""
        while not line.done and (
            line.pending is None or all(p in self.evaluations for p in line.pending)
        ):
            line.pending = next(line.steps, None)
            line.done = line.pending is None

    def tell(self, evaluations: Mapping[Point, Evaluation]) -> None:
        """Record what points gave (in the order given), then check the assumptions."""
        fresh = [point for point in evaluations if point not in self.evaluations]
        for point in fresh:
            self.evaluations[point] = evaluations[point]
            self._by_slice.setdefault(self.slice_of(point), []).append(point)
        self._best = None
        lowest: float | None = None
        for point, evaluation in self.evaluations.items():
            value = self.objective(point)
            if not evaluation.meets or value is None:
                continue
            if lowest is None or value < lowest or (value == lowest and self._leaner(point)):
                self._best, lowest = point, value
        for point in fresh:
            self._check(point)

    def _capacity(self, point: Point, knob: int) -> int:
        index = point[knob]
        return index if self.space.directions[knob] == "up" else self.space.sizes[knob] - 1 - index

    def _with_capacity(self, point: Point, knob: int, capacity: int) -> Point:
        index = (
            capacity
            if self.space.directions[knob] == "up"
            else (self.space.sizes[knob] - 1 - capacity)
        )
        return (*point[:knob], index, *point[knob + 1 :])

    def _oriented(self, capacities: Point) -> Point:
        """A point from capacity indices on the monotone keys (value indices elsewhere)."""
        return tuple(
            self.space.sizes[k] - 1 - c if self.space.directions[k] == "down" else c
            for k, c in enumerate(capacities)
        )

    def _below(self, lower: Point, higher: Point) -> bool:
        """Whether `lower` has at most the capacity of `higher` on every monotone key
        (both in one slice)."""
        return all(self._capacity(lower, k) <= self._capacity(higher, k) for k in self._monotone)

    def _run_in_slice(self, point: Point) -> list[Point]:
        return self._by_slice.get(self.slice_of(point), [])

    def _lower_bound(self, point: Point) -> float | None:
        """The least the point's objective can be: its key's value, else the highest
        objective run at or below it in capacity (C)."""
        if self.space.objective_knob is not None:
            return self.objective(point)
        bounds = [
            value
            for other in self._run_in_slice(point)
            if self._below(other, point) and (value := self.objective(other)) is not None
        ]
        return max(bounds) if bounds else None

    def _leaner(self, point: Point) -> bool:
        """Whether `point` has less capacity than the best (in its slice, no more on any
        monotone key): at an equal objective, it is the better answer."""
        best = self._best
        return (
            best is not None
            and point != best
            and self.slice_of(point) == self.slice_of(best)
            and self._below(point, best)
        )

    def _cannot_improve(self, point: Point) -> bool:
        if self._best is None:
            return False
        best, bound = self.objective(self._best), self._lower_bound(point)
        if best is None or bound is None:
            return False
        return bound > best or (bound == best and not self._leaner(point))

    def _meets(self, point: Point) -> bool | None:
        """Whether the point meets the objectives, as run or as implied by (M); None
        when nothing says."""
        evaluation = self.evaluations.get(point)
        if evaluation is not None:
            return evaluation.meets
        for other in self._run_in_slice(point):
            met = self.evaluations[other].meets
            if met and self._below(other, point):
                return True
            if not met and self._below(point, other):
                return False
        return None

    def _lines(self, slice_: Slice) -> Iterator[Iterator[tuple[Point, ...]]]:
        """The search of a slice, line by line: along the last monotone key, for each
        combination of the others from the least capacity up, a bisection for the first
        point that meets the objectives or cannot improve the answer."""
        if not self._monotone:
            yield self._single(slice_)
            return
        *outer, _ = self._monotone
        for capacities in itertools.product(*(range(self.space.sizes[k]) for k in outer)):
            yield self._bisect(slice_, capacities)

    def _single(self, slice_: Slice) -> Iterator[tuple[Point, ...]]:
        """A slice without monotone keys: its one point, unless it cannot improve."""
        point = self._oriented(self._slice_point(slice_, ()))
        if not self._cannot_improve(point):
            yield (point,)

    def _bisect(self, slice_: Slice, capacities: tuple[int, ...]) -> Iterator[tuple[Point, ...]]:
        """One line: bisect the last monotone key, the others at `capacities`."""
        last = self._monotone[-1]
        low, high = -1, self.space.sizes[last]
        while high - low > 1:
            middle = (low + high) // 2
            point = self._oriented(self._slice_point(slice_, (*capacities, middle)))
            if self._meets(point) is None and not self._cannot_improve(point):
                yield (point,)
            if self._cannot_improve(point) or self._meets(point):
                high = middle
            else:
                low = middle

    def _slice_point(self, slice_: Slice, capacities: tuple[int, ...]) -> Point:
        """Value indices on the free keys, capacity indices on the monotone keys."""
        point = [0] * len(self.space.sizes)
        for knob, index in zip(self._free, slice_, strict=True):
            point[knob] = index
        for knob, capacity in zip(self._monotone, capacities, strict=True):
            point[knob] = capacity
        return tuple(point)

    def _scan(self, slice_: Slice) -> Iterator[tuple[Point, ...]]:
        """Every point of the slice not run yet, but those whose known objective cannot
        beat the best (an exact bound, whatever the assumptions)."""
        ranges = [
            [slice_[self._free.index(k)]] if k in self._free else range(size)
            for k, size in enumerate(self.space.sizes)
        ]
        rest = tuple(
            point
            for point in itertools.product(*ranges)
            if point not in self.evaluations
            and not (self.space.objective_knob is not None and self._cannot_improve(point))
        )
        if rest:
            yield rest

    def _check(self, point: Point) -> None:
        """Check a point just run against every point run in its slice; on the first
        violation, the slice falls back to a scan."""
        slice_ = self.slice_of(point)
        if slice_ in self.scanned:
            return
        measured = self.space.objective_knob is None
        for other in self._run_in_slice(point):
            if other == point:
                continue
            if self._below(other, point):
                lower, higher = other, point
            elif self._below(point, other):
                lower, higher = point, other
            else:
                continue
            low_cost, high_cost = self.objective(lower), self.objective(higher)
            violation: Violation | None = None
            if self.evaluations[lower].meets and not self.evaluations[higher].meets:
                violation = Violation("meets", lower, higher)
            elif (
                measured
                and low_cost is not None
                and high_cost is not None
                and low_cost > high_cost + self.cost_tolerance * abs(high_cost)
            ):
                violation = Violation("cost", lower, higher)
            if violation is not None:
                self.violations.append(violation)
                self.scanned.append(slice_)
                task = next(t for t in self._tasks if t.slice == slice_)
                task.lines, task.active = iter(()), [_Line(self._scan(slice_))]
                return

    def neighbours(self, point: Point) -> tuple[tuple[Point, ...], tuple[Point, ...]]:
        """The point's neighbours one step down and one step up in capacity along each
        monotone key, in the order of the keys (those inside the grid)."""
        down: list[Point] = []
        up: list[Point] = []
        for knob in self._monotone:
            capacity = self._capacity(point, knob)
            if capacity > 0:
                down.append(self._with_capacity(point, knob, capacity - 1))
            if capacity + 1 < self.space.sizes[knob]:
                up.append(self._with_capacity(point, knob, capacity + 1))
        return tuple(down), tuple(up)

    def implied(self, point: Point) -> bool | None:
        """Whether the point meets the objectives, as run or as a point run in its slice
        implies by (M); None when nothing run says."""
        return self._meets(point)

    def cannot_improve(self, point: Point) -> bool:
        """Whether the point's objective is known not to be below the best's."""
        return self._cannot_improve(point)

    def most_capacity(self) -> tuple[Point, ...]:
        """Each slice's point of the most capacity on every monotone key."""
        return tuple(
            self._oriented(
                self._slice_point(
                    task.slice, tuple(self.space.sizes[k] - 1 for k in self._monotone)
                )
            )
            for task in self._tasks
        )

    def _verification(self) -> tuple[Point, ...]:
        """The best point's neighbours one step down and up in capacity along each
        monotone key that are not run yet (a step down that cannot improve the answer is
        left out); empty when there is nothing to verify."""
        best = self._best
        if best is None or self.slice_of(best) in self.scanned:
            return ()
        points = []
        for knob in self._monotone:
            capacity = self._capacity(best, knob)
            for step in (-1, 1):
                if not 0 <= capacity + step < self.space.sizes[knob]:
                    continue
                neighbour = self._with_capacity(best, knob, capacity + step)
                if neighbour in self.evaluations or neighbour in points:
                    continue
                if step < 0 and self._cannot_improve(neighbour):
                    continue
                points.append(neighbour)
        return tuple(points)
