"""Scheduling: what kube-scheduler's scores do to start-up and to a zone outage.

**Image locality.** A rolling deployment (10 s apart) onto 3 warm and 5 cold m5.2xlarge
nodes (``configs/experiment/scheduling.yaml``): a warm-up pod ran on each warm node and
left, so its image stays in the node's layer store and the node reports it. The rollout
is placed by kube-scheduler's default profile with ImageLocality at its weight 1 or
turned off (weight 0), for the shop's 320 MB ``web`` image and a 1.5 GB one, and for 3
replicas (as many as warm nodes) or 6. Reported per point (mean and 95 % interval over
the seeds, within each metric's range; shares pooled with Wilson intervals):

* ``warm_share`` — rollout replicas placed on a warm node (no pull);
* ``startup_s_p95`` and ``startup_s_mean`` — request to ready of the rollout's replicas;
* ``mb_pulled`` — compressed bytes the registries served.

**Zone outage.** Six one-vCPU replicas of a served app (Poisson requests, 12/s of 0.25 s
CPU: half busy) on six m5.2xlarge nodes in zones a, b and c (two each); zone a fails at
10 min for 15 min. Three ways to place them: the default profile (LeastAllocated and the
system's soft spreading over hosts and zones), bin-packing (MostAllocated, no default
spreading), and bin-packing with a hard zone spread (``topology_spread``: maxSkew 1 on
``topology.kubernetes.io/zone``, DoNotSchedule). Reported:

* ``lost_share`` — the app's replicas lost in the outage (pooled over the seeds, with
  Wilson's interval: bin-packing loses all six or none);
* ``failed_share`` — requests that failed; ``availability`` — requests served within the
  SLO's 1 s;
* ``time_to_recover_s`` — until six replicas serve again (the control plane replaces the
  lost pods after the grace period and the not-ready toleration, 50 s + 300 s).

Run ``python experiments/scheduling.py`` (8 + 3 points × 10 seeds); ``--quick`` runs the
320 MB image with 3 replicas and two zone points, 2 seeds each, on short horizons.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.batch.study import (  # noqa: E402
    Measure,
    Metric,
    Point,
    Proportion,
    StudyRun,
    print_table,
    run_study,
    study_table,
    summary_metric,
    write_table,
)
from sim.batch.study_figures import error_bars, figure_options, save_figure  # noqa: E402
from sim.core.intervals import NON_NEGATIVE  # noqa: E402
from sim.output.results import Result  # noqa: E402
from sim.output.summary import percentile  # noqa: E402

STUDY = "scheduling"
ROLLOUT_APP = "app"
IMAGES = ("web", "big")
ROLLOUTS = (3, 6)
REPLICAS = 6
"""The served app's replicas in the zone-outage part."""
LOCALITY_COMMON = ("+experiment=scheduling", "progress=false")
ZONE_COMMON = (
    "workload=poisson",
    "platform=container",
    "autoscaler=none",
    "progress=false",
    "cluster.scaler.enabled=false",
    "cluster.pools.node.count=6",
    "cluster.pools.node.zones=[a,b,c]",
    "platform.container.placement=scheduler",
    f"workload.service.initial_replicas={REPLICAS}",
    "workload.service.balancer=least_outstanding",
    "workload.traffic.arrivals={kind: poisson, rate_per_s: 12}",
    "workload.traffic.request.cpu={dist: exponential, mean: 250ms}",
    "+slo={latency_p95: 1s, drop_ratio: 0.01}",
)
ZONE_SPREAD = (
    "+workload.apps.web.topology_spread=[{max_skew: 1, "
    "topology_key: topology.kubernetes.io/zone, when_unsatisfiable: DoNotSchedule}]"
)
ZONES = {
    "default profile": (),
    "bin-packing": (
        "cluster.scheduler.scoring_strategy=MostAllocated",
        "cluster.scheduler.default_spread=None",
    ),
    "bin-packing + zone spread": (
        "cluster.scheduler.scoring_strategy=MostAllocated",
        "cluster.scheduler.default_spread=None",
        ZONE_SPREAD,
    ),
}


def outage(at_min: int, duration_min: int, horizon_min: int) -> tuple[str, ...]:
    return (
        f"+faults=[{{kind: zone-outage, target: a, at: {at_min}min, duration: {duration_min}min}}]",
        f"horizon={horizon_min}min",
    )


def rollout(result: Result) -> list[Any]:
    """The rollout's replicas that started."""
    return [r for r in result.replicas if r.app == ROLLOUT_APP and r.state == "ready"]


def startup_times(result: Result) -> list[float]:
    return [r.ready_s - r.requested_s for r in rollout(result) if r.ready_s is not None]


def on_warm_node(result: Result) -> float:
    return float(sum(r.host.startswith("warm-") for r in rollout(result)))


def mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None


LOCALITY_METRICS: dict[str, Metric] = {
    "warm_share": Proportion(on_warm_node, lambda result: float(len(rollout(result)))),
    "startup_s_p95": Measure(lambda result: percentile(startup_times(result), 95), NON_NEGATIVE),
    "startup_s_mean": Measure(lambda result: mean(startup_times(result)), NON_NEGATIVE),
    "mb_pulled": Measure(lambda result: result.summary["bytes_from_registry"] / 1e6, NON_NEGATIVE),
}

ZONE_METRICS: dict[str, Metric] = {
    "lost_share": Proportion(
        lambda result: result.summary["replicas_lost"], lambda result: float(REPLICAS)
    ),
    "failed_share": Proportion(
        lambda result: result.summary["requests_failed"],
        lambda result: result.summary["requests_total"],
    ),
    "availability": summary_metric("availability"),
    "time_to_recover_s": summary_metric("time_to_recover_s"),
}


def locality_points(images: Sequence[str], rollouts: Sequence[int]) -> list[Point]:
    return [
        Point(
            f"{image}, {replicas} replicas, ImageLocality {'on' if weight else 'off'}",
            (
                f"workload.apps.app.image={image}",
                f"workload.apps.warmup.image={image}",
                f"workload.deployments.1.replicas={replicas}",
                f"cluster.scheduler.scores.ImageLocality={weight}",
            ),
            {"image": image, "replicas": replicas, "image_locality": weight},
        )
        for image in images
        for replicas in rollouts
        for weight in (1, 0)
    ]


def zone_points(names: Sequence[str], schedule: Sequence[str]) -> list[Point]:
    return [Point(name, (*ZONES[name], *schedule), {"placement": name}) for name in names]


def plot(
    locality: Sequence[dict[str, Any]],
    zones: Sequence[dict[str, Any]],
    path: Path,
    args: argparse.Namespace,
) -> None:
    """Warm share and start-up p95 with ImageLocality on and off; replicas lost and
    availability by placement in the zone outage."""
    fig, axes = plt.subplots(2, 2, figsize=(8.4, 6.4))
    groups = sorted({(row["image"], row["replicas"]) for row in locality})
    x = np.arange(len(groups))
    for offset, (weight, label) in ((-0.18, (1, "on")), (0.18, (0, "off"))):
        rows = [
            next(
                r
                for r in locality
                if (r["image"], r["replicas"]) == g and r["image_locality"] == weight
            )
            for g in groups
        ]
        for ax, metric in ((axes[0, 0], "warm_share"), (axes[0, 1], "startup_s_p95")):
            ax.bar(
                x + offset,
                [row[metric] for row in rows],
                width=0.36,
                yerr=error_bars(rows, metric),
                capsize=3,
                label=f"ImageLocality {label}",
            )
    for ax, ylabel in (
        (axes[0, 0], "rollout replicas on warm nodes (share)"),
        (axes[0, 1], "rollout start-up p95 (s)"),
    ):
        ax.set_xticks(x, [f"{image}\n{replicas} replicas" for image, replicas in groups])
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].set_ylim(0, 1)
    axes[0, 0].legend(fontsize=8)
    names = [row["placement"] for row in zones]
    for ax, metric, ylabel in (
        (axes[1, 0], "lost_share", "share of the replicas lost in the outage"),
        (axes[1, 1], "availability", "availability (within the SLO)"),
    ):
        ax.bar(
            range(len(zones)),
            [row[metric] for row in zones],
            yerr=error_bars(zones, metric),
            capsize=3,
            color="tab:gray",
        )
        ax.set_xticks(
            range(len(zones)), [name.replace(" + ", "\n+ ") for name in names], fontsize=8
        )
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(
        "Scheduling: image locality on a rollout; spreading against a zone outage", fontsize=11
    )
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run both parts; returns the rows of both tables (locality first)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 + 2 points, 2 seeds, short")
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    replications = 2 if args.quick else args.replications
    progress = False if args.no_progress else None
    if args.quick:
        locality = locality_points(("web",), (3,))
        zones = zone_points(("default profile", "bin-packing + zone spread"), outage(5, 5, 15))
    else:
        locality = locality_points(IMAGES, ROLLOUTS)
        zones = zone_points(tuple(ZONES), outage(10, 15, 40))
    locality_runs: list[StudyRun] = run_study(
        locality, replications, common=LOCALITY_COMMON, progress=progress
    )
    zone_runs: list[StudyRun] = run_study(
        zones, replications, common=ZONE_COMMON, progress=progress
    )
    locality_rows = study_table(locality_runs, LOCALITY_METRICS)
    zone_rows = study_table(zone_runs, ZONE_METRICS)
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(locality_rows, args.out / f"{STUDY}_locality.csv")
    write_table(zone_rows, args.out / f"{STUDY}_zones.csv")
    plot(locality_rows, zone_rows, args.out / f"{STUDY}.png", args)
    print_table(
        locality_rows,
        f"A rollout onto warm and cold nodes ({replications} seeds; mean [95 % interval])",
        tuple(LOCALITY_METRICS),
    )
    print_table(
        zone_rows,
        f"Zone a out for a while under three placements ({replications} seeds)",
        tuple(ZONE_METRICS),
    )
    return [*locality_rows, *zone_rows]


if __name__ == "__main__":
    main()
