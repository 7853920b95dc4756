"""Short human-readable tables of a run's results (terminal output only)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from sim.core.units import format_duration, format_size
from sim.results import Result


def _seconds(value: float | None) -> str:
    return "-" if value is None else format_duration(value)


def print_summary(
    result: Result, folder: Path | None = None, console: Console | None = None
) -> None:
    """Print start-up times per platform, pull counts and bytes, and where files went."""
    console = console or Console()
    summary = result.summary
    startups = Table(
        title=f"Replica start-up (seed {summary['seed']}, "
        f"simulated {format_duration(summary['sim_time_s'])})"
    )
    for column in ("platform", "ready", "failed", "mean", "p50", "p95", "max"):
        startups.add_column(column, justify="left" if column == "platform" else "right")
    for platform in sorted({r.platform for r in result.replicas}):
        rows = [r for r in result.replicas if r.platform == platform]
        startups.add_row(
            platform,
            str(sum(r.state == "ready" for r in rows)),
            str(sum(r.state == "failed" for r in rows)),
            *(
                _seconds(summary.get(f"startup_s_{stat}_{platform}"))
                for stat in ("mean", "p50", "p95", "max")
            ),
        )
    console.print(startups)
    pulls = Table(title="Image pulls")
    for column in (
        "completed",
        "failed",
        "layers downloaded",
        "already exists",
        "shared",
        "from registries",
        "disk peak (host)",
    ):
        pulls.add_column(column, justify="right")
    pulls.add_row(
        str(summary["pulls_completed"]),
        str(summary["pulls_failed"]),
        str(summary["layers_downloaded"]),
        str(summary["layers_already_exists"]),
        str(summary["layers_shared"]),
        format_size(summary["bytes_from_registry"]),
        format_size(summary["disk_bytes_peak"]),
    )
    console.print(pulls)
    if folder is not None:
        console.print(f"results in {folder}")
