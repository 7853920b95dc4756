"""A run folder's bookkeeping: which config it ran, and how it ended.

Each run writes ``run.json`` next to its results, last and atomically:
``{"status": "complete" | "failed", "config_hash": ..., "error": ...}``. The config
hash is a sha256 of the resolved config (without Hydra's own settings), so a sweep run
again into the same folder skips the runs already complete for the same config, reruns
the ones whose config changed, and a failed run is on record with its error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.results import write_atomic

RUN_FILE = "run.json"
RESULT_FILES = ("summary.json", "events.csv", "timeseries.csv", "replicas.csv", "pulls.csv")


def config_hash(config: Mapping[str, Any]) -> str:
    """A stable digest of a resolved config; Hydra's own settings do not count."""
    relevant = {key: value for key, value in config.items() if key != "hydra"}
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_record(folder: Path) -> dict[str, Any] | None:
    """The folder's ``run.json``, or None when there is none (never run, or killed)."""
    path = folder / RUN_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def is_complete(folder: Path, digest: str) -> bool:
    """Whether the folder holds complete results of the config with this digest."""
    record = run_record(folder)
    return (
        record is not None
        and record.get("status") == "complete"
        and record.get("config_hash") == digest
        and (folder / "summary.json").is_file()
    )


def clear_stale(folder: Path, digest: str) -> None:
    """Remove results left by a different config, so none of them is mistaken for this
    run's if it fails."""
    record = run_record(folder)
    if record is not None and record.get("config_hash") != digest:
        for name in (*RESULT_FILES, RUN_FILE):
            (folder / name).unlink(missing_ok=True)


def record_run(folder: Path, digest: str, status: str, error: str = "") -> None:
    """Write the folder's ``run.json`` (atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {"status": status, "config_hash": digest, "error": error}
    write_atomic(folder / RUN_FILE, json.dumps(document, indent=2) + "\n")
