"""An interrupted command ends with one line and the shell's status for its signal.

Ctrl-C (SIGINT) or a ``kill`` (SIGTERM) during a run, a sweep or a plan stops it where
it is: every file is written atomically and ``run.json`` last, so what was complete is
kept, what was not reads back as missing, and the same command run again resumes (a
sweep skips its complete runs). The user sees ``interrupted; run the same command to
resume`` instead of Python's tracebacks, and the exit status is 128 + the signal's
number (130, 143), as a shell reports a process its signal ended.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

INTERRUPTED_LINE = "interrupted; run the same command to resume"
EXIT_SIGINT = 128 + signal.SIGINT
EXIT_SIGTERM = 128 + signal.SIGTERM


class Terminated(BaseException):
    """SIGTERM arrived (a BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` on the way records it as a failed run)."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextmanager
def interruptible() -> Iterator[None]:
    """Run the block; on SIGINT or SIGTERM print `INTERRUPTED_LINE` and exit with
    130 or 143 (nested blocks: the innermost reports, once)."""
    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    except KeyboardInterrupt:
        _stop(EXIT_SIGINT)
    except Terminated:
        _stop(EXIT_SIGTERM)
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def _stop(status: int) -> None:
    # A second signal while stopping would print a traceback over the line.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.stdout.flush()
    print(INTERRUPTED_LINE, file=sys.stderr, flush=True)
    raise SystemExit(status) from None


__all__ = ["EXIT_SIGINT", "EXIT_SIGTERM", "INTERRUPTED_LINE", "interruptible"]
