"""A run's results on the terminal: its tables, and progress bars of runs and sweeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from sim.core.units import format_duration
from sim.output.results import Result
from sim.output.tables import run_tables
from sim.output.terminal import print_table

PIPED_WIDTH = 10_000
"""Columns of a console that is not a terminal: wide enough that no table is cut."""


def output_console() -> Console:
    """Standard output as a rich console: the terminal's width on a terminal; piped or
    redirected, wide enough that tables print whole (a file has no width to fit)."""
    console = Console()
    return console if console.is_terminal else Console(width=PIPED_WIDTH)


def print_summary(
    result: Result, folder: Path | None = None, console: Console | None = None
) -> None:
    """Print start-up times per deployment, replicas not ready, pull counts and bytes,
    the service (with traffic), and where the files went; each table fits the
    console's width (`sim.output.terminal`)."""
    if console is None:
        console = output_console()
    for table in run_tables(result.summary, result.replicas, result.serves_traffic):
        print_table(console, table)
    if folder is not None:
        console.print(f"results in {folder}")


@contextmanager
def simulated_time_bar(
    horizon_s: float, enabled: bool
) -> Iterator[Callable[[float, float], None] | None]:
    """A progress bar of simulated time on standard error; None (no bar) when disabled.

    Yields the callback a run calls with (now, horizon) once per sample period.
    """
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.fields[now]} of {task.fields[horizon]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("run", total=horizon_s, now="0 s", horizon=format_duration(horizon_s))

    def advance(now_s: float, total_s: float) -> None:
        bar.update(task, completed=min(now_s, total_s), now=format_duration(now_s))

    with bar:
        yield advance


class RunsBar:
    """A progress bar of a sweep's runs (done of all) on standard error."""

    def __init__(self, total: int) -> None:
        self._bar = Progress(
            TextColumn("sweep"),
            BarColumn(),
            TextColumn("{task.completed} of {task.total} runs"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self._task = self._bar.add_task("runs", total=total)
        self._bar.start()

    def advance(self) -> None:
        self._bar.advance(self._task)

    def close(self) -> None:
        self._bar.stop()
