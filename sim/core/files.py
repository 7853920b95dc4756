"""Writing files so that a reader never sees half of one.

Every output file (a run's results, ``run.json``, a sweep's tables, sim-docker's state)
is written to a temporary name in the same folder and renamed into place, so a killed
process leaves either the old file or the new one, never a mix. The temporary file is
created with mode 0666 and the process's umask applied, as ``open()`` would create the
file itself, so results on a shared file system get the permissions their owner chose.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` through a temporary file renamed into place.

    Raises:
        OSError: naming `path`: the folder does not exist or cannot be written, or
            `path` cannot be replaced; `path` is unchanged.
    """
    data = text.encode("utf-8")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(path)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unwritable_reason(folder: Path) -> str | None:
    """Why files could not be written into `folder`, or None when they could.

    Nothing is created: the nearest existing folder on the way (the folder itself, or
    the parent it would be made in) is probed with a file created and removed at once,
    because permissions alone do not tell (root ignores them; a read-only mount or
    ``/proc`` does not).
    """
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            return "no such folder"
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    probe = existing / f".probe.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as error:
        return error.strerror or type(error).__name__
    return None


class FolderBusy(Exception):
    """Another process holds the folder."""


class FolderLock:
    """One writer at a time in a folder: an advisory lock (``flock``) on the folder
    itself, held until `release` or the process ends (the operating system drops it
    if the process dies, so a killed run never leaves its folder locked). Nothing is
    written into the folder for it."""

    def __init__(self, handle: int, path: Path) -> None:
        self._handle: int | None = handle
        self.path = path

    @classmethod
    def take(cls, path: Path) -> FolderLock:
        """Lock the folder `path` (it must exist) for this process.

        Raises:
            FolderBusy: another process holds it.
            OSError: it cannot be opened.
        """
        import fcntl

        handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise FolderBusy(str(path)) from None
        return cls(handle, path)

    def release(self) -> None:
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None


def claim_new_folder(path: Path) -> Path:
    """Create a folder no other process has: `path` itself, or, when it exists already
    (two runs started in the same second share a time-stamped name), the first free
    ``<path>-1``, ``<path>-2``, ... Each attempt is one atomic ``mkdir``, so two
    processes never get the same folder.

    Raises:
        OSError: the parent cannot be created or written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = 0
    while True:
        candidate = path if suffix == 0 else path.with_name(f"{path.name}-{suffix}")
        try:
            candidate.mkdir()
        except FileExistsError:
            suffix += 1
            continue
        return candidate
