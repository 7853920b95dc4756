"""The cluster-level scaler: hosts join when replicas are pending, idle hosts leave.

Like the Kubernetes Cluster Autoscaler or an ECS capacity provider, it looks every
``scan_interval_s`` at the replicas that fit on no host. If some wait and no host is
already on its way, it launches as many hosts of its instance type as those replicas
need (first-fit by vCPU and memory, up to ``max_hosts``); a new host takes
``provision`` seconds to launch and join, then the pending replicas try again. A host
that has run no replica for ``scale_down_unneeded_s`` is terminated, never going below
``min_hosts``. Both levels of scaling — replicas and hosts — are in the event log.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.core.distributions import Distribution
from sim.core.records import EventKind, EventLog
from sim.model.cluster.scheduling.pending import Addable
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.model.hosts.cloud import Cloud, InstanceType
from sim.model.hosts.host import DEFAULT_MAX_PODS, Host
from sim.model.hosts.spot import SpotParams
from sim.policies.placement import PlacementRequest
from sim.policies.scheduling.objects import Taint


@dataclass(frozen=True, slots=True)
class ClusterScalerParams:
    """The node group the scaler manages (SI units)."""

    instance_type: str
    disk_bytes: int
    min_hosts: int
    max_hosts: int
    provision: Distribution
    scan_interval_s: float = 10.0
    scale_down_unneeded_s: float = 600.0
    spot: SpotParams | None = None
    overhead_vcpu: float = 0.0
    """vCPU of each new host its replicas can never have (reserves, DaemonSet pods)."""
    overhead_memory_bytes: int = 0
    """Memory of each new host its replicas can never have."""
    labels: tuple[tuple[str, str], ...] = ()
    """Each new node's labels."""
    taints: tuple[Taint, ...] = ()
    """Each new node's taints."""
    max_pods: int = DEFAULT_MAX_PODS
    """Each new node's ``maxPods``."""


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


class ClusterScaler:
    """Adds and removes the cluster's hosts.

    Args:
        env: the simulation environment.
        params: the node group's settings.
        instance_type: the type of the hosts it launches.
        cloud: launches and terminates the hosts.
        scheduler: its pending replicas, and the capacity signal.
        rng: the scaler's stream (host provisioning times).
        log: the event log.
    """

    def __init__(
        self,
        env: simpy.Environment,
        params: ClusterScalerParams,
        instance_type: InstanceType,
        cloud: Cloud,
        scheduler: Scheduler,
        rng: np.random.Generator,
        log: EventLog,
    ) -> None:
        self.env = env
        self.params = params
        self.instance_type = instance_type
        self.cloud = cloud
        self.scheduler = scheduler
        self.rng = rng
        self.log = log
        self.launching = 0
        self.actions = 0
        self._launched = 0
        self._idle_since: dict[str, float] = {}
        self.allocatable = (
            instance_type.vcpu - params.overhead_vcpu,
            instance_type.memory_bytes - params.overhead_memory_bytes,
        )
        """What a new host can hold: its type's size less the overhead."""
        if params.max_hosts > 0:
            scheduler.addable = Addable(
                instance_type.name,
                *self.allocatable,
                overhead=bool(params.overhead_vcpu or params.overhead_memory_bytes),
            )

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
            list(self.scheduler.pending.values()), *self.allocatable, self.params.max_pods
        )
        room = self.params.max_hosts - len(self.scheduler.hosts) - self.launching
        count = min(needed, room)
        if count <= 0:
            return
        self.actions += 1
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
            overhead=(self.params.overhead_vcpu, self.params.overhead_memory_bytes),
            labels=self.params.labels,
            taints=self.params.taints,
            max_pods=self.params.max_pods,
        )
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
            self.cloud.terminate(host)
