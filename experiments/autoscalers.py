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

**Tuned alike** (``--tuned``): the settings above are the policies' defaults with the
target aligned, which leaves the AWS policies with cooldowns and warm-ups meant for VM
boots. The fair comparison gives every policy (``hpa``, ``target_tracking``,
``simple``, ``step`` and ``beanstalk`` on CPU) its cheapest settings for the same
objective: the fewest replica-hours among the settings a user changes (its target or
thresholds, its cooldown or warm-up or stabilisation, its minimum; its maximum stays at
10) whose share of requests dropped is at most a bound (5 %, 1 %, 0.1 %). The capacity
planner's search picks which settings to run (`sim.batch.tune`); every point runs the
same seeds, and every point run enters its policy's Pareto front of drops against
replica-hours. The crowd takes three shapes with the same peak and duration: ``ramp``
(rises to the peak over the whole crowd, then ends), ``step`` (the peak throughout) and
``spike`` (up and down). The policies' default settings stay as a second row per policy,
labelled ``defaults`` (Beanstalk's: its NetworkOut trigger).

Run ``python experiments/autoscalers.py`` (20 seeds, a few minutes on a 2-core
machine); ``--tuned`` runs the tuned comparison (2 seeds per point; ``--shapes`` splits it);
``--quick`` shrinks either.
"""

from __future__ import annotations

import argparse
import copy
import csv
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.batch.autoscaler_settings import BASE, DEFAULTS, grid  # noqa: E402
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
from sim.batch.tune import Outcome, Tuning, tune  # noqa: E402
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


def _finite(value: float | None) -> float:
    return 0.0 if value is None or math.isnan(value) else value


SHAPES = ("ramp", "step", "spike")
DROP_BOUNDS = (0.05, 0.01, 0.001)
HEADLINE_BOUND = 0.01
TUNED_POLICIES = tuple(BASE)
TUNED_METRICS: dict[str, Measure] = {
    "requests_total": summary_metric("requests_total"),
    "requests_served": summary_metric("requests_served"),
    "requests_in_flight": summary_metric("requests_in_flight"),
    "requests_dropped": summary_metric("requests_dropped"),
    "drop_ratio": DROP_RATIO,
    "replica_hours": Measure(replica_hours, NON_NEGATIVE),
    "latency_s_p95": summary_metric("latency_s_p95"),
    "replicas_max": summary_metric("replicas_max"),
    "cost_usd": summary_metric("cost_usd"),
}
TUNED_COLUMNS = ("settings", "drop_ratio", "replica_hours", "latency_s_p95", "replicas_max")


@dataclass
class PolicyTuning:
    """One policy tuned on one crowd shape: its defaults' row, every point's row by
    its overrides, and the search's record."""

    shape: str
    policy: str
    defaults: dict[str, Any]
    rows: dict[tuple[str, ...], dict[str, Any]]
    tuning: Tuning


def point_row(
    label: str, overrides: Sequence[str], common: Sequence[str], replications: int, progress: bool
) -> tuple[dict[str, Any], list[StudyRun]]:
    """One point's study row over `replications` seeds, and its runs."""
    runs = run_study(
        [Point(label, tuple(overrides))],
        replications,
        common=common,
        progress=progress,
    )
    return study_table(runs, TUNED_METRICS)[0], runs


def tune_policy(
    policy: str,
    shape: str,
    crowd: Crowd,
    replications: int,
    quick: bool,
    progress: bool = False,
) -> PolicyTuning:
    """Tune `policy` on the crowd of `shape`: each drop bound's cheapest settings, and
    the policy's defaults on the same seeds."""
    common = (*COMMON, *crowd.overrides(), f"workload.traffic.arrivals.shape={shape}")
    rows: dict[tuple[str, ...], dict[str, Any]] = {}

    def evaluate(overrides: tuple[str, ...]) -> Outcome:
        row, _ = point_row(policy, (*BASE[policy], *overrides), common, replications, progress)
        rows[overrides] = row
        return Outcome(row["drop_ratio"], row["replica_hours"])

    tuning = tune(grid(policy, quick), evaluate, DROP_BOUNDS)
    defaults, _ = point_row(policy, DEFAULTS[policy], common, replications, progress)
    return PolicyTuning(shape, policy, defaults, rows, tuning)


def tuned_rows(result: PolicyTuning) -> list[dict[str, Any]]:
    """The table's rows of one policy on one crowd: ``defaults``, then each point run,
    its role ``tuned <= bound`` (the cheapest meeting a bound), ``front`` (on the
    Pareto front) or ``run``."""
    tuning = result.tuning
    front = set(tuning.front())
    tuned_for: dict[tuple[int, ...], list[float]] = {}
    for bound, point in tuning.tuned.items():
        if point is not None:
            tuned_for.setdefault(point, []).append(bound)
    rows = [
        {
            "crowd": result.shape,
            "policy": result.policy,
            "role": "defaults",
            "settings": "defaults",
            **{k: v for k, v in result.defaults.items() if k != "point"},
        }
    ]
    for point in tuning.outcomes:
        bounds = tuned_for.get(point, [])
        role = (
            " ".join(f"tuned<={bound:g}" for bound in bounds)
            if bounds
            else "front"
            if point in front
            else "run"
        )
        row = result.rows[tuning.overrides(point)]
        rows.append(
            {
                "crowd": result.shape,
                "policy": result.policy,
                "role": role,
                "settings": tuning.label(point),
                **{k: v for k, v in row.items() if k != "point"},
            }
        )
    return rows


ZOOM_DROPS = 0.02


def plot_fronts(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """From the tuned table's rows, one column per crowd shape: each policy's Pareto
    front of drops against replica-hours (line through its ``front`` and ``tuned``
    points), every other point run (small dots), its defaults (hollow square) and its
    point tuned for the headline bound (star), with Wilson intervals on the defaults and
    the tuned point; the lower row zooms into drops up to `ZOOM_DROPS`. Down and to the
    left is better."""
    shapes = list(dict.fromkeys(row["crowd"] for row in rows))
    policies = list(dict.fromkeys(row["policy"] for row in rows))
    fig, axes = plt.subplots(
        2,
        len(shapes),
        figsize=(max(8.0, 4.2 * len(shapes)), 7.6),
        sharey="row",
        dpi=120,
        squeeze=False,
    )
    highest = max(_finite(row["drop_ratio_high"]) or row["drop_ratio"] for row in rows)
    tag = f"tuned<={HEADLINE_BOUND:g}"
    for column, shape in enumerate(shapes):
        for index, policy in enumerate(policies):
            mine = [r for r in rows if r["crowd"] == shape and r["policy"] == policy]
            if not mine:
                continue
            color = f"C{index}"
            points = [r for r in mine if r["role"] != "defaults"]
            front = sorted(
                (r for r in points if r["role"] != "run"),
                key=lambda r: (r["replica_hours"], r["drop_ratio"]),
            )
            marked = [(r, "s", "none") for r in mine if r["role"] == "defaults"]
            marked += [(r, "*", color) for r in points if tag in r["role"].split()]
            for axis in axes[:, column]:
                axis.scatter(
                    [r["replica_hours"] for r in points],
                    [r["drop_ratio"] for r in points],
                    s=7,
                    color=color,
                    alpha=0.35,
                )
                axis.plot(
                    [r["replica_hours"] for r in front],
                    [r["drop_ratio"] for r in front],
                    "-o",
                    markersize=3,
                    color=color,
                    label=f"{policy} front",
                )
                for row, marker, face in marked:
                    axis.errorbar(
                        row["replica_hours"],
                        row["drop_ratio"],
                        xerr=error_bars([row], "replica_hours"),
                        yerr=error_bars([row], "drop_ratio"),
                        fmt=marker,
                        markersize=9 if marker == "*" else 6,
                        markerfacecolor=face,
                        color=color,
                        capsize=2,
                    )
        for axis in axes[:, column]:
            axis.axhline(HEADLINE_BOUND, color="0.5", lw=0.8, ls="--")
            axis.grid(alpha=0.3)
        axes[0, column].set_title(f"{shape} crowd", fontsize=9)
        axes[1, column].set_xlabel("replica-hours (mean over seeds)")
    axes[0, 0].set_ylim(0, highest * 1.05)
    axes[1, 0].set_ylim(0, ZOOM_DROPS)
    axes[0, 0].set_ylabel("requests dropped (share, pooled over seeds)")
    axes[1, 0].set_ylabel(f"the same, drops up to {ZOOM_DROPS:.0%}")
    handles, labels = axes[0, -1].get_legend_handles_labels()
    handles += [
        plt.Line2D([], [], marker="s", color="0.3", markerfacecolor="none", ls=""),
        plt.Line2D([], [], marker="*", color="0.3", markersize=9, ls=""),
    ]
    labels += ["defaults", f"tuned (drops <= {HEADLINE_BOUND:.0%})"]
    axes[0, -1].legend(handles, labels, fontsize=7, loc="upper right")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def read_tuned(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The rows of tuned tables written by ``--tuned`` (numbers read back as numbers)."""
    rows = []
    for path in paths:
        with open(path, newline="") as file:
            for row in csv.DictReader(file):
                rows.append({k: _number(v) for k, v in row.items()})
    return rows


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def headline_rows(rows: Sequence[dict[str, Any]], shape: str) -> list[dict[str, Any]]:
    """Per policy on one crowd: its defaults and its point tuned for the headline bound
    (or, when no setting met it, the point with the fewest drops, so labelled)."""
    shown = []
    for policy in TUNED_POLICIES:
        mine = [r for r in rows if r["crowd"] == shape and r["policy"] == policy]
        shown.append({**mine[0], "point": f"{policy} defaults"})
        tag = f"tuned<={HEADLINE_BOUND:g}"
        tuned = [r for r in mine if tag in r["role"].split()]
        if tuned:
            shown.append({**tuned[0], "point": f"{policy} tuned"})
        else:
            fewest = min(mine[1:], key=lambda r: (r["drop_ratio"], r["replica_hours"]))
            shown.append({**fewest, "point": f"{policy} none met; fewest drops"})
    return shown


def fronts_title(replications: int) -> str:
    return (
        f"Autoscalers tuned alike: drops against replica-hours per crowd shape "
        f"({replications} seeds per point)\nline: each policy's Pareto front over the "
        "settings run; square: its defaults; star: its cheapest settings with drops "
        f"<= {HEADLINE_BOUND:.0%} (dashed)"
    )


def tuned_main(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The tuned comparison (see the module docstring): its table, fronts and figure."""
    replications = args.replications or (1 if args.quick else 2)
    crowd = QUICK if args.quick else FULL
    shapes = args.shapes or SHAPES
    results = [
        tune_policy(policy, shape, crowd, replications, args.quick)
        for shape in shapes
        for policy in TUNED_POLICIES
    ]
    rows = [row for result in results for row in tuned_rows(result)]
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if shapes == SHAPES else "_" + "_".join(shapes)
    write_table(rows, args.out / f"{STUDY}_tuned{suffix}.csv")
    for shape in shapes:
        print_table(
            headline_rows(rows, shape),
            f"{shape} crowd (8 -> 80 req/s over {crowd.duration_s / 60:g} min): each policy "
            f"at its defaults and tuned for drops <= {HEADLINE_BOUND:.0%}, "
            f"{replications} seeds",
            TUNED_COLUMNS,
        )
    runs = sum(len(r.tuning.outcomes) + 1 for r in results)
    print(f"points_run={runs} runs={runs * replications} replications={replications}")
    plot_fronts(
        rows,
        args.out / f"{STUDY}_fronts{suffix}.png",
        fronts_title(replications),
    )
    return rows


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications", type=int, default=None, help="seeds per policy (default 20; 2 quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a 10-minute crowd in a 30-minute run, 2 seeds"
    )
    parser.add_argument(
        "--tuned",
        action="store_true",
        help="every policy tuned alike on ramp, step and spike crowds (2 seeds; 1 quick)",
    )
    parser.add_argument(
        "--shapes",
        nargs="+",
        choices=SHAPES,
        help="with --tuned: only these crowd shapes (files named after them)",
    )
    parser.add_argument(
        "--replot",
        nargs="+",
        type=Path,
        metavar="CSV",
        help="draw autoscalers_fronts.png from tuned tables already written (no runs)",
    )
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    if args.replot:
        rows = read_tuned(args.replot)
        seeds = {int(row["runs"]) for row in rows}
        args.out.mkdir(parents=True, exist_ok=True)
        plot_fronts(rows, args.out / f"{STUDY}_fronts.png", fronts_title(max(seeds)))
        return rows
    if args.tuned:
        return tuned_main(args)
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
