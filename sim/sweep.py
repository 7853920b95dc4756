"""Tables over the runs of a sweep (``sim -m ...``).

Hydra gives each run of a sweep a numbered folder under the sweep folder, holding the
run's ``summary.json``, its ``run.json`` (how it ended) and its overrides
(``.hydra/overrides.yaml``).

* ``sweep_summary.csv``: one row per run folder, in run order: the run's number, its
  status (``complete``, ``failed`` with the error, or ``missing``: still running or
  killed), every override as a column, then every summary metric.
* ``sweep_report.csv``: one row per configuration point (the runs that differ only in
  ``replication``): how many runs, then for every numeric metric its mean and the half
  width of its 95 % confidence interval (Student's t over the replications).

Both are written when a sweep ends and rebuilt by ``sim-report <sweep folder>``.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import yaml

from sim.results import rows_csv, write_atomic
from sim.runs import run_record

NOT_SETTINGS = frozenset({"progress"})
"""Overrides that change how a run looks, not what it simulates: not table columns."""

TABLE_NAME = "sweep_summary.csv"
REPORT_NAME = "sweep_report.csv"


def _overrides(run: Path) -> dict[str, str]:
    path = run / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    pairs = (str(entry).partition("=") for entry in entries)
    return {
        key.lstrip("+~"): value for key, _, value in pairs if key.lstrip("+~") not in NOT_SETTINGS
    }


def run_folders(sweep: Path) -> list[Path]:
    """The numbered run folders of a sweep, in run order."""
    return sorted(
        (path for path in sweep.iterdir() if path.is_dir() and path.name.isdigit()),
        key=lambda path: int(path.name),
    )


def sweep_rows(sweep: Path) -> list[dict[str, Any]]:
    """One row per run: run number, status, overrides, summary metrics (same columns in
    every row; blank where a run lacks one)."""
    raw: list[tuple[dict[str, Any], dict[str, Any]]] = []
    override_keys: dict[str, None] = {}
    metric_keys: dict[str, None] = {}
    for run in run_folders(sweep):
        overrides = _overrides(run)
        record = run_record(run) or {}
        summary_path = run / "summary.json"
        status = record.get("status", "missing")
        if status == "complete" and not summary_path.is_file():
            status = "missing"
        summary = (
            json.loads(summary_path.read_text(encoding="utf-8"))
            if status == "complete" and summary_path.is_file()
            else {}
        )
        override_keys.update(dict.fromkeys(overrides))
        metric_keys.update(dict.fromkeys(summary))
        head = {"run": int(run.name), "status": status, "error": record.get("error", "")}
        raw.append((head | overrides, summary))
    columns = [
        "run",
        "status",
        "error",
        *override_keys,
        *(k for k in metric_keys if k not in override_keys),
    ]
    return [{column: (head | summary).get(column) for column in columns} for head, summary in raw]


# Two-sided 95 % quantiles of Student's t by degrees of freedom (1-30); beyond, normal.
_T_975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


def t_975(degrees_of_freedom: int) -> float:
    """The 97.5 % quantile of Student's t (the factor of a two-sided 95 % interval)."""
    if degrees_of_freedom < 1:
        return math.nan
    if degrees_of_freedom <= len(_T_975):
        return _T_975[degrees_of_freedom - 1]
    return 1.960 + 2.4 / degrees_of_freedom


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def report_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and 95 % half width per metric for each configuration point of the sweep."""
    complete = [row for row in rows if row["status"] == "complete"]
    if not complete:
        return []
    columns = list(rows[0])
    first_metric = columns.index("sim_time_s") if "sim_time_s" in columns else len(columns)
    point_keys = [c for c in columns[3:first_metric] if c not in ("replication", "seed")]
    metrics = [
        c
        for c in columns[first_metric:]
        if c not in ("seed", "replication") and any(_number(r[c]) is not None for r in complete)
    ]
    points: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in complete:
        points.setdefault(tuple(row[k] for k in point_keys), []).append(row)
    report = []
    for key, members in points.items():
        entry: dict[str, Any] = dict(zip(point_keys, key, strict=True))
        entry["runs"] = len(members)
        for metric in metrics:
            values = [v for v in (_number(m[metric]) for m in members) if v is not None]
            mean = statistics.fmean(values) if values else None
            half = (
                t_975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
                if len(values) > 1
                else None
            )
            entry[f"{metric}_mean"] = mean
            entry[f"{metric}_ci95"] = half
        report.append(entry)
    return report


def write_sweep_table(sweep: Path) -> Path:
    """Write (or rewrite) the sweep's run table and its report; returns the table's path."""
    rows = sweep_rows(sweep)
    path = sweep / TABLE_NAME
    write_atomic(path, rows_csv(rows))
    write_atomic(sweep / REPORT_NAME, rows_csv(report_rows(rows)))
    return path
