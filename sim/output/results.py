"""Results of a run: the summary, the event log, the time series, and writing them.

A run's folder holds ``summary.json`` (flat metrics, documented in docs/results.md),
``events.csv`` (one row per event: ``time_s,source,kind,details``), ``timeseries.csv``
(one row per sample period) and ``replicas.csv`` / ``pulls.csv`` (one row per replica
and per pull). Every file is written to a temporary name and renamed into place, so an
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
from sim.core.records import Event, LinkUsage, PullRecord, ReplicaRecord

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
    """

    summary: Summary
    events: Sequence[Event]
    timeseries: Sequence[Mapping[str, float | int]]
    replicas: Sequence[ReplicaRecord]
    pulls: Sequence[PullRecord]
    links: Sequence[LinkUsage] = ()
    warnings: Sequence[str] = ()

    def write(self, folder: str | os.PathLike[str]) -> Path:
        """Write the run's files into `folder` (created if needed); returns its path."""
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        write_atomic(path / "summary.json", summary_json(self.summary))
        write_atomic(path / "events.csv", events_csv(self.events))
        write_atomic(path / "timeseries.csv", rows_csv(self.timeseries))
        write_atomic(path / "replicas.csv", records_csv(self.replicas, ReplicaRecord))
        write_atomic(path / "pulls.csv", records_csv(self.pulls, PullRecord))
        return path


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
