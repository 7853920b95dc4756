"""Warm pools: what keeping capacity warm buys against a crowd, and what it costs.

A web service (1-vCPU, 2 GiB pods, 500 ms of CPU per request) scaled by the Kubernetes
HPA (60 % of the CPU request, 2 to 40 pods) meets 2 requests/s and a crowd to 20
requests/s from 20 to 40 minutes of an hour (``+experiment=warm_pools``), on one
m5.large system node and the nodes the Cluster Autoscaler adds (m5.xlarge, c5.xlarge,
r5.large groups, least-waste). Without anything warm, a pod the crowd needs waits for
the HPA, then for a node (a scan, about 65 s of provisioning), then for its image.
Three levers keep capacity warm, each at several levels:

* **warm replicas** — the HPA's minimum (and the replicas at the start): 4 or 8
  instead of 2, ready before the crowd;
* **cached image** — the app's image on every node's disk from boot
  (``cluster.cached_images``: a node image, an AMI or data-volume snapshot, built with
  it), so a new pod starts without a pull;
* **headroom** — 2, 4 or 8 pause pods of the app's size at priority -1 (the Cluster
  Autoscaler's overprovisioning): they keep nodes' room taken, a service pod preempts
  one at once, and the pause pod, pending, makes the autoscaler add a node for it;

and one point with all three (4 warm replicas, the cached image, 4 pause pods). The
image lever is also run on a 1.5 GB image (``ml``), where pulling is what waits.

**Fair setup.** Every point meets the same requests for a seed (common random numbers:
requests flow from time zero, ``traffic.start: at_zero``), with the same HPA, node
groups and autoscaler settings; only the lever differs. Three crowd shapes with the
same peak: ``ramp`` (rises over the 20 minutes), ``step`` (the peak throughout),
``spike`` (rises and falls).

**Metrics.** Each run's share of the requests arriving from the crowd's start on that
were dropped (a `Measure` over seeds: drops come in bursts; the whole run's share too),
p95 latency, the service's replica-hours (its pods in service, sampled each
minute), node-hours and the bill (instances per second, pause pods' nodes included), as
mean and 95 % interval over the seeds within each metric's range. A front per shape
(drops against the bill) marks the levels no other beats on both; each lever is
compared with the baseline seed by seed (`sim.batch.claims`): fewer drops, dearer bill,
*holds*, *flips* or *tie*.

Run ``python experiments/warm_pools.py`` (5 seeds); ``--quick`` runs a 10-minute crowd
in a 30-minute run with four levels, 2 seeds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the studies, as modules

from node_autoscaling import drop_ratio  # noqa: E402
from startup_latency import Crowd, crowd_drops  # noqa: E402

from sim.batch.claims import compare  # noqa: E402
from sim.batch.study import (  # noqa: E402
    Measure,
    Metric,
    Point,
    StudyRun,
    by_point,
    cached_compose,
    print_table,
    run_study,
    study_table,
    summary_metric,
    write_table,
)
from sim.batch.study_figures import error_bars, figure_options, save_figure  # noqa: E402
from sim.batch.tune import Outcome, pareto_front  # noqa: E402
from sim.core.intervals import NON_NEGATIVE, SHARE  # noqa: E402
from sim.output.results import Result  # noqa: E402

STUDY = "warm_pools"
SHAPES = ("ramp", "step", "spike")
COMMON = ("+experiment=warm_pools", "progress=false", "log=summary")
SECONDS_PER_HOUR = 3600.0
BASELINE = "baseline"


def warm_replicas(count: int) -> tuple[str, ...]:
    return (f"autoscaler.min_capacity={count}", f"workload.service.initial_replicas={count}")


def headroom(pods: int) -> tuple[str, ...]:
    return (f"workload.deployments=[{{app: headroom, replicas: {pods}, platform: container}}]",)


CACHED = ("cluster.cached_images=[web]",)
ML = ("workload.apps.web.image=ml",)
LEVERS: dict[str, tuple[str, ...]] = {  # label: overrides (see the module's docstring)
    BASELINE: (),
    "min 4": warm_replicas(4),
    "min 8": warm_replicas(8),
    "cached image": CACHED,
    "headroom 2": headroom(2),
    "headroom 4": headroom(4),
    "headroom 8": headroom(8),
    "all: min 4, cached, headroom 4": (*warm_replicas(4), *CACHED, *headroom(4)),
    "ml image": ML,
    "ml image, cached": (*ML, "cluster.cached_images=[ml]"),
}
QUICK_LEVERS = (BASELINE, "min 4", "cached image", "headroom 2")
ML_LEVERS = ("ml image", "ml image, cached")
"""Another app (its image 1.5 GB larger): beside the front, not on it."""
COMPARED = {"ml image, cached": "ml image"}
"""Levers compared with another point than the baseline."""


FULL = Crowd(start_s=1200.0, duration_s=1200.0, horizon_s=3600.0)
QUICK = Crowd(start_s=600.0, duration_s=600.0, horizon_s=1800.0)


def replica_hours(result: Result) -> float:
    """The service's replicas in service, sampled at each period's end, times its
    length (pause pods and other deployments are not the service's)."""
    periods = result.timeseries
    return (
        sum(
            row["in_service"] * (row["time_s"] - before["time_s"])
            for before, row in zip(periods, periods[1:], strict=False)
        )
        / SECONDS_PER_HOUR
    )


def crowd_drop_ratio(crowd: Crowd) -> Measure:
    """The share of the requests arriving from the crowd's start on that were dropped,
    each run's (a `Measure` over seeds: drops come in bursts). Requests flow from time
    zero, before the first replicas are ready; those first seconds' drops are every
    level's alike and left out."""
    return Measure(crowd_drops(crowd), SHARE)


REPLICA_HOURS = Measure(replica_hours, NON_NEGATIVE)
COST = summary_metric("cost_usd")


def metrics(crowd: Crowd) -> dict[str, Metric]:
    return {
        "requests_total": summary_metric("requests_total"),
        "requests_served": summary_metric("requests_served"),
        "requests_in_flight": summary_metric("requests_in_flight"),
        "requests_dropped": summary_metric("requests_dropped"),
        "drop_ratio": Measure(drop_ratio, SHARE),
        "crowd_drop_ratio": crowd_drop_ratio(crowd),
        "latency_s_p95": summary_metric("latency_s_p95"),
        "replica_hours": REPLICA_HOURS,
        "node_hours": summary_metric("node_hours"),
        "cost_usd": COST,
        "nodes_launched": summary_metric("nodes_launched"),
    }


COLUMNS = ("crowd_drop_ratio", "latency_s_p95", "replica_hours", "node_hours", "cost_usd", "front")


def label(shape: str, lever: str) -> str:
    return f"{shape}/{lever}"


def points(crowd: Crowd, levers: Sequence[str]) -> list[Point]:
    return [
        Point(
            label(shape, lever),
            (*crowd.overrides(shape), *LEVERS[lever]),
            {"shape": shape, "lever": lever},
        )
        for shape in SHAPES
        for lever in levers
    ]


def mark_fronts(rows: list[dict[str, Any]]) -> None:
    """Mark each row on its shape's front of the crowd's drops against the bill (means);
    the large-image variant is another app, not a level, and is never on it."""
    for shape in SHAPES:
        members = {
            row["lever"]: row
            for row in rows
            if row["shape"] == shape and row["lever"] not in ML_LEVERS
        }
        front = set(
            pareto_front(
                {
                    lever: Outcome(row["crowd_drop_ratio"], row["cost_usd"])
                    for lever, row in members.items()
                }
            )
        )
        for row in rows:
            if row["shape"] == shape:
                row["front"] = "yes" if row["lever"] in front else ""


def claims(runs: Sequence[StudyRun], crowd: Crowd) -> list[dict[str, Any]]:
    """Each lever against the baseline (or its own reference), seed by seed: the paired
    difference of the crowd's drops, p95 latency and the bill, its interval and verdict:
    the lever drops fewer, has a lower p95, is dearer (the lever's minus the reference's
    below 0, below 0, above 0)."""
    checked = (
        ("crowd_drop_ratio", crowd_drop_ratio(crowd), "fewer drops", False),
        ("latency_s_p95", summary_metric("latency_s_p95"), "lower p95", False),
        ("cost_usd", COST, "dearer", True),
    )
    labels = by_point(runs)
    rows = []
    for point in labels:
        shape, lever = point.split("/", 1)
        reference = COMPARED.get(lever, BASELINE)
        if lever == reference or label(shape, reference) not in labels:
            continue
        row: dict[str, Any] = {"shape": shape, "lever": lever, "against": reference}
        for metric, measure, claim, above in checked:
            found = compare(runs, point, label(shape, reference), measure, above=above)
            row[f"{metric}_diff"] = found.interval.estimate
            row[f"{metric}_diff_low"] = found.interval.low
            row[f"{metric}_diff_high"] = found.interval.high
            row[f"{claim}"] = str(found.verdict)
        rows.append(row)
    return rows


def plot(rows: Sequence[dict[str, Any]], title: str) -> Any:
    """Per shape (a column each): drops and p95 latency against the bill, each level
    with its 95 % intervals both ways, the front joined."""
    fig, axes = plt.subplots(2, len(SHAPES), figsize=(5.0 * len(SHAPES), 8.5), squeeze=False)
    levers = list(dict.fromkeys(row["lever"] for row in rows))
    for column, shape in enumerate(SHAPES):
        members = [row for row in rows if row["shape"] == shape]
        for panel, (metric, name) in enumerate(
            (
                ("crowd_drop_ratio", "crowd's requests dropped (share)"),
                ("latency_s_p95", "latency p95 (s)"),
            )
        ):
            axis = axes[panel][column]
            for row in members:
                index = levers.index(row["lever"])
                xerr = [[v] for v in (e[0] for e in error_bars([row], "cost_usd"))]
                yerr = [[v] for v in (e[0] for e in error_bars([row], metric))]
                axis.errorbar(
                    row["cost_usd"],
                    row[metric],
                    xerr=xerr,
                    yerr=yerr,
                    fmt="s" if row["lever"] in ML_LEVERS else "o",
                    fillstyle="none" if row["lever"] in ML_LEVERS else "full",
                    color=f"C{index % 10}",
                    capsize=3,
                    label=row["lever"] if column == 0 and panel == 0 else None,
                )
            front = sorted((r for r in members if r["front"]), key=lambda r: r["cost_usd"])
            if panel == 0 and front:
                axis.plot(
                    [r["cost_usd"] for r in front],
                    [r["crowd_drop_ratio"] for r in front],
                    color="0.5",
                    linestyle="--",
                    linewidth=1,
                    label="front" if column == 0 else None,
                )
            axis.set_xlabel("bill (USD)", fontsize=8)
            axis.set_ylabel(name, fontsize=8)
            axis.tick_params(labelsize=7)
            if panel == 0:
                axis.set_title(shape, fontsize=9)
    fig.legend(loc="lower center", ncol=4, fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications", type=int, default=None, help="seeds per point (default 5; 2 quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a 10-minute crowd, four levels, 2 seeds"
    )
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    replications = args.replications or (2 if args.quick else 5)
    crowd = QUICK if args.quick else FULL
    levers = QUICK_LEVERS if args.quick else tuple(LEVERS)
    runs = run_study(
        points(crowd, levers),
        replications,
        common=COMMON,
        progress=False if args.no_progress else None,
        compose=cached_compose(),
    )
    rows = study_table(runs, metrics(crowd))
    mark_fronts(rows)
    verdicts = claims(runs, crowd)
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    write_table(verdicts, args.out / f"{STUDY}_claims.csv")
    title = (
        "Warm capacity against a crowd (HPA, Cluster Autoscaler): mean, 95 % interval of "
        f"{replications} seeds"
    )
    print_table(rows, title, COLUMNS)
    print_table(
        [{"point": f"{v['shape']}/{v['lever']} vs {v['against']}", **v} for v in verdicts],
        "Each lever against its reference, seed by seed (paired difference, 95 % interval)",
        (
            "crowd_drop_ratio_diff",
            "fewer drops",
            "latency_s_p95_diff",
            "lower p95",
            "cost_usd_diff",
            "dearer",
        ),
    )
    figure = plot(rows, title)
    save_figure(figure, args.out / f"{STUDY}.png", args)
    plt.close(figure)
    return rows


if __name__ == "__main__":
    main()
