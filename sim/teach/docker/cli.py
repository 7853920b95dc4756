"""``sim-docker``: Docker's command line over a simulated host.

``sim-docker pull python:3.12-slim`` prints what ``docker pull`` prints, while the
simulated host pulls over the simulated network; every command advances the simulated
clock by what it costs, shown after its output. The host persists between commands in a
state file (``.sim-docker.json`` in the current folder, ``$SIM_DOCKER_STATE`` or
``--state FILE``): a journal of the commands run so far, replayed on start, so the same
commands and seed give the same host, byte for byte. Commands also come from a file
(``--script FILE``, ``-`` for standard input) or a prompt (``sim-docker`` alone on a
terminal).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import shlex
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from sim.core.collection import collection_paused
from sim.core.errors import ConfigError
from sim.core.files import unwritable_reason, write_atomic
from sim.teach.docker.verbs import Outcome, Session
from sim.teach.narrate import show

STATE_FORMAT = "sim-docker-state/1"
DEFAULT_STATE = ".sim-docker.json"


# The journal ----------------------------------------------------------------------


def load_session(path: Path | None, seed: int | None) -> Session:
    """A session replaying the journal in `path`, or a new one."""
    if path is None or not path.exists():
        return Session(42 if seed is None else seed)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("format") != STATE_FORMAT:
            raise ValueError
        stored_seed = int(state["seed"])
        commands = list(state["commands"])
        config = state.get("config")
        if config is not None and not isinstance(config, dict):
            raise ValueError
    except (ValueError, KeyError, TypeError, OSError):
        raise ConfigError(
            "--state", str(path), f"a state file written by sim-docker ({STATE_FORMAT})"
        ) from None
    if seed is not None and seed != stored_seed:
        raise ConfigError(
            "--seed", seed, f"the seed of {path} ({stored_seed}); remove the file to start over"
        )
    try:
        session = Session(stored_seed, config)
    except ConfigError as error:
        raise ConfigError(
            "--state", str(path), f"a state file whose configuration is valid ({error})"
        ) from None
    for index, entry in enumerate(commands):
        argv = entry.get("argv") if isinstance(entry, dict) else None
        if not isinstance(argv, list) or not all(isinstance(word, str) for word in argv):
            raise ConfigError(
                "--state",
                str(path),
                f"a state file written by sim-docker: commands[{index}] is not a command "
                '({"argv": [words], ...})',
            )
        try:
            session.execute(argv, entry)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise ConfigError(
                "--state",
                str(path),
                f"a state file written by sim-docker: commands[{index}] ({shlex.join(argv)}) "
                f"does not replay ({type(error).__name__}: {error})",
            ) from None
    return session


@contextlib.contextmanager
def state_locked(path: Path | None, printer: Printer | None = None) -> Iterator[None]:
    """Hold the state file's lock (``<state>.lock`` beside it, ``flock``) while a command
    reads, changes and writes the host: a second command on the same state waits for the
    first, and starts from the host the first left, so neither change is lost. The
    operating system drops the lock if the process dies."""
    if path is None:
        yield
        return
    handle = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if printer is not None:
                printer.err.print(f"sim-docker: waiting for another command on {path}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def check_state_path(path: Path) -> None:
    """Refuse a state file that could not be saved, before any command runs.

    Raises:
        ConfigError: naming ``--state``, the path and why it cannot be written.
    """
    if path.is_dir():
        raise ConfigError("--state", str(path), "a file, not a folder")
    folder = path.parent if str(path.parent) else Path(".")
    reason = "no such folder" if not folder.is_dir() else unwritable_reason(folder)
    if reason is not None:
        allowed = f"a file in a folder that exists and can be written ({reason})"
        raise ConfigError("--state", str(path), allowed)


def save_session(session: Session, path: Path) -> None:
    """Write the journal atomically: the old state stays whole until the new is in place."""
    entries = ",\n  ".join(json.dumps(entry, sort_keys=True) for entry in session.journal)
    config = json.dumps(session.config)  # in config order: it is meaningful (pools, catalog)
    text = (
        f'{{"format": "{STATE_FORMAT}", "seed": {session.seed}, "config": {config}, '
        f'"commands": [\n  {entries}\n]}}\n'
    )
    write_atomic(path, text)


# The command line ------------------------------------------------------------------


class Printer:
    """Prints outcomes: coloured on a terminal, plain when piped or with NO_COLOR."""

    def __init__(self, out: Console | None = None, err: Console | None = None) -> None:
        self.out = out or Console(highlight=False, soft_wrap=True)
        self.err = err or Console(highlight=False, soft_wrap=True, stderr=True)

    def command(self, argv: Sequence[str]) -> None:
        show([f"$ docker {shlex.join(argv)}"], self.out)

    def outcome(self, outcome: Outcome, elapsed_s: float, clock_s: float) -> None:
        for stream, group in itertools.groupby(outcome.lines, key=lambda pair: pair[0]):
            lines = [line for _, line in group]
            if stream == "err":
                show(lines, self.err, "red")
            else:
                show(lines, self.out)
        show([f"[{elapsed_s:.3f} s simulated; clock at {clock_s:.3f} s]"], self.out, "dim")


def _commands(lines: Iterable[str]) -> Iterable[tuple[int, list[str]]]:
    """The commands of a script: one per line, ``docker`` optional, ``#`` comments."""
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            words = shlex.split(text)
        except ValueError as error:
            raise ConfigError(f"line {number}", text, f"a command line ({error})") from None
        if words[:1] in (["docker"], ["sim-docker"]):
            words = words[1:]
        yield number, words


def _global_options(argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """sim-docker's own options (before the command), and the command."""
    state = os.environ.get("SIM_DOCKER_STATE") or DEFAULT_STATE
    options: dict[str, Any] = {"state": state, "no_state": False, "seed": None}
    options["script"] = None
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        word, _, value = argv[index].partition("=")
        key = word.removeprefix("--").replace("-", "_")
        if word in ("-h", "--help"):
            return options, ["help"]
        if word == "--no-state":
            options["no_state"] = True
            index += 1
            continue
        if key not in ("state", "seed", "script") or not word.startswith("--"):
            raise ConfigError(
                word, "unknown option", "--state FILE, --no-state, --seed N, --script FILE"
            )
        if not value:
            if index + 1 >= len(argv):
                raise ConfigError(word, "no value", "a value after it")
            value = argv[index + 1]
            index += 1
        index += 1
        if key == "seed":
            try:
                options[key] = int(value)
            except ValueError:
                raise ConfigError(word, value, "an integer") from None
        else:
            options[key] = value
    return options, argv[index:]


def main(argv: Sequence[str] | None = None, printer: Printer | None = None) -> int:
    """The ``sim-docker`` console script; returns (and, as a script, exits with) the status.

    The cyclic garbage collector is paused throughout (`sim.core.collection`): replaying
    a long journal makes tens of thousands of long-lived objects and no garbage cycles.
    """
    with collection_paused():
        return _main(argv, printer)


def _main(argv: Sequence[str] | None, printer: Printer | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    printer = printer or Printer()
    try:
        options, command = _global_options(arguments)
        state = None if options["no_state"] else Path(options["state"])
        if state is not None:
            check_state_path(state)
        prompt = not options["script"] and not command and sys.stdin.isatty()
        if prompt:
            status = _prompt(state, options["seed"], printer)
        else:
            with state_locked(state, printer):
                session = load_session(state, options["seed"])
                if options["script"] is not None:
                    status = _run_script(session, options["script"], printer, state)
                elif command:
                    status = _run_one(session, command, printer, state)
                else:
                    status = _run_script(session, "-", printer, state)
    except ConfigError as error:
        printer.err.print(Text(f"sim-docker: {error}", style="red"))
        status = 2
    if argv is None:
        sys.exit(status)
    return status


def _run_one(session: Session, command: list[str], printer: Printer, state: Path | None) -> int:
    """Run one command; save the host if it changed."""
    recorded = len(session.journal)
    outcome = session.execute(command)
    if state is not None and len(session.journal) > recorded:
        save_session(session, state)
    printer.outcome(outcome, session.elapsed, session.daemon.now)
    return outcome.status


def _run_script(session: Session, source: str, printer: Printer, state: Path | None) -> int:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError("--script", source, f"a readable file ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError("--script", source, "a text file of commands (UTF-8)") from None
    status = 0
    for _, words in list(_commands(text.splitlines())):
        printer.command(words)
        outcome = session.execute(words)
        printer.outcome(outcome, session.elapsed, session.daemon.now)
        status = outcome.status
    if state is not None:
        save_session(session, state)
    return status


def _prompt(state: Path | None, seed: int | None, printer: Printer) -> int:
    """The interactive prompt. Each command takes the state's lock, and starts from the
    saved host again when another command changed it meanwhile."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    with state_locked(state, printer):
        session = load_session(state, seed)
        seen = _stamp(state)
    printer.out.print(
        "sim-docker: Docker's commands on a simulated host. 'help' lists them; 'exit' ends."
    )
    status = 0
    while True:
        try:
            line = input(f"sim-docker [{session.daemon.now:.3f} s]$ ")
        except EOFError:
            printer.out.print()
            return status
        except KeyboardInterrupt:
            printer.out.print()
            continue
        if line.strip() in ("exit", "quit"):
            return status
        try:
            commands = list(_commands([line]))
        except ConfigError as error:
            printer.err.print(Text(f"sim-docker: {error}", style="red"))
            continue
        for _, words in commands:
            with state_locked(state, printer):
                if _stamp(state) != seen:
                    session = load_session(state, seed)
                status = _run_one(session, words, printer, state)
                seen = _stamp(state)


def _stamp(path: Path | None) -> tuple[int, int, int] | None:
    """What tells one version of the state file from another (None: no file)."""
    try:
        info = path.stat() if path is not None else None
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns) if info is not None else None
