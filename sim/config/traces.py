"""Workload traces from CSV files, read at the edge and handed to the model as values.

The model never opens files; this module reads a trace once and returns the arrival
process that replays it (`sim.model.service.arrivals.trace.TraceTimestamps` or
`sim.model.service.arrivals.trace.TraceRates`).
"""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import numpy as np

from sim.core.errors import ConfigError
from sim.model.service.arrivals.trace import TraceRates, TraceTimestamps

TIMESTAMP_HEADER = ("timestamp_s",)
RATE_HEADER = ("interval_start_s", "rate_per_s")

HEADER_ALLOWED = "a CSV header 'timestamp_s' or 'interval_start_s,rate_per_s'"
TIMESTAMP_ALLOWED = "one number of seconds per row, finite, not negative, not decreasing"
RATE_ALLOWED = (
    "two numbers per row, an interval start in seconds and a rate per second, finite and "
    "not negative, the starts increasing by the same interval every row"
)

# Interval starts are read from decimal text, so a regular trace with interval 0.1 s
# has starts that differ from start + i * 0.1 by rounding; this much is forgiven.
_REGULARITY_TOLERANCE = 1e-9


def _packaged_workloads() -> Path:
    """The workload presets' folder: inside the installed package (``sim.conf``), or
    ``configs/`` of a source checkout."""
    spec = importlib.util.find_spec("sim.conf")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "workload"
    return Path(__file__).resolve().parent.parent / "configs" / "workload"


def find_trace(path: str, key: str) -> str:
    """Where a trace file named in a config is.

    A relative path is looked up in the working folder first, then beside the workload
    presets (``configs/workload/``, shipped with the package), so the shipped presets'
    traces are found from any folder and a user's own file wins over a shipped one of
    the same name.

    Raises:
        ConfigError: the file is in neither place.
    """
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return path
    shipped = _packaged_workloads() / candidate
    if shipped.exists():
        return str(shipped)
    raise ConfigError(
        key, path, f"a trace file (looked in {Path.cwd()} and in {_packaged_workloads()})"
    )


def _number(text: str) -> float | None:
    """A finite, non-negative number from a CSV cell; None when it is anything else."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def read_trace(
    path: str, key: str, rng: np.random.Generator | None = None
) -> TraceTimestamps | TraceRates:
    """The arrival process a CSV trace file describes.

    Two formats, told apart by the header (the first line):

    * ``timestamp_s``: one request per row, at that many seconds from the start of the
      run; rows are non-decreasing (equal times are requests at the same instant).
      Replayed exactly.
    * ``interval_start_s,rate_per_s``: one row per interval, its start in seconds and
      the request rate in it. Starts increase by the same interval every row (at least
      two rows, so the interval is known); the last interval is as long as the others.
      Requests arrive as a Poisson process at each interval's rate, drawn from `rng`.

    Numbers are plain decimals (``12``, ``0.25``, ``1e3``), finite and not negative;
    spaces around them are ignored, and so are empty lines. Lines may end in CRLF, and a
    UTF-8 byte order mark before the header is skipped (spreadsheets write both).

    Args:
        path: the file to read.
        key: the config key that named the file, used in errors.
        rng: the generator a rate trace draws arrivals from. Without one (to check a
            file while reading a config) a rate trace can only be inspected: its
            ``next_after`` raises RuntimeError.

    Raises:
        ConfigError: an unreadable file, an unknown header or a bad row; the value is
            ``path:line_number`` (lines counted from 1, the header being line 1).
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as trace_file:
            rows = [
                (line_number, row)
                for line_number, row in enumerate(csv.reader(trace_file), start=1)
                if any(cell.strip() for cell in row)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(key, path, f"a readable CSV trace file ({error})") from None
    if not rows:
        raise ConfigError(key, f"{path}:1", HEADER_ALLOWED)
    header_line, header = rows[0]
    header_names = tuple(cell.strip() for cell in header)
    if header_names == TIMESTAMP_HEADER:
        return TraceTimestamps(_timestamps(rows[1:], path, key))
    if header_names == RATE_HEADER:
        interval_s, start_s, rates_per_s = _rates(rows[1:], path, key, header_line)
        return TraceRates(interval_s, rates_per_s, rng, start_s=start_s)
    raise ConfigError(key, f"{path}:{header_line}", HEADER_ALLOWED)


def _timestamps(rows: list[tuple[int, list[str]]], path: str, key: str) -> list[float]:
    times_s: list[float] = []
    for line_number, row in rows:
        time_s = _number(row[0]) if len(row) == 1 else None
        if time_s is None or (times_s and time_s < times_s[-1]):
            raise ConfigError(key, f"{path}:{line_number}", TIMESTAMP_ALLOWED)
        times_s.append(time_s)
    return times_s


def _rates(
    rows: list[tuple[int, list[str]]], path: str, key: str, header_line: int
) -> tuple[float, float, list[float]]:
    """``(interval_s, first start_s, rates_per_s)`` of a rate trace's rows."""
    starts_s: list[float] = []
    rates_per_s: list[float] = []
    for line_number, row in rows:
        start_s = _number(row[0]) if len(row) == 2 else None
        rate_per_s = _number(row[1]) if len(row) == 2 else None
        if start_s is None or rate_per_s is None:
            raise ConfigError(key, f"{path}:{line_number}", RATE_ALLOWED)
        if len(starts_s) >= 2:
            interval_s = starts_s[1] - starts_s[0]
            expected_s = starts_s[0] + len(starts_s) * interval_s
            if abs(start_s - expected_s) > _REGULARITY_TOLERANCE * max(1.0, expected_s):
                raise ConfigError(key, f"{path}:{line_number}", RATE_ALLOWED)
        elif starts_s and start_s <= starts_s[0]:
            raise ConfigError(key, f"{path}:{line_number}", RATE_ALLOWED)
        starts_s.append(start_s)
        rates_per_s.append(rate_per_s)
    if len(starts_s) < 2:
        last_line = rows[-1][0] + 1 if rows else header_line + 1
        raise ConfigError(
            key, f"{path}:{last_line}", "at least two rows, so the interval length is known"
        )
    return starts_s[1] - starts_s[0], starts_s[0], rates_per_s
