"""The nodes a node scaler manages: launching them, their templates, draining them.

A node scaler launches a node as a cloud instance of a priced type (on demand, or spot
at its price fraction), with its labels, taints and ``maxPods``; the node joins the
cluster after its provisioning time, and the scheduler's filters decide what lands on
it. Removing a node that still runs pods drains it: it is cordoned, every pod that can
move is evicted (its owner replaces it elsewhere), pods still starting are evicted once
they have started, and when no pod is left but those pinned to the node (which go with
it) the instance is terminated.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.core.distributions import Distribution
from sim.core.records import EventKind, EventLog
from sim.model.cluster.scalers.tally import NodeTally, Removal
from sim.model.cluster.scalers.workloads import Workloads
from sim.model.cluster.scheduling.pending import Addable
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.model.hosts.cloud import Cloud, InstanceType
from sim.model.hosts.host import Host
from sim.model.hosts.spot import SpotParams
from sim.policies.node_scaling import NodeShape, Pod
from sim.policies.node_scaling.fit import FitCheck, Room
from sim.policies.scheduling.objects import NodeInfo, PodInfo
from sim.policies.scheduling.plugin import Rejection

ON_DEMAND = "on-demand"
SPOT = "spot"

DRAIN_POLL_S = 5.0
"""How often a drain looks whether its node's pods are gone (upstream re-lists pods
every few seconds while waiting for evictions)."""


@dataclass(frozen=True, slots=True)
class Template:
    """What a node of one kind offers: its instance type and capacity type, its price,
    what it keeps from pods (reserves and DaemonSets), and its shape for pods.

    Attributes:
        group: the node group or NodePool it belongs to.
        instance_type: its instance type.
        capacity_type: ``on-demand`` or ``spot``.
        usd_per_hour: its price (a spot instance's: the on-demand price times the spot
            price fraction).
        overhead: vCPU and memory its pods can never have.
        reserved: of that, the reserves (kube-reserved, system-reserved, eviction).
        shape: what its pods may request in all, its labels, taints and ``maxPods``.
        spot: the spot model's settings for a spot node.
        zone: the availability zone of its nodes.
    """

    group: str
    instance_type: InstanceType
    capacity_type: str
    usd_per_hour: float
    overhead: tuple[float, int]
    reserved: tuple[float, int]
    shape: NodeShape
    spot: SpotParams | None = None
    zone: str = ""

    @property
    def allocatable(self) -> tuple[float, int]:
        """Its allocatable (capacity less reserves; DaemonSets' room included)."""
        return (
            self.instance_type.vcpu - self.reserved[0],
            self.instance_type.memory_bytes - self.reserved[1],
        )


def capacity_type_of(spot: SpotParams | None) -> str:
    return SPOT if spot is not None else ON_DEMAND


@dataclass(slots=True)
class ManagedNode:
    """One node a scaler launched and what became of it."""

    host: Host
    template: Template
    launched_s: float
    ready_s: float | None = None
    deleting: bool = False
    gone: bool = False
    last_pod_event_s: float = 0.0
    nominated_until_s: float = 0.0
    """Until when a provisioning pass meant pending pods for it (Karpenter does not
    disrupt a nominated node)."""

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def ready(self) -> bool:
        return self.ready_s is not None and not self.gone


class NodeLauncher:
    """Launches a scaler's nodes and keeps them.

    Args:
        env: the simulation environment.
        cloud: launches, cordons and terminates instances.
        scheduler: told when a node joins (pending pods try again).
        log: the event log.
        rng: the scaler's stream (provisioning times).
        provision: launch to node ready.
        disk_bytes: each node's disk.
        tally: the scaler's counts.
    """

    def __init__(
        self,
        env: simpy.Environment,
        cloud: Cloud,
        scheduler: Scheduler,
        log: EventLog,
        rng: np.random.Generator,
        provision: Distribution,
        disk_bytes: int,
        tally: NodeTally,
    ) -> None:
        self.env = env
        self.cloud = cloud
        self.scheduler = scheduler
        self.log = log
        self.rng = rng
        self.provision = provision
        self.disk_bytes = disk_bytes
        self.tally = tally
        self.nodes: list[ManagedNode] = []
        """Every node launched, in order (running or gone)."""
        self._numbers: dict[str, int] = {}

    def next_name(self, prefix: str) -> str:
        """The next node name of `prefix` (``<prefix>-<n>``)."""
        number = self._numbers[prefix] = self._numbers.get(prefix, 0) + 1
        return f"{prefix}-{number}"

    def launch(self, name: str, template: Template, ready_now: bool = False) -> ManagedNode:
        """Launch a node of `template`; it joins after its provisioning time (at once
        with `ready_now`: a group's nodes that exist when the run starts)."""
        host = self.cloud.launch(
            name,
            template.instance_type,
            self.disk_bytes,
            join_cluster=False,
            spot=template.spot,
            overhead=template.overhead,
            labels=tuple(sorted(template.shape.labels.items())),
            taints=template.shape.taints,
            max_pods=template.shape.max_pods,
            zone=template.zone,
            cached_images=self.cloud.node_images,
        )
        node = ManagedNode(host, template, self.env.now, last_pod_event_s=self.env.now)
        self.nodes.append(node)
        self.tally.nodes_launched += 1
        if ready_now:
            self._join(node)
        else:
            self.env.process(self._provision(node))
        return node

    def _provision(self, node: ManagedNode) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(self.provision.sample(self.rng))
        if node.gone or node.host.down:
            return
        self._join(node)
        self.log.record(self.env.now, node.name, EventKind.HOST_JOINED)
        self.scheduler.capacity_changed()

    def _join(self, node: ManagedNode) -> None:
        node.ready_s = self.env.now
        node.last_pod_event_s = self.env.now
        self.cloud.join(node.host)

    def alive(self) -> list[ManagedNode]:
        """The nodes not gone (launching, ready or being deleted), noticing those the
        cloud took back (a spot reclaim)."""
        for node in self.nodes:
            if not node.gone and self.cloud.records[node.name].terminated_s is not None:
                node.gone = True
        return [node for node in self.nodes if not node.gone]

    def give_up(self, node: ManagedNode) -> None:
        """A node that did not join in time: terminate its instance."""
        node.gone = True
        self.cloud.terminate(node.host)
        self.tally.removed_node(Removal.UNREGISTERED)

    def remove(
        self, node: ManagedNode, reason: Removal, workloads: Workloads
    ) -> Generator[simpy.Event, Any, None]:
        """Cordon, drain and terminate `node` (a SimPy process body)."""
        node.deleting = True
        self.cloud.cordon(node.host)
        evicted: set[str] = set()
        while True:
            for pod in workloads.pods_on(node.host):
                if pod.movable and not pod.starting:
                    # Asked again each time: a replica that was not yet in service
                    # (passing its health checks) is drained once it is.
                    evicted.add(pod.name)
                    workloads.evict(pod.name)
            pods = workloads.pods_on(node.host)
            if not any(pod.movable for pod in pods):
                for pod in pods:
                    if not pod.starting:
                        workloads.evict(pod.name)
                if not any(pod.starting for pod in pods):
                    break
            yield self.env.timeout(DRAIN_POLL_S)
        self.tally.pods_evicted += len(evicted)
        node.gone = True
        self.cloud.terminate(node.host)
        self.tally.removed_node(reason)


def node_pods(workloads: Workloads, host: Host) -> tuple[list[Pod], list[Pod], bool]:
    """The pods on `host`: those that move, those pinned to it, and whether any is still
    starting."""
    movable: list[Pod] = []
    pinned: list[Pod] = []
    starting = False
    for pod in workloads.pods_on(host):
        starting = starting or pod.starting
        target = movable if pod.movable else pinned
        target.append(Pod(pod.name, pod.vcpu, pod.memory_bytes, pod.spec))
    return movable, pinned, starting


def host_room(host: Host) -> Room:
    """A cluster host as it is now, to simulate on."""
    return Room.copy_of(host.node)


def cluster_check(scheduler: Scheduler) -> FitCheck:
    """The scheduler's filters, each node judged in the cluster as it is now (a node that
    does not exist yet added to it)."""

    def check(pod: PodInfo, node: NodeInfo) -> Rejection | None:
        return scheduler.cycle.filter(pod, node, scheduler.nodes())

    return check


def daemonset_pods(overhead_vcpu: float, overhead_memory: int) -> tuple[Pod, ...]:
    """The DaemonSets of a node as one pod of their summed requests (none if zero)."""
    if overhead_vcpu <= 1e-12 and overhead_memory <= 0:
        return ()
    return (Pod("daemonsets", overhead_vcpu, overhead_memory),)


def addable(templates: Mapping[str, Template]) -> tuple[Addable, ...]:
    """The hosts a scaler can add, for the scheduler's "never fits" message: each
    instance type once, the largest first."""
    shapes: dict[str, Addable] = {}
    for template in templates.values():
        name = template.instance_type.name
        shapes.setdefault(
            name,
            Addable(
                name,
                template.shape.vcpu,
                template.shape.memory_bytes,
                overhead=bool(any(template.overhead)),
            ),
        )
    return tuple(sorted(shapes.values(), key=lambda s: (-s.vcpu, -s.memory_bytes, s.instance_type)))
