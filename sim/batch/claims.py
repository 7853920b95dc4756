"""Claims about two points of a study, decided against seed noise.

A study's points that run with the same seeds share their draws seed by seed (common
random numbers: the same arrivals, the same init times), so the difference between two
points in one seed carries less noise than either point. `compare` takes that paired
difference (or ratio) over the seeds, its 95 % interval (`sim.core.intervals`), and
says whether a claim — the quantity is above a line, or below it — *holds* (the whole
interval on the claimed side), *flips* (wholly on the other) or is a *tie* (the seeds
cannot tell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.batch.study import Measure, StudyRun, by_point
from sim.core.intervals import Interval, Verdict, paired_interval, ratio_interval, verdict
from sim.core.streams import RandomStreams


@dataclass(frozen=True)
class Comparison:
    """A claim about two points, decided against seed noise: the paired 95 % interval
    of their difference (or ratio) over the seeds both ran, and its verdict."""

    interval: Interval
    verdict: Verdict
    seeds: int


def compare(
    runs: Sequence[StudyRun],
    first: str,
    second: str,
    metric: Measure,
    line: float = 0.0,
    above: bool = True,
    ratio: bool = False,
    seed: int = 0,
    second_metric: Measure | None = None,
) -> Comparison:
    """Whether `metric` at point `first` minus its value at `second` (or their ratio,
    against a `line` of 1) is above `line` (`above`) or below it, seed by seed: the runs
    of both points with the same replication share their seed (common random numbers),
    so their difference carries less noise than either. Replications where either run
    has no value are left out. `second_metric` reads the second point's runs where it
    measures otherwise (another wave of replicas); by default `metric` reads both.

    Raises:
        ValueError: no replication has a value at both points.
    """
    points = by_point(runs)
    reading = second_metric or metric
    second_by = {run.replication: reading(run.result) for run in points[second]}
    a: list[float] = []
    b: list[float] = []
    for run in points[first]:
        value, other = metric(run.result), second_by.get(run.replication)
        if value is not None and other is not None:
            a.append(value)
            b.append(other)
    if not a:
        raise ValueError(f"compare: no seed has {first!r} and {second!r} both")
    rng = RandomStreams(seed).generator(f"study/compare/{first}/{second}")
    interval = ratio_interval(a, b, rng) if ratio else paired_interval(a, b, metric.bounds, rng)
    return Comparison(interval, verdict(interval, line, above), len(a))
