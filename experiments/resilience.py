"""Resilience: how much headroom, how many zones, and what spot capacity costs in availability.

A service of 6 one-vCPU replicas serves Poisson requests (12 per second, 0.25 s of CPU
each: 50 % busy) behind a least-outstanding load balancer, on m5.large hosts (2 vCPU:
two replicas each), so it needs N = 3 hosts. There is no autoscaler and no cluster
scaler: a replica lost with its host is replaced only where there is room. Each point
runs two simulated hours (``configs/experiment/resilience.yaml``) with one zone outage
(zone ``a`` down from 45 to 65 minutes; with one zone, that is every host) and varies

* hosts: N = 3 (no spare) or N + 1 = 4 (one spare host's room);
* zones: 1, 2 or 3 (hosts take the zones in turn);
* spot: 0, 50 or 100 % of the hosts are spot instances at 30 % of the on-demand price,
  reclaimed after EC2's two-minute notice and replaced 90 s later.

Two sets of failure rates:

* **published** (the main table): host crashes at an MTBF of 5 years per host (reboot
  after 15 min), and spot reclaims at the worst band of AWS's Spot Instance Advisor.
  The Advisor gives each instance type's "frequency of interruption" as the share of
  its spot capacity reclaimed over the trailing month, in bands: < 5 %, 5-10 %,
  10-15 %, 15-20 %, > 20 %. A share p of instances reclaimed within a month (720 h),
  with exponential times to a reclaim, is a rate of -ln(1 - p) / 720 per hour:
  7.1e-5 (5 %), 1.5e-4 (10 %), 2.3e-4 (15 %), 3.1e-4 (20 %) per instance-hour; the
  worst band is at least 3.1e-4, which the study takes. The MTBF follows Jeff Dean's
  figures for Google's clusters (as quoted in "Things break at scale",
  digitalinfrastructures.nl): about 1,000 machine failures in a cluster's first year,
  a cluster being several thousand machines (0.1-0.5 failures per machine-year), and
  "if you're running 10,000 machines, something is going to die every day" (0.04 per
  machine-year): MTBFs of 2 to 27 years; 5 years is between.
  At these rates a two-hour run of four hosts sees a reclaim or a crash about once in
  400 runs: the zone outage decides availability, and spot is a saving.
* **stress** (a second table): crashes at an MTBF of 4 hours and reclaims at 0.25 per
  hour — about 11,000 and 800 times the published rates — to show what a crash or a
  reclaim does when one happens, and how coincidences with the outage and with each
  other add up. These rows are labelled as such and make no claim about real rates.

The SLO is a p95 latency of 2 s and at most 1 % of requests dropped or failed per
one-minute period. Columns: ``availability`` (requests served within 2 s over those
that arrived), ``slo_violation_min`` (minutes in periods that broke the SLO),
``cost_usd`` (instances for the two hours), ``requests_failed`` (cut by a crash or a
reclaim), ``time_to_recover_s`` (the longest from a fault's start to as many replicas
in service as before), ``time_to_recover_after_fault_s`` (the same from the fault's
end: while zone a is down there may be no room to recover), ``spot_savings_usd``;
each the mean over the seeds with its 95 % interval, a bootstrap within the metric's
range (availability stays within [0, 1], minutes and dollars at or above 0). Every
point sees the same arrivals (the same named stream): common random numbers. The
published set runs 20 seeds (its noise is the arrivals' only); the stress set 30 (its
availability hinges on rare coincidences).

Run ``python experiments/resilience.py`` (18 points x 20 seeds and 6 x 30, about seven
minutes on a 2-core machine); ``--quick`` runs 30 minutes (the outage at 10-20 min),
8 published points and 2 stress points, 2 seeds each.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.batch.study import (  # noqa: E402
    Measure,
    Point,
    print_table,
    run_study,
    study_table,
    summary_metric,
    write_table,
)
from sim.batch.study_figures import (  # noqa: E402
    error_bars,
    figure_options,
    save_figure,
)
from sim.core.intervals import NON_NEGATIVE  # noqa: E402

STUDY = "resilience"
N_HOSTS = 3
ZONES = "abc"
HOURS_PER_MONTH = 720.0
SPOT_BANDS = (0.05, 0.10, 0.15, 0.20)  # the Spot Instance Advisor's band edges (a month)


def interruptions_per_h(monthly_share: float) -> float:
    """A spot rate per instance-hour from the share of instances reclaimed in a month
    (exponential times to a reclaim: P(reclaimed within 720 h) = monthly_share)."""
    return -math.log1p(-monthly_share) / HOURS_PER_MONTH


@dataclass(frozen=True)
class Rates:
    """A set of failure rates: host crash MTBF and spot reclaims per instance-hour."""

    name: str
    mtbf: str
    spot_per_h: float


PUBLISHED = Rates("published", "43800h", interruptions_per_h(SPOT_BANDS[-1]))  # 5 years
STRESS = Rates("stress", "4h", 0.25)
SLO = "+slo={latency_p95: 2s, drop_ratio: 0.01}"
CRASHES = "{kind: host-crash, target: %s, mtbf: {dist: exponential, mean: %s}, mttr: 15min}"
OUTAGE = "{kind: zone-outage, target: a, at: %s, duration: %s}"
QUICK = ("horizon=30min",)
SEEDS = {PUBLISHED.name: 20, STRESS.name: 30}
COLUMNS = (
    "availability",
    "slo_violation_min",
    "cost_usd",
    "requests_failed",
    "time_to_recover_after_fault_s",
    "spot_interruptions",
)


def point(hosts: int, zones: int, spot_percent: int, rates: Rates, quick: bool) -> Point:
    """One configuration: `hosts` m5.large hosts over `zones` zones, `spot_percent` of
    them spot instances, under host crashes and one outage of zone a, at `rates`."""
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
        spot = f"{{price_fraction: 0.3, interruptions_per_h: {rates.spot_per_h!r}}}"
        overrides.append(
            f"+cluster.pools.spot={{count: {spot_hosts}, instance_type: m5.large, disk: 100GB,"
            f" zones: [{spot_zones}], spot: {spot}}}"
        )
        pools.append("spot")
    outage = OUTAGE % (("10min", "10min") if quick else ("45min", "20min"))
    faults = [CRASHES % (pool, rates.mtbf) for pool in pools] + [outage]
    overrides += [f"+faults=[{', '.join(faults)}]", SLO]
    label = f"{hosts} hosts, {zones} zone{'s' if zones > 1 else ''}, {spot_percent} % spot" + (
        f" ({rates.name})" if rates is STRESS else ""
    )
    extra = {"rates": rates.name, "hosts": hosts, "zones": zones, "spot_percent": spot_percent}
    return Point(label, tuple(overrides), extra)


def points(quick: bool, rates: Rates) -> list[Point]:
    if rates is STRESS:
        if quick:
            return [point(N_HOSTS + 1, 3, spot, rates, quick) for spot in (0, 100)]
        return [
            point(hosts, 3, spot, rates, quick)
            for hosts in (N_HOSTS, N_HOSTS + 1)
            for spot in (0, 50, 100)
        ]
    zones = (1, 3) if quick else (1, 2, 3)
    spot = (0, 100) if quick else (0, 50, 100)
    return [
        point(hosts, zone_count, spot_percent, rates, quick)
        for hosts in (N_HOSTS, N_HOSTS + 1)
        for zone_count in zones
        for spot_percent in spot
    ]


def metrics() -> dict[str, Measure]:
    return {
        "availability": summary_metric("availability"),
        "slo_violation_min": Measure(
            lambda result: result.summary["slo_violation_s"] / 60.0, NON_NEGATIVE
        ),
        "cost_usd": summary_metric("cost_usd"),
        "cost_usd_instances": summary_metric("cost_usd_instances"),
        "requests_failed": summary_metric("requests_failed"),
        "requests_dropped": summary_metric("requests_dropped"),
        "time_to_recover_s": summary_metric("time_to_recover_s"),
        "time_to_recover_after_fault_s": summary_metric("time_to_recover_after_fault_s"),
        "hosts_failed": summary_metric("hosts_failed"),
        "spot_interruptions": summary_metric("spot_interruptions"),
        "spot_savings_usd": summary_metric("spot_savings_usd"),
        "latency_s_p95": summary_metric("latency_s_p95"),
    }


PANELS = (
    ("availability", "availability (served within 2 s)"),
    ("slo_violation_min", "SLO broken (min)"),
    ("time_to_recover_after_fault_s", "recovery after the fault ends (s)"),
    ("cost_usd", "cost (USD, the run)"),
)


def plot(rows: Sequence[dict[str, Any]], path: Path, title: str, args: argparse.Namespace) -> None:
    """Availability, SLO violation time, recovery after the fault's end and cost per
    point (mean and 95 % interval over the seeds, as a dot and whiskers): one panel per
    metric, a group per hosts × zones, a dot per spot share. The availability axis
    starts where the data do (dots, not bars, so nothing reads from a cut baseline) and
    ends at 1."""
    groups = sorted({(row["hosts"], row["zones"]) for row in rows})
    shares = sorted({row["spot_percent"] for row in rows})
    fig, axes = plt.subplots(1, len(PANELS), figsize=(13, 3.8))
    width = 0.8 / len(shares)
    for axis, (column, label) in zip(axes, PANELS, strict=True):
        for index, share in enumerate(shares):
            by_group = {(r["hosts"], r["zones"]): r for r in rows if r["spot_percent"] == share}
            present = [g for g in groups if g in by_group]
            positions = [groups.index(g) + (index - (len(shares) - 1) / 2) * width for g in present]
            chosen = [by_group[g] for g in present]
            axis.errorbar(
                positions,
                [_finite(row[column]) for row in chosen],
                yerr=error_bars(chosen, column),
                fmt="o",
                ms=5,
                capsize=3,
                label=f"{share} % spot",
                color=f"C{index}",
            )
        axis.set_xticks(
            range(len(groups)),
            [f"{h} hosts\n{z} zone{'s' if z > 1 else ''}" for h, z in groups],
            fontsize=7,
        )
        axis.set_title(label, fontsize=9)
        axis.grid(axis="y", alpha=0.3)
        if column != "availability":
            axis.set_ylim(bottom=0)
    lowest = min(
        (row["availability_low"] for row in rows if not math.isnan(row["availability_low"])),
        default=0.0,
    )
    axes[0].set_ylim(max(0.0, lowest - 0.02), 1.002)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def _finite(value: float | None) -> float:
    return 0.0 if value is None or math.isnan(value) else value


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications", type=int, default=None, help="seeds (default 20 published, 30 stress)"
    )
    parser.add_argument("--quick", action="store_true", help="30 minutes, 10 points, 2 seeds")
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    common = ("+experiment=resilience", "progress=false", *(QUICK if args.quick else ()))
    horizon = "30 min" if args.quick else "2 h"
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for rates in (PUBLISHED, STRESS):
        replications = args.replications or (2 if args.quick else SEEDS[rates.name])
        runs = run_study(
            points(args.quick, rates),
            replications,
            common=common,
            progress=False if args.no_progress else None,
        )
        table = study_table(runs, metrics())
        rows += table
        what = (
            "published rates (crash MTBF 5 y, spot 3.1e-4/h)"
            if rates is PUBLISHED
            else "STRESS rates (crash MTBF 4 h, spot 0.25/h: not real rates)"
        )
        title = (
            f"Resilience, {what}: 6 replicas needing {N_HOSTS} m5.large hosts, {horizon}, "
            f"one zone outage; mean [95 % interval] of {replications} seeds"
        )
        print_table(table, title, COLUMNS)
        plot(table, args.out / f"{STUDY}_{rates.name}", title, args)
    write_table(rows, args.out / f"{STUDY}.csv")
    return rows


if __name__ == "__main__":
    main()
