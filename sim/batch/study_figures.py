"""What a study draws with: interval whiskers from a study table, and the figure
formats a study writes (``--figures png,svg,pdf``, ``--figure-dpi``).

It imports no matplotlib: a study script makes its figures and hands them here to be
written.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def error_bars(rows: Sequence[Mapping[str, Any]], column: str) -> tuple[list[float], list[float]]:
    """The lengths below and above each row's value of its 95 % interval, for
    matplotlib's ``yerr`` (0 where there is none, as for a single run)."""
    below, above = [], []
    for row in rows:
        low, high = row[f"{column}_low"], row[f"{column}_high"]
        below.append(0.0 if math.isnan(low) else row[column] - low)
        above.append(0.0 if math.isnan(high) else high - row[column])
    return below, above


FIGURE_FORMATS = ("png", "svg", "pdf")
"""The formats a study writes its figures in (``--figures png,svg``)."""


def figure_options(parser: argparse.ArgumentParser) -> None:
    """Add a study's figure options: ``--figures`` (formats, comma-separated) and
    ``--figure-dpi`` (the resolution of a raster figure)."""
    parser.add_argument(
        "--figures",
        type=_formats,
        default=("png",),
        metavar="FORMATS",
        help="figure formats, comma-separated: " + ", ".join(FIGURE_FORMATS) + " (default png)",
    )
    parser.add_argument(
        "--figure-dpi", type=float, default=120.0, help="dots per inch of a raster figure"
    )


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",")))
    unknown = [name for name in formats if name not in FIGURE_FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"{text!r}: formats from {', '.join(FIGURE_FORMATS)}, comma-separated"
        )
    return formats


def save_figure(figure: Any, path: Path, args: argparse.Namespace) -> list[Path]:
    """Write a matplotlib figure as ``path`` with each suffix the study's ``--figures``
    asks for, at its ``--figure-dpi``; returns the files written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for name in args.figures:
        target = path.with_suffix(f".{name}")
        figure.savefig(target, dpi=args.figure_dpi)
        written.append(target)
    return written
