"""Hosts: machines with vCPU, memory and a disk, running a container engine and a hypervisor.

A host's vCPU and memory are reserved by what is placed on it (containers by their
requests, VMs by their size plus the hypervisor's per-VM memory overhead); its disk is
shared by the layer store, containers' writable layers and VM disk images. Each host is
also a Kubernetes node to the scheduler: a `NodeInfo` with its labels, taints,
allocatable CPU, memory and pod count (the kubelet's ``maxPods``), the pods placed on it
and the images its layer store holds, kept up to date as pods come and go.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, SupportsIndex

import simpy

from sim.core.records import EventLog
from sim.model.hosts.cohort import PullCohorts
from sim.model.hosts.engine import ContainerEngine, EngineParams
from sim.model.hosts.spot import SpotParams
from sim.model.images.image import Image
from sim.model.images.store import DiskAccount, DiskTotals
from sim.policies.placement import HostView
from sim.policies.scheduling.objects import (
    INSTANCE_TYPE,
    ZONE,
    NodeInfo,
    PodInfo,
    Resources,
    Taint,
)

DEFAULT_MAX_PODS = 110
"""The kubelet's default ``maxPods``."""


def millicores(vcpu: float) -> int:
    """vCPUs as whole millicores, as a Kubernetes CPU quantity counts them."""
    return round(vcpu * 1000)


@dataclass(frozen=True, slots=True)
class HostParams:
    """One host as configured (SI units).

    ``disk_write_bytes_s`` is the sequential write rate used to copy VM disk images;
    ``instance_type`` names the priced instance type the host is billed as, if any.
    ``overhead_vcpu`` and ``overhead_memory_bytes`` are what its replicas can never
    have (node reserves plus DaemonSet pods, `sim.model.hosts.allocatable`): replicas are
    placed against the allocatable rest, the host is billed whole. ``labels`` and
    ``taints`` are the node's own (besides the well-known hostname, zone and
    instance-type labels every node gets); ``max_pods`` is the kubelet's ``maxPods``.
    """

    name: str
    vcpu: float
    memory_bytes: int
    disk_bytes: int
    principal: str
    disk_write_bytes_s: float
    instance_type: str | None = None
    zone: str = ""
    spot: SpotParams | None = None
    overhead_vcpu: float = 0.0
    overhead_memory_bytes: int = 0
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[Taint, ...] = ()
    max_pods: int = DEFAULT_MAX_PODS

    @property
    def allocatable_vcpu(self) -> float:
        """vCPU the scheduler can place replicas on: capacity less the overhead."""
        return self.vcpu - self.overhead_vcpu

    @property
    def allocatable_memory_bytes(self) -> int:
        """Memory the scheduler can place replicas on: capacity less the overhead."""
        return self.memory_bytes - self.overhead_memory_bytes


def node_labels(params: HostParams) -> dict[str, str]:
    """The node's labels: its zone and instance type under their well-known keys, then
    its own (the hostname label is the node's name, `NodeInfo` adds it)."""
    labels: dict[str, str] = {}
    if params.zone:
        labels[ZONE] = params.zone
    if params.instance_type:
        labels[INSTANCE_TYPE] = params.instance_type
    labels.update(params.labels)
    return labels


def node_of(params: HostParams, images: Any = None) -> NodeInfo:
    """The scheduler's view of a host of `params` with no pod yet (a node a pool or a node
    group could add, when `params` describe a host that does not exist yet).

    Args:
        params: the host's size, labels, taints and pod limit.
        images: the images it reports, by name with their sizes (none by default).
    """
    return NodeInfo(
        params.name,
        node_labels(params),
        Resources(
            millicores(params.allocatable_vcpu), params.allocatable_memory_bytes, params.max_pods
        ),
        params.taints,
        images,
    )


_NO_BASE_IMAGES: frozenset[str] = frozenset()


class Host:
    """A machine of the cluster.

    Args:
        env: the simulation environment.
        params: its size.
        engine_params: its container daemon's settings.
        log: the event log.
        disk_totals: the cluster-wide disk total this host's disk adds to, if any.
        pull_cohorts: where its pulls may join other hosts' (`sim.model.hosts.cohort`).
        cached_images: images its node image holds from boot (`ContainerEngine.cache`).
    """

    __slots__ = (
        "env",
        "params",
        "name",
        "disk",
        "engine",
        "vcpu_reserved",
        "memory_reserved_bytes",
        "replicas",
        "reservations_changed",
        "last_pod_event_s",
        "vm_base_images",
        "down",
        "node",
    )

    def __init__(
        self,
        env: simpy.Environment,
        params: HostParams,
        engine_params: EngineParams,
        log: EventLog,
        disk_totals: DiskTotals | None = None,
        pull_cohorts: PullCohorts | None = None,
        cached_images: Sequence[Image] = (),
    ) -> None:
        self.env = env
        self.params = params
        self.name: str = params.name
        self.disk = DiskAccount(params.disk_bytes, disk_totals)
        self.engine = ContainerEngine(
            env, params.name, params.principal, self.disk, engine_params, log, pull_cohorts
        )
        for image in cached_images:
            self.engine.cache(image)
        self.vcpu_reserved = 0.0
        self.memory_reserved_bytes = 0
        self.replicas = 0
        self.reservations_changed = 0
        self.last_pod_event_s = env.now
        """When a replica last came to or left this host (Karpenter's lastPodEventTime)."""
        # The VM platforms whose base image is on this host's disk (thin clones).
        self.vm_base_images = _NO_BASE_IMAGES
        self.down = False
        """True while the host is crashed (out of the cluster, its replicas lost)."""
        self.node = node_of(params, self.engine.store.reported_images())
        """The scheduler's view of this host, kept up to date as pods come and go."""

    def view(self) -> HostView:
        """What a placement policy sees of this host."""
        vcpu = self.params.allocatable_vcpu
        memory = self.params.allocatable_memory_bytes
        return HostView(
            name=self.name,
            vcpu_total=vcpu,
            vcpu_free=vcpu - self.vcpu_reserved,
            memory_total_bytes=memory,
            memory_free_bytes=memory - self.memory_reserved_bytes,
            replicas=self.replicas,
        )

    def reserve(self, vcpu: float, memory_bytes: int, pod: PodInfo | None = None) -> None:
        """Reserve resources for one replica (as `pod` on the node, when it is one the
        scheduler placed); the scheduler checked they fit."""
        if vcpu > self.params.allocatable_vcpu - self.vcpu_reserved + 1e-9 or (
            memory_bytes > self.params.allocatable_memory_bytes - self.memory_reserved_bytes
        ):
            raise ValueError(f"{self.name}: {vcpu} vCPU / {memory_bytes} B do not fit")
        self.vcpu_reserved += vcpu
        self.memory_reserved_bytes += memory_bytes
        self.replicas += 1
        self.reservations_changed += 1
        self.last_pod_event_s = self.env.now
        if pod is not None:
            self.node.add_pod(pod)

    def release(self, vcpu: float, memory_bytes: int, pod: str | None = None) -> PodInfo | None:
        """Give back one replica's resources (and take the pod named `pod` off the node);
        returns that pod."""
        self.vcpu_reserved -= vcpu
        self.memory_reserved_bytes -= memory_bytes
        self.replicas -= 1
        self.reservations_changed += 1
        self.last_pod_event_s = self.env.now
        return None if pod is None else self.node.remove_pod(pod)


class HostList(list[Host]):
    """The cluster's hosts, in the order they joined, counting its changes.

    A plain list of hosts for everyone who reads it; `changes` grows whenever a host
    joins or leaves, so an index over the hosts (the scheduler's ranking) knows when to
    rebuild itself without comparing the whole list.
    """

    changes = 0

    def __init__(self, hosts: Iterable[Host] = ()) -> None:
        super().__init__(hosts)

    def _changed(self) -> None:
        self.changes += 1

    def append(self, host: Host) -> None:
        super().append(host)
        self._changed()

    def extend(self, hosts: Iterable[Host]) -> None:
        super().extend(hosts)
        self._changed()

    def insert(self, index: SupportsIndex, host: Host) -> None:
        super().insert(index, host)
        self._changed()

    def remove(self, host: Host) -> None:
        super().remove(host)
        self._changed()

    def pop(self, index: SupportsIndex = -1) -> Host:
        self._changed()
        return super().pop(index)

    def clear(self) -> None:
        super().clear()
        self._changed()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._changed()

    def __iadd__(self, hosts: Iterable[Host]) -> HostList:  # type: ignore[override, misc]
        self.extend(hosts)
        return self

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._changed()

    def reverse(self) -> None:
        super().reverse()
        self._changed()
