"""How the Docker CLI writes sizes, ages and tables, so simulated output reads like the real.

Sizes and durations follow the rules of docker/go-units that the CLI uses: decimal
units with 3 or 4 significant digits (``320MB``, ``16.43MB``, ``0B``) and ages in
words (``Less than a second``, ``About a minute``, ``3 hours``). Tables are laid out as
Go's tabwriter lays out the CLI's columns: each column its widest cell plus three
spaces, at least ten characters, the last column unpadded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
"""The wall-clock instant simulated time 0 stands for (timestamps in ``inspect``)."""

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def human_size(size_bytes: float, precision: int = 4) -> str:
    """``units.HumanSizeWithPrecision``: decimal units, `precision` significant digits."""
    value = float(size_bytes)
    unit = 0
    while value >= 1000 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    return f"{value:.{precision}g}{_UNITS[unit]}"


def human_duration(seconds: float) -> str:
    """``units.HumanDuration``: how the CLI says how long ago or for how long."""
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def timestamp(time_s: float) -> str:
    """A simulated instant as the RFC 3339 text ``inspect`` shows (nanoseconds)."""
    instant = EPOCH + timedelta(seconds=time_s)
    nanoseconds = round(time_s * 1e9) % 1_000_000_000
    return instant.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanoseconds:09d}Z"


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows laid out as the CLI's tabwriter does (min width 10, padding 3)."""
    if not rows:
        return []
    widths = [max(10, max(len(row[column]) for row in rows) + 3) for column in range(len(rows[0]))]
    return [
        "".join(
            cell if column == len(row) - 1 else cell.ljust(widths[column])
            for column, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def short_id(digest: str) -> str:
    """The 12 hex digits the CLI shows of an ID or digest."""
    return digest.removeprefix("sha256:")[:12]
