"""A run folder read back into a `Result`: what `Result.write` (and so ``sim``) wrote.

The files hold everything but the network's links (the topology figure needs a live
run) and the run's warnings. Values come back with their types: numbers as ``int`` or
``float``, ``True``/``False`` as booleans, an empty cell as None. An event detail that
was a string of digits comes back as a number, as its column cannot tell the two apart.
"""

from __future__ import annotations

import csv
import json
import os
import re
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar, cast

from sim.core.records import DetailValue, Event, EventKind, PullRecord, ReplicaRecord
from sim.output.results import RESULT_FILES, Result
from sim.output.run_summary import RunSummary

DETAIL_SEPARATOR = re.compile(r";(?=[A-Za-z_][A-Za-z0-9_]*=)")
"""Where one ``name=value`` detail ends and the next begins (a value may hold ``;``)."""

Record = TypeVar("Record", ReplicaRecord, PullRecord)


def cell_value(text: str) -> DetailValue:
    """A CSV cell as the value it was written from (see the module docstring)."""
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _records(path: Path, record_type: type[Record]) -> tuple[Record, ...]:
    hints = typing.get_type_hints(record_type)
    records = []
    for row in _rows(path):
        values: dict[str, Any] = {}
        for field in fields(record_type):
            text = row[field.name]
            if hints[field.name] is str:
                values[field.name] = text
            elif hints[field.name] is bool:
                values[field.name] = text == "True"
            else:
                values[field.name] = cell_value(text)
        records.append(record_type(**values))
    return tuple(records)


def _events(path: Path) -> tuple[Event, ...]:
    events = []
    for row in _rows(path):
        details = tuple(
            (name, cell_value(value))
            for name, _, value in (
                item.partition("=") for item in DETAIL_SEPARATOR.split(row["details"]) if item
            )
        )
        events.append(Event(float(row["time_s"]), row["source"], EventKind(row["kind"]), details))
    return tuple(events)


def read_result(folder: str | os.PathLike[str]) -> Result:
    """The `Result` a run folder holds (without links or warnings).

    Raises:
        ValueError: a result file is missing or does not read back (the message names it).
    """
    path = Path(folder)
    missing = [name for name in RESULT_FILES if not (path / name).is_file()]
    if missing:
        raise ValueError(f"{path}: not a run folder (no {', '.join(missing)})")
    name = "summary.json"
    try:
        summary = json.loads((path / name).read_text(encoding="utf-8"))
        if not isinstance(summary, dict):
            raise ValueError("not a mapping of metrics")
        name = "timeseries.csv"
        timeseries = tuple(
            {key: cell_value(value) for key, value in row.items()} for row in _rows(path / name)
        )
        name = "replicas.csv"
        replicas = _records(path / name, ReplicaRecord)
        name = "pulls.csv"
        pulls = _records(path / name, PullRecord)
        name = "events.csv"
        events = _events(path / name)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path / name}: does not read back ({error})") from None
    return Result(
        cast(RunSummary, summary),
        events,
        cast(tuple[dict[str, float | int], ...], timeseries),
        replicas,
        pulls,
    )
