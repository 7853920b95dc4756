"""A run folder read back into a `Result`: what `Result.write` (and so ``sim``) wrote.

The files hold everything but the run's warnings; the network's links and the world's
facts come from ``world.json``, which runs with ``log: full`` write. Values come back
with their types: numbers as ``int`` or ``float``, ``True``/``False`` as booleans, an
empty cell as None. An event detail that
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

from sim.core.records import (
    DetailValue,
    Event,
    EventKind,
    LinkUsage,
    PullRecord,
    ReplicaRecord,
)
from sim.core.world import World
from sim.output.results import RESULT_FILES, WORLD_FILE, WORLD_PARTS, Result
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


def _number(text: str) -> float | int | None:
    """A time-series cell: a number (empty for a period with nothing to measure)."""
    value = cell_value(text)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValueError(f"not a time series ({text!r} is no number)")
    return value


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _records(path: Path, record_type: type[Record]) -> tuple[Record, ...]:
    hints = typing.get_type_hints(record_type)
    with path.open(encoding="utf-8", newline="") as file:
        header = next(csv.reader(file), [])
    if header != [field.name for field in fields(record_type)]:
        raise ValueError(f"not a table of {record_type.__name__} (its header)")
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


EVENTS_HEADER = ["time_s", "source", "kind", "details"]


def _events(path: Path) -> tuple[Event, ...]:
    with path.open(encoding="utf-8", newline="") as file:
        header = next(csv.reader(file), [])
    if header != EVENTS_HEADER:
        raise ValueError("not an events.csv (its header)")
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


def read_world(path: Path) -> tuple[World, tuple[LinkUsage, ...]]:
    """A ``world.json`` read back: the world and the run's links.

    Raises:
        ValueError: it is not what `sim.output.results.world_json` writes.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        parts = {
            part: tuple(record(*_tuples(row)) for row in document[part])
            for part, record in WORLD_PARTS.items()
        }
        world = World(
            **parts,
            mirrors=tuple((origin, mirror) for origin, mirror in document["mirrors"]),
            billing_minimum_s=float(document["billing_minimum_s"]),
        )
        links = tuple(LinkUsage(*row) for row in document["links"])
    except (OSError, UnicodeDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: not a world.json ({type(error).__name__}: {error})") from None
    return world, links


def _tuples(row: list[Any]) -> list[Any]:
    return [tuple(value) if isinstance(value, list) else value for value in row]


def read_result(folder: str | os.PathLike[str]) -> Result:
    """The `Result` a run folder holds (without its warnings; without links and world
    when the run kept no ``world.json``, as a run with ``log: summary``).

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
            {key: _number(value) for key, value in row.items()} for row in _rows(path / name)
        )
        name = "replicas.csv"
        replicas = _records(path / name, ReplicaRecord)
        name = "pulls.csv"
        pulls = _records(path / name, PullRecord)
        name = "events.csv"
        events = _events(path / name)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path / name}: does not read back ({error})") from None
    world: World | None = None
    links: tuple[LinkUsage, ...] = ()
    if (path / WORLD_FILE).is_file():
        world, links = read_world(path / WORLD_FILE)
    return Result(
        cast(RunSummary, summary),
        events,
        cast(tuple[dict[str, float | int], ...], timeseries),
        replicas,
        pulls,
        links,
        (),
        world,
    )
