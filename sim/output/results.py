"""Results of a run: the summary, the event log, the time series, and writing them.

A run's folder holds ``summary.json`` (flat metrics, documented in docs/results.md),
``events.csv`` (one row per event: ``time_s,source,kind,details``), ``timeseries.csv``
(one row per sample period), ``replicas.csv`` / ``pulls.csv`` (one row per replica
and per pull) and, with ``log: full``, ``world.json`` (what the run had that no event
says: hosts' sizes, images' layers, registries, apps; `sim.core.world`).
`sim.output.reading.read_result` reads a folder back. Every file is written to a
temporary name and renamed into place, so an interrupted run never leaves a
half-written file, and the bytes depend only on the config and seed.
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
from typing import TYPE_CHECKING, Any

from sim.core.files import write_atomic
from sim.core.records import Event, LinkUsage, PullRecord, ReplicaRecord
from sim.core.world import (
    AppFacts,
    HostFacts,
    ImageFacts,
    LayerFacts,
    PlatformFacts,
    RegistryFacts,
    World,
)
from sim.output.run_summary import RunSummary

if TYPE_CHECKING:
    from sim.output.frames import ResultFrames

RESULT_FILES = ("summary.json", "events.csv", "timeseries.csv", "replicas.csv", "pulls.csv")
"""The files `Result.write` writes into every run's folder, and ``run.json`` records
digests of. ``world.json`` (`WORLD_FILE`, drawing aids, only with ``log: full``) is not
one of them: run folders written before it existed stay complete, and a stale one is
removed with the results (`sim.batch.runs.clear_stale`)."""

Summary = RunSummary


@dataclass(frozen=True, repr=False)
class Result:
    """What a run produced.

    ``result.frames()`` gives its tables as pandas DataFrames; in a notebook a result
    shows its tables, and its ``repr`` is one line.

    Attributes:
        summary: flat metrics, in the order and meaning of `sim.output.summary.Summary`.
        events: every event, in order (none when the run's ``log`` is ``summary``).
        timeseries: one mapping per sample, same keys in every row.
        replicas: one record per replica requested and finished (ready or failed).
        pulls: one record per image pull that ended.
        links: the network's links with what crossed them (`LinkUsage`), for drawing
            the topology.
        warnings: what the run wants its user to know (printed after its tables), one
            line each.
        world: what the run had that no event says (`World`); None when the run kept
            no events (``log: summary``).
        serves_traffic: whether the run has a service (its summary's requests count,
            zero or not).
    """

    summary: Summary
    events: Sequence[Event]
    timeseries: Sequence[Mapping[str, float | int]]
    replicas: Sequence[ReplicaRecord]
    pulls: Sequence[PullRecord]
    links: Sequence[LinkUsage] = ()
    warnings: Sequence[str] = ()
    world: World | None = None
    serves_traffic: bool = False

    def frames(self) -> ResultFrames:
        """The run's tables as pandas DataFrames (`sim.output.frames`): ``summary``,
        ``timeseries`` (with ``columns``: each one's unit and kind), ``replicas``,
        ``pulls`` and ``events``, each built when first read.

        Raises:
            ImportError: pandas is not installed (``pip install 'sim[analysis]'``).
        """
        from sim.output.frames import ResultFrames

        return ResultFrames(self)

    def __repr__(self) -> str:
        summary = self.summary
        ready = sum(replica.state == "ready" for replica in self.replicas)
        return (
            f"<Result seed={summary['seed']} sim_time_s={summary['sim_time_s']:g}: "
            f"{ready} of {len(self.replicas)} replicas ready, {len(self.pulls)} pulls, "
            f"{len(self.events)} events, {len(self.timeseries)} samples>"
        )

    def _repr_html_(self) -> str:
        """The run's tables, for a notebook."""
        from sim.output.markup import escape, table_html
        from sim.output.tables import run_tables

        shown = run_tables(self.summary, self.replicas, self.serves_traffic)
        tables = [table_html(table) for table in shown]
        hint = "result.frames() gives every table as a DataFrame"
        return f"<div>{''.join(tables)}<p><small>{escape(hint)}</small></p></div>"

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


WORLD_PARTS: dict[str, type] = {
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
        part: [list(astuple(row)) for row in getattr(world, part)] for part in WORLD_PARTS
    }
    document["mirrors"] = [list(pair) for pair in world.mirrors]
    document["billing_minimum_s"] = world.billing_minimum_s
    document["links"] = [list(link) for link in links]
    return json.dumps(document, separators=(",", ":")) + "\n"
