"""Autoscalers on a flash crowd: which policy carries a sudden 10x crowd, and at what cost.

A container service (1-vCPU, 1 GiB replicas, 50 ms of CPU per request, two replicas
at the start) on the small cluster (three m5.2xlarge hosts, the cluster scaler removing
idle ones) sees 8 requests/s, then a flash crowd: from 30 min the rate rises linearly to
80 requests/s at 40 min and falls back to 8 at 50 min (``workload=flash_crowd``, shape
``spike``). The peak needs 4 busy vCPUs, twice what the two initial replicas have.

The policies are tuned alike: every CPU policy starts to scale out when the fleet's
average CPU exceeds the same **60 %** target, on 1 to 10 replicas:

* ``none`` — the two initial replicas, fixed (the baseline);
* ``beanstalk`` — Elastic Beanstalk's *default* trigger, unchanged (NetworkOut over
  5 min, above 6 MB adds one, below 2 MB removes one, 1..4, 360 s cooldown). Its
  threshold is about 20 kB/s per instance, which this service exceeds even before the
  crowd, so it climbs to its maximum of 4 and stays there: a fixed fleet of 4, not a
  reaction to the crowd;
* ``beanstalk_cpu`` — the same trigger on CPUUtilization (above 60 %, below 30 %, 1..10);
* ``simple`` — EC2 simple scaling on CPU (above 60 % for 2 min: +1; below 30 % for
  5 min: -1; 300 s cooldown);
* ``step`` — EC2 step scaling, the AWS guide's example, whose first scale-out step is at
  60 % (+10 % of capacity, +30 % at 70 %; 300 s warm-up);
* ``target_tracking`` — 60 % average CPU (300 s cooldowns);
* ``hpa`` — the Kubernetes HorizontalPodAutoscaler at 60 % of the CPU request.

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

Every metric is the mean over the seeds with its 95 % interval, a bootstrap within the
metric's range (a drop share stays within [0, 1]). The drop share is the noisiest metric
(the HPA's ranges from 0 to about 0.1 % between seeds, as a burst of drops happens or
not), so the study runs 20 seeds.

Run ``python experiments/autoscalers.py`` (20 seeds, a few minutes on a 2-core
machine).
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.batch.study import (  # noqa: E402
    Measure,
    Point,
    StudyRun,
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
from sim.config import scenario_params  # noqa: E402
from sim.core.intervals import NON_NEGATIVE, SHARE  # noqa: E402
from sim.output.results import Result  # noqa: E402
from sim.policies.autoscaling import AUTOSCALING  # noqa: E402

STUDY = "autoscalers"
TARGET_CPU_PERCENT = 60
POLICIES: dict[str, tuple[str, ...]] = {  # label: overrides (see the module's docstring)
    "none": ("autoscaler=none",),
    "beanstalk": ("autoscaler=beanstalk",),
    "beanstalk_cpu": (
        "autoscaler=beanstalk",
        "autoscaler.metric=CPUUtilization",
        "autoscaler.unit=Percent",
        f"autoscaler.upper_threshold={TARGET_CPU_PERCENT}",
        f"autoscaler.lower_threshold={TARGET_CPU_PERCENT // 2}",
        "autoscaler.max_capacity=10",
    ),
    "simple": (
        "autoscaler=simple",
        f"autoscaler.alarms.0.threshold={TARGET_CPU_PERCENT}",
        f"autoscaler.alarms.1.threshold={TARGET_CPU_PERCENT // 2}",
        "autoscaler.max_capacity=10",
    ),
    "step": ("autoscaler=step",),  # its first scale-out step is at 60 % already
    "target_tracking": (
        "autoscaler=target_tracking",
        f"autoscaler.target_value={TARGET_CPU_PERCENT}",
    ),
    "hpa": ("autoscaler=hpa", f"autoscaler.target_utilization={TARGET_CPU_PERCENT}"),
}
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
    "drop_ratio",
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


def drop_share(result: Result) -> float | None:
    """Requests dropped over requests that arrived, in one run."""
    total = result.summary["requests_total"]
    return result.summary["requests_dropped"] / total if total else None


DROP_RATIO = Measure(drop_share, SHARE)
"""The share of requests dropped, one value per seed, its interval over the seeds.
Not Wilson's over requests pooled: drops come in bursts (a full queue drops every
request for a while), so requests are not independent trials and a pooled interval
would be far too narrow."""


def replica_hours(result: Result) -> float:
    """The replicas' reserved vCPU-hours (one vCPU each: replica-hours)."""
    return float(result.summary["vcpu_seconds_reserved"]) / SECONDS_PER_HOUR


def metrics(crowd: Crowd, bounds: tuple[int, int]) -> dict[str, Measure]:
    return {
        "in_service_at_peak": Measure(in_service_at(crowd.peak_s), NON_NEGATIVE),
        "time_to_recover_s": Measure(time_to_recover(crowd), NON_NEGATIVE),
        "degraded_min": Measure(degraded_minutes(crowd), NON_NEGATIVE),
        "requests_total": summary_metric("requests_total"),
        "requests_served": summary_metric("requests_served"),
        "requests_in_flight": summary_metric("requests_in_flight"),
        "requests_dropped": summary_metric("requests_dropped"),
        "drop_ratio": DROP_RATIO,
        "latency_s_mean": summary_metric("latency_s_mean"),
        "latency_s_p95": summary_metric("latency_s_p95"),
        "replicas_max": summary_metric("replicas_max"),
        "scaling_actions": summary_metric("scaling_actions"),
        "samples_out_of_bounds": Measure(out_of_bounds(bounds), NON_NEGATIVE),
        "replica_hours": Measure(replica_hours, NON_NEGATIVE),
        "cost_usd": summary_metric("cost_usd"),
    }


def capacity_band(
    runs: Sequence[StudyRun],
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Over every seed of one policy, per monitoring period: its end (minutes) and the
    fewest, median and most replicas in service at it."""
    series = [[float(row["in_service"]) for row in _periods(run.result)] for run in runs]
    minutes = [row["time_s"] / 60 for row in _periods(runs[0].result)]
    columns = list(zip(*series, strict=True))
    return (
        minutes,
        [min(column) for column in columns],
        [statistics.median(column) for column in columns],
        [max(column) for column in columns],
    )


def degraded_share(runs: Sequence[StudyRun]) -> list[float]:
    """Per monitoring period, the share of seeds in which it was degraded."""
    flags = [[_degraded(row) for row in _periods(run.result)] for run in runs]
    return [sum(column) / len(column) for column in zip(*flags, strict=True)]


def plot_timeline(
    runs: Sequence[StudyRun], crowd: Crowd, path: Path, title: str, args: argparse.Namespace
) -> None:
    """One panel per policy around the crowd (10 minutes before it to 30 after it):
    replicas in service (median line, band from fewest to most over all seeds), the
    arrival rate (grey, right axis) and, as a red strip, the share of seeds in which
    each minute was degraded."""
    labels = list(dict.fromkeys(run.point.label for run in runs))
    columns = 2
    rows_count = math.ceil(len(labels) / columns)
    fig, axes = plt.subplots(
        rows_count, columns, figsize=(8, 1.9 * rows_count + 0.8), sharex=True, sharey=True, dpi=120
    )
    arrivals = _periods(runs[0].result)
    rate = [(row["requests"] + row["dropped"]) / 60 for row in arrivals]
    most = max(run.result.summary["replicas_max"] for run in runs) + 1
    for index, (axis, label) in enumerate(zip(axes.flat, labels, strict=False)):
        members = [run for run in runs if run.point.label == label]
        minutes, low, median, high = capacity_band(members)
        edges = [0.0, *minutes]
        twin = axis.twinx()
        twin.stairs(rate, edges, fill=True, color="0.88")
        twin.set_ylim(0, max(rate) * 1.1)
        twin.tick_params(axis="y", colors="0.5", labelsize=7)
        if index % columns == columns - 1:
            twin.set_ylabel("req/s", color="0.5", fontsize=8)
        axis.set_zorder(twin.get_zorder() + 1)
        axis.patch.set_visible(False)
        axis.stairs(high, edges, baseline=low, fill=True, color=f"C{index}", alpha=0.3)
        axis.stairs(median, edges, color=f"C{index}", lw=1.4)
        for left, right, share in zip(edges, edges[1:], degraded_share(members), strict=False):
            if share > 0:
                axis.axvspan(left, right, ymin=0, ymax=0.06, color="#d62728", alpha=share, lw=0)
        axis.set_ylim(0, most)
        axis.set_title(f"{label} ({len(members)} seeds)", fontsize=8, pad=2)
        axis.tick_params(labelsize=7)
    for axis in axes.flat[len(labels) :]:
        axis.set_visible(False)
    for axis in axes[:, 0]:
        axis.set_ylabel("in service", fontsize=8)
    window = (
        max(0.0, (crowd.start_s - 600.0) / 60),
        min(crowd.horizon_s, crowd.start_s + crowd.duration_s + 1800.0) / 60,
    )
    for axis in axes.flat:
        axis.set_xlim(*window)
    for axis in axes[-1]:
        axis.set_xlabel(
            f"simulated time (min; {window[0]:g}-{window[1]:g} of {crowd.horizon_s / 60:g} shown)",
            fontsize=8,
        )
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def plot_bars(
    rows: Sequence[dict[str, Any]], path: Path, title: str, args: argparse.Namespace
) -> None:
    """Time to recover, the drop ratio, p95 latency and cost per policy (mean and 95 %
    interval over the seeds, within each metric's range)."""
    panels = (
        ("time_to_recover_s", "time to recover (s)"),
        ("drop_ratio", "requests dropped (share)"),
        ("latency_s_p95", "latency p95 (s)"),
        ("cost_usd", "cost (USD)"),
    )
    fig, axes = plt.subplots(2, 2, figsize=(7, 5.5), dpi=120)
    labels = [row["point"] for row in rows]
    for axis, (column, label) in zip(axes.flat, panels, strict=True):
        axis.bar(
            range(len(rows)),
            [row[column] for row in rows],
            yerr=error_bars(rows, column),
            capsize=3,
            color=[f"C{i}" for i in range(len(rows))],
        )
        axis.set_xticks(range(len(rows)), labels, rotation=30, fontsize=7, ha="right")
        axis.set_ylabel(label)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


ZERO_AT = 2e-6
"""Where a run that dropped nothing is drawn on the log axis of drops, below a break."""


def _on_log(share: float) -> float:
    return share if share > 0 else ZERO_AT


def plot_drops_vs_cost(
    runs: Sequence[StudyRun],
    rows: Sequence[dict[str, Any]],
    path: Path,
    title: str,
    args: argparse.Namespace,
) -> None:
    """Each policy's share of requests dropped against its cost: the run's bill (hosts
    by the second) and the replica-hours it held. Every seed is a small dot; the policy's
    mean a large one with its 95 % intervals over the seeds. The drop axis is
    logarithmic; a run (or a mean) that dropped nothing sits on the "0" row below the
    break. Down and to the left is better."""
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 4.4), sharey=True)
    costs = (
        ("cost_usd", "the run's bill (USD)", lambda result: result.summary["cost_usd"]),
        ("replica_hours", "replica-hours held", replica_hours),
    )
    for axis, (column, label, cost) in zip(axes, costs, strict=True):
        for index, row in enumerate(rows):
            members = [run for run in runs if run.point.label == row["point"]]
            axis.scatter(
                [cost(run.result) for run in members],
                [_on_log(DROP_RATIO(run.result) or 0.0) for run in members],
                s=8,
                color=f"C{index}",
                alpha=0.5,
            )
            below, above = error_bars([row], "drop_ratio")
            mean = row["drop_ratio"]
            low = max(mean - below[0], 0.0)
            axis.errorbar(
                row[column],
                _on_log(mean),
                xerr=error_bars([row], column),
                yerr=[[_on_log(mean) - _on_log(low)], [above[0]]],
                fmt="o",
                markersize=7,
                capsize=3,
                color=f"C{index}",
                label=row["point"],
            )
        axis.set_yscale("log")
        axis.axhline(2.5 * ZERO_AT, color="0.4", lw=0.8, ls=(0, (4, 2)))
        axis.set_xlabel(label)
        axis.grid(alpha=0.3)
    top = max(max(row["drop_ratio_high"] for row in rows), 1e-3) * 2
    axes[0].set_ylim(ZERO_AT / 2, top)
    ticks = [t for t in (1e-5, 1e-4, 1e-3, 1e-2, 1e-1) if t < top]
    axes[0].set_yticks([ZERO_AT, *ticks], ["0", *(f"{t:g}" for t in ticks)])
    axes[0].minorticks_off()
    axes[0].set_ylabel("requests dropped (share, log; 0 below the dashed break)")
    axes[1].legend(fontsize=7, loc="upper right")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications", type=int, default=None, help="seeds per policy (default 20; 2 quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a 10-minute crowd in a 30-minute run, 2 seeds"
    )
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    replications = args.replications or (2 if args.quick else 20)
    crowd = QUICK if args.quick else FULL
    common = (*COMMON, *crowd.overrides())

    # Each run's composed config, in run order, to read its policy's bounds without
    # composing the configs again (composition takes most of a quick run's time).
    configs: list[dict[str, Any]] = []
    runs = run_study(
        [Point(policy, overrides) for policy, overrides in POLICIES.items()],
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
        f"Autoscalers on a flash crowd ({shape}; containers): mean [95 % interval] of "
        f"{replications} seeds",
        COLUMNS,
    )
    plot_timeline(
        runs,
        crowd,
        args.out / f"{STUDY}_timeline",
        f"Flash crowd, containers: replicas in service per policy over all {replications} "
        "seeds\n(line: median, band: fewest to most; red: share of seeds degraded; grey: "
        f"arrivals)\n{shape}; CPU policies scale out above {TARGET_CPU_PERCENT} %",
        args,
    )
    plot_bars(
        rows,
        args.out / f"{STUDY}_bars",
        f"Flash crowd per policy (mean and 95 % interval over {replications} seeds)",
        args,
    )
    plot_drops_vs_cost(
        runs,
        rows,
        args.out / f"{STUDY}_drops_cost",
        f"Flash crowd: drops against cost per policy ({replications} seeds; small dots: one seed)",
        args,
    )
    return rows


if __name__ == "__main__":
    main()
