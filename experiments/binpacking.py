"""Bin-packing vs spread: what the scheduler's scoring does to the nodes a node
autoscaler buys, with pods of mixed sizes coming and going.

The node autoscaling study's workload (``+experiment=binpacking``, after
``+experiment=node_autoscaling``): a web service of 1-vCPU / 2 GiB pods scaled by the
HPA (2 to 40 pods) through a flash crowd, six 0.25-vCPU cache pods, and waves of three
2-vCPU / 4 GiB workers and 4-vCPU / 12 GiB ETL jobs, here arriving one by one (a
worker every 5 minutes for 25 minutes, an ETL job every 15 minutes for 20), on one
m5.large system node and the nodes a node autoscaler adds. Two ways to score nodes,
with kube-scheduler's framework (``platform.container.placement=scheduler``):

* ``spread`` — the default profile: NodeResourcesFit ``LeastAllocated`` and the system's
  soft topology spreading over hosts and zones;
* ``binpack`` — ``MostAllocated`` without the default spreading (as the scheduling
  study's bin-packing, and GKE's optimize-utilization profile);

under three node autoscalers:

* ``ca`` — the Cluster Autoscaler over m5.xlarge, c5.xlarge and r5.large groups
  (least-waste; scale-down below 50 % utilisation after 10 minutes);
* ``karpenter`` — one NodePool over m5, c5 and r5 on demand, consolidating empty and
  underutilised nodes (``WhenEmptyOrUnderutilized``);
* ``karpenter-empty`` — the same, consolidating only empty nodes (``WhenEmpty``).

**Fair setup.** Both scorings run with the same node autoscaler settings and the same
seeds: the same requests and the same batch pods at the same times (common random
numbers); only ``cluster.scheduler`` differs.

**Metrics** (mean and 95 % interval over the seeds, within each metric's range): the
bill and node-hours; fragmentation — vCPU free on nodes where the ETL pod (4 vCPU,
12 GiB) no longer fits (``cpu_stranded``, sampled each minute: its peak and its time
average, and the time average as a share of allocatable vCPU); pods' time to schedule
(p95 and mean) and the most pending at once; node-hours of *underused* nodes (pods
requesting below half the node's CPU and memory: what a scale-down wants gone and has
not removed, the closest to "scale-down blocked" a run can count); disruptions and
evictions; the service's drop share and p95 latency. Each scoring pair is also compared
seed by seed (`sim.batch.claims`): binpack bills less, strands less.

Run ``python experiments/binpacking.py`` (10 seeds, two hours); ``--quick``: a
30-minute crowd with two waves, 2 seeds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the studies, as modules

from node_autoscaling import Load, drop_ratio, flash, node_hours_of, node_kinds  # noqa: E402

from sim.batch.claims import compare  # noqa: E402
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

STUDY = "binpacking"
SCORINGS: dict[str, tuple[str, ...]] = {
    "spread": (),
    "binpack": (
        "cluster.scheduler.scoring_strategy=MostAllocated",
        "cluster.scheduler.default_spread=None",
    ),
}
SCALERS: dict[str, tuple[str, ...]] = {
    "ca": ("cluster/scaler=cluster-autoscaler",),
    "karpenter": ("cluster/scaler=karpenter",),
    "karpenter-empty": (
        "cluster/scaler=karpenter",
        "cluster.scaler.node_pools.default.consolidation_policy=WhenEmpty",
    ),
}
COMMON = ("+experiment=binpacking", "progress=false", "log=summary")
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Churn:
    """The study's load: the node autoscaling study's flash crowd, the cache pods, and
    batch pods arriving one by one — a 2-vCPU / 4 GiB worker every 5 minutes for 25
    minutes, a 4-vCPU / 12 GiB ETL job every 15 minutes for 20 — so that pods come while
    several nodes have room, and leave holes behind."""

    crowd: Load

    def deployments(self) -> str:
        horizon_s = self.crowd.horizon_s
        workers = int((horizon_s - 300.0) // 300.0)
        etls = int((horizon_s - 600.0) // 900.0)
        entries = (
            "{app: cache, replicas: 6, platform: container}",
            f"{{app: worker, replicas: {workers}, platform: container, at: 5min, "
            "stagger: 5min, lifetime: 25min}",
            f"{{app: etl, replicas: {etls}, platform: container, at: 10min, "
            "stagger: 15min, lifetime: 20min}",
        )
        return "workload.deployments=[" + ", ".join(entries) + "]"

    def overrides(self) -> tuple[str, ...]:
        return (*self.crowd.traffic, f"horizon={self.crowd.horizon_s:g}s", self.deployments())


FULL = Churn(flash(7200.0, 1800.0, 1200.0))
QUICK = Churn(flash(1800.0, 600.0, 600.0))


def _periods(result: Result) -> list[tuple[float, dict[str, Any]]]:
    """Each time-series row after the first with the length of the period it ends."""
    rows = result.timeseries
    return [
        (float(row["time_s"] - before["time_s"]), dict(row))
        for before, row in zip(rows, rows[1:], strict=False)
    ]


def time_average(column: str) -> Measure:
    """A column's time average over the run (each sample held over its period)."""

    def read(result: Result) -> float | None:
        periods = _periods(result)
        total = sum(length for length, _ in periods)
        return sum(length * row[column] for length, row in periods) / total if total else None

    return Measure(read, NON_NEGATIVE)


def peak(column: str) -> Measure:
    return Measure(
        lambda result: float(max(row[column] for row in result.timeseries)), NON_NEGATIVE
    )


def stranded_share(result: Result) -> float | None:
    """Time-averaged stranded vCPU over time-averaged allocatable vCPU."""
    periods = _periods(result)
    allocatable = sum(length * row["cpu_allocatable"] for length, row in periods)
    stranded = sum(length * row["cpu_stranded"] for length, row in periods)
    return stranded / allocatable if allocatable else None


def underused_node_hours(result: Result) -> float:
    """Node-hours of nodes below half their allocatable CPU and memory, sampled."""
    return sum(length * row["nodes_underused"] for length, row in _periods(result)) / (
        SECONDS_PER_HOUR
    )


COST = summary_metric("cost_usd")
STRANDED_MEAN = time_average("cpu_stranded")


def metrics(kinds: Sequence[str]) -> dict[str, Metric]:
    named: dict[str, Metric] = {
        name: summary_metric(name)
        for name in (
            "cost_usd",
            "node_hours",
            "nodes_launched",
            "time_to_schedule_s_p95",
            "time_to_schedule_s_mean",
            "pods_pending_max",
            "node_disruptions",
            "pods_evicted",
            "requests_total",
            "requests_served",
            "requests_in_flight",
            "requests_dropped",
            "latency_s_p95",
        )
    }
    named.update(
        {
            "cpu_stranded_mean": STRANDED_MEAN,
            "cpu_stranded_max": peak("cpu_stranded"),
            "cpu_stranded_share": Measure(stranded_share, SHARE),
            "cpu_free_mean": time_average("cpu_free"),
            "underused_node_hours": Measure(underused_node_hours, NON_NEGATIVE),
            "drop_ratio": Measure(drop_ratio, SHARE),
        }
    )
    named.update({f"node_hours:{kind}": node_hours_of(kind) for kind in kinds})
    return named


COLUMNS = (
    "cost_usd",
    "node_hours",
    "cpu_stranded_mean",
    "cpu_stranded_max",
    "time_to_schedule_s_p95",
    "underused_node_hours",
    "node_disruptions",
)


def label(scaler: str, scoring: str) -> str:
    return f"{scaler}/{scoring}"


def points(load: Churn) -> list[Point]:
    return [
        Point(
            label(scaler, scoring),
            (*scaler_overrides, *scoring_overrides, *load.overrides()),
            {"scaler": scaler, "scoring": scoring},
        )
        for scaler, scaler_overrides in SCALERS.items()
        for scoring, scoring_overrides in SCORINGS.items()
    ]


CLAIMS = (  # metric name, measure, claim: binpack's minus spread's is below 0
    ("cost_usd", COST, "binpack bills less"),
    ("cpu_stranded_mean", STRANDED_MEAN, "binpack strands less"),
    ("time_to_schedule_s_p95", summary_metric("time_to_schedule_s_p95"), "binpack waits less"),
)


def claims(runs: Sequence[StudyRun]) -> list[dict[str, Any]]:
    """Per node autoscaler: binpack against spread, seed by seed (paired differences)."""
    rows = []
    for scaler in SCALERS:
        row: dict[str, Any] = {"point": scaler, "scaler": scaler}
        for metric, measure, claim in CLAIMS:
            found = compare(
                runs, label(scaler, "binpack"), label(scaler, "spread"), measure, above=False
            )
            row[f"{metric}_diff"] = found.interval.estimate
            row[f"{metric}_diff_low"] = found.interval.low
            row[f"{metric}_diff_high"] = found.interval.high
            row[claim] = str(found.verdict)
        rows.append(row)
    return rows


PANELS = (
    ("cost_usd", "bill (USD)"),
    ("cpu_stranded_mean", "stranded vCPU, time average"),
    ("time_to_schedule_s_p95", "time to schedule p95 (s)"),
    ("underused_node_hours", "underused node-hours"),
)


def plot(rows: Sequence[dict[str, Any]], title: str) -> Any:
    """One panel per metric: spread and binpack side by side under each node autoscaler
    (mean, 95 % interval)."""
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.0 * len(PANELS), 4.2), squeeze=False)
    scalers = list(SCALERS)
    width = 0.38
    for panel, (metric, name) in enumerate(PANELS):
        axis = axes[0][panel]
        for offset, scoring in enumerate(SCORINGS):
            members = [row for row in rows if row["scoring"] == scoring]
            members.sort(key=lambda row: scalers.index(row["scaler"]))
            axis.bar(
                [i + (offset - 0.5) * width for i in range(len(members))],
                [row[metric] for row in members],
                width,
                yerr=error_bars(members, metric),
                capsize=3,
                color=f"C{offset}",
                label=scoring if panel == 0 else None,
            )
        axis.set_xticks(range(len(scalers)), scalers, fontsize=7)
        axis.set_ylabel(name, fontsize=8)
        axis.tick_params(labelsize=7)
    fig.legend(loc="upper right", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.95, 0.95))
    return fig


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications", type=int, default=None, help="seeds per point (default 10; 2 quick)"
    )
    parser.add_argument("--quick", action="store_true", help="a 30-minute crowd, 2 seeds")
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    replications = args.replications or (2 if args.quick else 10)
    load = QUICK if args.quick else FULL
    runs = run_study(
        points(load),
        replications,
        common=COMMON,
        progress=False if args.no_progress else None,
        compose=cached_compose(),
    )
    rows = study_table(runs, metrics(node_kinds(runs)))
    verdicts = claims(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    write_table(verdicts, args.out / f"{STUDY}_claims.csv")
    title = (
        "Bin-packing vs spread with mixed pod sizes under node autoscalers: mean, 95 % "
        f"interval of {replications} seeds"
    )
    print_table(rows, title, COLUMNS)
    print_table(
        verdicts,
        "binpack minus spread, seed by seed (paired difference, 95 % interval)",
        tuple(column for metric, _, claim in CLAIMS for column in (f"{metric}_diff", claim)),
    )
    figure = plot(rows, title)
    save_figure(figure, args.out / f"{STUDY}.png", args)
    plt.close(figure)
    return rows


if __name__ == "__main__":
    main()
