"""The tables a run's results are shown in, as text cells: one source for the terminal
(`sim.output.report`) and the HTML page (`sim.output.html`).

A `TextTable` is a title, a header and rows of strings, with the columns that hold
numbers marked (they are right-aligned, and a page sorts them as numbers). Building the
cells here, once, keeps the terminal and the page showing the same figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.core.records import ReplicaRecord
from sim.core.units import format_duration, format_size
from sim.output.summary import percentile

PHASES = {
    "wait_s": "wait",
    "provision_s": "provision",
    "boot_s": "boot",
    "pull_download_s": "download",
    "pull_extract_s": "extract",
    "create_s": "create",
    "start_s": "start",
    "init_s": "init",
}
"""A replica's start-up phases, by `ReplicaRecord` field, with their column names."""


@dataclass(frozen=True)
class TextTable:
    """A table of text cells.

    Attributes:
        title: what the table shows.
        header: the column names; shown unless `show_header` is false.
        rows: one tuple of cells per row, as long as the header.
        numeric: per column, whether it holds numbers (right-aligned; sorted as numbers).
        show_header: whether the header is shown (a two-column list of facts has none).
    """

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    show_header: bool = True


def seconds_text(value: float | None) -> str:
    """Seconds as a table shows them: two decimals below 100 s, none above; ``-`` for
    none."""
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _mean_phase(records: Sequence[ReplicaRecord], phase: str) -> str:
    values = [getattr(record, phase) for record in records]
    mean = sum(values) / len(values) if values else 0.0
    return "" if mean == 0.0 else seconds_text(mean)


def startup_table(summary: Mapping[str, Any], replicas: Sequence[ReplicaRecord]) -> TextTable:
    """Replica start-up by deployment wave (app, platform, when it was asked for):
    replicas ready of those asked for, median and 95th percentile start-up, and each
    phase's mean over the ready ones."""
    title = (
        f"Replica start-up by deployment (seed {summary['seed']}, "
        f"simulated {format_duration(summary['sim_time_s'])}); phases: mean seconds"
    )
    waves: dict[tuple[str, str, float], list[ReplicaRecord]] = {}
    for record in replicas:
        waves.setdefault((record.app, record.platform, record.requested_s), []).append(record)
    rows = []
    for (app, platform, requested_s), records in sorted(waves.items(), key=lambda item: item[0][2]):
        ready = [r for r in records if r.ready_s is not None]
        times = [r.startup_s for r in ready if r.startup_s is not None]
        rows.append(
            (
                f"{app} / {platform} / {format_duration(requested_s)}",
                f"{len(ready)}/{len(records)}",
                seconds_text(percentile(times, 50)),
                seconds_text(percentile(times, 95)),
                *(_mean_phase(ready, phase) for phase in PHASES),
            )
        )
    header = ("app / platform / at", "ready", "p50", "p95", *PHASES.values())
    return TextTable(title, header, tuple(rows), (False, *(True,) * (len(header) - 1)))


def unfinished_table(replicas: Sequence[ReplicaRecord]) -> TextTable | None:
    """Replicas still on their way when the run ended, by app, platform, state and why;
    None when every replica became ready or failed."""
    groups: dict[tuple[str, str, str, str], int] = {}
    for record in replicas:
        if record.state in ("ready", "failed"):
            continue
        key = (record.app, record.platform, record.state, record.reason)
        groups[key] = groups.get(key, 0) + 1
    if not groups:
        return None
    rows = tuple(
        (f"{app} / {platform}", str(count), state, reason or "-")
        for (app, platform, state, reason), count in groups.items()
    )
    return TextTable(
        "Not ready when the run ended",
        ("app / platform", "replicas", "state", "why"),
        rows,
        (False, True, False, False),
    )


def _facts(title: str, rows: Sequence[tuple[str, str]]) -> TextTable:
    return TextTable(title, ("what", "value"), tuple(rows), (False, True), show_header=False)


def pulls_table(summary: Mapping[str, Any]) -> TextTable:
    """Pulls, layers and bytes of the run's image pulls."""
    return _facts(
        "Image pulls",
        [
            ("pulls", f"{summary['pulls_completed']} completed, {summary['pulls_failed']} failed"),
            (
                "layers",
                f"{summary['layers_downloaded']} downloaded, {summary['layers_already_exists']} "
                f"already existed, {summary['layers_shared']} shared",
            ),
            ("from registries", format_size(summary["bytes_from_registry"])),
            ("mirrors from upstream", format_size(summary["bytes_from_upstream"])),
            ("disk peak (one host)", format_size(summary["disk_bytes_peak"])),
        ],
    )


def service_table(summary: Mapping[str, Any], serves_traffic: bool = False) -> TextTable | None:
    """Requests, latency, faults, scaling and cost of a run with a service (shown even
    when no request arrived: that is the news); None without."""
    if not summary.get("requests_total") and not serves_traffic:
        return None
    dropped = ", ".join(
        f"{key.removeprefix('requests_dropped_').replace('_', ' ')} {value}"
        for key, value in summary.items()
        if key.startswith("requests_dropped_") and value
    )
    rows = [
        (
            "requests",
            f"{summary['requests_total']} arrived, {summary['requests_served']} served, "
            f"{summary['requests_in_flight']} in flight, {summary['requests_dropped']} dropped"
            + (f" ({dropped})" if dropped else "")
            + (f", {summary['requests_failed']} failed" if summary.get("requests_failed") else ""),
        )
    ]
    if summary.get("hosts_failed"):
        recover = summary.get("time_to_recover_s")
        rows.append(
            (
                "faults",
                f"{summary['hosts_failed']} hosts failed, {summary['replicas_lost']} replicas "
                f"lost, {summary['replicas_replaced']} replaced"
                + (f", recovered within {recover:.0f} s" if recover is not None else ""),
            )
        )
    if summary.get("spot_interruptions") or summary.get("spot_savings_usd"):
        rows.append(
            (
                "spot",
                f"{summary['spot_interruptions']} interruptions, "
                f"{summary['spot_savings_usd']:.2f} USD saved against on demand",
            )
        )
    if summary.get("slo_violation_s") or summary.get("availability") not in (None, 1.0):
        rows.append(
            (
                "availability / SLO violated",
                f"{100 * (summary.get('availability') or 0):.3f} % / "
                f"{summary.get('slo_violation_s', 0):.0f} s",
            )
        )
    latency = " / ".join(
        seconds_text(summary[f"latency_s_{stat}"]) for stat in ("mean", "p50", "p95", "p99")
    )
    rows.append(("latency mean / p50 / p95 / p99 (s)", latency))
    rows.append(
        (
            "scaling",
            f"{summary['scaling_actions']} replica actions (max {summary['replicas_max']}), "
            f"{summary['cluster_scaling_actions']} host actions (max {summary['hosts_max']})",
        )
    )
    rows.append(
        (
            "cost",
            f"{summary['cost_usd']:.2f} USD ({summary['cost_usd_instances']:.2f} instances, "
            f"{summary['cost_usd_registries']:.4f} registries)",
        )
    )
    reserved = summary["vcpu_seconds_reserved"]
    used = summary["vcpu_seconds_used"]
    share = f" ({100 * used / reserved:.0f} % used)" if reserved else ""
    rows.append(("vCPU-seconds reserved / used", f"{reserved:.0f} / {used:.0f}{share}"))
    return _facts("Service", rows)


def run_tables(
    summary: Mapping[str, Any], replicas: Sequence[ReplicaRecord], serves_traffic: bool = False
) -> list[TextTable]:
    """A run's tables, in the order they are shown: start-up, replicas not ready (if
    any), image pulls, service (with a service or traffic)."""
    tables = [
        startup_table(summary, replicas),
        unfinished_table(replicas),
        pulls_table(summary),
        service_table(summary, serves_traffic),
    ]
    return [table for table in tables if table is not None]
