"""Results of a run: the summary, the event log, the time series, and writing them.

A run's folder holds ``summary.json`` (flat metrics, documented in the README),
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
from sim.core.records import DropReason, Event, LinkUsage, PullRecord, ReplicaRecord

Summary = dict[str, Any]


@dataclass(frozen=True)
class Result:
    """What a run produced.

    Attributes:
        summary: flat metrics (see the README for each key).
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


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def startup_statistics(replicas: Sequence[ReplicaRecord], suffix: str = "") -> Summary:
    """Mean, median, 95th percentile and maximum of start-up times of ready replicas."""
    times = [r.startup_s for r in replicas if r.startup_s is not None]
    return {
        f"startup_s_mean{suffix}": sum(times) / len(times) if times else None,
        f"startup_s_p50{suffix}": percentile(times, 50),
        f"startup_s_p95{suffix}": percentile(times, 95),
        f"startup_s_max{suffix}": max(times) if times else None,
    }


def summarize(
    *,
    seed: int,
    replication: int,
    sim_time_s: float,
    hosts: int,
    replicas_requested: int,
    replicas: Sequence[ReplicaRecord],
    pulls_requested: int,
    pulls: Sequence[PullRecord],
    bytes_from_upstream: int,
    disk_bytes_peak: int,
    images_removed: int,
) -> Summary:
    """The flat summary of a run: a pure function of its records."""
    ended = [pull for pull in pulls if not pull.skipped]
    summary: Summary = {
        "seed": seed,
        "replication": replication,
        "sim_time_s": sim_time_s,
        "hosts": hosts,
        "replicas_requested": replicas_requested,
        "replicas_started": sum(r.state == "ready" for r in replicas),
        "replicas_failed": sum(r.state == "failed" for r in replicas),
        "replicas_unfinished": replicas_requested
        - sum(r.state in ("ready", "failed") for r in replicas),
    }
    summary.update(startup_statistics(replicas))
    for platform in sorted({r.platform for r in replicas if r.state in ("ready", "failed")}):
        summary.update(
            startup_statistics([r for r in replicas if r.platform == platform], f"_{platform}")
        )
    summary.update(
        {
            "pulls_requested": pulls_requested,
            "pulls_completed": sum(pull.ok for pull in ended),
            "pulls_failed": sum(not pull.ok for pull in ended),
            "pulls_unfinished": pulls_requested - len(ended),
            "pull_retries": sum(pull.retries for pull in ended),
            "layers_downloaded": sum(pull.layers_downloaded for pull in ended),
            "layers_already_exists": sum(pull.layers_already_exists for pull in ended),
            "layers_shared": sum(pull.layers_shared for pull in ended),
            "bytes_from_registry": sum(pull.bytes_downloaded for pull in ended),
            "bytes_from_upstream": bytes_from_upstream,
            "disk_bytes_peak": disk_bytes_peak,
            "images_removed": images_removed,
        }
    )
    return summary


DROP_REASONS = tuple(DropReason)


def service_summary(
    traffic: Any,
    *,
    in_flight: int,
    scaling_actions: int,
    cluster_scaling_actions: int,
    replicas_max: int,
    hosts_max: int,
) -> Summary:
    """Requests, latency and scaling of a run (zeros and nulls when it had no traffic).

    Every request that arrived is served (finished by the end), in flight at the end,
    or dropped with a reason: ``requests_total = requests_served + requests_in_flight +
    requests_dropped``.

    Args:
        traffic: the request statistics' summary (`sim.model.traffic.TrafficSummary`),
            or None.
        in_flight: requests assigned to a replica and not finished at the end.
    """
    dropped = dict(traffic.dropped) if traffic is not None else {}
    summary: Summary = {
        "requests_total": traffic.arrived if traffic is not None else 0,
        "requests_served": traffic.served - in_flight if traffic is not None else 0,
        "requests_in_flight": in_flight,
        "requests_dropped": sum(dropped.values()),
    }
    for reason in sorted(set(DROP_REASONS) | set(dropped)):
        summary[f"requests_dropped_{reason.replace(' ', '_')}"] = dropped.get(reason, 0)
    served = traffic is not None and traffic.served > 0
    summary.update(
        {
            "latency_s_mean": traffic.mean_latency_s if served else None,
            "latency_s_p50": traffic.latency_p50_s if served else None,
            "latency_s_p95": traffic.latency_p95_s if served else None,
            "latency_s_p99": traffic.latency_p99_s if served else None,
            "scaling_actions": scaling_actions,
            "cluster_scaling_actions": cluster_scaling_actions,
            "replicas_max": replicas_max,
            "hosts_max": hosts_max,
        }
    )
    return summary
