"""Tables over the runs of a sweep (``sim -m ...``).

Hydra gives each run of a sweep a numbered folder under the sweep folder, holding the
run's ``summary.json``, its ``run.json`` (how it ended) and its overrides
(``.hydra/overrides.yaml``).

* ``sweep_summary.csv``: one row per run of the sweep, in run order: the run's number,
  its status (``complete``, ``failed`` with the error, or ``missing``: still running,
  killed, or its folder gone), every override as a column, then every summary metric.
  The runs are those the folder's last sweep declared (``.sweep.json``): folders left
  over from an earlier, larger sweep are left out, and said to be.
* ``sweep_report.csv``: one row per configuration point (the runs that differ only in
  ``replication``): how many runs, then for every numeric metric its mean and the half
  width of its 95 % confidence interval (Student's t over the replications).

Both are written when a sweep ends and rebuilt by ``sim-report <sweep folder>``.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.batch.runs import NOT_SETTINGS, read_run
from sim.core.files import write_atomic
from sim.core.intervals import mean_ci
from sim.output.results import rows_csv

TABLE_NAME = "sweep_summary.csv"
REPORT_NAME = "sweep_report.csv"


def override_columns(entries: Sequence[str]) -> dict[str, str]:
    """Overrides as table columns: the key (without ``+``, ``++``, ``~``) and its value."""
    pairs = ((key.lstrip("+~"), value) for key, _, value in map(_split, entries))
    return {key: value for key, value in pairs if key.split(".")[0] not in NOT_SETTINGS}


def _split(entry: object) -> tuple[str, str, str]:
    return str(entry).partition("=")


def _overrides_file(run: Path) -> tuple[dict[str, str], str]:
    """The overrides Hydra saved for a run (``.hydra/overrides.yaml``), and why they
    could not be read ("" when they could, or when there are none)."""
    path = run / ".hydra" / "overrides.yaml"
    if not path.exists():
        return {}, ""
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        return {}, f".hydra/overrides.yaml: unreadable ({type(error).__name__})"
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        return {}, ".hydra/overrides.yaml: not a list of overrides"
    return override_columns(entries), ""


def run_folders(sweep: Path) -> list[Path]:
    """The numbered run folders of a sweep, in run order."""
    return sorted(
        (path for path in sweep.iterdir() if path.is_dir() and path.name.isdigit()),
        key=lambda path: int(path.name),
    )


SWEEP_FILE = ".sweep.json"
"""What the last sweep into a folder declared: ``{"runs": N}`` (its runs are 0 to N-1)
or ``{"runs": null}`` (a sweeper that decides as it goes: every numbered folder is
its)."""


def declare_sweep(sweep: Path, runs: int | None) -> None:
    """Record, before its first run, how many runs the sweep starting in `sweep` has.

    Raises:
        OSError: the folder cannot be written.
    """
    write_atomic(sweep / SWEEP_FILE, json.dumps({"runs": runs}) + "\n")


def _declared_runs(sweep: Path) -> int | None:
    """The runs the folder's last sweep declared (None: unknown, or every folder)."""
    try:
        runs = json.loads((sweep / SWEEP_FILE).read_text(encoding="utf-8")).get("runs")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    return runs if isinstance(runs, int) and not isinstance(runs, bool) and runs >= 0 else None


def sweep_runs(sweep: Path) -> tuple[list[int], list[int]]:
    """The sweep's run numbers, in order, and the numbered folders left out as another
    sweep's.

    When the folder's last sweep declared N runs (`declare_sweep`), its runs are 0 to
    N-1 (a deleted one still counts, as missing) and a folder numbered N or above is
    left over from an earlier, larger sweep. Otherwise every number up to the highest
    folder's is the sweep's, so a deleted folder between two others is missing too.
    """
    numbers = [int(path.name) for path in run_folders(sweep)]
    declared = _declared_runs(sweep)
    if declared is None:
        return list(range(max(numbers) + 1 if numbers else 0)), []
    return list(range(declared)), [number for number in numbers if number >= declared]


def left_out_line(sweep: Path, left_out: Sequence[int]) -> str:
    """The line that says which run folders the tables leave out, and why."""
    return (
        f"{sweep}: run folders {_spans(left_out)} are another sweep's (this one has "
        f"{min(left_out)} runs): left out of the tables"
    )


def _spans(numbers: Sequence[int]) -> str:
    """``4-7, 9``: consecutive numbers as spans."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in spans)


def sweep_rows(sweep: Path) -> list[dict[str, Any]]:
    """One row per run of the sweep (`sweep_runs`): run number, status, error,
    overrides, summary metrics (same columns in every row; blank where a run lacks one).

    Each row is what the run's folder reads back (`sim.batch.runs.read_run`): a run whose
    files are incomplete, corrupt or inconsistent is ``missing`` with the reason in
    ``error``, and so is one without a folder. A run's overrides come from its
    ``run.json`` (what the run that wrote the results was asked), else from Hydra's
    ``.hydra/overrides.yaml``.
    """
    raw: list[tuple[dict[str, Any], Mapping[str, Any]]] = []
    override_keys: dict[str, None] = {}
    metric_keys: dict[str, None] = {}
    for number in sweep_runs(sweep)[0]:
        run = sweep / str(number)
        if not run.is_dir():
            raw.append(({"run": number, "status": "missing", "error": "no run folder"}, {}))
            continue
        state = read_run(run)
        status, error, summary = state.status, state.error, state.summary
        if state.overrides is not None:
            overrides = override_columns(state.overrides)
        else:
            overrides, unreadable = _overrides_file(run)
            if unreadable and status == "complete":
                status, error, summary = "missing", unreadable, {}
        override_keys.update(dict.fromkeys(overrides))
        metric_keys.update(dict.fromkeys(summary))
        head = {"run": int(run.name), "status": status, "error": error}
        raw.append((head | overrides, summary))
    columns = [
        "run",
        "status",
        "error",
        *override_keys,
        *(k for k in metric_keys if k not in override_keys),
    ]
    merged = [{**head, **summary} for head, summary in raw]
    return [{column: row.get(column) for column in columns} for row in merged]


def _number(value: Any) -> float | None:
    """A metric as a number, or None for a word, a flag, a blank or a non-finite value."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


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
            mean, half = mean_ci(values) if values else (None, None)
            entry[f"{metric}_mean"] = mean
            entry[f"{metric}_ci95"] = half if len(values) > 1 else None
        report.append(entry)
    return report


def write_sweep_table(sweep: Path) -> Path:
    """Write (or rewrite) the sweep's run table and its report; returns the table's path.

    Raises:
        OSError: a table cannot be written (each table is whole or untouched).
    """
    rows = sweep_rows(sweep)
    path = sweep / TABLE_NAME
    write_atomic(path, rows_csv(rows))
    write_atomic(sweep / REPORT_NAME, rows_csv(report_rows(rows)))
    return path


LOCK_NAME = ".sweep.lock"


class SweepBusy(Exception):
    """Another sweep holds the sweep folder."""


class SweepLock:
    """One sweep at a time in a sweep folder.

    Two sweeps writing into one folder would put one's results under the other's
    numbered runs. The sweep's driver holds an advisory lock (``flock``) on
    ``<sweep>/.sweep.lock`` from start to end, with its process id in the file while it
    holds it; the operating system drops the lock if the process dies, so a killed
    sweep never leaves the folder locked.
    """

    def __init__(self, handle: int) -> None:
        self._handle: int | None = handle

    @classmethod
    def take(cls, sweep: Path) -> SweepLock:
        """Lock `sweep` (created if needed) for this process.

        Raises:
            SweepBusy: another process holds it.
            OSError: the folder cannot be created or written.
        """
        sweep.mkdir(parents=True, exist_ok=True)
        path = sweep / LOCK_NAME
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 64).decode("ascii", "replace").strip() or "?"
            os.close(handle)
            raise SweepBusy(
                f"{sweep}: another sweep (process {holder}) is writing into this folder; "
                "wait for it to end or choose another hydra.sweep.dir"
            ) from None
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode("ascii"))
        return cls(handle)

    def release(self) -> None:
        if self._handle is not None:
            os.ftruncate(self._handle, 0)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
            self._handle = None
