"""Autoscalers on a flash crowd: which policy carries a sudden 10x crowd, and at what cost.

A container service (1-vCPU, 1 GiB replicas, 50 ms of CPU per request, two replicas
at the start) on the small cluster (three m5.2xlarge hosts, the cluster scaler removing
idle ones) sees 8 requests/s, then a flash crowd: from 30 min the rate rises linearly to
80 requests/s at 40 min and falls back to 8 at 50 min (``workload=flash_crowd``, shape
``spike``). The peak needs 4 busy vCPUs, twice what the two initial replicas have. Each
policy runs with its preset's settings:

* ``none`` — the two initial replicas, fixed (the baseline);
* ``beanstalk`` — Elastic Beanstalk's default trigger (NetworkOut, 5 min, 1..4);
* ``simple`` — EC2 simple scaling on CPU (70 % / 30 %, 300 s cooldown, 1..8);
* ``step`` — EC2 step scaling, the AWS guide's example (1..10, 300 s warm-up);
* ``target_tracking`` — 50 % average CPU (1..10, 300 s cooldowns);
* ``hpa`` — the Kubernetes HorizontalPodAutoscaler at 60 % CPU (1..10).

**Time to recover** is measured on the 1-minute monitoring periods: a period is
*degraded* if any request arriving in it was dropped or its requests' mean latency
exceeded 0.25 s (five times the mean service time); the time to recover is from the
crowd's start to the end of the last degraded period at or after it (0 if none was).
*Degraded minutes* counts those periods. The cost is the run's bill (hosts per second;
two hours): an m5.2xlarge host holds eight replicas, so the cost follows how many hosts
the replicas keep busy (the scaler removes a host idle for 10 minutes), and
replica-hours, the replicas' reserved vCPU-hours (one vCPU each), show the capacity
itself.

All policies see the same requests for a given seed: the arrivals and request sizes
come from named random streams and the traffic starts when the same two initial
replicas are ready (common random numbers).

Run ``python experiments/autoscalers.py`` (10 seeds, about a minute on a 2-core
machine).
"""

from __future__ import annotations

import argparse
import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.batch.study import (  # noqa: E402
    Point,
    StudyRun,
    print_table,
    run_study,
    study_table,
    summary_metric,
    write_table,
)
from sim.config import scenario_params  # noqa: E402
from sim.output.results import Result  # noqa: E402
from sim.policies.autoscaling import AUTOSCALING  # noqa: E402

STUDY = "autoscalers"
POLICIES = ("none", "beanstalk", "simple", "step", "target_tracking", "hpa")
DEGRADED_LATENCY_S = 0.25
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Crowd:
    """The flash crowd's timing, in seconds, and the run's horizon."""

    start_s: float
    duration_s: float
    horizon_s: float

    @property
    def peak_s(self) -> float:
        """When the spike's rate is highest (its middle)."""
        return self.start_s + self.duration_s / 2

    def overrides(self) -> tuple[str, ...]:
        return (
            f"horizon={self.horizon_s:g}s",
            f"workload.traffic.arrivals.start={self.start_s:g}s",
            f"workload.traffic.arrivals.duration={self.duration_s:g}s",
        )


FULL = Crowd(start_s=1800.0, duration_s=1200.0, horizon_s=7200.0)
QUICK = Crowd(start_s=600.0, duration_s=600.0, horizon_s=1800.0)
COMMON = ("+experiment=autoscalers", "progress=false")  # containers, flash crowd

COLUMNS = (  # printed; the CSV also has each policy's min_capacity and max_capacity
    "in_service_at_peak",
    "time_to_recover_s",
    "degraded_min",
    "requests_dropped",
    "latency_s_p95",
    "replica_hours",
    "cost_usd",
)


def capacity_bounds(config: dict[str, Any]) -> tuple[int, int]:
    """The policy's [min, max] replicas, as the run builds it from its composed config
    (a fixed fleet: its initial count)."""
    params = scenario_params(config)
    if params.autoscaler is None:
        assert params.service is not None
        return params.service.initial_replicas, params.service.initial_replicas
    policy = AUTOSCALING.kind_of(params.autoscaler).build(params.autoscaler)
    return int(policy.min_capacity), int(policy.max_capacity)  # type: ignore[attr-defined]


def _periods(result: Result) -> list[dict[str, Any]]:
    """The closed monitoring periods (the row at t = 0 opens none)."""
    return [dict(row) for row in result.timeseries[1:]]


def _degraded(row: dict[str, Any]) -> bool:
    latency = row["latency_s_avg"]
    return row["dropped"] > 0 or (latency is not None and latency > DEGRADED_LATENCY_S)


def time_to_recover(crowd: Crowd) -> Callable[[Result], float]:
    """From the crowd's start to the end of the last degraded period after it (0: none)."""

    def metric(result: Result) -> float:
        degraded = [
            row["time_s"]
            for row in _periods(result)
            if row["time_s"] > crowd.start_s and _degraded(row)
        ]
        return max(degraded) - crowd.start_s if degraded else 0.0

    return metric


def degraded_minutes(crowd: Crowd) -> Callable[[Result], float]:
    """How many periods from the crowd's start on were degraded (1-minute periods)."""

    def metric(result: Result) -> float:
        return float(
            sum(1 for row in _periods(result) if row["time_s"] > crowd.start_s and _degraded(row))
        )

    return metric


def in_service_at(time_s: float) -> Callable[[Result], float]:
    """Replicas in service at the sample at `time_s` (the first at or after it)."""

    def metric(result: Result) -> float:
        for row in result.timeseries:
            if row["time_s"] >= time_s:
                return float(row["in_service"])
        return float(result.timeseries[-1]["in_service"])

    return metric


def out_of_bounds(bounds: tuple[int, int]) -> Callable[[Result], float]:
    """Samples where the desired count left [min, max] or more than max were in service."""
    low, high = bounds

    def metric(result: Result) -> float:
        return float(
            sum(
                1
                for row in result.timeseries
                if not low <= row["desired"] <= high or row["in_service"] > high
            )
        )

    return metric


def metrics(crowd: Crowd, bounds: tuple[int, int]) -> dict[str, Callable[[Result], float | None]]:
    return {
        "in_service_at_peak": in_service_at(crowd.peak_s),
        "time_to_recover_s": time_to_recover(crowd),
        "degraded_min": degraded_minutes(crowd),
        "requests_total": summary_metric("requests_total"),
        "requests_served": summary_metric("requests_served"),
        "requests_in_flight": summary_metric("requests_in_flight"),
        "requests_dropped": summary_metric("requests_dropped"),
        "latency_s_mean": summary_metric("latency_s_mean"),
        "latency_s_p95": summary_metric("latency_s_p95"),
        "replicas_max": summary_metric("replicas_max"),
        "scaling_actions": summary_metric("scaling_actions"),
        "samples_out_of_bounds": out_of_bounds(bounds),
        "replica_hours": lambda result: result.summary["vcpu_seconds_reserved"] / SECONDS_PER_HOUR,
        "cost_usd": summary_metric("cost_usd"),
    }


def plot_timeline(runs: Sequence[StudyRun], crowd: Crowd, path: Path, title: str) -> None:
    """Replicas in service and mean latency per policy over time, arrivals shaded."""
    firsts = [run for run in runs if run.replication == 0]
    fig, (capacity_axis, latency_axis) = plt.subplots(2, 1, figsize=(7, 6), sharex=True, dpi=120)
    arrivals_rows = _periods(firsts[0].result)
    minutes = [row["time_s"] / 60 for row in arrivals_rows]
    rate = [(row["requests"] + row["dropped"]) / 60 for row in arrivals_rows]
    for axis in (capacity_axis, latency_axis):
        twin = axis.twinx()
        twin.fill_between(minutes, rate, step="pre", color="0.85", label="arrivals")
        twin.set_ylabel("arrivals (req/s)", color="0.4")
        twin.tick_params(axis="y", colors="0.4")
        twin.set_ylim(bottom=0)
        axis.set_zorder(twin.get_zorder() + 1)
        axis.patch.set_visible(False)
    for index, run in enumerate(firsts):
        rows = _periods(run.result)
        at = [row["time_s"] / 60 for row in rows]
        color = f"C{index}"
        capacity_axis.step(
            at, [row["in_service"] for row in rows], where="pre", color=color, label=run.point.label
        )
        latency = [row["latency_s_avg"] if row["latency_s_avg"] else math.nan for row in rows]
        latency_axis.plot(at, latency, color=color, lw=1, label=run.point.label)
    capacity_axis.set_ylabel("replicas in service")
    capacity_axis.set_ylim(bottom=0)
    capacity_axis.set_title("Capacity (grey: arrival rate, right axis)", fontsize=9)
    latency_axis.set_yscale("log")
    latency_axis.axhline(DEGRADED_LATENCY_S, color="k", ls=":", lw=0.8)
    latency_axis.set_ylabel("mean latency per minute (s)")
    latency_axis.set_xlabel("simulated time (min)")
    latency_axis.set_title(
        f"Latency (dotted: the {DEGRADED_LATENCY_S:g} s degradation threshold)", fontsize=9
    )
    latency_axis.set_xlim(
        max(0.0, crowd.start_s - crowd.duration_s) / 60,
        min(crowd.horizon_s, crowd.start_s + 2.5 * crowd.duration_s) / 60,
    )
    handles, labels = capacity_axis.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def plot_bars(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """Time to recover, drops, p95 latency and cost per policy (mean, 95 % CI)."""
    panels = (
        ("time_to_recover_s", "time to recover (s)"),
        ("requests_dropped", "requests dropped"),
        ("latency_s_p95", "latency p95 (s)"),
        ("cost_usd", "cost (USD)"),
    )
    fig, axes = plt.subplots(2, 2, figsize=(7, 5.5), dpi=120)
    labels = [row["point"] for row in rows]
    for axis, (column, label) in zip(axes.flat, panels, strict=True):
        axis.bar(
            range(len(rows)),
            [row[column] for row in rows],
            yerr=[_finite(row[f"{column}_ci95"]) for row in rows],
            capsize=3,
            color=[f"C{i}" for i in range(len(rows))],
        )
        axis.set_xticks(range(len(rows)), labels, rotation=30, fontsize=7, ha="right")
        axis.set_ylabel(label)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _finite(value: float | None) -> float:
    return 0.0 if value is None or math.isnan(value) else value


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications", type=int, default=None, help="seeds per policy (default 10; 2 quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a 10-minute crowd in a 30-minute run, 2 seeds"
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    replications = args.replications or (2 if args.quick else 10)
    crowd = QUICK if args.quick else FULL
    common = (*COMMON, *crowd.overrides())

    # Each run's composed config, in run order, to read its policy's bounds without
    # composing the configs again (composition takes most of a quick run's time).
    configs: list[dict[str, Any]] = []
    runs = run_study(
        [Point(policy, (f"autoscaler={policy}",)) for policy in POLICIES],
        replications,
        common=common,
        adjust=lambda config: configs.append(copy.deepcopy(config)),
        progress=False if args.no_progress else None,
    )
    rows = []
    for policy in POLICIES:
        indices = [i for i, run in enumerate(runs) if run.point.label == policy]
        bounds = capacity_bounds(configs[indices[0]])
        point = Point(policy, (), {"min_capacity": bounds[0], "max_capacity": bounds[1]})
        members = [StudyRun(point, runs[i].replication, runs[i].result) for i in indices]
        rows.extend(study_table(members, metrics(crowd, bounds)))

    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    shape = (
        f"8 → 80 req/s spike over {crowd.duration_s / 60:g} min from "
        f"{crowd.start_s / 60:g} min, {crowd.horizon_s / 60:g} min run"
    )
    print_table(
        rows,
        f"Autoscalers on a flash crowd ({shape}; containers): mean ± 95 % CI of "
        f"{replications} seeds",
        COLUMNS,
    )
    plot_timeline(
        runs,
        crowd,
        args.out / f"{STUDY}_timeline.png",
        f"Flash crowd, containers: capacity and latency per policy (seed 0)\n{shape}",
    )
    plot_bars(
        rows,
        args.out / f"{STUDY}_bars.png",
        f"Flash crowd per policy (mean ± 95 % CI, {replications} seeds)",
    )
    return rows


if __name__ == "__main__":
    main()
