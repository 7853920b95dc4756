"""Scale to zero: the replica-hours a service saves at zero against the cold starts it adds.

One service (1-vCPU, 1 GiB replicas, 50 ms of CPU per request) meets a sparse day
(``+experiment=scale_to_zero``, trace ``configs/workload/traces/sparse_day.csv``): an
idle night (0 to 7 h), a sparse daytime (0.002 requests/s, one every eight minutes or
so, to 22 h) with four 10-minute bursts at 3 requests/s (9, 12, 15 and 18 h), an idle
evening. KEDA (``autoscaler=keda``, its defaults: 30 s polls, a 300 s cooldown, the HTTP
add-on's interceptor holding requests 20 s) scales it, on three platforms:

* ``container`` — containers on the cluster's hosts;
* ``microvm`` — Firecracker-like guests on the same hosts;
* ``vm`` — a VM per replica on its own m5.large instance.

**Fair setup.** On each platform the same policy with the same settings runs twice,
once with ``min_capacity: 0`` (scale to zero) and once with ``min_capacity: 1`` (one
warm replica, never zero); the HPA above one replica (target 60 % CPU) is the same in
both. Traffic starts at zero with no replica, so both meet the same arrivals for a seed
(common random numbers). What would flip the finding: the start-up (the platforms),
the interceptor's hold (2 min, as a client that waits longer would allow; the add-on
from 0.14 sets no bound), the poll (1 s, the timing of the add-on's push scaler), the
request rate between bursts (0.0005 to 0.02 requests/s) and the cooldown (60 s, 300 s,
900 s) on containers.

**Metrics.** Replica-hours (replicas in service or starting, sampled each minute),
the share of requests dropped (pooled over seeds, Wilson interval), requests dropped
because their hold ran out, the run's p95 and p99 latency and p99 wait (a held
request's hold is in its wait), each with a 95 % interval over seeds.

Run ``python experiments/scale_to_zero.py`` (a day, 5 seeds); ``--quick`` runs the
first twelve hours on 2 seeds, without the rate points.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.batch.study import (  # noqa: E402
    Measure,
    Metric,
    Point,
    Proportion,
    print_table,
    run_study,
    study_table,
    summary_metric,
    write_table,
)
from sim.batch.study_figures import error_bars  # noqa: E402
from sim.core.intervals import NON_NEGATIVE  # noqa: E402
from sim.output.results import Result  # noqa: E402

STUDY = "scale_to_zero"
PLATFORMS: dict[str, tuple[str, ...]] = {
    "container": ("platform=container",),
    "microvm": ("platform=microvm",),
    "vm": ("platform=vm", "platform.vm.instance_type=m5.large"),
}
MINIMUMS = (0, 1)
COOLDOWNS = ("60s", "300s", "900s")
SPARSE_RATES = (0.0005, 0.002, 0.02)
HOLD = "2min"
BURSTS_H = (9, 12, 15, 18)
COMMON = ("+experiment=scale_to_zero", "progress=false")
SECONDS_PER_HOUR = 3600.0
INTERVAL_S = 600


def sparse_day(path: Path, sparse_per_s: float, burst_per_s: float = 3.0) -> Path:
    """Write the day's rates (10-minute intervals) with `sparse_per_s` between bursts."""
    rows = ["interval_start_s,rate_per_s"]
    for start_s in range(0, 24 * 3600, INTERVAL_S):
        hour = start_s / SECONDS_PER_HOUR
        if any(start_s == h * 3600 for h in BURSTS_H):
            rate = burst_per_s
        elif 7 <= hour < 22:
            rate = sparse_per_s
        else:
            rate = 0.0
        rows.append(f"{start_s},{rate:g}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")
    return path


def _replica_hours(result: Result) -> float:
    """Replicas in service or starting at each period's end, times its length."""
    rows = result.timeseries
    total_s = 0.0
    for before, row in zip(rows, rows[1:], strict=False):
        total_s += (row["in_service"] + row["replicas_starting"]) * (
            row["time_s"] - before["time_s"]
        )
    return total_s / SECONDS_PER_HOUR


def _dropped(result: Result) -> float:
    return float(result.summary["requests_dropped"])


def _arrived(result: Result) -> float:
    return float(result.summary["requests_total"])


METRICS: dict[str, Metric] = {
    "replica_hours": Measure(_replica_hours, NON_NEGATIVE),
    "drop_ratio": Proportion(_dropped, _arrived),
    "activation_drops": summary_metric("requests_dropped_activation_timeout"),
    "latency_s_p95": summary_metric("latency_s_p95"),
    "latency_s_p99": summary_metric("latency_s_p99"),
    "wait_s_p99": summary_metric("wait_s_p99"),
    "scaling_actions": summary_metric("scaling_actions"),
    "cost_usd": summary_metric("cost_usd"),
}
COLUMNS = ("replica_hours", "drop_ratio", "activation_drops", "latency_s_p99", "wait_s_p99")


def points(trace: Path, horizon_h: float) -> list[Point]:
    """Every platform at min 0 and min 1; cooldowns on containers at min 0."""
    day = (f"workload.traffic.arrivals.path={trace}", f"horizon={horizon_h:g}h")
    found = [
        Point(
            f"{platform} min {minimum}",
            (*PLATFORMS[platform], *day, f"autoscaler.min_capacity={minimum}"),
            {"platform": platform, "min": minimum, "cooldown": "300s", "factor": "platform"},
        )
        for platform in PLATFORMS
        for minimum in MINIMUMS
    ]
    found += [
        Point(
            f"container cooldown {cooldown}",
            (*PLATFORMS["container"], *day, f"autoscaler.cooldown_period={cooldown}"),
            {"platform": "container", "min": 0, "cooldown": cooldown, "factor": "cooldown"},
        )
        for cooldown in COOLDOWNS
        if cooldown != "300s"
    ]
    found += [
        Point(
            f"{platform} hold {HOLD}",
            (*PLATFORMS[platform], *day, f"autoscaler.hold_timeout={HOLD}"),
            {"platform": platform, "min": 0, "cooldown": "300s", "factor": "hold"},
        )
        for platform in PLATFORMS
    ]
    found.append(
        Point(
            "container hold 2min poll 1s",
            (
                *PLATFORMS["container"],
                *day,
                f"autoscaler.hold_timeout={HOLD}",
                "autoscaler.polling_interval=1s",
            ),
            {"platform": "container", "min": 0, "cooldown": "300s", "factor": "poll"},
        )
    )
    return found


def rate_points(out: Path, horizon_h: float) -> list[Point]:
    """Containers at min 0 and min 1 with other request rates between bursts."""
    found = []
    for rate in SPARSE_RATES:
        trace = sparse_day(out / f"sparse_day_{rate:g}.csv", rate)
        day = (f"workload.traffic.arrivals.path={trace}", f"horizon={horizon_h:g}h")
        found += [
            Point(
                f"container min {minimum} at {rate:g}/s",
                (*PLATFORMS["container"], *day, f"autoscaler.min_capacity={minimum}"),
                {"platform": "container", "min": minimum, "rate": rate, "factor": "rate"},
            )
            for minimum in MINIMUMS
        ]
    return found


def study(out: Path, seeds: int, horizon_h: float, rates: bool) -> list[dict[str, Any]]:
    """Run every point on `seeds` seeds; one table row per point."""
    trace = sparse_day(out / "sparse_day.csv", SPARSE_RATES[1])
    chosen = points(trace, horizon_h) + (rate_points(out, horizon_h) if rates else [])
    runs = run_study(chosen, seeds, COMMON, progress=False)
    return study_table(runs, METRICS)


def plot(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """Per platform, min 0 against min 1: replica-hours, drop share and p99 latency."""
    mine = [row for row in rows if " min " in f" {row['point']} " and "/s" not in row["point"]]
    panels = (
        ("replica_hours", "replica-hours"),
        ("drop_ratio", "requests dropped (share)"),
        ("latency_s_p99", "latency p99 (s)"),
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(12, 3.6), dpi=120)
    for axis, (metric, label) in zip(axes, panels, strict=True):
        below, above = error_bars(mine, metric)
        axis.bar(
            range(len(mine)),
            [row[metric] for row in mine],
            yerr=(below, above),
            capsize=3,
            color=[f"C{index // 2}" for index in range(len(mine))],
            alpha=1.0,
        )
        axis.set_xticks(range(len(mine)), [row["point"] for row in mine], fontsize=7, rotation=30)
        axis.set_ylim(bottom=0)
        axis.set_ylabel(label, fontsize=8)
        axis.grid(axis="y", alpha=0.3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument("--replications", type=int, default=None, help="seeds (5; 2 quick)")
    parser.add_argument("--quick", action="store_true", help="twelve hours, no rate points")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    seeds = args.replications or (2 if args.quick else 5)
    horizon_h = 12.0 if args.quick else 24.0
    rows = study(args.out, seeds, horizon_h, not args.quick)
    write_table(rows, args.out / f"{STUDY}.csv")
    print_table(
        rows,
        f"Scale to zero (KEDA defaults) against one warm replica, a sparse day of "
        f"{horizon_h:g} h; {seeds} seeds",
        COLUMNS,
    )
    plot(
        rows,
        args.out / f"{STUDY}.png",
        f"Scale to zero (min 0) against a warm replica (min 1), {seeds} seeds; drops: "
        "pooled share, Wilson interval; others: mean, 95 % interval",
    )
    return rows


if __name__ == "__main__":
    main()
