"""A run folder's bookkeeping: which config it ran, how it ended, and what it wrote.

Each run writes ``run.json`` next to its results, last and atomically::

    {"status": "complete" | "failed", "config_hash": ..., "error": ...,
     "version": "0.1.0", "seed": 42,
     "overrides": [...], "files": {"summary.json": "<sha256>", ...}}

The config hash is a sha256 of the resolved config (without Hydra's own settings), so a
sweep run again into the same folder skips the runs already complete for the same
config and reruns the ones whose config changed. ``version`` is the simulator's that
made the run: results of another version (or of one that recorded none) are not
reused unless the sweep is told it may (``resume=any_version``), since an upgrade may
change what the same config gives. The file digests make a run's folder
self-checking: a run counts as complete only if ``run.json`` reads back, every result
file it names is there with the bytes it recorded, and ``summary.json`` is a flat
mapping. Anything else (a killed run, a corrupt or truncated file, files mixed by two
writers) reads back as ``missing``, with the reason, and runs again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.core.files import sha256_of, write_atomic
from sim.core.provenance import version
from sim.output.results import RESULT_FILES, WORLD_FILE

RUN_FILE = "run.json"
STATUSES = ("complete", "failed", "missing")


NOT_SETTINGS = frozenset({"progress", "resume", "limits"})
"""Root keys that change how a run looks, whether it may run or how it is resumed, not
what it simulates."""


def config_hash(config: Mapping[str, Any]) -> str:
    """A stable digest of a resolved config: what the run simulates. Hydra's own
    settings and `NOT_SETTINGS` do not count, so a run done with a progress bar is
    reused by the same run asked for without one."""
    relevant = {
        key: value for key, value in config.items() if key != "hydra" and key not in NOT_SETTINGS
    }
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RunState:
    """What a run folder holds, as it reads back.

    Attributes:
        status: ``complete``, ``failed`` (the run recorded its error) or ``missing``
            (never run, still running, killed, or files that do not read back).
        error: the failed run's error, or why the folder does not read back.
        config_hash: the digest of the config the run recorded ("" when none).
        overrides: the command-line overrides the run recorded, or None.
        summary: the run's metrics when complete, else empty.
        version: the simulator's version that made the run ("" when none recorded).
    """

    status: str
    error: str = ""
    config_hash: str = ""
    overrides: tuple[str, ...] | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)
    version: str = ""


def _is_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, bool | int | str)


def read_summary(path: Path) -> dict[str, Any]:
    """A ``summary.json``: a flat mapping of names to numbers, strings, booleans or null.

    Raises:
        ValueError: the file cannot be read or is not such a mapping (the message says why).
    """
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{path.name}: cannot be read ({error})") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path.name}: not JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(summary, dict):
        raise ValueError(f"{path.name}: not a mapping of metrics")
    for key, value in summary.items():
        if not _is_scalar(value):
            raise ValueError(f"{path.name}: {key}: {value!r} is not a finite number or a word")
    return summary


def fallback_record(folder: Path) -> Path:
    """Where a run whose own folder cannot be written records how it ended: beside the
    folder, in the sweep's ``.unwritable-runs/``."""
    return folder.parent / ".unwritable-runs" / f"{folder.name}.json"


def read_run(folder: Path) -> RunState:
    """The state of a run folder, checked file by file (see the module docstring).

    A folder that holds no record of its own reads as its fallback record says, if the
    run left one (`fallback_record`).
    """
    state = _read_run_file(folder)
    if state.status == "missing":
        fallback = _read_record(fallback_record(folder))
        if isinstance(fallback, RunState) and fallback.status == "failed":
            return fallback
    return state


def _read_record(path: Path) -> RunState | dict[str, Any]:
    """A run record as a mapping, or the ``missing`` state saying why it is not one."""
    if not path.exists():
        return RunState("missing")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return RunState("missing", f"{RUN_FILE}: unreadable ({type(error).__name__})")
    if not isinstance(record, dict) or record.get("status") not in ("complete", "failed"):
        return RunState("missing", f"{RUN_FILE}: not a run record")
    digest = record.get("config_hash")
    overrides = record.get("overrides")
    if not isinstance(digest, str) or not (
        overrides is None
        or (isinstance(overrides, list) and all(isinstance(o, str) for o in overrides))
    ):
        return RunState("missing", f"{RUN_FILE}: not a run record")
    if record["status"] == "failed":
        recorded = tuple(overrides) if overrides is not None else None
        version = record.get("version")
        made_by = version if isinstance(version, str) else ""
        return RunState("failed", str(record.get("error", "")), digest, recorded, version=made_by)
    return record


def _read_run_file(folder: Path) -> RunState:
    record = _read_record(folder / RUN_FILE)
    if isinstance(record, RunState):
        return record
    digest = record["config_hash"]
    overrides = record.get("overrides")
    recorded = tuple(overrides) if overrides is not None else None
    version = record.get("version")
    made_by = version if isinstance(version, str) else ""
    files = record.get("files")
    if not isinstance(files, dict) or set(files) != set(RESULT_FILES):
        return RunState("missing", f"{RUN_FILE}: no digests of the result files", digest, recorded)
    for name in RESULT_FILES:
        try:
            matches = sha256_of(folder / name) == files[name]
        except OSError:
            return RunState("missing", f"{name}: missing or unreadable", digest, recorded)
        if not matches:
            return RunState("missing", f"{name}: changed since the run wrote it", digest, recorded)
    try:
        summary = read_summary(folder / "summary.json")
    except ValueError as error:
        return RunState("missing", str(error), digest, recorded)
    return RunState("complete", "", digest, recorded, summary, made_by)


def is_complete(folder: Path, digest: str, any_version: bool = False) -> bool:
    """Whether the folder holds complete, intact results of the config with this
    digest, made by this version of the simulator (by any, if `any_version`)."""
    state = read_run(folder)
    same = any_version or state.version == version()
    return state.status == "complete" and state.config_hash == digest and same


def made_by_another_version(folder: Path, digest: str) -> str | None:
    """The version (``unknown`` if none was recorded) that made the folder's complete
    results of this config, when it is not this one; else None."""
    state = read_run(folder)
    if state.status != "complete" or state.config_hash != digest or state.version == version():
        return None
    return state.version or "unknown"


def clear_stale(folder: Path, digest: str) -> None:
    """Remove results that are not this config's complete results, so none of them is
    mistaken for this run's if it fails."""
    if not folder.is_dir():
        return
    state = read_run(folder)
    if state.status == "missing" or state.config_hash != digest:
        for name in (*RESULT_FILES, WORLD_FILE, RUN_FILE):
            (folder / name).unlink(missing_ok=True)


def _document(
    status: str, digest: str, error: str, seed: int | None, overrides: Sequence[str] | None
) -> dict[str, Any]:
    document: dict[str, Any] = {"status": status, "config_hash": digest, "error": error}
    document["version"] = version()
    if seed is not None:
        document["seed"] = seed
    if overrides is not None:
        document["overrides"] = list(overrides)
    return document


def record_run(
    folder: Path,
    digest: str,
    status: str,
    error: str = "",
    overrides: Sequence[str] | None = None,
    seed: int | None = None,
) -> None:
    """Write the folder's ``run.json`` (atomically, last): how the run ended, the
    digest of its config, the simulator's version, its seed and overrides.

    A complete run records the sha256 of each result file as it reads back from disk.

    Raises:
        OSError: the folder cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    document = _document(status, digest, error, seed, overrides)
    if status == "complete":
        document["files"] = {name: sha256_of(folder / name) for name in RESULT_FILES}
    write_atomic(folder / RUN_FILE, json.dumps(document, indent=2) + "\n")
    with contextlib.suppress(OSError):
        fallback_record(folder).unlink(missing_ok=True)


def record_failure(
    folder: Path,
    digest: str,
    error: str,
    overrides: Sequence[str] | None = None,
    seed: int | None = None,
) -> Path | None:
    """Record a failed run in its folder or, when that cannot be written, in its
    `fallback_record`; returns where it went (None: nowhere could be written)."""
    try:
        record_run(folder, digest, "failed", error, overrides, seed)
        return folder / RUN_FILE
    except OSError:
        pass
    fallback = fallback_record(folder)
    document = _document("failed", digest, error, seed, overrides)
    try:
        fallback.parent.mkdir(exist_ok=True)
        write_atomic(fallback, json.dumps(document, indent=2) + "\n")
    except OSError:
        return None
    return fallback
