"""One tidy table over the runs of a sweep (``sim -m ...``).

Hydra gives each run of a sweep a numbered folder under the sweep folder, holding the
run's ``summary.json`` and its overrides (``.hydra/overrides.yaml``). The table has one
row per run folder, in run order: the run's number, whether its summary is there
(``complete``) or not (``missing``: still running, killed or failed), every override as
a column, then every summary metric. It is written to ``sweep_summary.csv`` at the sweep
folder's root when a sweep ends, and can be rebuilt from a finished or partial sweep
with ``sim-report <sweep folder>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from sim.results import rows_csv, write_atomic

TABLE_NAME = "sweep_summary.csv"


def _overrides(run: Path) -> dict[str, str]:
    path = run / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    pairs = (str(entry).partition("=") for entry in entries)
    return {key.lstrip("+~"): value for key, _, value in pairs}


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
        summary_path = run / "summary.json"
        summary = (
            json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
        )
        override_keys.update(dict.fromkeys(overrides))
        metric_keys.update(dict.fromkeys(summary))
        head = {"run": int(run.name), "status": "complete" if summary else "missing"}
        raw.append((head | overrides, summary))
    columns = ["run", "status", *override_keys, *(k for k in metric_keys if k not in override_keys)]
    return [{column: (head | summary).get(column) for column in columns} for head, summary in raw]


def write_sweep_table(sweep: Path) -> Path:
    """Write (or rewrite) the sweep's table; returns its path."""
    path = sweep / TABLE_NAME
    write_atomic(path, rows_csv(sweep_rows(sweep)))
    return path
