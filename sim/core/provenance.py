"""Which simulator made a result: its name and version.

The version comes from the installed package's metadata (``pyproject.toml``'s
``version``), read once and only when asked: reading package metadata imports
``importlib.metadata``, which costs a command that never needs it about 0.05 s.
A source tree that was never installed reports `UNKNOWN_VERSION`.
"""

from __future__ import annotations

from functools import cache

NAME = "sim"
"""The simulator's name, as its package and its main command are called."""

UNKNOWN_VERSION = "0+unknown"
"""The version of a source tree whose package metadata is not installed."""


@cache
def version() -> str:
    """The simulator's version, e.g. ``0.1.0``."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(NAME)
    except PackageNotFoundError:
        return UNKNOWN_VERSION


def version_line(program: str = NAME) -> str:
    """What ``<program> --version`` prints: the simulator's name and version, and the
    program's own name when it is not ``sim`` (``sim-report (sim 0.1.0)``)."""
    named = f"{NAME} {version()}"
    return named if program == NAME else f"{program} ({named})"
