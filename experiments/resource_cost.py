"""Resource cost: VMs against containers, priced fairly, over load and number of services.

A web service (1-vCPU, 1 GiB replicas; the app's working set is ``WORKING_SET_MIB``, an
assumption of this study) sees a diurnal cycle (trough = peak / 15, 50 ms of CPU per
request), scaled by target tracking at 60 % CPU (1 to 20 replicas). One six-hour cycle
is simulated per load, and a day's cost is four cycles. Two platforms serve it:

* ``vm`` — each replica is a VM on its own EC2 instance. The instance type is
  right-sized by an explicit search over the price list's x86 types: the cheapest
  with at least one vCPU and the working set plus a 512 MiB guest OS, a burstable
  ``t3`` billed for the CPU it uses above its baseline (20 % per vCPU; surplus credits
  at $0.05 per vCPU-hour, T3 Unlimited). Its provisioning is the calibrated EC2 launch.
* ``container`` — the replicas of *all* services are packed onto shared EKS nodes. A
  node's allocatable capacity is its instance's minus the EKS AMI's kube-reserved
  (CPU: 6 % of the first core, 1 % of the second, 0.5 % of the third and fourth,
  0.25 % of the rest; memory: 11 MiB per pod of the instance's ENI max-pods plus
  255 MiB), the kubelet's 100 MiB hard eviction threshold, and the requests of two
  DaemonSets (the VPC CNI's aws-node, 25 m CPU, and kube-proxy, 100 m CPU). Nodes are
  the fewest that hold every replica each minute, kept 10 minutes after they are last
  needed (the Cluster Autoscaler's scale-down delay); the node type is the cheapest of
  an explicit search. The EKS control plane costs $0.10 an hour.

The packing is computed from the simulated replica counts (the simulator serves one
service per run): each service's fleet comes from its own simulation on a cluster large
enough never to hold a replica back, so a replica here never waits for a node. With
several services, each is a copy of the one simulated service, taken from a different
seed; their peaks coincide, which favours neither platform more than the other. Memory
*used* is the app's working set (``workload.apps.web.working_set``) over the replicas'
lives, not the request.

Run ``python experiments/resource_cost.py`` (4 loads × 2 platforms × 3 seeds, about a
minute and a half on a 2-core machine); ``--quick`` runs two loads and two seeds.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.api import load_config  # noqa: E402
from sim.batch.study import (  # noqa: E402
    Measure,
    Metric,
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
from sim.core.errors import ConfigError  # noqa: E402
from sim.core.intervals import NON_NEGATIVE, SHARE, mean_interval  # noqa: E402
from sim.core.streams import RandomStreams  # noqa: E402
from sim.model.hosts.allocatable import MIB, eks_reserved_memory_bytes, eks_reserved_vcpu  # noqa: E402
from sim.output.results import Result  # noqa: E402

STUDY = "resource_cost"
SERVICES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
QUICK_WEB_PEAKS_PER_S = (20,)
CYCLE_H = 6.0
CYCLES_PER_DAY = 24.0 / CYCLE_H
TARGET_CPU_PERCENT = 60
GUEST_OS_MIB = 512
CONTROL_PLANE_USD_PER_HOUR = 0.10  # Amazon EKS, standard support
SURPLUS_USD_PER_VCPU_HOUR = 0.05  # T3 Unlimited surplus credits, Linux
SCALE_DOWN_DELAY_S = 600.0  # the Cluster Autoscaler's --scale-down-unneeded-time
EVICTION_HARD_MIB = 100  # the kubelet's memory.available hard threshold
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Profile:
    """A kind of service: its replicas' requests, the app's working set (resident memory
    at load: an assumption of the study, not the request) and the loads it sees."""

    name: str
    vcpu: float
    memory_mib: int
    working_set_mib: int
    peaks_per_s: tuple[float, ...]
    services_peak_per_s: float  # the load of each service in the figure against services

    def overrides(self, peak_per_s: float) -> tuple[str, ...]:
        return (
            f"workload.apps.web.vcpu={self.vcpu:g}",
            f"workload.apps.web.memory={self.memory_mib}MiB",
            f"+workload.apps.web.working_set={self.working_set_mib}MiB",
            f"workload.traffic.arrivals.peak_per_s={peak_per_s:g}",
            f"workload.traffic.arrivals.trough_per_s={peak_per_s / 15:g}",
        )


WEB = Profile("web", 1.0, 1024, 600, (10, 20, 40, 80), 20)
SMALL = Profile("small", 0.25, 256, 150, (2,), 2)  # an internal API, mostly at its minimum
PROFILES = (WEB, SMALL)


@dataclass(frozen=True)
class InstanceType:
    """An EC2 instance type as the study prices it."""

    name: str
    vcpu: float
    memory_mib: int
    usd_per_hour: float
    max_pods: int  # the VPC CNI's ENI limit: ENIs × (IPv4 per ENI - 1) + 2
    baseline_per_vcpu: float = 1.0  # a burstable type's sustained share of each vCPU


# The price list's x86 types (configs/pricing/aws_us_east_1.yaml) and the smaller t3
# sizes at AWS's us-east-1 list prices, with their ENI max-pods and, for t3, the
# baseline share of each vCPU. m7g (Graviton) is left out: it needs an arm64 image.
INSTANCE_TYPES = (
    InstanceType("t3.nano", 2, 512, 0.0052, 4, baseline_per_vcpu=0.05),
    InstanceType("t3.micro", 2, 1024, 0.0104, 4, baseline_per_vcpu=0.10),
    InstanceType("t3.small", 2, 2048, 0.0208, 11, baseline_per_vcpu=0.20),
    InstanceType("t3.medium", 2, 4096, 0.0416, 17, baseline_per_vcpu=0.20),
    InstanceType("c5.large", 2, 4096, 0.085, 29),
    InstanceType("m5.large", 2, 8192, 0.096, 29),
    InstanceType("r5.large", 2, 16384, 0.126, 29),
    InstanceType("c5.xlarge", 4, 8192, 0.17, 58),
    InstanceType("m5.xlarge", 4, 16384, 0.192, 58),
    InstanceType("m5.2xlarge", 8, 32768, 0.384, 58),
    InstanceType("m5.4xlarge", 16, 65536, 0.768, 234),
)
# Non-burstable 1-vCPU types (configs/pricing/aws_us_east_1.yaml): AWS's us-east-1 list
# prices; max pods from amazon-eks-ami's nodeadm/internal/kubelet/instance-info.jsonl
# (2 ENIs x 4 IPv4 addresses: 2 x 3 + 2 = 8).
ONE_VCPU_TYPES = (
    InstanceType("c7a.medium", 1, 2048, 0.05132, 8),
    InstanceType("m7a.medium", 1, 4096, 0.05796, 8),
)
NON_BURSTABLE = tuple(t for t in INSTANCE_TYPES if t.baseline_per_vcpu == 1.0)
CATALOGUES: dict[str, tuple[InstanceType, ...]] = {
    "t3 + m5/c5/r5": INSTANCE_TYPES,
    "m5/c5/r5": NON_BURSTABLE,
    "m5/c5/r5 + c7a/m7a.medium": NON_BURSTABLE + ONE_VCPU_TYPES,
    "t3 + m5/c5/r5 + c7a/m7a.medium": INSTANCE_TYPES + ONE_VCPU_TYPES,
}
"""The instance types each platform may choose from: the study's own (the first), without
burstables, and either with the non-burstable 1-vCPU types."""
BASES = ("requests", "working set")
"""What a replica is sized by: its requests (the scheduler's view; a VM gets the requested
memory plus its guest OS) or its working set (a right-sized request; a VM gets the
working set plus its guest OS)."""
VM_RUN_TYPE = "m5.large"  # what the VM runs are billed at; repriced per type afterwards


@dataclass(frozen=True)
class DaemonSet:
    """A pod every node runs, with its requests."""

    name: str
    cpu: float
    memory_mib: int


DAEMONSETS = (DaemonSet("aws-node", 0.025, 0), DaemonSet("kube-proxy", 0.100, 0))


@dataclass(frozen=True)
class NodeShape:
    """What a node of an instance type offers pods after reserves and DaemonSets."""

    instance: InstanceType
    allocatable_cpu: float
    allocatable_memory_mib: int

    def replicas(self, profile: Profile) -> int:
        """How many replicas of a profile fit on one node (by their requests)."""
        return max(
            0,
            min(
                int(self.allocatable_cpu / profile.vcpu + 1e-9),
                self.allocatable_memory_mib // profile.memory_mib,
                self.instance.max_pods - len(DAEMONSETS),
            ),
        )


def node_shape(instance: InstanceType, daemonsets: Sequence[DaemonSet] = DAEMONSETS) -> NodeShape:
    """The node's allocatable capacity left for the service's pods."""
    cpu = (
        instance.vcpu
        - eks_reserved_vcpu(instance.vcpu)
        - sum(daemonset.cpu for daemonset in daemonsets)
    )
    memory = (
        instance.memory_mib
        - eks_reserved_memory_bytes(instance.max_pods) // MIB
        - EVICTION_HARD_MIB
        - sum(daemonset.memory_mib for daemonset in daemonsets)
    )
    return NodeShape(instance, cpu, memory)


def nodes_over_time(replicas: Sequence[int], per_node: int, keep_periods: int) -> list[int]:
    """Nodes each period: the fewest that hold the period's replicas, kept until none of
    the last `keep_periods` periods needed them (at least one node)."""
    needed = [max(1, math.ceil(count / per_node)) for count in replicas]
    return [max(needed[max(0, i - keep_periods) : i + 1]) for i in range(len(needed))]


def instance_cost_usd(
    instance: InstanceType, instance_hours: float, used_vcpu_hours: float
) -> float:
    """The bill of `instance_hours` of a type whose instances used `used_vcpu_hours` of
    CPU in all: the hourly price, and for a burstable type the CPU above its baseline
    at the surplus-credit price."""
    surplus = 0.0
    if instance.baseline_per_vcpu < 1.0:
        baseline = instance.baseline_per_vcpu * instance.vcpu * instance_hours
        surplus = max(0.0, used_vcpu_hours - baseline) * SURPLUS_USD_PER_VCPU_HOUR
    return instance.usd_per_hour * instance_hours + surplus


def vm_fits(instance: InstanceType, profile: Profile) -> bool:
    """A replica's VM needs its vCPU and the working set plus the guest OS."""
    return (
        instance.vcpu >= profile.vcpu
        and instance.memory_mib >= profile.working_set_mib + GUEST_OS_MIB
    )


def sized_by(profile: Profile, basis: str) -> Profile:
    """The profile as the given basis sizes it (see `BASES`): by ``requests`` a VM holds
    the requested memory, by ``working set`` a container requests its working set."""
    if basis == "requests":
        return dataclasses.replace(profile, working_set_mib=profile.memory_mib)
    if basis == "working set":
        return dataclasses.replace(profile, memory_mib=profile.working_set_mib)
    raise ValueError(f"basis {basis!r}; allowed: {', '.join(BASES)}")


def cheapest_vm(
    profile: Profile,
    instance_hours: float,
    used_vcpu_hours: float,
    catalogue: Sequence[InstanceType] = INSTANCE_TYPES,
) -> tuple[InstanceType, float]:
    """The right-sized VM type of the catalogue for these hours and this CPU, and its
    cost."""
    priced = [
        (instance_cost_usd(instance, instance_hours, used_vcpu_hours), instance)
        for instance in catalogue
        if vm_fits(instance, profile)
    ]
    cost, instance = min(priced, key=lambda pair: pair[0])
    return instance, cost


@dataclass(frozen=True)
class Packing:
    """The cheapest node type for a set of services, and what it costs per cycle."""

    instance: InstanceType
    nodes: tuple[int, ...]
    node_usd: float
    control_plane_usd: float

    @property
    def usd(self) -> float:
        return self.node_usd + self.control_plane_usd


def cheapest_packing(
    profile: Profile,
    fleets: Sequence[Sequence[int]],
    period_s: float,
    used_vcpu_hours: float,
    catalogue: Sequence[InstanceType] = INSTANCE_TYPES,
) -> Packing:
    """Pack the services' replicas (one count per period each) onto the catalogue's
    cheapest node type, paying the control plane for the cycle."""
    total = [sum(counts) for counts in zip(*fleets, strict=True)]
    keep = round(SCALE_DOWN_DELAY_S / period_s)
    cycle_h = len(total) * period_s / SECONDS_PER_HOUR
    best: Packing | None = None
    for instance in catalogue:
        per_node = node_shape(instance).replicas(profile)
        if per_node < 1:
            continue
        nodes = nodes_over_time(total, per_node, keep)
        node_hours = sum(nodes) * period_s / SECONDS_PER_HOUR
        usd = instance_cost_usd(instance, node_hours, used_vcpu_hours)
        packing = Packing(instance, tuple(nodes), usd, CONTROL_PLANE_USD_PER_HOUR * cycle_h)
        if best is None or packing.usd < best.usd:
            best = packing
    assert best is not None
    return best


# The simulations ------------------------------------------------------------------------

CYCLE = (
    "+experiment=resource_cost",
    "progress=false",
    f"horizon={CYCLE_H:g}h",
    f"workload.traffic.arrivals.period={CYCLE_H:g}h",
    f"workload.traffic.arrivals.peak_at={CYCLE_H / 2:g}h",
    f"autoscaler.target_value={TARGET_CPU_PERCENT}",
    "autoscaler.max_capacity=20",
)
"""One diurnal cycle of the service, scaled by target tracking: every run's base."""
COMMON = (
    *CYCLE,
    # The cluster: one unbilled placeholder host, large enough for every container (the
    # nodes are priced after the run) and idle for VMs, which are their own instances.
    "cluster.pools.node.count=1",
    "~cluster.pools.node.instance_type",
    "+cluster.pools.node.vcpu=64",
    "+cluster.pools.node.memory=256GiB",
    "cluster.scaler.enabled=false",
)
PLATFORM_OVERRIDES = {
    "container": ("platform=container",),
    "vm": (
        "platform=vm",
        f"+platform.vm.instance_type={VM_RUN_TYPE}",
        "platform.vm.provision={dist: lognormal, median: 14.5s, sigma: 0.55}",
    ),
}


def points(profile: Profile, peaks_per_s: Sequence[float]) -> list[Point]:
    return [
        Point(
            f"{profile.name} {platform} {peak:g}/s",
            (*overrides, *profile.overrides(peak)),
            {"profile": profile.name, "platform": platform, "peak_per_s": peak},
        )
        for peak in peaks_per_s
        for platform, overrides in PLATFORM_OVERRIDES.items()
    ]


def members_of(
    runs: Sequence[StudyRun], profile: Profile, platform: str, peak: float
) -> list[StudyRun]:
    return [
        run
        for run in runs
        if run.point.extra == {"profile": profile.name, "platform": platform, "peak_per_s": peak}
    ]


def held_replicas(result: Result) -> list[int]:
    """Replicas holding their requests at each sample after t = 0 (starting, in service
    or draining)."""
    return [
        int(row["in_service"]) + int(row["draining"]) + int(row["replicas_starting"])
        for row in result.timeseries[1:]
    ]


def sample_period_s(result: Result) -> float:
    rows = result.timeseries
    return float(rows[1]["time_s"]) - float(rows[0]["time_s"])


def used_vcpu_hours(result: Result) -> float:
    return float(result.summary["vcpu_seconds_used"]) / SECONDS_PER_HOUR


def replica_hours(result: Result, profile: Profile, platform: str) -> float:
    """Replica-hours: a VM's instance-hours (it holds the whole instance), a
    container's reserved vCPU-hours over its request."""
    if platform == "vm":
        return vm_instance_hours(result)
    return float(result.summary["vcpu_seconds_reserved"]) / SECONDS_PER_HOUR / profile.vcpu


def memory_gib_hours_used(result: Result) -> float:
    """The apps' memory used (their working set, ``workload.apps.web.working_set``)."""
    return float(result.summary["memory_byte_seconds_used"]) / 2**30 / SECONDS_PER_HOUR


def vm_instance_hours(result: Result) -> float:
    run_type = next(t for t in INSTANCE_TYPES if t.name == VM_RUN_TYPE)
    return float(result.summary["cost_usd_instances"]) / run_type.usd_per_hour


def drop_share(result: Result) -> float:
    total = result.summary["requests_total"]
    return result.summary["requests_dropped"] / total if total else 0.0


# Nodes in the loop ----------------------------------------------------------------------

SIMPLE_SCALER_KEYS = (
    "~cluster.scaler.instance_type",
    "~cluster.scaler.min_hosts",
    "~cluster.scaler.max_hosts",
)
"""The preset's settings of the simple scaler, which another kind does not take."""
NODE_SCALERS: dict[str, tuple[str, ...]] = {
    "karpenter": ("cluster/scaler=karpenter", *SIMPLE_SCALER_KEYS),
    "cluster-autoscaler": (
        "cluster/scaler=cluster-autoscaler",
        *SIMPLE_SCALER_KEYS,
        "cluster.scaler.expander=price",
    ),
}
KARPENTER_FAMILIES = {
    "m5/c5/r5": "[m5,c5,r5]",
    "t3 + m5/c5/r5": "[t3,m5,c5,r5]",
    "m5/c5/r5 + c7a/m7a.medium": "[m5,c5,r5,c7a,m7a]",
}
"""Karpenter's NodePool families per catalogue (the price list's types of each family)."""
NODES_COMMON = (
    *CYCLE,
    "platform=container",
    "cluster.pools.node.count=1",  # the system node; every other node is the scaler's
    "cluster.pools.node.instance_type=m5.large",
)


def node_scalers_available() -> bool:
    """Whether this simulator has the Cluster Autoscaler and Karpenter as node scalers
    (``cluster/scaler=karpenter``)."""
    try:
        load_config(["cluster/scaler=karpenter"])
    except ConfigError:
        return False
    return True


def nodes_in_the_loop_points(profile: Profile, peak: float) -> list[Point]:
    """The container platform on nodes a node scaler adds while pods wait: Karpenter
    over each catalogue's families, and the Cluster Autoscaler's own node groups."""
    points = [
        Point(
            f"karpenter {name}",
            (
                *NODE_SCALERS["karpenter"],
                f"cluster.scaler.node_pools.default.families={families}",
                *profile.overrides(peak),
            ),
            {"scaler": "karpenter", "catalogue": name},
        )
        for name, families in KARPENTER_FAMILIES.items()
    ]
    points.append(
        Point(
            "cluster-autoscaler",
            (*NODE_SCALERS["cluster-autoscaler"], *profile.overrides(peak)),
            {"scaler": "cluster-autoscaler", "catalogue": "its node groups"},
        )
    )
    return points


def nodes_in_the_loop(profile: Profile, replications: int) -> list[dict[str, Any]]:
    """Cost per day of one service's containers placed by the simulated cluster and its
    node scaler (pods wait for nodes, the bill is the simulator's, per second), with the
    control plane; empty where this simulator has no such node scaler. At the profile's
    highest load: at the services' load (20 req/s) the replicas never outgrow the system
    node, and every scaler and catalogue bills the same."""
    if not node_scalers_available():
        print("nodes_in_the_loop=skipped reason='no cluster/scaler=karpenter here'")
        return []
    peak = max(profile.peaks_per_s)
    runs = run_study(
        nodes_in_the_loop_points(profile, peak), replications, NODES_COMMON, progress=False
    )
    metrics: dict[str, Metric] = {
        "cost_usd": summary_metric("cost_usd"),
        "latency_s_p95": summary_metric("latency_s_p95"),
        "time_to_schedule_s_p95": summary_metric("time_to_schedule_s_p95"),
        "node_hours": summary_metric("node_hours"),
        "drop_share": Measure(drop_share, SHARE),
    }
    rows = study_table(runs, metrics)
    for row in rows:
        control_plane = CONTROL_PLANE_USD_PER_HOUR * CYCLE_H
        row["usd_per_day"] = (row["cost_usd"] + control_plane) * CYCLES_PER_DAY
        row["usd_per_day_low"] = (row["cost_usd_low"] + control_plane) * CYCLES_PER_DAY
        row["usd_per_day_high"] = (row["cost_usd_high"] + control_plane) * CYCLES_PER_DAY
        row["peak_per_s"] = peak
    return rows


# The table ------------------------------------------------------------------------------


def _interval(values: Sequence[float], name: str) -> tuple[float, float, float]:
    """The mean of non-negative values and its 95 % interval over the seeds (a
    bootstrap from the stream ``study/<name>``: a cost stays at or above 0)."""
    interval = mean_interval(values, NON_NEGATIVE, RandomStreams(0).generator(f"study/{name}"))
    return interval.estimate, interval.low, interval.high


def load_rows(runs: Sequence[StudyRun], profile: Profile) -> list[dict[str, Any]]:
    """One row per load and platform for one service: cost per day (right-sized VM, or
    the cheapest node type with the control plane), what it holds and uses, and how the
    service fared."""
    rows = []
    for peak in profile.peaks_per_s:
        for platform in PLATFORM_OVERRIDES:
            members = members_of(runs, profile, platform, peak)
            costs, types, billed_mib_h = [], [], []
            for run in members:
                result = run.result
                if platform == "vm":
                    hours = vm_instance_hours(result)
                    instance, usd = cheapest_vm(profile, hours, used_vcpu_hours(result))
                    billed_mib_h.append(instance.memory_mib * hours)
                else:
                    period_s = sample_period_s(result)
                    packing = cheapest_packing(
                        profile, [held_replicas(result)], period_s, used_vcpu_hours(result)
                    )
                    instance, usd = packing.instance, packing.usd
                    node_hours = sum(packing.nodes) * period_s / SECONDS_PER_HOUR
                    billed_mib_h.append(instance.memory_mib * node_hours)
                costs.append(usd * CYCLES_PER_DAY)
                types.append(instance.name)
            cost, cost_low, cost_high = _interval(
                costs, f"{profile.name} {platform} {peak:g}/s/usd_per_day"
            )
            replica_h = [
                replica_hours(run.result, profile, platform) * CYCLES_PER_DAY for run in members
            ]
            rows.append(
                {
                    "point": f"{profile.name} {platform} {peak:g}/s",
                    "profile": profile.name,
                    "platform": platform,
                    "peak_per_s": peak,
                    "runs": len(members),
                    "instance_type": "/".join(sorted(set(types))),
                    "usd_per_day": cost,
                    "usd_per_day_low": cost_low,
                    "usd_per_day_high": cost_high,
                    "replica_h_per_day": statistics_mean(replica_h),
                    "memory_gib_h_billed_per_day": statistics_mean(billed_mib_h)
                    * CYCLES_PER_DAY
                    / 1024,
                    "memory_gib_h_requested_per_day": statistics_mean(replica_h)
                    * (profile.memory_mib if platform == "container" else 0)
                    / 1024,
                    "memory_gib_h_used_per_day": statistics_mean(
                        [memory_gib_hours_used(run.result) * CYCLES_PER_DAY for run in members]
                    ),
                    "latency_s_p95": statistics_mean(
                        [float(run.result.summary["latency_s_p95"]) for run in members]
                    ),
                    "drop_share": statistics_mean([drop_share(run.result) for run in members]),
                }
            )
    return rows


def statistics_mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def services_rows(
    runs: Sequence[StudyRun],
    profile: Profile,
    catalogue: Sequence[InstanceType] = INSTANCE_TYPES,
    sizing: Profile | None = None,
) -> list[dict[str, Any]]:
    """Cost per day of S services of a profile at its services load, VMs against shared
    nodes of the catalogue; each service is one seed's simulation, reused in turn when S
    exceeds the seeds. `sizing` sizes the VMs and packs the containers (default: the
    profile itself)."""
    sized = profile if sizing is None else sizing
    peak = profile.services_peak_per_s
    vm_runs = members_of(runs, profile, "vm", peak)
    container_runs = members_of(runs, profile, "container", peak)
    if not vm_runs or not container_runs:
        return []
    rows = []
    for services in SERVICES:
        chosen_vm = [vm_runs[i % len(vm_runs)].result for i in range(services)]
        vms = [
            cheapest_vm(sized, vm_instance_hours(result), used_vcpu_hours(result), catalogue)
            for result in chosen_vm
        ]
        vm_usd = sum(usd for _, usd in vms)
        chosen = [container_runs[i % len(container_runs)].result for i in range(services)]
        packing = cheapest_packing(
            sized,
            [held_replicas(result) for result in chosen],
            sample_period_s(chosen[0]),
            sum(used_vcpu_hours(result) for result in chosen),
            catalogue,
        )
        rows.append(
            {
                "profile": profile.name,
                "services": services,
                "peak_per_s": peak,
                "vm_usd_per_day": vm_usd * CYCLES_PER_DAY,
                "container_usd_per_day": packing.usd * CYCLES_PER_DAY,
                "container_nodes_usd_per_day": packing.node_usd * CYCLES_PER_DAY,
                "node_type": packing.instance.name,
                "nodes_max": max(packing.nodes),
                "vm_types": "/".join(sorted({instance.name for instance, _ in vms})),
            }
        )
    return rows


def catalogue_rows(runs: Sequence[StudyRun], profile: Profile) -> list[dict[str, Any]]:
    """`services_rows` for every catalogue and sizing basis, labelled with both."""
    return [
        {"catalogue": name, "basis": basis, **row}
        for name, catalogue in CATALOGUES.items()
        for basis in BASES
        for row in services_rows(runs, profile, catalogue, sized_by(profile, basis))
    ]


def break_even(rows: Sequence[dict[str, Any]]) -> float | None:
    """The number of services from which containers cost less than VMs (interpolated;
    None if the lines never cross)."""
    return crossing(
        [row["services"] for row in rows],
        [row["vm_usd_per_day"] for row in rows],
        [row["container_usd_per_day"] for row in rows],
    )


def plot_catalogues(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """One panel per catalogue: cost per day against the number of web services, VMs
    against containers, sized by requests (solid, dots) and by the working set (dashed,
    hollow squares, so a line the other hides still shows)."""
    names = list(dict.fromkeys(row["catalogue"] for row in rows))
    fig, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names), 3.8), dpi=120, squeeze=False)
    for axis, name in zip(axes[0], names, strict=True):
        for basis, style, marker in zip(BASES, ("-", "--"), ("o", "s"), strict=True):
            mine = [r for r in rows if r["catalogue"] == name and r["basis"] == basis]
            counts = [r["services"] for r in mine]
            for column, colour, label in (
                ("vm_usd_per_day", "C0", "VMs"),
                ("container_usd_per_day", "C1", "containers"),
            ):
                axis.plot(
                    counts,
                    [r[column] for r in mine],
                    ls=style,
                    marker=marker,
                    ms=2.5 if marker == "o" else 5,
                    markerfacecolor=colour if marker == "o" else "none",
                    color=colour,
                    label=f"{label}, by {basis}",
                )
            where = break_even(mine)
            if where is not None:
                axis.axvline(where, color="k", ls=style, lw=0.6)
        axis.set_xscale("log", base=2)
        axis.set_xticks(list(SERVICES), [str(count) for count in SERVICES], fontsize=6)
        axis.minorticks_off()
        axis.set_ylim(bottom=0)
        axis.set_title(name, fontsize=8)
        axis.set_xlabel("web services", fontsize=8)
        axis.grid(alpha=0.3)
    axes[0, 0].set_ylabel("cost per day (USD)")
    axes[0, -1].legend(fontsize=6, loc="upper left")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# The figures ----------------------------------------------------------------------------


def crossing(xs: Sequence[float], a: Sequence[float], b: Sequence[float]) -> float | None:
    """Where the line `a - b` changes sign, by linear interpolation (None if never)."""
    for i in range(1, len(xs)):
        before, after = a[i - 1] - b[i - 1], a[i] - b[i]
        if before == 0:
            return xs[i - 1]
        if before * after < 0:
            return xs[i - 1] + (xs[i] - xs[i - 1]) * before / (before - after)
    return None


def plot_breakeven(
    loads: Sequence[dict[str, Any]],
    services: Sequence[dict[str, Any]],
    path: Path,
    title: str,
    args: argparse.Namespace,
) -> None:
    """Cost per day against load (one web service) and against the number of services
    (web and small), VMs against containers."""
    fig, (load_axis, services_axis) = plt.subplots(1, 2, figsize=(9.5, 4.2), dpi=120)
    web = [row for row in loads if row["profile"] == WEB.name]
    for platform, colour, label in (
        ("vm", "C0", "VMs, right-sized"),
        ("container", "C1", "containers on EKS"),
    ):
        rows = [row for row in web if row["platform"] == platform]
        load_axis.errorbar(
            [row["peak_per_s"] for row in rows],
            [row["usd_per_day"] for row in rows],
            yerr=error_bars(rows, "usd_per_day"),
            marker="o",
            capsize=3,
            color=colour,
            label=label,
        )
        for row in rows:
            load_axis.annotate(
                row["instance_type"],
                (row["peak_per_s"], row["usd_per_day"]),
                fontsize=6,
                color=colour,
                textcoords="offset points",
                xytext=(4, -9 if platform == "vm" else 5),
            )
    load_axis.axhline(
        CONTROL_PLANE_USD_PER_HOUR * 24, color="C1", ls=":", lw=0.8, label="EKS control plane"
    )
    load_axis.set_xscale("log", base=2)
    peaks = sorted({row["peak_per_s"] for row in web})
    load_axis.set_xticks(peaks, [f"{peak:g}" for peak in peaks])
    load_axis.minorticks_off()
    load_axis.set_xlabel("peak load of one web service (req/s)")
    load_axis.set_ylabel("cost per day (USD)")
    load_axis.set_ylim(bottom=0)
    load_axis.set_title("One web service (1 vCPU, 1 GiB replicas)", fontsize=9)
    load_axis.legend(fontsize=7)
    load_axis.grid(alpha=0.3)
    for profile, style in ((WEB, "-"), (SMALL, "--")):
        rows = [row for row in services if row["profile"] == profile.name]
        if not rows:
            continue
        counts = [row["services"] for row in rows]
        vm = [row["vm_usd_per_day"] for row in rows]
        container = [row["container_usd_per_day"] for row in rows]
        what = f"{profile.name} ({profile.vcpu:g} vCPU, {profile.services_peak_per_s:g} req/s)"
        services_axis.plot(counts, vm, ls=style, marker="o", ms=3, color="C0", label=f"VMs, {what}")
        services_axis.plot(
            counts, container, ls=style, marker="o", ms=3, color="C1", label=f"containers, {what}"
        )
        where = crossing(counts, vm, container)
        if where is not None:
            services_axis.axvline(where, color="k", ls=":", lw=0.8)
            services_axis.annotate(
                f"{profile.name}: break-even ≈ {where:.1f} services",
                (where, max(container) * 0.55),
                fontsize=7,
                xytext=(4, 0),
                textcoords="offset points",
            )
    services_axis.set_xscale("log", base=2)
    services_axis.set_yscale("log")
    services_axis.set_xticks(list(SERVICES), [str(count) for count in SERVICES])
    services_axis.minorticks_off()
    services_axis.set_xlabel("services sharing the cluster")
    services_axis.set_ylabel("cost per day (USD)")
    services_axis.set_title("Several services (containers: nodes + control plane)", fontsize=9)
    services_axis.legend(fontsize=6)
    services_axis.grid(alpha=0.3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def plot_capacity(
    runs: Sequence[StudyRun], peak: float, path: Path, title: str, args: argparse.Namespace
) -> None:
    """Replicas held over the cycle per platform at one web load: median line and band
    from fewest to most over every seed, with the arrival rate and the nodes that hold
    the containers. The VM and container fleets follow the same load with the same
    autoscaler and often coincide, so one is drawn solid and wide, the other dashed on
    top of it; a note says where they are equal."""
    fig, axis = plt.subplots(figsize=(7, 3.6), dpi=120)
    first = members_of(runs, WEB, "container", peak)[0]
    rows = first.result.timeseries
    edges_h = [float(row["time_s"]) / SECONDS_PER_HOUR for row in rows]
    period_s = sample_period_s(first.result)
    rate = [(row["requests"] + row["dropped"]) / period_s for row in rows[1:]]
    twin = axis.twinx()
    twin.stairs(rate, edges_h, fill=True, color="0.88")
    twin.set_ylabel("arrivals (req/s)", color="0.5")
    twin.set_ylim(0, max(rate) * 1.1)
    axis.set_zorder(twin.get_zorder() + 1)
    axis.patch.set_visible(False)
    medians: list[list[int]] = []
    for index, platform in enumerate(PLATFORM_OVERRIDES):
        members = members_of(runs, WEB, platform, peak)
        series = [held_replicas(run.result) for run in members]
        columns = list(zip(*series, strict=True))
        low = [min(column) for column in columns]
        high = [max(column) for column in columns]
        median = [sorted(column)[len(column) // 2] for column in columns]
        medians.append(median)
        axis.stairs(high, edges_h, baseline=low, fill=True, color=f"C{index}", alpha=0.25)
        axis.stairs(
            median,
            edges_h,
            color=f"C{index}",
            lw=3.0 if index == 0 else 1.4,
            ls="-" if index == 0 else (0, (4, 2)),
            label=f"{platform} replicas (median)",
            zorder=2 + index,
        )
        if platform == "container":
            packing = cheapest_packing(
                WEB, [series[0]], period_s, used_vcpu_hours(members[0].result)
            )
            axis.stairs(
                packing.nodes,
                edges_h,
                color="k",
                ls="--",
                lw=0.9,
                label=f"{packing.instance.name} nodes (seed 0)",
            )
    if len(medians) == 2:
        same = sum(a == b for a, b in zip(*medians, strict=True)) / len(medians[0])
        axis.text(
            0.99,
            0.97,
            f"medians equal in {100 * same:.0f} % of periods",
            transform=axis.transAxes,
            ha="right",
            va="top",
            fontsize=7,
        )
    axis.set_xlabel("simulated time (h)")
    axis.set_ylabel("count")
    axis.set_ylim(bottom=0)
    axis.legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications", type=int, default=None, help="seeds per point (default 3; 2 quick)"
    )
    parser.add_argument("--quick", action="store_true", help="one web load, two seeds")
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    replications = args.replications or (2 if args.quick else 3)
    web = WEB
    if args.quick:
        web = Profile(
            WEB.name,
            WEB.vcpu,
            WEB.memory_mib,
            WEB.working_set_mib,
            QUICK_WEB_PEAKS_PER_S,
            WEB.services_peak_per_s,
        )
    profiles = (web, SMALL)
    runs = run_study(
        [point for profile in profiles for point in points(profile, profile.peaks_per_s)],
        replications,
        common=COMMON,
        progress=False if args.no_progress else None,
    )
    rows = [row for profile in profiles for row in load_rows(runs, profile)]
    services = [row for profile in profiles for row in services_rows(runs, profile)]
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    write_table(services, args.out / f"{STUDY}_services.csv")
    print_table(
        rows,
        f"One service, cost per day ({replications} seeds, {CYCLE_H:g} h cycle × "
        f"{CYCLES_PER_DAY:g}); containers include the EKS control plane",
        (
            "instance_type",
            "usd_per_day",
            "replica_h_per_day",
            "memory_gib_h_billed_per_day",
            "memory_gib_h_used_per_day",
            "latency_s_p95",
            "drop_share",
        ),
    )
    print_table(
        [{"point": f"{row['profile']} × {row['services']}", **row} for row in services],
        "Services sharing the cluster, cost per day",
        ("vm_usd_per_day", "container_usd_per_day", "node_type", "nodes_max"),
    )
    catalogues = catalogue_rows(runs, web)
    write_table(catalogues, args.out / f"{STUDY}_catalogues.csv")
    crossings = [
        {
            "point": f"{name}, by {basis}",
            "break_even_services": break_even(
                [r for r in catalogues if r["catalogue"] == name and r["basis"] == basis]
            ),
        }
        for name in CATALOGUES
        for basis in BASES
    ]
    for line in crossings:
        where = line["break_even_services"]
        print(
            f"break_even catalogue={line['point']!r} services="
            + ("none" if where is None else f"{where:.2f}")
        )
    plot_catalogues(
        catalogues,
        args.out / f"{STUDY}_catalogues.png",
        f"Web services ({web.services_peak_per_s:g} req/s peak each): cost per day by "
        f"catalogue and sizing ({replications} seeds)\nvertical lines: break-even "
        "(containers cheaper to the right)",
    )
    nodes = nodes_in_the_loop(web, replications)
    if nodes:
        write_table(nodes, args.out / f"{STUDY}_nodes.csv")
        print_table(
            nodes,
            f"One web service at {max(web.peaks_per_s):g} req/s, containers on the nodes a "
            "node scaler adds (pods wait for them), cost per day with the control plane",
            ("usd_per_day", "node_hours", "time_to_schedule_s_p95", "drop_share"),
        )
    plot_breakeven(
        rows,
        services,
        args.out / f"{STUDY}_breakeven",
        f"VMs against containers, cost per day (diurnal load, target tracking at "
        f"{TARGET_CPU_PERCENT} % CPU, {replications} seeds; 95 % interval over the seeds)",
        args,
    )
    peak = web.peaks_per_s[-1]
    plot_capacity(
        runs,
        peak,
        args.out / f"{STUDY}_capacity",
        f"Web replicas over one {CYCLE_H:g} h cycle at {peak:g} req/s peak, all "
        f"{replications} seeds (line: median, band: fewest to most)",
        args,
    )
    return rows


if __name__ == "__main__":
    main()
