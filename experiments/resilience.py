"""Resilience: how much headroom, how many zones, and what spot capacity costs in availability.

A service of 6 one-vCPU replicas serves Poisson requests (12 per second, 0.25 s of CPU
each: 50 % busy) behind a least-outstanding load balancer, on m5.large hosts (2 vCPU:
two replicas each), so it needs N = 3 hosts. There is no autoscaler and no cluster
scaler: a replica lost with its host is replaced only where there is room. Each point
runs two simulated hours (``configs/experiment/resilience.yaml``) under

* host crashes: every host fails on its own after exponential times (mean 4 h, its own
  stream) and reboots 15 minutes later with its layer cache;
* one zone outage: zone ``a`` is down from 45 to 65 minutes (with one zone, that is
  every host);

and varies

* hosts: N = 3 (no spare) or N + 1 = 4 (one spare host's room);
* zones: 1, 2 or 3 (hosts take the zones in turn);
* spot: 0, 50 or 100 % of the hosts are spot instances at 30 % of the on-demand price,
  each reclaimed at 0.25 per hour (a deliberately harsh rate, to show the effect in two
  hours; EC2 reports most instance types below 5 % a month) after a two-minute notice,
  and replaced 90 s later.

The SLO is a p95 latency of 2 s and at most 1 % of requests dropped or failed per
one-minute period. Columns: ``availability`` (requests served within 2 s over those
that arrived), ``slo_violation_min`` (minutes in periods that broke the SLO),
``cost_usd`` (instances for the two hours), ``requests_failed`` (cut by a crash or a
reclaim), ``time_to_recover_s`` (the longest from a fault to as many replicas in
service as before), ``spot_savings_usd``; each the mean and 95 % interval over seeds.
Every point sees the same arrivals (the same named stream).

Run ``python experiments/resilience.py`` (18 points x 3 seeds, about 75 s on a 2-core
machine); ``--quick`` runs 8 points x 2 seeds of 30 minutes (the outage at 10-20 min).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.batch.study import (  # noqa: E402
    Point,
    print_table,
    run_study,
    study_table,
    summary_metric,
    write_table,
)
from sim.output.results import Result  # noqa: E402

STUDY = "resilience"
N_HOSTS = 3
ZONES = "abc"
SPOT = "{price_fraction: 0.3, interruptions_per_h: 0.25}"
SLO = "+slo={latency_p95: 2s, drop_ratio: 0.01}"
CRASHES = "{kind: host-crash, target: %s, mtbf: {dist: exponential, mean: 4h}, mttr: 15min}"
OUTAGE = "{kind: zone-outage, target: a, at: %s, duration: %s}"
QUICK = ("horizon=30min",)
COLUMNS = (
    "availability",
    "slo_violation_min",
    "cost_usd",
    "requests_failed",
    "time_to_recover_s",
    "spot_savings_usd",
)


def point(hosts: int, zones: int, spot_percent: int, quick: bool) -> Point:
    """One configuration: `hosts` m5.large hosts over `zones` zones, `spot_percent` of
    them spot instances, under host crashes and one outage of zone a."""
    spot_hosts = round(hosts * spot_percent / 100)
    on_demand = hosts - spot_hosts
    names = list(ZONES[:zones])
    overrides = [
        f"cluster.pools.node.count={on_demand}",
        f"+cluster.pools.node.zones=[{','.join(names)}]",
    ]
    pools = ["node"] if on_demand else []
    if spot_hosts:
        # The spot pool continues the zones where the on-demand pool left off.
        turn = on_demand % zones
        spot_zones = ",".join(names[turn:] + names[:turn])
        overrides.append(
            f"+cluster.pools.spot={{count: {spot_hosts}, instance_type: m5.large, disk: 100GB,"
            f" zones: [{spot_zones}], spot: {SPOT}}}"
        )
        pools.append("spot")
    outage = OUTAGE % (("10min", "10min") if quick else ("45min", "20min"))
    faults = [CRASHES % pool for pool in pools] + [outage]
    overrides += [f"+faults=[{', '.join(faults)}]", SLO]
    label = f"{hosts} hosts, {zones} zone{'s' if zones > 1 else ''}, {spot_percent} % spot"
    extra = {"hosts": hosts, "zones": zones, "spot_percent": spot_percent}
    return Point(label, tuple(overrides), extra)


def points(quick: bool) -> list[Point]:
    zones = (1, 3) if quick else (1, 2, 3)
    spot = (0, 100) if quick else (0, 50, 100)
    return [
        point(hosts, zone_count, spot_percent, quick)
        for hosts in (N_HOSTS, N_HOSTS + 1)
        for zone_count in zones
        for spot_percent in spot
    ]


def metrics() -> dict[str, Callable[[Result], float | None]]:
    return {
        "availability": summary_metric("availability"),
        "slo_violation_min": lambda result: result.summary["slo_violation_s"] / 60.0,
        "cost_usd": summary_metric("cost_usd"),
        "cost_usd_instances": summary_metric("cost_usd_instances"),
        "requests_failed": summary_metric("requests_failed"),
        "requests_dropped": summary_metric("requests_dropped"),
        "time_to_recover_s": summary_metric("time_to_recover_s"),
        "hosts_failed": summary_metric("hosts_failed"),
        "spot_interruptions": summary_metric("spot_interruptions"),
        "spot_savings_usd": summary_metric("spot_savings_usd"),
        "latency_s_p95": summary_metric("latency_s_p95"),
    }


def _finite(value: float | None) -> float:
    return 0.0 if value is None or math.isnan(value) else value


def plot(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """Availability, SLO violation time and cost per point (mean, 95 % CI): one panel
    per metric, a group per hosts x zones, a bar per spot share."""
    groups = sorted({(row["hosts"], row["zones"]) for row in rows})
    shares = sorted({row["spot_percent"] for row in rows})
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), dpi=110)
    panels = (
        ("availability", "availability (served within 2 s)"),
        ("slo_violation_min", "SLO broken (min)"),
        ("cost_usd", "cost (USD, 2 h)"),
    )
    width = 0.8 / len(shares)
    for axis, (column, label) in zip(axes, panels, strict=True):
        for index, share in enumerate(shares):
            by_group = {(r["hosts"], r["zones"]): r for r in rows if r["spot_percent"] == share}
            positions = [g + (index - (len(shares) - 1) / 2) * width for g in range(len(groups))]
            axis.bar(
                positions,
                [_finite(by_group[group][column]) for group in groups],
                width,
                yerr=[_finite(by_group[group][f"{column}_ci95"]) for group in groups],
                capsize=2,
                label=f"{share} % spot",
            )
        axis.set_xticks(
            range(len(groups)),
            [f"{h} hosts\n{z} zone{'s' if z > 1 else ''}" for h, z in groups],
            fontsize=7,
        )
        axis.set_title(label, fontsize=9)
    axes[0].set_ylim(0.0, 1.05)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument("--replications", type=int, default=None, help="seeds (default 3)")
    parser.add_argument("--quick", action="store_true", help="8 points, 2 seeds, 30 minutes")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    replications = args.replications or (2 if args.quick else 3)
    common = ("+experiment=resilience", "progress=false", *(QUICK if args.quick else ()))
    runs = run_study(
        points(args.quick),
        replications,
        common=common,
        progress=False if args.no_progress else None,
    )
    rows = study_table(runs, metrics())
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    horizon = "30 min" if args.quick else "2 h"
    title = (
        f"Resilience: 6 replicas needing {N_HOSTS} m5.large hosts, {horizon}, host crashes "
        f"(MTBF 4 h) and one zone outage: mean ± 95 % CI of {replications} seeds"
    )
    print_table(rows, title, COLUMNS)
    plot(rows, args.out / f"{STUDY}.png", title)
    return rows


if __name__ == "__main__":
    main()
