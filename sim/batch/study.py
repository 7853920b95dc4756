"""Running a study: several configurations, each with several seeds, into one table.

An experiment script names its configuration points (a label and the overrides that
make it), the number of replications and the metrics it reports; `run_study` runs
every point with seeds derived from the root seed (replication 0 uses the seed itself,
as a sweep does), keeps each run's `Result` for figures, and `study_table` turns the
summaries into one row per point with the mean and the 95 % confidence half width of
each metric. On a terminal a bar shows the runs done.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.api import load_config, to_plain
from sim.config import scenario_params
from sim.core.files import write_atomic
from sim.core.intervals import mean_ci
from sim.output.report import RunsBar, output_console
from sim.output.results import Result, rows_csv
from sim.scenario import run_scenario


@dataclass(frozen=True)
class Point:
    """One configuration of a study: a label for tables and figures, and its overrides."""

    label: str
    overrides: tuple[str, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)


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
) -> list[StudyRun]:
    """Run every point `replications` times (seeds derived per replication).

    Args:
        points: the configurations.
        replications: runs per point (at least 2 for a confidence interval).
        common: overrides every point shares (applied before the point's own).
        adjust: edits the composed plain config in place before validation, for what
            overrides cannot say easily (a generated image catalog).
        progress: show a bar of runs done; None: only on a terminal.
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
                config = to_plain(load_config(overrides))
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


def study_table(
    runs: Sequence[StudyRun], metrics: Mapping[str, Callable[[Result], float | None]]
) -> list[dict[str, Any]]:
    """One row per point: its label, the number of runs, and for each metric its mean
    and 95 % half width (columns ``<metric>`` and ``<metric>_ci95``)."""
    points: dict[str, list[StudyRun]] = {}
    for run in runs:
        points.setdefault(run.point.label, []).append(run)
    table = []
    for label, members in points.items():
        row: dict[str, Any] = {"point": label, **members[0].point.extra, "runs": len(members)}
        for name, metric in metrics.items():
            values = [v for v in (metric(run.result) for run in members) if v is not None]
            mean, half = mean_ci(values) if values else (math.nan, math.nan)
            row[name] = mean
            row[f"{name}_ci95"] = half
        table.append(row)
    return table


def summary_metric(key: str) -> Callable[[Result], float | None]:
    """A metric read from the run's summary."""
    return lambda result: result.summary.get(key)


def write_table(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Write a study table as CSV (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, rows_csv(list(rows)))


def print_table(rows: Sequence[Mapping[str, Any]], title: str, columns: Sequence[str]) -> None:
    """Print chosen columns of a study table as mean ± half width."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("point")
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        cells = []
        for column in columns:
            mean, half = row[column], row.get(f"{column}_ci95")
            if isinstance(mean, float) and half is not None and not math.isnan(half):
                cells.append(f"{mean:.4g} ± {half:.2g}")
            else:
                cells.append(f"{mean:.4g}" if isinstance(mean, float) else str(mean))
        table.add_row(str(row["point"]), *cells)
    output_console().print(table)
