"""Running a study: several configurations, each with several seeds, into one table.

An experiment script names its configuration points (a label and the overrides that
make it), the number of replications and the metrics it reports; `run_study` runs
every point with seeds derived from the root seed (replication 0 uses the seed itself,
as a sweep does), keeps each run's `Result` for figures, and `study_table` turns the
summaries into one row per point with the mean and the 95 % confidence half width of
each metric. A metric that is a share of counts (requests dropped of requests, layers
found of layers needed) is a `Proportion`: its counts are pooled over the runs and its
interval is Wilson's, which stays within [0, 1] where mean ± half width would not. On a
terminal a bar shows the runs done.
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
from sim.core.intervals import mean_ci, wilson_interval
from sim.output.report import RunsBar, output_console
from sim.output.results import Result, rows_csv
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
class Proportion:
    """A metric that is a share of counts, `successes / trials` of each run.

    A study table pools the counts over a point's runs and gives the share with its
    Wilson 95 % interval (columns ``<metric>``, ``<metric>_low``, ``<metric>_high``), not
    the mean of the runs' shares with a half width that may leave [0, 1].
    """

    successes: Callable[[Result], float]
    trials: Callable[[Result], float]

    def __call__(self, result: Result) -> float | None:
        """The share in one run (None without trials)."""
        trials = self.trials(result)
        return self.successes(result) / trials if trials else None


Metric = Callable[[Result], float | None] | Proportion


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


def study_table(runs: Sequence[StudyRun], metrics: Mapping[str, Metric]) -> list[dict[str, Any]]:
    """One row per point: its label, the number of runs, and for each metric its mean
    and 95 % half width (columns ``<metric>`` and ``<metric>_ci95``), or for a
    `Proportion` the pooled share and its Wilson interval (``<metric>``,
    ``<metric>_low``, ``<metric>_high``)."""
    points: dict[str, list[StudyRun]] = {}
    for run in runs:
        points.setdefault(run.point.label, []).append(run)
    table = []
    for label, members in points.items():
        row: dict[str, Any] = {"point": label, **members[0].point.extra, "runs": len(members)}
        for name, metric in metrics.items():
            if isinstance(metric, Proportion):
                successes = sum(metric.successes(run.result) for run in members)
                trials = sum(metric.trials(run.result) for run in members)
                row[name] = successes / trials if trials else math.nan
                row[f"{name}_low"], row[f"{name}_high"] = wilson_interval(successes, trials)
                continue
            values = [v for v in (metric(run.result) for run in members) if v is not None]
            mean, half = mean_ci(values) if values else (math.nan, math.nan)
            row[name] = mean
            row[f"{name}_ci95"] = half
        table.append(row)
    return table


def error_bars(rows: Sequence[Mapping[str, Any]], column: str) -> tuple[list[float], list[float]]:
    """The lengths below and above each row's value of its 95 % interval, for
    matplotlib's ``yerr``: the Wilson bounds of a proportion, else the half width
    (0 where there is none, as for a single run)."""
    below, above = [], []
    for row in rows:
        if f"{column}_low" in row:
            low, high = row[f"{column}_low"], row[f"{column}_high"]
            below.append(0.0 if math.isnan(low) else row[column] - low)
            above.append(0.0 if math.isnan(high) else high - row[column])
        else:
            half = row.get(f"{column}_ci95")
            half = 0.0 if half is None or math.isnan(half) else half
            below.append(half)
            above.append(half)
    return below, above


def summary_metric(key: str) -> Callable[[Result], float | None]:
    """A metric read from the run's summary."""
    return lambda result: cast(float | None, result.summary.get(key))


def write_table(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Write a study table as CSV (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, rows_csv(list(rows)))


def print_table(rows: Sequence[Mapping[str, Any]], title: str, columns: Sequence[str]) -> None:
    """Print chosen columns of a study table as mean ± half width, or a proportion
    with its interval as ``share [low, high]``, fitted to the terminal's width."""
    cells = []
    for row in rows:
        line = [str(row["point"])]
        for column in columns:
            mean, half = row[column], row.get(f"{column}_ci95")
            if f"{column}_low" in row:
                line.append(f"{mean:.4g} [{row[f'{column}_low']:.2g}, {row[f'{column}_high']:.2g}]")
            elif isinstance(mean, float) and half is not None and not math.isnan(half):
                line.append(f"{mean:.4g} ± {half:.2g}")
            else:
                line.append(f"{mean:.4g}" if isinstance(mean, float) else str(mean))
        cells.append(tuple(line))
    table = TextTable(title, ("point", *columns), tuple(cells), (False, *(True,) * len(columns)))
    print_fitted(output_console(), table)
