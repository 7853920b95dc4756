"""What runs inside a simulated container: a filesystem view and a few shell programs.

A container sees its own writable (upper) layer over the image's read-only layers, and
its volumes mounted at their paths. Writes land in the volume mounted over the path, if
any, else in the writable layer: that is copy-on-write as ``overlay2`` does it, and why a
volume's data outlives the container while the writable layer goes with ``docker rm``.
Every byte written is taken from the host's disk, and freed when the file goes.

The simulator knows only the files containers write, not the files inside image
layers, so ``ls`` and ``cat`` see written files only. The programs are the handful a
lesson needs — ``echo``, ``cat``, ``ls``, ``rm``, ``touch``, ``mkdir``, ``dd``, ``du``,
``sleep``, ``hostname``, ``env``, ``true``, ``false``, ``exit`` and ``sh -c`` with
``&&``, ``||``, ``;``, ``>`` and ``>>`` — with the messages and exit statuses of
GNU coreutils and dash. ``dd`` takes the time its bytes need at the host's disk write rate.
"""

from __future__ import annotations

import math
import posixpath
import shlex
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim.model.images.store import DiskAccount, DiskFull

SHELLS = frozenset({"sh", "bash", "ash", "dash"})
INTERPRETERS = frozenset({"python", "python3", "node", "irb", "bash", "sh"})
"""Programs that read commands from standard input: with none (no ``-i``) they exit 0."""


@dataclass(slots=True)
class File:
    """A file a container wrote: its size, and its text when it was written as text."""

    size_bytes: int
    text: str | None = None


@dataclass(slots=True)
class Volume:
    """A named (or anonymous) volume: files that live outside any container."""

    name: str
    created_s: float
    anonymous: bool = False
    files: dict[str, File] = field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        return sum(file.size_bytes for file in self.files.values())


@dataclass(frozen=True, slots=True)
class Mount:
    """A volume mounted into a container at `destination`."""

    volume: Volume
    destination: str
    read_only: bool = False


class FsError(Exception):
    """A failed file operation; the text is the C library's (``No space left on device``)."""


class Filesystem:
    """A container's merged view: its writable layer (`upper`) and its volume mounts."""

    def __init__(
        self, disk: DiskAccount, upper: dict[str, File], mounts: Sequence[Mount], workdir: str
    ) -> None:
        self.disk = disk
        self.upper = upper
        self.mounts = sorted(mounts, key=lambda mount: -len(mount.destination))
        self.workdir = workdir or "/"

    def absolute(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.workdir, path))

    def _locate(self, path: str) -> tuple[dict[str, File], str, Mount | None]:
        """The file table holding `path`, its key there, and the mount if it is in one."""
        absolute = self.absolute(path)
        for mount in self.mounts:
            root = mount.destination.rstrip("/") or "/"
            if absolute == root or absolute.startswith(root + "/"):
                return mount.volume.files, "/" + absolute[len(root) :].lstrip("/"), mount
        return self.upper, absolute, None

    def read(self, path: str) -> File | None:
        files, key, _ = self._locate(path)
        return files.get(key)

    def write(self, path: str, size_bytes: int, text: str | None, append: bool = False) -> None:
        """Write (or append to) a file, taking the bytes it grows by from the disk."""
        files, key, mount = self._locate(path)
        if mount is not None and mount.read_only:
            raise FsError("Read-only file system")
        old = files.get(key)
        if append and old is not None:
            joined = None if old.text is None or text is None else old.text + text
            size_bytes, text = old.size_bytes + size_bytes, joined
        grown = size_bytes - (old.size_bytes if old else 0)
        try:
            if grown > 0:
                self.disk.allocate(grown)
            elif grown < 0:
                self.disk.free(-grown)
        except DiskFull:
            raise FsError("No space left on device") from None
        files[key] = File(size_bytes, text)

    def under(self, path: str) -> list[tuple[dict[str, File], str]]:
        """Every written file at or below `path`, as (table, key) pairs."""
        files, key, _ = self._locate(path)
        prefix = key.rstrip("/") + "/"
        found = [(files, name) for name in files if name == key or name.startswith(prefix)]
        if files is self.upper:
            for mount in self.mounts:
                if mount.destination.startswith(prefix) or mount.destination == key:
                    found += [(mount.volume.files, name) for name in mount.volume.files]
        return found

    def remove(self, path: str) -> bool:
        """Remove a file or a tree; False when nothing was there."""
        found = self.under(path)
        _, _, mount = self._locate(path)
        if found and mount is not None and mount.read_only:
            raise FsError("Read-only file system")
        for files, name in found:
            self.disk.free(files.pop(name).size_bytes)
        return bool(found)

    def listing(self, path: str) -> list[str] | None:
        """Names directly under a directory (None if nothing is known there)."""
        files, key, _ = self._locate(path)
        if key in files:
            return [posixpath.basename(key)]
        prefix = key.rstrip("/") + "/"
        names = {name[len(prefix) :].split("/")[0] for name in files if name.startswith(prefix)}
        absolute = self.absolute(path).rstrip("/") + "/"
        for mount in self.mounts:
            if mount.destination.startswith(absolute) and mount.destination != absolute:
                names.add(mount.destination[len(absolute) :].split("/")[0])
        exists = self.absolute(path) == "/" or any(
            self.absolute(path) == m.destination for m in self.mounts
        )
        return sorted(names) if names or exists else None


@dataclass
class Context:
    """What a program running in a container can use."""

    env: simpy.Environment
    fs: Filesystem
    hostname: str
    environment: dict[str, str]
    write_bytes_s: float
    out: Callable[[str], None]


class ExecNotFound(Exception):
    """The program is not one the simulated container can run."""


Program = Callable[[Context, list[str]], Generator[simpy.Event, Any, int]]


def run(context: Context, argv: Sequence[str]) -> Generator[simpy.Event, Any, int]:
    """Run one program (a SimPy process body); returns its exit status.

    Raises:
        ExecNotFound: no such program (the runtime's "executable file not found").
    """
    name, arguments = posixpath.basename(argv[0]), list(argv[1:])
    if name in SHELLS and arguments[:1] == ["-c"] and len(arguments) >= 2:
        return (yield from _script(context, arguments[1]))
    if name in INTERPRETERS and not arguments:
        return 0
    program = PROGRAMS.get(name)
    if program is None:
        raise ExecNotFound(argv[0])
    return (yield from program(context, arguments))


def _script(context: Context, script: str) -> Generator[simpy.Event, Any, int]:
    """``sh -c``: commands joined by ``&&``, ``||`` and ``;``, with ``>``/``>>`` redirects."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        context.out("sh: 1: Syntax error: Unterminated quoted string")
        return 2
    status = 0
    operator = ";"
    command: list[str] = []
    for token in [*tokens, ";"]:
        if token not in ("&&", "||", ";"):
            command.append(token)
            continue
        runs = operator == ";" or (operator == "&&") == (status == 0)
        if command and runs:
            status = yield from _redirected(context, command)
        operator, command = token, []
    return status


def _redirected(context: Context, words: list[str]) -> Generator[simpy.Event, Any, int]:
    if "|" in words:
        context.out("sh: 1: pipes are not simulated")
        return 2
    target, append = None, False
    for operator in (">>", ">"):
        if operator in words:
            at = words.index(operator)
            if at + 1 >= len(words):
                context.out("sh: 1: Syntax error: newline unexpected")
                return 2
            target, append = words[at + 1], operator == ">>"
            words = words[:at] + words[at + 2 :]
            break
    captured: list[str] = []
    inner = context if target is None else _capturing(context, captured)
    try:
        status = yield from run(inner, words)
    except ExecNotFound:
        context.out(f"sh: 1: {words[0]}: not found")
        return 127
    if target is not None:
        text = "".join(line + "\n" for line in captured)
        try:
            context.fs.write(target, len(text.encode()), text, append)
        except FsError as error:
            context.out(f"sh: 1: cannot create {target}: {error}")
            return 2
    return status


def _capturing(context: Context, captured: list[str]) -> Context:
    return Context(
        context.env,
        context.fs,
        context.hostname,
        context.environment,
        context.write_bytes_s,
        captured.append,
    )


def _echo(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    context.out(" ".join(arguments))
    return 0
    yield


def _cat(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    status = 0
    for path in arguments:
        file = context.fs.read(path)
        if file is None:
            context.out(f"cat: {path}: No such file or directory")
            status = 1
        elif file.text is not None:
            for line in file.text.splitlines():
                context.out(line)
    return status
    yield


def _ls(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    paths = [word for word in arguments if not word.startswith("-")] or ["."]
    status = 0
    for path in paths:
        names = context.fs.listing(path)
        if names is None:
            context.out(f"ls: cannot access '{path}': No such file or directory")
            status = 2
            continue
        if len(paths) > 1:
            context.out(f"{path}:")
        for name in names:
            context.out(name)
    return status
    yield


def _rm(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    force = any(word.startswith("-") and "f" in word for word in arguments)
    status = 0
    for path in (word for word in arguments if not word.startswith("-")):
        try:
            removed = context.fs.remove(path)
        except FsError as error:
            context.out(f"rm: cannot remove '{path}': {error}")
            status = 1
            continue
        if not removed and not force:
            context.out(f"rm: cannot remove '{path}': No such file or directory")
            status = 1
    return status
    yield


def _touch(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    for path in arguments:
        if context.fs.read(path) is None:
            try:
                context.fs.write(path, 0, "")
            except FsError as error:
                context.out(f"touch: cannot touch '{path}': {error}")
                return 1
    return 0
    yield


def _mkdir(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    """Directories are implicit in the simulated filesystem: nothing to store."""
    return 0
    yield


_DD_UNITS = {"": 1, "c": 1, "w": 2, "b": 512, "K": 1024, "kB": 1000, "KB": 1000}
_DD_UNITS.update({"M": 1024**2, "MB": 1000**2, "G": 1024**3, "GB": 1000**3})


def _dd_number(text: str) -> int:
    """A dd operand: digits with an optional unit suffix (``1M``, ``512``, ``4kB``).

    Raises:
        ValueError: anything else, a sign included (dd takes no negative counts).
    """
    digits = text.rstrip("cwbKkMGB")
    unit = _DD_UNITS.get(text[len(digits) :])
    if not digits.isdecimal() or not digits.isascii() or unit is None:
        raise ValueError(text)
    return int(digits) * unit


def _dd(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    """``dd if=/dev/zero of=FILE bs=SIZE count=N``: writes bs × count bytes to FILE."""
    options = dict(word.split("=", 1) for word in arguments if "=" in word)
    source, target = options.get("if", "/dev/stdin"), options.get("of")
    operands = {"bs": options.get("bs", "512"), "count": options.get("count", "0")}
    for text in operands.values():
        try:
            _dd_number(text)
        except ValueError:
            context.out(f"dd: invalid number: '{text}'")
            return 1
    block, count = _dd_number(operands["bs"]), _dd_number(operands["count"])
    if source not in ("/dev/zero", "/dev/urandom"):
        context.out(f"dd: failed to open '{source}': No such file or directory")
        return 1
    total = block * count
    if target is not None:
        try:
            context.fs.write(target, total, None)
        except FsError as error:
            context.out(f"dd: error writing '{target}': {error}")
            return 1
    seconds = total / context.write_bytes_s
    if seconds > 0:
        yield context.env.timeout(seconds)
    context.out(f"{count}+0 records in")
    context.out(f"{count}+0 records out")
    context.out(f"{total} bytes{_dd_human(total)} copied, {seconds:.6g} s, {_rate(total, seconds)}")
    return 0


def _dd_human(total: int) -> str:
    if total < 1000:
        return ""
    decimal = _scaled(total, 1000, ("kB", "MB", "GB", "TB"))
    binary = _scaled(total, 1024, ("KiB", "MiB", "GiB", "TiB"))
    return f" ({decimal}, {binary})"


def _scaled(value: float, base: int, units: tuple[str, ...]) -> str:
    unit = -1
    while value >= base and unit < len(units) - 1:
        value /= base
        unit += 1
    text = f"{value:.2g}" if value < 10 else f"{value:.0f}"
    return f"{text} {units[unit]}"


def _rate(total: int, seconds: float) -> str:
    if seconds <= 0:
        return "inf B/s"
    return f"{_scaled(total / seconds, 1000, ('kB', 'MB', 'GB', 'TB'))}/s"


def _du(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    """``du -s[h] PATH``: the bytes written under PATH (KiB blocks, or -h units)."""
    human = any(word.startswith("-") and "h" in word for word in arguments)
    status = 0
    for path in [word for word in arguments if not word.startswith("-")] or ["."]:
        found = context.fs.under(path)
        if not found and context.fs.listing(path) is None:
            context.out(f"du: cannot access '{path}': No such file or directory")
            status = 1
            continue
        total = sum(files[name].size_bytes for files, name in found)
        blocks = -(-total // 1024)
        size = _du_human(total) if human else str(blocks)
        context.out(f"{size}\t{path}")
    return status
    yield


def _du_human(total: int) -> str:
    value, unit = float(total), 0
    units = ("", "K", "M", "G", "T")
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    if unit and value < 10:
        return f"{math.ceil(value * 10) / 10:.1f}{units[unit]}"
    return f"{math.ceil(value)}{units[unit]}"


def _sleep(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    try:
        seconds = sum(float(word.rstrip("s")) for word in arguments)
    except ValueError:
        context.out(f"sleep: invalid time interval '{arguments[0]}'")
        return 1
    yield context.env.timeout(seconds)
    return 0


def _hostname(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    context.out(context.hostname)
    return 0
    yield


def _env(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    for key, value in context.environment.items():
        context.out(f"{key}={value}")
    return 0
    yield


def _true(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    return 0
    yield


def _false(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    return 1
    yield


def _exit(context: Context, arguments: list[str]) -> Generator[simpy.Event, Any, int]:
    return int(arguments[0]) % 256 if arguments and arguments[0].isdigit() else 0
    yield


PROGRAMS: dict[str, Program] = {
    "echo": _echo,
    "cat": _cat,
    "ls": _ls,
    "rm": _rm,
    "touch": _touch,
    "mkdir": _mkdir,
    "dd": _dd,
    "du": _du,
    "sleep": _sleep,
    "hostname": _hostname,
    "env": _env,
    "true": _true,
    "false": _false,
    "exit": _exit,
}
