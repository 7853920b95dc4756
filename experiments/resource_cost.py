"""Resource cost: the same day of traffic served by VMs, by containers, and by Beanstalk.

One simulated day of diurnal traffic (4 → 60 requests/s and back, peak at 14 h, 50 ms of
CPU per request) reaches a service of 1-vCPU, 1 GiB replicas on three platforms, each
scaled by the same policy and billed on the same instance type (m5.large: 2 vCPU,
8 GiB):

* ``vm`` — every replica is a VM on its own EC2-like m5.large instance
  (``platform.vm.instance_type``), billed per instance;
* ``container`` — containers on cluster hosts that the cluster scaler adds and removes
  (m5.large, starting from one host, at least one);
* ``beanstalk-docker`` — every replica is an Elastic Beanstalk instance (m5.large) that
  boots and then pulls the image.

On the VM and Beanstalk platforms the cluster keeps one placeholder host without an
instance type, so it is not billed and holds nothing (the cluster scaler is off); every
dollar of those two platforms is their replicas' instances. On the container platform
the starting host and every host the scaler adds are billed m5.large instances. A VM or
Beanstalk replica runs the same 1-vCPU app (one worker) on its 2-vCPU, 8 GiB instance:
the granularity of an instance per replica, by construction.

Columns: ``cost_usd`` is the bill (instances per second, 60 s minimum, and registries);
``vcpu_h_billed`` the billed instance-hours (instance cost / m5.large price) times its
vCPUs; ``vcpu_h_reserved`` / ``memory_gib_h_reserved`` what replicas held (a
container's requests; a whole instance for a VM or Beanstalk replica); ``vcpu_h_used``
the requests' CPU time and ``memory_gib_h_used`` the app's memory over the replicas'
lives; ``replicas_per_host`` the replicas in service per billed instance, time-weighted
over the 1-minute samples.

The autoscaler is target tracking on the fleet's average CPU at 50 % (min 1, max 10)
for all three: CPU utilization is measured per replica against the app's vCPU on every
platform, so the same traffic gives the same signal everywhere and the platforms differ
only in what a replica costs and how fast it starts. Beanstalk's default trigger
(NetworkOut above 6 MB per 5 min per instance, about 20 kB/s) would keep every platform
at its maximum all day, since the trough alone sends about 300 kB/s per replica.

Traffic starts at t = 0 (``workload.traffic.start=at_zero``), not when the first
replica is ready: arrivals come from a named random stream, so with the same seed every
platform sees exactly the same requests (common random numbers), and the request CPU
times and sizes are drawn for every arrival, dropped ones too. A platform slower to
start its first replica drops the requests that arrive before it is ready.

Run ``python experiments/resource_cost.py`` (3 seeds of a full day, about 2.5 minutes
on a 2-core machine); ``--quick`` compresses the cycle into 30 minutes.
"""

from __future__ import annotations

import argparse
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
from sim.core.units import parse_size  # noqa: E402
from sim.output.results import Result  # noqa: E402

STUDY = "resource_cost"
INSTANCE_TYPE = "m5.large"
SECONDS_PER_HOUR = 3600.0
GIB = 2**30

# The preset is the container point: diurnal traffic from t = 0, target tracking, one
# m5.large cluster host and the cluster scaler adding m5.large hosts.
COMMON = ("+experiment=resource_cost", "progress=false")
QUICK = (  # the daily cycle compressed into 30 minutes: trough at 0 and 30 min, peak at 15
    "horizon=30min",
    "workload.traffic.arrivals.period=30min",
    "workload.traffic.arrivals.peak_at=15min",
)
UNBILLED_CLUSTER = (  # one placeholder host, no instance type: not billed, holds nothing
    "cluster.pools.node.count=1",
    "~cluster.pools.node.instance_type",
    "+cluster.pools.node.vcpu=2",
    "+cluster.pools.node.memory=8GiB",
    "cluster.scaler.enabled=false",
)


@dataclass(frozen=True)
class Platform:
    """One platform of the study: its point and the cluster hosts it does not pay for."""

    point: Point
    unbilled_hosts: int


PLATFORMS = (
    Platform(
        Point(
            "vm",
            ("platform=vm", f"+platform.vm.instance_type={INSTANCE_TYPE}", *UNBILLED_CLUSTER),
            {"platform": "vm", "replica_on": f"own {INSTANCE_TYPE}"},
        ),
        unbilled_hosts=1,
    ),
    Platform(
        Point(
            "container",
            ("platform=container",),
            {"platform": "container", "replica_on": f"shared {INSTANCE_TYPE} hosts"},
        ),
        unbilled_hosts=0,
    ),
    Platform(
        Point(
            "beanstalk-docker",
            (
                "platform=beanstalk-docker",
                f"platform.beanstalk-docker.instance_type={INSTANCE_TYPE}",
                *UNBILLED_CLUSTER,
            ),
            {"platform": "beanstalk-docker", "replica_on": f"own {INSTANCE_TYPE}"},
        ),
        unbilled_hosts=1,
    ),
)

COST_COLUMNS = (
    "cost_usd",
    "usd_per_million_requests",
    "vcpu_h_billed",
    "vcpu_h_reserved",
    "vcpu_h_used",
    "memory_gib_h_reserved",
    "memory_gib_h_used",
)
SERVICE_COLUMNS = (
    "replicas_max",
    "hosts_max",
    "replicas_per_host",
    "latency_s_p95",
    "requests_total",
    "requests_dropped",
)


def _periods(result: Result) -> list[tuple[float, dict[str, Any]]]:
    """Each closed monitoring period's length and its row (the row at t = 0 opens none)."""
    rows = result.timeseries
    return [
        (float(row["time_s"]) - float(previous["time_s"]), dict(row))
        for previous, row in zip(rows, rows[1:], strict=False)
    ]


def replicas_per_host(unbilled_hosts: int) -> Callable[[Result], float | None]:
    """Replicas in service per billed instance, time-weighted over the run."""

    def metric(result: Result) -> float | None:
        replica_s = host_s = 0.0
        for length_s, row in _periods(result):
            replica_s += row["in_service"] * length_s
            host_s += (row["hosts"] - unbilled_hosts) * length_s
        return replica_s / host_s if host_s > 0 else None

    return metric


def metrics(
    platform: Platform, instance_usd_per_hour: float, instance_vcpu: float
) -> dict[str, Callable[[Result], float | None]]:
    """The table's metrics for one platform (replicas per host needs its unbilled hosts)."""

    def hours(key: str, scale: float = 1.0) -> Callable[[Result], float | None]:
        return lambda result: result.summary[key] / SECONDS_PER_HOUR / scale

    def instance_hours(result: Result) -> float:
        return result.summary["cost_usd_instances"] / instance_usd_per_hour

    def usd_per_million(result: Result) -> float | None:
        served = result.summary["requests_served"]
        return result.summary["cost_usd"] / served * 1e6 if served else None

    return {
        "cost_usd": summary_metric("cost_usd"),
        "usd_per_million_requests": usd_per_million,
        "instance_hours": instance_hours,
        "vcpu_h_billed": lambda result: instance_hours(result) * instance_vcpu,
        "vcpu_h_reserved": hours("vcpu_seconds_reserved"),
        "vcpu_h_used": hours("vcpu_seconds_used"),
        "memory_gib_h_reserved": hours("memory_byte_seconds_reserved", GIB),
        "memory_gib_h_used": hours("memory_byte_seconds_used", GIB),
        "replicas_per_host": replicas_per_host(platform.unbilled_hosts),
        "replicas_max": summary_metric("replicas_max"),
        "hosts_max": lambda result: result.summary["hosts_max"] - platform.unbilled_hosts,
        "latency_s_mean": summary_metric("latency_s_mean"),
        "latency_s_p95": summary_metric("latency_s_p95"),
        "requests_total": summary_metric("requests_total"),
        "requests_served": summary_metric("requests_served"),
        "requests_in_flight": summary_metric("requests_in_flight"),
        "requests_dropped": summary_metric("requests_dropped"),
        "scaling_actions": summary_metric("scaling_actions"),
        "cluster_scaling_actions": summary_metric("cluster_scaling_actions"),
    }


def _instance_price(config: dict[str, Any]) -> tuple[float, float, float]:
    """The study's instance type in a composed config's pricing: USD per hour, vCPU and
    memory (GiB)."""
    entry = config["pricing"]["instance_types"][INSTANCE_TYPE]
    memory_gib = parse_size(entry["memory"], "pricing.instance_types.memory") / GIB
    return float(entry["usd_per_hour"]), float(entry["vcpu"]), memory_gib


def plot_capacity(runs: Sequence[StudyRun], path: Path, title: str) -> None:
    """Load and capacity over time per platform (replication 0)."""
    firsts = [run for run in runs if run.replication == 0]
    fig, axes = plt.subplots(
        len(firsts) + 1, 1, figsize=(7, 2.0 * (len(firsts) + 1)), sharex=True, dpi=120
    )
    load_axis = axes[0]
    periods = _periods(firsts[0].result)  # every platform sees the same arrivals
    load_axis.plot(
        [row["time_s"] / SECONDS_PER_HOUR for _, row in periods],
        [(row["requests"] + row["dropped"]) / length for length, row in periods],
        color="k",
        lw=0.8,
    )
    load_axis.set_ylabel("arrivals (req/s)")
    load_axis.set_ylim(bottom=0)
    load_axis.set_title("Offered load (the same requests on every platform)", fontsize=9)
    unbilled = {platform.point.label: platform.unbilled_hosts for platform in PLATFORMS}
    for axis, run in zip(axes[1:], firsts, strict=True):
        periods = _periods(run.result)
        hours_at = [row["time_s"] / SECONDS_PER_HOUR for _, row in periods]
        replicas = [row["in_service"] for _, row in periods]
        hosts = [row["hosts"] - unbilled.get(run.point.label, 0) for _, row in periods]
        axis.step(hours_at, replicas, where="post", label="replicas in service")
        axis.step(hours_at, hosts, where="post", ls="--", label=f"billed {INSTANCE_TYPE}")
        axis.set_ylabel("count")
        axis.set_title(run.point.label, fontsize=9)
        axis.legend(fontsize=7, loc="upper left")
        axis.set_ylim(bottom=0)
    axes[-1].set_xlabel("simulated time (h)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_resources(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """Cost, and vCPU-hours billed / reserved / used, per platform (mean, 95 % CI)."""
    labels = [row["point"] for row in rows]
    fig, (cost_axis, cpu_axis, memory_axis) = plt.subplots(1, 3, figsize=(8, 3.4), dpi=110)
    x = range(len(rows))
    cost_axis.bar(
        x,
        [row["cost_usd"] for row in rows],
        yerr=[_finite(row["cost_usd_ci95"]) for row in rows],
        capsize=3,
        color=["C0", "C1", "C2"][: len(rows)],
    )
    cost_axis.set_xticks(list(x), labels, rotation=15, fontsize=8)
    cost_axis.set_ylabel("cost (USD)")
    cost_axis.set_title("Bill", fontsize=9)
    _grouped_bars(
        cpu_axis,
        rows,
        [("vcpu_h_billed", "billed"), ("vcpu_h_reserved", "reserved"), ("vcpu_h_used", "used")],
    )
    cpu_axis.set_ylabel("vCPU-hours")
    cpu_axis.set_title("vCPU", fontsize=9)
    _grouped_bars(
        memory_axis,
        rows,
        [("memory_gib_h_reserved", "reserved"), ("memory_gib_h_used", "used")],
    )
    memory_axis.set_ylabel("GiB-hours")
    memory_axis.set_title("Memory", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _grouped_bars(axis: Any, rows: Sequence[dict[str, Any]], series: list[tuple[str, str]]) -> None:
    width = 0.8 / len(series)
    for index, (column, label) in enumerate(series):
        positions = [i + (index - (len(series) - 1) / 2) * width for i in range(len(rows))]
        axis.bar(
            positions,
            [row[column] for row in rows],
            width,
            yerr=[_finite(row[f"{column}_ci95"]) for row in rows],
            capsize=2,
            label=label,
        )
    axis.set_xticks(range(len(rows)), [row["point"] for row in rows], rotation=15, fontsize=8)
    tallest = max(
        row[column] + _finite(row[f"{column}_ci95"]) for row in rows for column, _ in series
    )
    axis.set_ylim(0, 1.35 * tallest)  # room for the legend above the bars
    axis.legend(
        fontsize=7, loc="upper center", ncol=len(series), columnspacing=0.8, handlelength=1.2
    )


def _finite(value: float) -> float:
    return 0.0 if value is None or math.isnan(value) else value


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications",
        type=int,
        default=None,
        help="seeds per platform (default 3; 2 with --quick)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="the cycle compressed into 30 minutes, 2 seeds"
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    replications = args.replications or (2 if args.quick else 3)
    common = (*COMMON, *(QUICK if args.quick else ()))
    configs: list[dict[str, Any]] = []  # composed configs, to read the instance's price
    runs = run_study(
        [platform.point for platform in PLATFORMS],
        replications,
        common=common,
        adjust=lambda config: configs.append(config),
        progress=False if args.no_progress else None,
    )
    usd_per_hour, vcpu, memory_gib = _instance_price(configs[0])
    rows = []
    for platform in PLATFORMS:
        members = [run for run in runs if run.point is platform.point]
        rows.extend(study_table(members, metrics(platform, usd_per_hour, vcpu)))

    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    horizon = "30 compressed minutes" if args.quick else "one day"
    title = (
        f"Resource cost, {horizon} of diurnal traffic, target tracking 50 % CPU, "
        f"{INSTANCE_TYPE} ({vcpu:g} vCPU, {memory_gib:g} GiB): mean ± 95 % CI of "
        f"{replications} seeds"
    )
    print_table(rows, f"{title} — cost and resources", COST_COLUMNS)
    print_table(rows, f"{title} — capacity and service", SERVICE_COLUMNS)
    plot_capacity(
        runs,
        args.out / f"{STUDY}_capacity.png",
        f"Load and capacity, {horizon} of diurnal traffic (seed 0)",
    )
    plot_resources(
        rows,
        args.out / f"{STUDY}_bars.png",
        f"Cost and resources, {horizon} (mean ± 95 % CI, {replications} seeds)",
    )
    return rows


if __name__ == "__main__":
    main()
