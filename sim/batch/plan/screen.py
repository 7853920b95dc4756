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
   fluid ones (a point run in both is taken at its request-mode result; the fluid mode,
   read within the margin as in the screen, answers the points it asks that the request
   mode has not run, running them in the fluid mode when the screen did not; a point
   run only in the fluid mode reads as the request-mode results of its slice imply when
   they do, so a fluid reading is never set against a request-mode one as a broken
   assumption). Its best point is the *candidate*: the cheapest that may meet the
   objectives. An unconfirmed candidate is run in the request mode with `ALTERNATES`
   next candidates beside it (the replay's best were it to miss), so a second worker
   runs what is most likely needed next. A point whose two results disagree on meeting
   the objectives is thereby re-searched in the request mode: the replayed search takes
   its request-mode result and goes on from it to the next candidate.
3. A candidate that met in the request mode is verified: its neighbours one step down
   in capacity on each monotone key (unless their objective cannot beat it), the
   frontier points below it (for each objective's metric, the cheaper points no cheaper
   point beats, in the screen's results: those the answer rests on) and its neighbours
   one step up (they must meet, as the search's own verification asks) run in the
   request mode, in one batch; the plan ends when the replay changes nothing. When
   nothing meets, the point of most capacity of each slice is confirmed (under the
   monotone assumption, a slice whose most capacity misses has no answer).

The last candidate is then the cheapest request-mode result that meets the objectives,
with its neighbours and the frontier below it run in the request mode. A cheaper point
is left to its fluid result only when that misses an objective by more than the margin
(or when a point with more capacity does), and a slice the fluid mode prices above the
answer (its bills are within 2 % of the request mode's) is not run in the request mode.
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
"""How far (relative) the fluid may be from the request mode on an objective's metric:
its latency percentiles are within 10 % of the request mode's in its validation table.
A fluid result that meets a bound widened by this much counts as meeting it."""

SCREEN_WIDTH = 2
"""The batch size the screen fills, starting a slice's next line beside the one under
way while a batch is smaller: its runs are cheap, its rounds are not, and once the other
slices are settled one line at a time leaves a worker of two idle."""

ALTERNATES = 1
"""Candidates confirmed beside an unconfirmed one: the next the replay would take were
it to miss (a second worker's run most likely to be needed next). Fixed, not read from
the launcher, so a plan runs the same points whatever runs it."""

FLUID_COST_TOLERANCE = 0.02
"""How much a point with more capacity may cost less than one with less, in the fluid
mode, before the search's cost assumption counts as violated: the fluid's bills are
within 2 % of the request mode's in its validation table, so a smaller dip is noise (a
second replica that fits on the first host, say), not a reason to scan a slice."""


@dataclass(frozen=True)
class Judged:
    """What the runs of a point at one fidelity gave."""

    record: PointRecord
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
        self._screen = Search(self.space, FLUID_COST_TOLERANCE, SCREEN_WIDTH)

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

    def replay(self, missed: Sequence[Point] = ()) -> tuple[Search, list[Point]]:
        """The search replayed over what is known, and the points it asks that neither
        fidelity has run (empty when it ran to its end); with `missed`, as if those
        points had missed in the request mode (violations then go unrecorded)."""
        measured = {point: result.evaluation for point, result in self.requests.items()}
        known = self._known()
        measured.update({p: Evaluation(False, known[p].record.objective) for p in missed})
        truth = Search(self.space)
        truth.tell(measured)
        search = Search(self.space, FLUID_COST_TOLERANCE)
        search.tell(measured)
        while batch := search.ask():
            unknown = [p for p in batch if p not in self.requests and p not in self.fluid]
            if unknown:
                return search, unknown
            search.tell({p: self._screened(p, truth) for p in batch if p not in measured})
        if not missed:
            self._note(search)
        return search, []

    def _screened(self, point: Point, truth: Search) -> Evaluation:
        """A point run only in the fluid mode, as the replay reads it: meeting as the
        request-mode results in its slice imply by (M) when they do (a miss above it, a
        meet below), else as the fluid meets within the margin. A fluid reading is never
        set against a request-mode result, so their disagreement near a bound is not
        taken for a broken assumption (which would scan the slice)."""
        implied = truth.implied(point)
        screening = self.fluid[point].screening_evaluation
        return screening if implied is None else Evaluation(implied, screening.objective)

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
        if candidate not in self.requests:
            return self._to_confirm(self._alternates(candidate))
        down, up = search.neighbours(candidate)
        displacing = [p for p in down if not search.cannot_improve(p)]
        displacing += self._rested_on(candidate)
        return self._to_confirm([*displacing, *up])

    def _alternates(self, candidate: Point) -> list[Point]:
        """The candidate and the `ALTERNATES` next ones, each the replay's best were the
        ones before it to miss in the request mode (as far as the screen's results take
        the replay: a guess, run only to keep a worker busy)."""
        chosen = [candidate]
        for _ in range(ALTERNATES):
            following = self.replay(chosen)[0].best
            if following is None or following in self.requests or following in chosen:
                break
            chosen.append(following)
        return chosen

    def _rested_on(self, candidate: Point) -> list[Point]:
        """The points the candidate rests on: the frontier below it (for each
        objective's metric, the cheaper points no cheaper point beats), drawn from the
        screen's results where there are any. One fidelity throughout, so confirming a
        frontier point does not change the frontier: a point whose request-mode bill is a
        little above its fluid one does not let the next fluid point in (points alike in
        the fluid, such as maxima never reached, would be confirmed one after another)."""
        screen = {**self.requests, **self.fluid}
        objective = screen[candidate].record.objective
        if objective is None:
            return []
        cheaper = [
            result.record
            for result in screen.values()
            if result.record.objective is not None and result.record.objective < objective
        ]
        points: list[Point] = []
        for index, slo in enumerate(self.slos):
            points += [record.point for record in frontier(cheaper, index, slo.comparison == "<=")]
        return points

    def _to_confirm(self, points: Sequence[Point]) -> list[tuple[Point, Fidelity]]:
        """The points not run in the request mode yet, each once, in order."""
        chosen: list[Point] = []
        for point in points:
            if point not in self.requests and point not in chosen:
                chosen.append(point)
        return [(point, "requests") for point in chosen]
