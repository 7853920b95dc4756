"""Running a study: several configurations, each with several seeds, into one table.

An experiment script names its configuration points (a label and the overrides that
make it), the number of replications and the metrics it reports; `run_study` runs
every point with seeds derived from the root seed (replication 0 uses the seed itself,
as a sweep does), keeps each run's `Result` for figures, and `study_table` turns the
summaries into one row per point with each metric's mean and 95 % interval (columns
``<metric>``, ``<metric>_low``, ``<metric>_high``).

Every metric says what values it can take, so its interval cannot leave them: a
`Measure` carries its `Bounds` (`summary_metric` reads them from the summary's
documentation, `sim.output.summary.key_bounds`), and `sim.core.intervals.mean_interval`
picks Student's t only for an unbounded metric and the bootstrap otherwise, resampled
from a stream named after the point and the metric. A share of counts pooled over the
runs, where each count is an independent trial (replicas that failed, of replicas asked
for), is a `Proportion`, with Wilson's interval; requests dropped in bursts are not such
trials, and their share is a `Measure` over the seeds. Claims about two points are
decided seed by seed in `sim.batch.claims`; figures are written by
`sim.batch.study_figures`. On a terminal a bar shows the runs done.
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sim.api import load_config, to_plain
from sim.config import scenario_params
from sim.core.files import write_atomic
from sim.core.intervals import SHARE, Bounds, Interval, mean_interval, wilson_interval
from sim.core.streams import RandomStreams
from sim.output.report import RunsBar, output_console
from sim.output.results import Result, rows_csv
from sim.output.summary import key_bounds
from sim.output.tables import TextTable
from sim.output.terminal import print_table as print_fitted
from sim.scenario import run_scenario


@dataclass(frozen=True)
class Point:
    """One configuration of a study: a label for tables and figures, and its overrides."""

    label: str
    overrides: tuple[str, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Measure:
    """A metric of one run (None where the run has no value) and the values it can
    take, which bound its interval."""

    read: Callable[[Result], float | None]
    bounds: Bounds

    def __call__(self, result: Result) -> float | None:
        return self.read(result)


@dataclass(frozen=True)
class Proportion:
    """A metric that is a share of counts, `successes / trials` of each run.

    A study table pools the counts over a point's runs and gives the share with its
    Wilson 95 % interval, not the mean of the runs' shares. Wilson treats every trial as
    independent, so it suits trials that are (replicas that failed of replicas
    requested); requests dropped in bursts are better a `Measure` over seeds.
    """

    successes: Callable[[Result], float]
    trials: Callable[[Result], float]

    @property
    def bounds(self) -> Bounds:
        return SHARE

    def __call__(self, result: Result) -> float | None:
        """The share in one run (None without trials)."""
        trials = self.trials(result)
        return self.successes(result) / trials if trials else None


Metric = Measure | Proportion


@dataclass
class StudyRun:
    """One run of a point."""

    point: Point
    replication: int
    result: Result


def run_study(
    points: Sequence[Point],
    replications: int,
    common: Sequence[str] = (),
    adjust: Callable[[dict[str, Any]], None] | None = None,
    progress: bool | None = None,
    compose: Callable[[Sequence[str]], dict[str, Any]] | None = None,
) -> list[StudyRun]:
    """Run every point `replications` times (seeds derived per replication).

    Args:
        points: the configurations.
        replications: runs per point (at least 2 for a confidence interval).
        common: overrides every point shares (applied before the point's own).
        adjust: edits the composed plain config in place before validation, for what
            overrides cannot say easily (a generated image catalog).
        progress: show a bar of runs done; None: only on a terminal.
        compose: the plain config of a run's overrides (default: composed with Hydra
            each time); a caller that runs the same points many times passes
            `cached_compose()`, which composes each list of overrides once.
    """
    show = sys.stderr.isatty() if progress is None else progress
    bar = RunsBar(len(points) * replications) if show else None
    runs = []
    try:
        for point in points:
            for replication in range(replications):
                overrides = [
                    *common,
                    *point.overrides,
                    f"replications={replications}",
                    f"replication={replication}",
                ]
                config = (
                    compose(overrides) if compose is not None else to_plain(load_config(overrides))
                )
                if adjust is not None:
                    adjust(config)
                result = run_scenario(scenario_params(config))
                runs.append(StudyRun(point, replication, result))
                if bar is not None:
                    bar.advance()
    finally:
        if bar is not None:
            bar.close()
    return runs


def cached_compose() -> Callable[[Sequence[str]], dict[str, Any]]:
    """A `run_study` composer that composes each list of overrides once and hands out
    a deep copy every time (an ``adjust`` may edit it); composing takes most of a short
    run's time."""
    cache: dict[tuple[str, ...], dict[str, Any]] = {}

    def compose(overrides: Sequence[str]) -> dict[str, Any]:
        key = tuple(overrides)
        if key not in cache:
            cache[key] = to_plain(load_config(list(overrides)))
        return copy.deepcopy(cache[key])

    return compose


def study_table(
    runs: Sequence[StudyRun], metrics: Mapping[str, Metric], seed: int = 0
) -> list[dict[str, Any]]:
    """One row per point: its label, the number of runs, and for each metric its mean
    (or a `Proportion`'s pooled share) with its 95 % interval (columns ``<metric>``,
    ``<metric>_low``, ``<metric>_high``; NaN ends for a single run). A bootstrap
    interval resamples from the stream ``study/<point>/<metric>`` of `seed`.

    Raises:
        TypeError: a metric that is neither a `Measure` nor a `Proportion` (its range,
            and so its interval, would be unknown).
    """
    for name, metric in metrics.items():
        if not isinstance(metric, Measure | Proportion):
            raise TypeError(f"metric {name}: say its range: Measure(read, bounds)")
    streams = RandomStreams(seed)
    table = []
    for label, members in by_point(runs).items():
        row: dict[str, Any] = {"point": label, **members[0].point.extra, "runs": len(members)}
        for name, metric in metrics.items():
            if isinstance(metric, Proportion):
                successes = sum(metric.successes(run.result) for run in members)
                trials = sum(metric.trials(run.result) for run in members)
                row[name] = successes / trials if trials else math.nan
                row[f"{name}_low"], row[f"{name}_high"] = wilson_interval(successes, trials)
                continue
            values = [v for v in (metric(run.result) for run in members) if v is not None]
            interval = (
                mean_interval(values, metric.bounds, streams.generator(f"study/{label}/{name}"))
                if values
                else Interval(math.nan, math.nan, math.nan, "none")
            )
            row[name] = interval.estimate
            row[f"{name}_low"], row[f"{name}_high"] = interval.low, interval.high
        table.append(row)
    return table


def by_point(runs: Sequence[StudyRun]) -> dict[str, list[StudyRun]]:
    """The runs of each point, by label, in the order the points first ran."""
    points: dict[str, list[StudyRun]] = {}
    for run in runs:
        points.setdefault(run.point.label, []).append(run)
    return points


def summary_metric(key: str) -> Measure:
    """A metric read from the run's summary, with the range its documentation gives.

    Raises:
        KeyError: no run's summary has such a key.
    """
    return Measure(lambda result: cast(float | None, result.summary.get(key)), key_bounds(key))


def write_table(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Write a study table as CSV (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, rows_csv(list(rows)))


def print_table(rows: Sequence[Mapping[str, Any]], title: str, columns: Sequence[str]) -> None:
    """Print chosen columns of a study table as ``value [low, high]``, fitted to the
    terminal's width."""
    cells = []
    for row in rows:
        line = [str(row["point"])]
        for column in columns:
            value = row[column]
            low, high = row.get(f"{column}_low"), row.get(f"{column}_high")
            if isinstance(value, float) and low is not None and not math.isnan(low):
                line.append(f"{value:.4g} [{low:.3g}, {high:.3g}]")
            else:
                line.append(f"{value:.4g}" if isinstance(value, float) else str(value))
        cells.append(tuple(line))
    table = TextTable(title, ("point", *columns), tuple(cells), (False, *(True,) * len(columns)))
    print_fitted(output_console(), table)
