"""What a run or a sweep writes besides its results, when asked: figures in a format
and resolution (``figures=svg figure_dpi=200``), and ``report.html`` (``report=html``,
or ``sim-report --html`` afterwards).

``sim-report [--html] [--figures png|svg|pdf] [--dpi N] <folder>`` reads its options
here: a sweep folder gets its tables and figures rebuilt (and, with ``--html``, its page
and a page for each complete run that has none); a run folder, with ``--html``, gets its
page.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.batch.runs import RUN_FILE, STATUSES, read_run
from sim.batch.sweep import report_rows, run_folders, sweep_rows
from sim.core.files import write_atomic
from sim.core.provenance import NAME, version
from sim.core.units import format_duration
from sim.output.formats import DPI, FIGURE_FORMATS, PAGE_NAME
from sim.output.reading import read_result
from sim.output.results import Result

HYDRA_CONFIG = Path(".hydra") / "config.yaml"
"""Where Hydra saved a run's composed config, in its folder."""

NO_CONFIG = "(no config recorded in this folder)"


def figure_format(figures: Any) -> str | None:
    """The format ``figures`` asks for (``true`` is png), or None for none."""
    if figures is True:
        return "png"
    return figures if figures in FIGURE_FORMATS else None


def run_facts(
    summary: Mapping[str, Any],
    digest: str,
    overrides: Sequence[str] | None,
    made_by: str | None = None,
) -> list[tuple[str, str]]:
    """Where a run came from, for its page: the simulator and version that made it,
    its seed and replication, its config's digest, its overrides, the time simulated."""
    return [
        (NAME, made_by if made_by is not None else version()),
        ("seed", str(summary.get("seed", "-"))),
        ("replication", str(summary.get("replication", "-"))),
        ("config sha256", digest or "-"),
        ("overrides", " ".join(overrides) if overrides else "none"),
        ("simulated", format_duration(float(summary.get("sim_time_s") or 0.0))),
    ]


def write_run_outputs(
    result: Result,
    folder: Path,
    settings: Mapping[str, Any],
    digest: str,
    overrides: Sequence[str],
) -> None:
    """A finished run's figures and page, as its root settings ask (``figures``,
    ``figure_dpi``, ``report``).

    Raises:
        OSError: a figure or the page cannot be written.
    """
    format = figure_format(settings.get("figures", False))
    if format is not None:
        from sim.output.plots import run_figures

        run_figures(result, folder, format, float(settings.get("figure_dpi", DPI)))
    if settings.get("report") == "html":
        from sim.output.pages import write_run_page

        write_run_replay(result, folder)
        facts = run_facts(result.summary, digest, overrides)
        write_run_page(result, folder, facts, config_text(folder))


def write_run_replay(run: Result | Path, folder: Path) -> Path | None:
    """The run's replay page (``replay.html``, `sim.teach.replay`), written before its
    report so that the report links to it; None for a run that kept no events
    (``log: summary``), which has nothing to replay.

    Raises:
        OSError: the page cannot be written.
    """
    from sim.teach.replay import ReplayError, write_replay

    try:
        return write_replay(run, folder)
    except ReplayError:
        return None


def config_text(folder: Path) -> str:
    """The config Hydra saved in a run folder, as it wrote it."""
    try:
        return (folder / HYDRA_CONFIG).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return NO_CONFIG


def write_folder_page(folder: Path) -> Path:
    """A run folder's page from its files (the topology, which needs the live run, is
    left out).

    Raises:
        ValueError: the folder holds no run that reads back.
        OSError: the page cannot be written.
    """
    from sim.output.pages import write_run_page

    result = read_result(folder)
    write_run_replay(result, folder)
    state = read_run(folder)
    made_by = state.version or "unknown"
    facts = run_facts(result.summary, state.config_hash, state.overrides, made_by)
    return write_run_page(result, folder, facts, config_text(folder))


def sweep_settings(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The columns of a sweep's rows that are its overrides (between ``error`` and the
    metrics, which start at ``sim_time_s``; see `sim.batch.sweep.report_rows`)."""
    if not rows:
        return []
    columns = list(rows[0])
    end = columns.index("sim_time_s") if "sim_time_s" in columns else len(columns)
    return columns[3:end]


def write_sweep_page(sweep: Path) -> Path:
    """A sweep's ``report.html``, and the page of each complete run that has none yet
    (a run's own page, written as it ran, also has its topology); returns the sweep
    page's path.

    Raises:
        OSError: a page cannot be written.
    """
    runs = run_folders(sweep)
    rows = sweep_rows(sweep)
    states = [read_run(run) for run in runs]
    run_pages = []
    for run, state in zip(runs, states, strict=True):
        if state.status != "complete":
            continue
        if not (run / PAGE_NAME).exists():
            with contextlib.suppress(ValueError):
                write_folder_page(run)
        if (run / PAGE_NAME).exists():
            run_pages.append((f"run {run.name}", f"{run.name}/{PAGE_NAME}"))
    from sim.output.pages import sweep_page

    made = sorted({state.version or "unknown" for state in states if state.status != "missing"})
    count = {status: sum(row["status"] == status for row in rows) for status in STATUSES}
    facts = [
        (NAME, ", ".join(made) or "-"),
        (
            "runs",
            f"{len(rows)}: {count['complete']} complete, {count['failed']} failed, "
            f"{count['missing']} missing",
        ),
        ("folder", str(sweep)),
        ("the same in every run", _fixed(rows)),
    ]
    first = config_text(runs[0]) if runs else NO_CONFIG
    settings = sweep_settings(rows)
    text = sweep_page(sweep.name, facts, report_rows(rows), rows, settings, first, run_pages)
    path = sweep / PAGE_NAME
    write_atomic(path, text)
    return path


def _fixed(rows: Sequence[Mapping[str, Any]]) -> str:
    """The overrides every run of a sweep shares, as ``key=value`` words."""
    shared = [
        f"{key}={rows[0][key]}"
        for key in sweep_settings(rows)
        if len({str(row.get(key)) for row in rows}) == 1
    ]
    return " ".join(shared) or "none"


@dataclass(frozen=True)
class ReportOptions:
    """What ``sim-report`` was asked: the folder, a page, the figures' format and dpi."""

    folder: Path
    html: bool
    figures: str
    dpi: float


class _Refused(Exception):
    pass


def report_options(arguments: Sequence[str]) -> ReportOptions | None:
    """``sim-report``'s command line, or None when it is not one (a usage error)."""
    parser = argparse.ArgumentParser(prog="sim-report", add_help=False)
    parser.add_argument("--html", action="store_true")
    parser.add_argument("--figures", choices=FIGURE_FORMATS, default="png")
    parser.add_argument("--dpi", type=float, default=DPI)
    parser.add_argument("folder")

    def refuse(message: str) -> Any:
        raise _Refused(message)

    parser.error = refuse  # type: ignore[method-assign]
    try:
        parsed = parser.parse_args(list(arguments))
    except _Refused:
        return None
    if parsed.dpi <= 0:
        return None
    return ReportOptions(Path(parsed.folder), parsed.html, parsed.figures, parsed.dpi)


def is_run_folder(folder: Path) -> bool:
    """Whether `folder` is one run's (it has a ``run.json`` or a ``summary.json``)."""
    return (folder / RUN_FILE).is_file() or (folder / "summary.json").is_file()
