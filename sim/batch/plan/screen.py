"""Multi-fidelity planning: screen the grid in the fluid mode, confirm in the request mode.

A request-mode run of a day costs seconds to minutes; the same day in the fluid mode a
tenth of that, agreeing within a few per cent below saturation
(`sim.model.service.fluid`). ``plan.screen=fluid`` uses the fluid mode to find where the
answer lies and the request mode to settle it, so every answer is a request-mode result:

1. **Screen.** The search (`sim.batch.plan.search`) runs as it would, every point in
   the fluid mode (one run per point, the root seed), with each bound widened by
   `SCREEN_MARGIN`: a point that meets the objectives within the fluid's accuracy
   counts as meeting them, so the screen closes in on the boundary as the request-mode
   search would instead of exploring below a boundary the fluid puts a little off.
2. **Confirm.** A search is replayed over what is known, request-mode results before
   fluid ones (a point run in both is taken at its request-mode result; the fluid mode
   answers the points it asks that the request mode has not run, running them in the
   fluid mode when the screen did not). Its best point is the *candidate*. The candidate
   is run in the request mode with what could displace it: its neighbours one step down
   in capacity on each monotone key (unless their objective cannot beat it), the
   frontier points below it (for each objective's metric, the cheaper points no cheaper
   point beats: those the answer rests on) and every cheaper point whose fluid metrics lie
   within `SCREEN_MARGIN` of a bound (the fluid's accuracy there). A point whose two
   results disagree on meeting the objectives is thereby re-searched in the request mode:
   the replayed search takes its request-mode result, and goes on from it.
3. When the candidate is a request-mode result that still stands, its neighbours one step
   up in capacity are confirmed too (they must meet, as the search's own verification
   asks); the plan ends when the replay changes nothing. When nothing meets, the point
   of most capacity of each slice is confirmed (under the monotone assumption, a slice
   whose most capacity misses has no answer).

The last candidate is then the cheapest request-mode result that meets the objectives,
with every neighbour and every cheaper point it rests on run in the request mode. Points
elsewhere in the grid are judged by their fluid results (cost within 2 % of the request
mode's in the validation table): a slice the fluid mode prices well above the answer is
not run in the request mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sim.batch.plan.search import Evaluation, Point, Search, Space, Violation
from sim.batch.plan.spec import Slo
from sim.batch.plan.table import PointRecord, frontier

Fidelity = Literal["fluid", "requests"]

SCREEN_MARGIN = 0.10
"""A fluid metric closer than this (relative) to an objective's bound is not trusted to
say on which side of it the request mode would fall: the fluid's latency percentiles are
within 10 % of the request mode's in its validation table."""


@dataclass(frozen=True)
class Judged:
    """What the runs of a point at one fidelity gave."""

    record: PointRecord
    near_bound: bool
    """Whether a metric lies within `SCREEN_MARGIN` of its objective's bound."""
    meets_within_margin: bool = False
    """Whether every run meets every objective with its bound widened by the margin."""

    @property
    def evaluation(self) -> Evaluation:
        return Evaluation(self.record.meets, self.record.objective)

    @property
    def screening_evaluation(self) -> Evaluation:
        """The evaluation the screen goes by: meeting within the margin."""
        return Evaluation(self.record.meets or self.meets_within_margin, self.record.objective)


def meets_within_margin(slos: Sequence[Slo], values: Sequence[float | None]) -> bool:
    """Whether every objective's metric meets its bound widened by `SCREEN_MARGIN`."""
    for slo, value in zip(slos, values, strict=True):
        if value is None:
            return False
        widening = SCREEN_MARGIN * (abs(slo.bound) if slo.bound else 1.0)
        if not slo.met_by(value - widening if slo.comparison == "<=" else value + widening):
            return False
    return True


def near_bound(slos: Sequence[Slo], values: Sequence[float | None]) -> bool:
    """Whether any objective's metric is within `SCREEN_MARGIN` of its bound."""
    for slo, value in zip(slos, values, strict=True):
        if value is None:
            continue
        scale = abs(slo.bound) if slo.bound else 1.0
        if abs(value - slo.bound) <= SCREEN_MARGIN * scale:
            return True
    return False


@dataclass
class ScreenedSearch:
    """The search of a plan screened in the fluid mode (see the module docstring),
    driven by ask and tell as `Search` is.

    Attributes:
        space: the grid.
        slos: the objectives (for the frontier, in their order).
    """

    space: Space
    slos: tuple[Slo, ...]
    fluid: dict[Point, Judged] = field(default_factory=dict, init=False)
    requests: dict[Point, Judged] = field(default_factory=dict, init=False)
    screening: bool = field(default=True, init=False)
    """Whether the search is still in its screen (step 1)."""
    violations: list[Violation] = field(default_factory=list, init=False)
    """Each contradiction of the monotone assumptions found, screen and replays, once."""

    def __post_init__(self) -> None:
        self._screen = Search(self.space)

    def objective(self, point: Point) -> float | None:
        """A point's objective, at its request-mode result when it has one."""
        result = self._known().get(point)
        return result.record.objective if result is not None else None

    def _note(self, search: Search) -> None:
        self.violations += [v for v in search.violations if v not in self.violations]

    def ask(self) -> list[tuple[Point, Fidelity]]:
        """The next points to run and at which fidelity; empty when the plan is over."""
        if self.screening:
            batch = self._screen.ask()
            if batch:
                return [(point, "fluid") for point in batch]
            self.screening = False
        return self._confirmation()

    def tell(self, judged: Mapping[tuple[Point, Fidelity], Judged]) -> None:
        """Record what points gave at each fidelity."""
        for (point, fidelity), result in judged.items():
            (self.fluid if fidelity == "fluid" else self.requests)[point] = result
        if self.screening:
            self._screen.tell(
                {point: result.screening_evaluation for (point, fidelity), result in judged.items()}
            )
            self._note(self._screen)

    def replay(self) -> tuple[Search, list[Point]]:
        """The search replayed over what is known, and the points it asks that neither
        fidelity has run (empty when it ran to its end)."""
        search = Search(self.space)
        search.tell({point: result.evaluation for point, result in self.requests.items()})
        while batch := search.ask():
            unknown = [p for p in batch if p not in self.requests and p not in self.fluid]
            if unknown:
                return search, unknown
            search.tell({p: self.fluid[p].evaluation for p in batch if p not in self.requests})
        self._note(search)
        return search, []

    def _known(self) -> dict[Point, Judged]:
        """Every point run, at its request-mode result when it has one."""
        return {**self.fluid, **self.requests}

    def _confirmation(self) -> list[tuple[Point, Fidelity]]:
        search, unknown = self.replay()
        if unknown:
            return [(point, "fluid") for point in unknown]
        candidate = search.best
        if candidate is None:
            return self._to_confirm(search.most_capacity())
        down, up = search.neighbours(candidate)
        displacing = [candidate, *(p for p in down if not search.cannot_improve(p))]
        displacing += self._rested_on(search, candidate)
        return self._to_confirm(displacing) or self._to_confirm(up)

    def _rested_on(self, search: Search, candidate: Point) -> list[Point]:
        """The points the candidate rests on: the frontier below it, and each fluid
        result near a bound that could hide a cheaper answer (a miss with a point at or
        below it that might cost less than the candidate; a cheaper meet is the
        candidate itself)."""
        known = self._known()
        objective = known[candidate].record.objective
        if objective is None:
            return []
        cheaper = [
            result.record
            for result in known.values()
            if result.record.objective is not None and result.record.objective < objective
        ]
        points: list[Point] = []
        for index, slo in enumerate(self.slos):
            points += [record.point for record in frontier(cheaper, index, slo.comparison == "<=")]
        points += [
            point
            for point, result in self.fluid.items()
            if point not in self.requests
            and result.near_bound
            and not result.record.meets
            and any(not search.cannot_improve(lower) for lower in search.at_or_below(point))
        ]
        return points

    def _to_confirm(self, points: Sequence[Point]) -> list[tuple[Point, Fidelity]]:
        """The points not run in the request mode yet, each once, in order."""
        chosen: list[Point] = []
        for point in points:
            if point not in self.requests and point not in chosen:
                chosen.append(point)
        return [(point, "requests") for point in chosen]
