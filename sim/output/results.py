"""Results of a run: the summary, the event log, the time series, and writing them.

A run's folder holds ``summary.json`` (flat metrics, documented in docs/results.md),
``events.csv`` (one row per event: ``time_s,source,kind,details``), ``timeseries.csv``
(one row per sample period), ``replicas.csv`` / ``pulls.csv`` (one row per replica
and per pull) and, with ``log: full``, ``world.json`` (what the run had that no event
says: hosts' sizes, images' layers, registries, apps; `sim.core.world`). `Result.read`
reads a folder back. Every file is written to a temporary name and renamed into place, so an
interrupted run never leaves a half-written file, and the bytes depend only on the
config and seed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from sim.core.files import write_atomic
from sim.core.records import Event, EventKind, LinkUsage, PullRecord, ReplicaRecord
from sim.core.world import (
    AppFacts,
    HostFacts,
    ImageFacts,
    LayerFacts,
    PlatformFacts,
    RegistryFacts,
    World,
)

Summary = dict[str, Any]


@dataclass(frozen=True)
class Result:
    """What a run produced.

    Attributes:
        summary: flat metrics, in the order and meaning of `sim.output.summary.Summary`.
        events: every event, in order (none when the run's ``log`` is ``summary``).
        timeseries: one mapping per sample, same keys in every row.
        replicas: one record per replica requested and finished (ready or failed).
        pulls: one record per image pull that ended.
        links: the network's links with what crossed them (`LinkUsage`), for drawing
            the topology.
        warnings: what the run wants its user to know (printed after its tables).
        world: what the run had that no event says (`World`); None when the run kept
            no events (``log: summary``).
    """

    summary: Summary
    events: Sequence[Event]
    timeseries: Sequence[Mapping[str, float | int]]
    replicas: Sequence[ReplicaRecord]
    pulls: Sequence[PullRecord]
    links: Sequence[LinkUsage] = ()
    warnings: Sequence[str] = ()
    world: World | None = None

    def write(self, folder: str | os.PathLike[str]) -> Path:
        """Write the run's files into `folder` (created if needed); returns its path."""
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        write_atomic(path / "summary.json", summary_json(self.summary))
        write_atomic(path / "events.csv", events_csv(self.events))
        write_atomic(path / "timeseries.csv", rows_csv(self.timeseries))
        write_atomic(path / "replicas.csv", records_csv(self.replicas, ReplicaRecord))
        write_atomic(path / "pulls.csv", records_csv(self.pulls, PullRecord))
        if self.world is not None:
            write_atomic(path / WORLD_FILE, world_json(self.world, self.links))
        else:
            (path / WORLD_FILE).unlink(missing_ok=True)
        return path

    @classmethod
    def read(cls, folder: str | os.PathLike[str]) -> Result:
        """A run's results read back from the folder `write` wrote.

        Event details come back as the text the file holds (``"3"``, not 3; None for
        an empty value), as every reader of ``events.csv`` sees them. Without
        ``world.json`` (a run with ``log: summary``) the result has no world and no
        links.

        Raises:
            OSError: a file cannot be read.
            ValueError: a file is not what `write` writes (the message names it).
        """
        path = Path(folder)
        summary = _read_json(path / "summary.json")
        if not isinstance(summary, dict):
            raise ValueError(f"{path / 'summary.json'}: not a mapping of metrics")
        world: World | None = None
        links: tuple[LinkUsage, ...] = ()
        if (path / WORLD_FILE).exists():
            world, links = read_world(path / WORLD_FILE)
        return cls(
            summary,
            read_events(path / "events.csv"),
            read_rows(path / "timeseries.csv"),
            read_records(path / "replicas.csv", ReplicaRecord),
            read_records(path / "pulls.csv", PullRecord),
            links,
            (),
            world,
        )


WORLD_FILE = "world.json"
"""The run-folder file of a `World` (with the run's links)."""


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summary_json(summary: Mapping[str, Any]) -> str:
    return json.dumps({key: _plain(value) for key, value in summary.items()}, indent=2) + "\n"


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def events_csv(events: Iterable[Event]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["time_s", "source", "kind", "details"])
    for event in events:
        details = ";".join(f"{key}={_format(value)}" for key, value in event.details)
        writer.writerow([repr(float(event.time_s)), event.source, event.kind, details])
    return buffer.getvalue()


def rows_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if rows:
        writer.writerow(list(rows[0]))
        for row in rows:
            writer.writerow([_format(value) for value in row.values()])
    return buffer.getvalue()


def records_csv(records: Sequence[Any], record_type: type) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([field.name for field in fields(record_type)])
    for record in records:
        writer.writerow([_format(value) for value in astuple(record)])
    return buffer.getvalue()


_WORLD_PARTS: dict[str, type] = {
    "hosts": HostFacts,
    "images": ImageFacts,
    "layers": LayerFacts,
    "registries": RegistryFacts,
    "apps": AppFacts,
    "platforms": PlatformFacts,
}


def world_json(world: World, links: Sequence[LinkUsage]) -> str:
    """``world.json``: the world's facts, one list of rows per kind, and the links."""
    document: dict[str, Any] = {
        part: [list(astuple(row)) for row in getattr(world, part)] for part in _WORLD_PARTS
    }
    document["mirrors"] = [list(pair) for pair in world.mirrors]
    document["billing_minimum_s"] = world.billing_minimum_s
    document["links"] = [list(link) for link in links]
    return json.dumps(document, separators=(",", ":")) + "\n"


def read_world(path: Path) -> tuple[World, tuple[LinkUsage, ...]]:
    """A ``world.json`` read back: the world and the run's links.

    Raises:
        OSError: the file cannot be read.
        ValueError: it is not what `world_json` writes.
    """
    document = _read_json(path)
    try:
        parts = {
            part: tuple(record(*_tuples(row)) for row in document[part])
            for part, record in _WORLD_PARTS.items()
        }
        world = World(
            **parts,
            mirrors=tuple((origin, mirror) for origin, mirror in document["mirrors"]),
            billing_minimum_s=float(document["billing_minimum_s"]),
        )
        links = tuple(LinkUsage(*row) for row in document["links"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: not a world.json ({type(error).__name__}: {error})") from None
    return world, links


def _tuples(row: list[Any]) -> list[Any]:
    return [tuple(value) if isinstance(value, list) else value for value in row]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not JSON ({error})") from None


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def read_events(path: Path) -> list[Event]:
    """The events of an ``events.csv``, details as text (see `Result.read`).

    Raises:
        OSError: the file cannot be read.
        ValueError: a row is not an event (the message names its line).
    """
    rows = _csv_rows(path)
    if not rows or rows[0] != ["time_s", "source", "kind", "details"]:
        raise ValueError(f"{path}: not an events.csv (its header)")
    events = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            time_s, source, kind, details = row
            pairs = tuple(
                (key, value if value != "" else None)
                for key, _, value in (pair.partition("=") for pair in details.split(";"))
            )
            events.append(Event(float(time_s), source, EventKind(kind), pairs if details else ()))
        except ValueError as error:
            raise ValueError(f"{path}:{line}: not an event ({error})") from None
    return events


def _number(text: str) -> float | int:
    try:
        return int(text)
    except ValueError:
        return float(text)


def read_rows(path: Path) -> list[dict[str, float | int]]:
    """The rows of a ``timeseries.csv``, each value the int or float it was.

    Raises:
        OSError: the file cannot be read.
        ValueError: a value is not a number (the message names its line).
    """
    rows = _csv_rows(path)
    if not rows:
        return []
    header = rows[0]
    try:
        return [
            dict(zip(header, (_number(value) for value in row), strict=True)) for row in rows[1:]
        ]
    except ValueError as error:
        raise ValueError(f"{path}: not a time series ({error})") from None


_FIELD_READERS: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": _number,
    "bool": lambda text: text == "True",
    "float | None": lambda text: None if text == "" else _number(text),
}


def read_records(path: Path, record_type: type) -> list[Any]:
    """The records of a ``replicas.csv`` or ``pulls.csv`` (`records_csv`).

    Raises:
        OSError: the file cannot be read.
        ValueError: the header or a value is not the record's (the message names it).
    """
    rows = _csv_rows(path)
    columns = [field.name for field in fields(record_type)]
    if not rows or rows[0] != columns:
        raise ValueError(f"{path}: not a table of {record_type.__name__} (its header)")
    readers = [_FIELD_READERS[str(field.type)] for field in fields(record_type)]
    records = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            records.append(
                record_type(*(read(value) for read, value in zip(readers, row, strict=True)))
            )
        except ValueError as error:
            raise ValueError(f"{path}:{line}: {error}") from None
    return records
