"""Where a run's messages go: Python's `logging`, configured by Hydra from
``configs/hydra/job_logging/sim.yaml``.

Everything at INFO and above goes to the run folder's ``sim.log`` with its time and
logger; warnings and errors also go to standard error as ``warning: <message>``, as
they always printed. The command line's ``-v`` shows INFO on the terminal too and
writes DEBUG to the log; ``-q`` leaves only errors on the terminal. Hydra's own
``hydra.verbose=true`` (or ``=sim``) also turns DEBUG on. The tables and result lines a
run prints are its output, not messages: they go to standard output as before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

VERBOSE = ("-v", "--verbose")
QUIET = ("-q", "--quiet")

TERMINAL_LEVEL = "hydra.job_logging.handlers.terminal.level"


class TerminalFormatter(logging.Formatter):
    """``warning: <message>`` (the level in lower case) for warnings and errors; the
    message alone below."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def verbosity_overrides(arguments: Sequence[str]) -> tuple[list[str], list[str]]:
    """The command line without ``-v``/``-q``, and the Hydra overrides they stand for
    (the last one given wins).

    ``-v`` and ``-q`` set Hydra's own settings (``hydra.verbose`` and the terminal
    handler's level), which a run's config digest leaves out.
    """
    kept: list[str] = []
    chosen: list[str] = []
    for argument in arguments:
        if argument in VERBOSE:
            chosen = [f"{TERMINAL_LEVEL}=INFO", "hydra.verbose=[sim]"]
        elif argument in QUIET:
            chosen = [f"{TERMINAL_LEVEL}=ERROR"]
        else:
            kept.append(argument)
    return kept, chosen
