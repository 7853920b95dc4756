"""``simple``: hosts join when replicas are pending, idle hosts leave.

Like an ECS capacity provider (or a much simplified Cluster Autoscaler), it looks every
``scan_interval_s`` at the replicas that fit on no host. If some wait and no host is
already on its way, it launches as many hosts of its instance type as those replicas
need (first-fit by vCPU and memory, at most ``max_pods`` to a host, up to
``max_hosts``); a new host takes ``provision`` seconds to launch and join, then the
pending replicas try again. A host that has run no replica for ``scale_down_unneeded_s``
is terminated, never going below ``min_hosts``. Both levels of scaling — replicas and
hosts — are in the event log.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.core.distributions import Distribution, LogNormal
from sim.core.errors import ConfigError
from sim.core.records import EventKind, EventLog
from sim.core.settings import Kind, setting
from sim.model.cluster.scalers import ScalerContext
from sim.model.cluster.scalers.tally import NodeTally, Removal
from sim.model.cluster.scalers.workloads import Workloads
from sim.model.cluster.scheduling.pending import Addable
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.model.hosts.allocatable import Reserved, overhead
from sim.model.hosts.cloud import Cloud, InstanceType, max_pods_of
from sim.model.hosts.host import DEFAULT_MAX_PODS, Host
from sim.model.hosts.node_settings import labels_setting, max_pods_setting, taints_setting
from sim.model.hosts.spot import SpotParams
from sim.model.hosts.taints import TaintSpec
from sim.policies.placement import PlacementRequest
from sim.policies.scheduling.objects import Taint


@dataclass(frozen=True, slots=True, kw_only=True)
class SimpleScalerParams:
    """One node group of one instance type (SI units)."""

    enabled: bool = setting(False, doc="hosts join for pending replicas, idle ones leave")
    instance_type: str | None = setting(None, doc="the type of the hosts it adds")
    disk_bytes: int = setting(100_000_000_000, unit="size", above=0, doc="their disk")
    min_hosts: int = setting(0, minimum=0, doc="it never goes below")
    max_hosts: int | None = setting(None, minimum=1, doc="it never goes above")
    # Reported 45-90 s from launch to a Ready node on EKS (docs/semantics.md).
    provision: Distribution = setting(LogNormal(65.0, 0.2), doc="launch to node ready")
    scan_interval_s: float = setting(10.0, unit="duration", above=0, doc="how often it looks")
    scale_down_unneeded_s: float = setting(
        600.0, unit="duration", doc="a host idle this long is removed"
    )
    spot: SpotParams | None = setting(None, doc="it adds spot instances (price, interruptions)")
    reserved: Reserved = setting(
        default_factory=Reserved, doc="what each host it adds keeps from replicas"
    )
    labels: Mapping[str, str] = labels_setting()
    taints: tuple[TaintSpec, ...] = taints_setting()
    max_pods: int | str = max_pods_setting()
    node_metrics: bool = setting(
        False,
        doc="also write the node-autoscaling summary keys and time-series columns "
        "(the other kinds always do)",
    )

    def __post_init__(self) -> None:
        if not self.enabled:
            return
        if self.instance_type is None:
            raise ConfigError("instance_type", "missing", "a value is required")
        if self.max_hosts is None:
            raise ConfigError("max_hosts", "missing", "a value is required")
        if self.max_hosts < self.min_hosts:
            raise ConfigError("max_hosts", self.max_hosts, "at least min_hosts")


def hosts_needed(
    requests: list[PlacementRequest],
    vcpu: float,
    memory_bytes: int,
    max_pods: int = DEFAULT_MAX_PODS,
) -> int:
    """How many empty hosts of one size the pending requests fill, packed first-fit
    decreasing by vCPU, at most `max_pods` to a host (requests larger than a host are
    left out)."""
    bins: list[list[float]] = []
    for request in sorted(requests, key=lambda r: (r.vcpu, r.memory_bytes), reverse=True):
        if request.vcpu > vcpu or request.memory_bytes > memory_bytes:
            continue
        for room in bins:
            if room[0] + 1e-9 >= request.vcpu and room[1] >= request.memory_bytes and room[2]:
                room[0] -= request.vcpu
                room[1] -= request.memory_bytes
                room[2] -= 1
                break
        else:
            bins.append([vcpu - request.vcpu, memory_bytes - request.memory_bytes, max_pods - 1])
    return len(bins)


@dataclass(frozen=True, slots=True)
class NodeSettings:
    """What each host the scaler adds gets: the vCPU and memory its replicas can never
    have (reserves and DaemonSet pods), its labels, taints and ``maxPods``."""

    overhead: tuple[float, int] = (0.0, 0)
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[Taint, ...] = ()
    max_pods: int = DEFAULT_MAX_PODS


class ClusterScaler:
    """Adds and removes the cluster's hosts.

    Args:
        env: the simulation environment.
        params: the node group's settings.
        instance_type: the type of the hosts it launches.
        node: what each host it adds gets (overhead, labels, taints, maxPods).
        cloud: launches and terminates the hosts.
        scheduler: its pending replicas, and the capacity signal.
        rng: the scaler's stream (host provisioning times).
        log: the event log.
    """

    runs_to_horizon = False

    def __init__(
        self,
        env: simpy.Environment,
        params: SimpleScalerParams,
        instance_type: InstanceType,
        node: NodeSettings,
        cloud: Cloud,
        scheduler: Scheduler,
        rng: np.random.Generator,
        log: EventLog,
    ) -> None:
        assert params.max_hosts is not None
        self.env = env
        self.params = params
        self.max_hosts = params.max_hosts
        self.instance_type = instance_type
        self.node = node
        self.cloud = cloud
        self.scheduler = scheduler
        self.rng = rng
        self.log = log
        self.launching = 0
        self.actions = 0
        self.tally = NodeTally()
        self._launched = 0
        self._nodes: list[Host] = []
        self._idle_since: dict[str, float] = {}
        kept_vcpu, kept_memory = node.overhead
        self.allocatable = (
            instance_type.vcpu - kept_vcpu,
            instance_type.memory_bytes - kept_memory,
        )
        """What a new host can hold: its type's size less the overhead."""
        if self.max_hosts > 0:
            scheduler.addable = (
                Addable(
                    instance_type.name,
                    *self.allocatable,
                    overhead=bool(kept_vcpu or kept_memory),
                ),
            )

    @property
    def node_metrics(self) -> bool:
        """Whether the run writes the node-autoscaling summary keys and columns."""
        return self.params.node_metrics

    def start(self, workloads: Workloads) -> None:
        """Start the scan loop (it moves no pod: it removes only idle hosts)."""
        self.env.process(self.run())

    def nodes(self) -> list[Host]:
        return list(self._nodes)

    def node_kinds(self) -> list[tuple[str, str]]:
        return [(self.instance_type.name, "spot" if self.params.spot else "on-demand")]

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The scan loop (a SimPy process body)."""
        while True:
            yield self.env.timeout(self.params.scan_interval_s)
            self._scale_out()
            self._scale_in()

    def _scale_out(self) -> None:
        if not self.scheduler.pending or self.launching:
            return
        needed = hosts_needed(
            list(self.scheduler.pending.values()), *self.allocatable, self.node.max_pods
        )
        room = self.max_hosts - len(self.scheduler.hosts) - self.launching
        count = min(needed, room)
        if count <= 0:
            return
        self.actions += 1
        self.tally.scale_ups += 1
        self.log.record(
            self.env.now,
            "cluster-scaler",
            EventKind.CLUSTER_SCALE_OUT,
            hosts=count,
            pending=len(self.scheduler.pending),
        )
        for _ in range(count):
            self.env.process(self._add_host())

    def _add_host(self) -> Generator[simpy.Event, Any, None]:
        self._launched += 1
        self.launching += 1
        host = self.cloud.launch(
            f"scaled-{self._launched}",
            self.instance_type,
            self.params.disk_bytes,
            join_cluster=False,
            spot=self.params.spot,
            overhead=self.node.overhead,
            labels=self.node.labels,
            taints=self.node.taints,
            max_pods=self.node.max_pods,
            cached_images=self.cloud.node_images,
        )
        self._nodes.append(host)
        self.tally.nodes_launched += 1
        yield self.env.timeout(self.params.provision.sample(self.rng))
        self.launching -= 1
        self.cloud.join(host)
        self.log.record(self.env.now, host.name, EventKind.HOST_JOINED)
        self.scheduler.capacity_changed()

    def _scale_in(self) -> None:
        now = self.env.now
        hosts: list[Host] = list(self.scheduler.hosts)
        idle = []
        for host in hosts:
            if host.replicas:
                self._idle_since.pop(host.name, None)
            else:
                since = self._idle_since.setdefault(host.name, now)
                if now - since >= self.params.scale_down_unneeded_s:
                    idle.append((since, host.name, host))
        removable = len(hosts) - self.params.min_hosts
        if removable <= 0 or not idle or self.scheduler.pending:
            return
        idle.sort(key=lambda item: (item[0], item[1]))
        chosen = idle[:removable]
        self.actions += 1
        self.log.record(now, "cluster-scaler", EventKind.CLUSTER_SCALE_IN, hosts=len(chosen))
        for _, name, host in chosen:
            self._idle_since.pop(name, None)
            self.tally.removed_node(Removal.IDLE)
            self.cloud.terminate(host)


def build(params: SimpleScalerParams, context: ScalerContext) -> ClusterScaler | None:
    """The scaler `params` describe, or None when it is not enabled."""
    if not params.enabled:
        return None
    assert params.instance_type is not None
    instance_type = context.instance_types[params.instance_type]
    node = NodeSettings(
        overhead(params.reserved.on(instance_type.vcpu), context.daemonsets),
        tuple(sorted(params.labels.items())),
        tuple(taint.build() for taint in params.taints),
        max_pods_of(params.max_pods, instance_type, "cluster.scaler.max_pods"),
    )
    return ClusterScaler(
        context.env,
        params,
        instance_type,
        node,
        context.cloud,
        context.scheduler,
        context.generator("cluster-scaler"),
        context.log,
    )


KIND = Kind(
    "simple",
    SimpleScalerParams,
    build,
    "one instance type; first-fit hosts for pending replicas, idle hosts removed",
)
