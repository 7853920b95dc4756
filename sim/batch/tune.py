"""Tuning contenders alike: each at its cheapest settings that meet the same bound.

A fair comparison of policies (or platforms) gives each the settings a user would pick
for one objective, not its defaults. Here the objective is the capacity planner's: the
least cost among the settings whose share of requests dropped is at most a bound. For
each bound the planner's search (`sim.batch.plan.search`, the engine of ``sim-plan``)
walks the grid of settings, using how each setting moves capacity to skip runs and
scanning a slice when the runs contradict that; every point it runs is kept. Several
bounds trace the *Pareto front* of drops against cost (the epsilon-constraint method):
the points no other point run beats on both. The tuned point of a bound is the cheapest
of all points run (by any bound's search) that meet it, fewer drops breaking a tie in
cost, so it is on the front by construction; `pareto_front` lets a test check that.

A point's drop share is pooled over its seeds (dropped over arrived, as a study's
`Proportion`), and its cost is the mean over its seeds; ``sim-plan`` instead asks every
run to meet the bound. Pooling makes the tuned point the cheapest among those whose
pooled share meets the bound, which is what the front is drawn from.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sim.batch.plan.search import Direction, Evaluation, Point, Search, Space

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Setting:
    """A setting a user changes: its name, its values' labels, the overrides each value
    stands for (one or several keys), and how a later value moves capacity (``up``:
    more, ``down``: less, ``none``: no assumption)."""

    name: str
    labels: tuple[str, ...]
    overrides: tuple[tuple[str, ...], ...]
    direction: Direction

    def __post_init__(self) -> None:
        if not self.labels or len(self.labels) != len(self.overrides):
            raise ValueError(f"setting {self.name}: one list of overrides per label")


def setting(
    name: str, keys: str | Sequence[str], values: Sequence[object], direction: Direction
) -> Setting:
    """A `Setting` that sets every key in `keys` to each of `values` in turn."""
    names = (keys,) if isinstance(keys, str) else tuple(keys)
    return Setting(
        name,
        tuple(str(value) for value in values),
        tuple(tuple(f"{key}={value}" for key in names) for value in values),
        direction,
    )


@dataclass(frozen=True)
class Outcome:
    """What one point's runs gave: the share of requests dropped (pooled over its seeds)
    and its mean cost."""

    drops: float
    cost: float


def dominates(first: Outcome, second: Outcome) -> bool:
    """Whether `first` is at least as good as `second` on drops and cost, and better on
    one."""
    return (
        first.drops <= second.drops
        and first.cost <= second.cost
        and (first.drops < second.drops or first.cost < second.cost)
    )


def pareto_front(outcomes: Mapping[Key, Outcome]) -> list[Key]:
    """The keys whose outcome no other dominates, by cost and then drops (ties in the
    mapping's order)."""
    front = [
        key
        for key, outcome in outcomes.items()
        if not any(dominates(other, outcome) for other in outcomes.values())
    ]
    return sorted(front, key=lambda key: (outcomes[key].cost, outcomes[key].drops))


@dataclass
class Tuning:
    """The points run while tuning one contender, and the tuned point per bound.

    Attributes:
        settings: the grid's settings, in order.
        outcomes: every point run, in the order run.
        tuned: per drop bound, the cheapest point run that meets it, the fewer drops
            among equally cheap ones (None: none did).
        scanned: per bound, how many slices fell back to a scan (a setting did not move
            capacity as its direction said).
    """

    settings: tuple[Setting, ...]
    outcomes: dict[Point, Outcome] = field(default_factory=dict)
    tuned: dict[float, Point | None] = field(default_factory=dict)
    scanned: dict[float, int] = field(default_factory=dict)

    def overrides(self, point: Point) -> tuple[str, ...]:
        """The overrides of a point, setting by setting."""
        return tuple(
            itertools.chain.from_iterable(
                s.overrides[index] for s, index in zip(self.settings, point, strict=True)
            )
        )

    def label(self, point: Point) -> str:
        """``name=value`` of each setting, comma-separated."""
        return ", ".join(
            f"{s.name}={s.labels[index]}" for s, index in zip(self.settings, point, strict=True)
        )

    def front(self) -> list[Point]:
        """The points run that no other point run beats on drops and cost."""
        return pareto_front(self.outcomes)


def tune(
    settings: Sequence[Setting],
    evaluate: Callable[[tuple[str, ...]], Outcome],
    bounds: Sequence[float],
) -> Tuning:
    """Search the settings' grid once per drop bound, running each point at most once.

    Args:
        settings: the grid, one `Setting` per axis.
        evaluate: runs a point's overrides (over its seeds) and says what they gave.
        bounds: the drop shares to meet, one search each.
    """
    tuning = Tuning(tuple(settings))
    space = Space(tuple(len(s.labels) for s in settings), tuple(s.direction for s in settings))
    for bound in bounds:
        search = Search(space)
        while batch := search.ask():
            answers = {}
            for point in batch:
                if point not in tuning.outcomes:
                    tuning.outcomes[point] = evaluate(tuning.overrides(point))
                outcome = tuning.outcomes[point]
                answers[point] = Evaluation(outcome.drops <= bound, outcome.cost)
            search.tell(answers)
        tuning.scanned[bound] = len(search.scanned)
    for bound in bounds:
        meeting = [point for point, o in tuning.outcomes.items() if o.drops <= bound]
        tuning.tuned[bound] = min(
            meeting,
            key=lambda point: (tuning.outcomes[point].cost, tuning.outcomes[point].drops),
            default=None,
        )
    return tuning
