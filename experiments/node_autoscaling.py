"""Node autoscaling: what the node scaler costs and how long pods wait for nodes.

A web service (1-vCPU, 2 GiB pods, 500 ms of CPU per request) scaled by the Kubernetes
HPA (60 % of the CPU request, 2 to 40 pods) shares the cluster with pods of other sizes
(``+experiment=node_autoscaling``): six 0.25-vCPU cache pods all along, and waves of
batch pods, three 2-vCPU / 4 GiB workers for 40 minutes and two 4-vCPU / 12 GiB ETL
jobs for 30 minutes. The cluster starts with one m5.large (the system node); every
other node is the node scaler's. Five node scalers:

* ``simple`` — the simulator's own: m5.xlarge hosts (4 vCPU, 16 GiB) first-fit for the
  pending pods, one removed after 10 minutes running nothing (up to 30);
* ``ca-least-waste`` — the Cluster Autoscaler over three node groups of 0 to 10 nodes
  (m5.xlarge, c5.xlarge, r5.large), grown by its default expander, least-waste;
* ``ca-price`` — the same with the price expander;
* ``karpenter`` — Karpenter, one NodePool over the m5, c5 and r5 families on demand,
  consolidating empty and underutilised nodes;
* ``karpenter-spot`` — the same NodePool allowing spot (taken first, 30 % of the
  on-demand price, each spot node interrupted at 0.05 per hour with a 2-minute notice).

Two loads:

* ``flash`` — 2 requests/s, then a flash crowd to 20 requests/s from 30 to 50 minutes
  (the peak needs 10 busy vCPUs, 17 pods at 60 %), batch waves at 10 and 70 minutes;
  two hours;
* ``day`` — one day of a diurnal cycle, 0.8 requests/s at 02:00 to 16 at 14:00 (8
  busy vCPUs, 14 pods at 60 %), a batch wave every two hours.

Metrics: the bill (instances billed per second, spot at its fraction), the time from a
pod's request to its placement on a node (each run's p95), the most pods pending at
once, the share of requests dropped, p95 latency, node-hours in all and per instance
type and capacity type, nodes launched, the disruptions of nodes running pods and the
pods they evicted, spot interruptions. Each is the mean over the seeds with a 95 % t
interval cut to the metric's range (the drop share within [0, 1], quantities that cannot
be negative at 0). The drop share is each run's, averaged over the seeds: drops come in
bursts while pods wait for nodes, so the seeds differ far more than an interval on the
pooled count would say.

Every scaler sees the same requests and pods for a given seed (common random numbers:
the arrivals come from named streams, and the traffic opens when the same two initial
pods are ready on the system node).

Run ``python experiments/node_autoscaling.py`` (10 seeds; ``--quick``: a 30-minute crowd
and a 2-hour "day" at half the rates with two waves, 2 seeds).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.batch.study import (  # noqa: E402
    Measure,
    Metric,
    Point,
    StudyRun,
    cached_compose,
    print_table,
    run_study,
    study_table,
    summary_metric,
    write_table,
)
from sim.batch.study_figures import error_bars, figure_options, save_figure  # noqa: E402
from sim.core.intervals import NON_NEGATIVE, SHARE  # noqa: E402
from sim.output.results import Result  # noqa: E402

STUDY = "node_autoscaling"
SCALERS: dict[str, tuple[str, ...]] = {  # label: overrides (see the module's docstring)
    "simple": (
        "cluster/scaler=simple",
        "cluster.scaler.enabled=true",
        "cluster.scaler.instance_type=m5.xlarge",
        "cluster.scaler.max_hosts=30",
        "cluster.scaler.node_metrics=true",
    ),
    "ca-least-waste": ("cluster/scaler=cluster-autoscaler",),
    "ca-price": ("cluster/scaler=cluster-autoscaler", "cluster.scaler.expander=price"),
    "karpenter": ("cluster/scaler=karpenter",),
    "karpenter-spot": (
        "cluster/scaler=karpenter",
        "cluster.scaler.node_pools.default.capacity_types=[on-demand,spot]",
    ),
}
COMMON = ("+experiment=node_autoscaling", "progress=false", "log=summary")


@dataclass(frozen=True)
class Load:
    """One load of the study: its name, horizon, traffic and batch waves."""

    name: str
    horizon_s: float
    traffic: tuple[str, ...]
    wave_every_s: float
    first_wave_s: float

    def deployments(self) -> str:
        """The cache pods and a wave of batch pods every `wave_every_s`."""
        entries = ["{app: cache, replicas: 6, platform: container}"]
        at_s = self.first_wave_s
        while at_s < self.horizon_s:
            entries.append(
                f"{{app: worker, replicas: 3, platform: container, at: {at_s:g}s, lifetime: 40min}}"
            )
            entries.append(
                "{app: etl, replicas: 2, platform: container, "
                f"at: {at_s + 600:g}s, lifetime: 30min}}"
            )
            at_s += self.wave_every_s
        return "workload.deployments=[" + ", ".join(entries) + "]"

    def overrides(self) -> tuple[str, ...]:
        return (*self.traffic, f"horizon={self.horizon_s:g}s", self.deployments())


def flash(horizon_s: float, start_s: float, duration_s: float) -> Load:
    return Load(
        "flash",
        horizon_s,
        (
            f"workload.traffic.arrivals.start={start_s:g}s",
            f"workload.traffic.arrivals.duration={duration_s:g}s",
        ),
        wave_every_s=3600.0,
        first_wave_s=600.0,
    )


def day(period_s: float, peak_per_s: float, wave_every_s: float) -> Load:
    return Load(
        "day",
        period_s,
        (
            "~workload.traffic.arrivals",
            "+workload.traffic.arrivals={kind: diurnal, "
            f"trough_per_s: {peak_per_s / 20:g}, peak_per_s: {peak_per_s:g}, "
            f"period: {period_s:g}s, peak_at: {period_s * 14 / 24:g}s}}",
        ),
        wave_every_s=wave_every_s,
        first_wave_s=600.0,
    )


FULL = (flash(7200.0, 1800.0, 1200.0), day(86400.0, 16.0, 7200.0))
QUICK = (flash(1800.0, 600.0, 600.0), day(7200.0, 8.0, 3600.0))

COLUMNS = (  # printed; the CSV has every metric
    "cost_usd",
    "time_to_schedule_s_p95",
    "pods_pending_max",
    "drop_ratio",
    "latency_s_p95",
    "node_hours",
    "node_disruptions",
    "spot_interruptions",
)


def drop_ratio(result: Result) -> float | None:
    """The share of the run's requests dropped (None without requests)."""
    total = result.summary["requests_total"]
    return result.summary["requests_dropped"] / total if total else None


def node_hours_of(kind: str) -> Metric:
    """Node-hours of one instance type and capacity type (0 in a run without any)."""
    return Measure(
        lambda result: float(result.summary.get(f"node_hours:{kind}", 0.0)), NON_NEGATIVE
    )


def node_kinds(runs: Sequence[StudyRun]) -> list[str]:
    """Every ``<type>:<capacity>`` some run had nodes of, sorted."""
    kinds = {
        key.removeprefix("node_hours:")
        for run in runs
        for key in run.result.summary
        if key.startswith("node_hours:")
    }
    return sorted(kinds)


def metrics(kinds: Sequence[str]) -> dict[str, Metric]:
    named: dict[str, Metric] = {
        name: summary_metric(name)
        for name in (
            "cost_usd",
            "time_to_schedule_s_p95",
            "time_to_schedule_s_mean",
            "pods_pending_max",
            "requests_total",
            "requests_served",
            "requests_in_flight",
            "requests_dropped",
            "latency_s_p95",
            "replicas_max",
            "node_hours",
            "nodes_launched",
            "node_disruptions",
            "pods_evicted",
            "spot_interruptions",
        )
    }
    named["drop_ratio"] = Measure(drop_ratio, SHARE)
    named.update({f"node_hours:{kind}": node_hours_of(kind) for kind in kinds})
    return named


def points(loads: Sequence[Load]) -> list[Point]:
    return [
        Point(f"{load.name}/{scaler}", (*overrides, *load.overrides()), {"load": load.name})
        for load in loads
        for scaler, overrides in SCALERS.items()
    ]


PANELS = (
    ("cost_usd", "bill (USD)"),
    ("time_to_schedule_s_p95", "time to schedule p95 (s)"),
    ("drop_ratio", "requests dropped (share)"),
    ("latency_s_p95", "latency p95 (s)"),
)


def plot(rows: Sequence[dict[str, Any]], kinds: Sequence[str], title: str) -> Any:
    """Per load (a column each): the bill, the time to schedule, the drop share and p95
    latency per scaler (mean, 95 % interval), and node-hours stacked by instance type
    and capacity type."""
    loads = list(dict.fromkeys(row["load"] for row in rows))
    fig, axes = plt.subplots(
        len(PANELS) + 1, len(loads), figsize=(4.2 * len(loads), 12), dpi=110, squeeze=False
    )
    for column, load in enumerate(loads):
        members = [row for row in rows if row["load"] == load]
        labels = [row["point"].split("/", 1)[1] for row in members]
        for panel, (metric, label) in enumerate(PANELS):
            axis = axes[panel][column]
            axis.bar(
                range(len(members)),
                [row[metric] for row in members],
                yerr=error_bars(members, metric),
                capsize=3,
                color=[f"C{i}" for i in range(len(members))],
            )
            axis.set_xticks(range(len(members)), [])
            axis.set_ylabel(label, fontsize=8)
            axis.tick_params(labelsize=7)
            if panel == 0:
                axis.set_title(load, fontsize=9)
        axis = axes[len(PANELS)][column]
        bottom = [0.0] * len(members)
        for index, kind in enumerate(kinds):
            heights = [row[f"node_hours:{kind}"] for row in members]
            if not any(heights):
                continue
            hatch = "//" if kind.endswith(":spot") else None
            axis.bar(
                range(len(members)),
                heights,
                bottom=bottom,
                color=f"C{index % 10}",
                hatch=hatch,
                label=kind,
            )
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        axis.set_xticks(range(len(members)), labels, rotation=30, ha="right", fontsize=7)
        axis.set_ylabel("node-hours by type (mean)", fontsize=8)
        axis.tick_params(labelsize=7)
        if column == len(loads) - 1:
            axis.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications", type=int, default=None, help="seeds per point (default 10; 2 quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a 30-minute crowd and a 2-hour day, 2 seeds"
    )
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    replications = args.replications or (2 if args.quick else 10)
    loads = QUICK if args.quick else FULL
    runs = run_study(
        points(loads),
        replications,
        common=COMMON,
        progress=False if args.no_progress else None,
        compose=cached_compose(),
    )
    kinds = node_kinds(runs)
    rows = study_table(runs, metrics(kinds))
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    title = (
        f"Node scalers under an HPA-scaled service and batch pods: mean, 95 % interval of "
        f"{replications} seeds"
    )
    print_table(rows, title, COLUMNS)
    figure = plot(rows, kinds, title)
    save_figure(figure, args.out / f"{STUDY}.png", args)
    plt.close(figure)
    return rows


if __name__ == "__main__":
    main()
