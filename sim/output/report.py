"""Short human-readable tables of a run's results (terminal output only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.core.records import ReplicaRecord
from sim.core.units import format_duration, format_size
from sim.output.results import Result
from sim.output.summary import percentile

PHASES = {
    "wait_s": "wait",
    "provision_s": "provision",
    "boot_s": "boot",
    "pull_download_s": "download",
    "pull_extract_s": "extract",
    "create_s": "create",
    "start_s": "start",
    "init_s": "init",
}


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _mean_phase(records: list[ReplicaRecord], phase: str) -> str:
    values = [getattr(record, phase) for record in records]
    mean = sum(values) / len(values) if values else 0.0
    return "" if mean == 0.0 else _seconds(mean)


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
    """Print start-up times per platform, pull counts and bytes, and where files went."""
    if console is None:
        console = output_console()
    summary = result.summary
    title = (
        f"Replica start-up by deployment (seed {summary['seed']}, "
        f"simulated {format_duration(summary['sim_time_s'])}); phases: mean seconds"
    )
    startups = Table(title=title, box=box.SIMPLE_HEAD)
    startups.add_column("app / platform / at", no_wrap=True)
    for column in ("ready", "p50", "p95", *PHASES.values()):
        startups.add_column(column, justify="right", no_wrap=True)
    waves: dict[tuple[str, str, float], list[ReplicaRecord]] = {}
    for record in result.replicas:
        waves.setdefault((record.app, record.platform, record.requested_s), []).append(record)
    for (app, platform, requested_s), records in sorted(waves.items(), key=lambda item: item[0][2]):
        ready = [r for r in records if r.ready_s is not None]
        times = [r.startup_s for r in ready if r.startup_s is not None]
        startups.add_row(
            f"{app} / {platform} / {format_duration(requested_s)}",
            f"{len(ready)}/{len(records)}",
            _seconds(percentile(times, 50)),
            _seconds(percentile(times, 95)),
            *(_mean_phase(ready, phase) for phase in PHASES),
        )
    console.print(startups)
    unfinished = [r for r in result.replicas if r.state not in ("ready", "failed")]
    if unfinished:
        console.print(_unfinished_table(unfinished))
    pulls = Table(title="Image pulls", show_header=False, box=box.SIMPLE)
    pulls.add_column("what")
    pulls.add_column("value", justify="right")
    pulled = f"{summary['pulls_completed']} completed, {summary['pulls_failed']} failed"
    layers = (
        f"{summary['layers_downloaded']} downloaded, {summary['layers_already_exists']} "
        f"already existed, {summary['layers_shared']} shared"
    )
    pulls.add_row("pulls", pulled)
    pulls.add_row("layers", layers)
    pulls.add_row("from registries", format_size(summary["bytes_from_registry"]))
    pulls.add_row("mirrors from upstream", format_size(summary["bytes_from_upstream"]))
    pulls.add_row("disk peak (one host)", format_size(summary["disk_bytes_peak"]))
    console.print(pulls)
    if summary.get("requests_total") or result.serves_traffic:
        console.print(_service_table(summary))
    if folder is not None:
        console.print(f"results in {folder}")


def _unfinished_table(records: list[ReplicaRecord]) -> Table:
    """Replicas still on their way when the run ended, by app, platform, state and why."""
    table = Table(title="Not ready when the run ended", box=box.SIMPLE_HEAD)
    for column in ("app / platform", "replicas", "state", "why"):
        table.add_column(column, justify="right" if column == "replicas" else "left")
    groups: dict[tuple[str, str, str, str], int] = {}
    for record in records:
        key = (record.app, record.platform, record.state, record.reason)
        groups[key] = groups.get(key, 0) + 1
    for (app, platform, state, reason), count in groups.items():
        table.add_row(f"{app} / {platform}", str(count), state, reason or "-")
    return table


def _service_table(summary: dict) -> Table:
    """Requests, latency, scaling and cost of a run with traffic."""
    table = Table(title="Service", show_header=False, box=box.SIMPLE)
    table.add_column("what")
    table.add_column("value", justify="right")
    dropped = ", ".join(
        f"{key.removeprefix('requests_dropped_').replace('_', ' ')} {value}"
        for key, value in summary.items()
        if key.startswith("requests_dropped_") and value
    )
    table.add_row(
        "requests",
        f"{summary['requests_total']} arrived, {summary['requests_served']} served, "
        f"{summary['requests_in_flight']} in flight, {summary['requests_dropped']} dropped"
        + (f" ({dropped})" if dropped else "")
        + (f", {summary['requests_failed']} failed" if summary.get("requests_failed") else ""),
    )
    if summary.get("hosts_failed"):
        recover = summary.get("time_to_recover_s")
        table.add_row(
            "faults",
            f"{summary['hosts_failed']} hosts failed, {summary['replicas_lost']} replicas lost, "
            f"{summary['replicas_replaced']} replaced"
            + (f", recovered within {recover:.0f} s" if recover is not None else ""),
        )
    if summary.get("spot_interruptions") or summary.get("spot_savings_usd"):
        table.add_row(
            "spot",
            f"{summary['spot_interruptions']} interruptions, "
            f"{summary['spot_savings_usd']:.2f} USD saved against on demand",
        )
    if summary.get("slo_violation_s") or summary.get("availability") not in (None, 1.0):
        table.add_row(
            "availability / SLO violated",
            f"{100 * (summary.get('availability') or 0):.3f} % / "
            f"{summary.get('slo_violation_s', 0):.0f} s",
        )
    latency = " / ".join(
        _seconds(summary[f"latency_s_{stat}"]) for stat in ("mean", "p50", "p95", "p99")
    )
    table.add_row("latency mean / p50 / p95 / p99 (s)", latency)
    table.add_row(
        "scaling",
        f"{summary['scaling_actions']} replica actions (max {summary['replicas_max']}), "
        f"{summary['cluster_scaling_actions']} host actions (max {summary['hosts_max']})",
    )
    table.add_row(
        "cost",
        f"{summary['cost_usd']:.2f} USD ({summary['cost_usd_instances']:.2f} instances, "
        f"{summary['cost_usd_registries']:.4f} registries)",
    )
    reserved = summary["vcpu_seconds_reserved"]
    used = summary["vcpu_seconds_used"]
    share = f" ({100 * used / reserved:.0f} % used)" if reserved else ""
    table.add_row("vCPU-seconds reserved / used", f"{reserved:.0f} / {used:.0f}{share}")
    return table


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
