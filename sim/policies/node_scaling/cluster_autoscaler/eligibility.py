"""Which nodes the Cluster Autoscaler may remove, and where their pods would go.

A node is a scale-down candidate when it belongs to an autoscaled node group and its
utilisation (`utilization`) is *below* ``scale_down_utilization_threshold`` (a node at
exactly the threshold stays: ``core/scaledown/eligibility``). A candidate is *removable*
when every pod that must move (all but its DaemonSet pods, which run on every node)
fits somewhere else in a simulation of the cluster (``simulator/cluster.go``,
``SimulateNodeRemoval``): the candidates are tried in order, each pod first-fit on the
other nodes, and a removable node's pods stay where the simulation put them, so the
next candidate sees that room taken (upstream persists successful simulations), and a
removable node is no longer a destination. A candidate whose pods find no place is not
checked again for ``unremovable_recheck_s`` (5 minutes upstream).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sim.policies.node_scaling import DEFAULT_MAX_PODS, Pod, millicores
from sim.policies.node_scaling.cluster_autoscaler.utilization import Utilization, utilization
from sim.policies.node_scaling.fit import DEFAULT_CHECK, FitCheck, Room, Rooms
from sim.policies.scheduling.objects import NodeInfo, Resources, Taint


class Unremovable(StrEnum):
    """Why a node is not removed (upstream's ``UnremovableReason``, in words)."""

    NOT_AUTOSCALED = "not autoscaled"
    NOT_UNDERUTILIZED = "not underutilized"
    RECENTLY_UNREMOVABLE = "recently unremovable"
    NO_PLACE_TO_MOVE_PODS = "no place to move pods"
    MIN_SIZE_REACHED = "node group min size reached"
    NOT_UNNEEDED_LONG_ENOUGH = "not unneeded for long enough"


@dataclass(frozen=True, slots=True)
class NodeInUse:
    """A node as scale-down sees it.

    Attributes:
        name: the node.
        group: its autoscaled node group; None for a node no group manages.
        allocatable_vcpu: its allocatable vCPU (capacity less reserves; the room of its
            DaemonSets included).
        allocatable_memory_bytes: its allocatable memory.
        pods: the pods that must move if it goes, in the order they came.
        pinned: the pods that go with it (replicas pinned to it, as a DaemonSet's).
        daemonsets: what the cluster's DaemonSets request on it.
        labels: its labels.
        taints: its taints.
        max_pods: the kubelet's ``maxPods``.
        node: the scheduler's view of it, when it exists (its room is then a copy of
            that view rather than one built from the fields above).
    """

    name: str
    group: str | None
    allocatable_vcpu: float
    allocatable_memory_bytes: int
    pods: tuple[Pod, ...] = ()
    pinned: tuple[Pod, ...] = ()
    daemonsets: tuple[Pod, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[Taint, ...] = ()
    max_pods: int = DEFAULT_MAX_PODS
    node: NodeInfo | None = field(default=None, compare=False)

    @property
    def empty(self) -> bool:
        """Whether no pod would have to move (only DaemonSet pods run on it)."""
        return not self.pods

    def room(self) -> Room:
        """The node as the scheduler sees it now: what its pods may take (allocatable
        less DaemonSets) and the pods on it."""
        if self.node is not None:
            return Room.copy_of(self.node)
        daemon_vcpu = sum(pod.vcpu for pod in self.daemonsets)
        daemon_memory = sum(pod.memory_bytes for pod in self.daemonsets)
        node = NodeInfo(
            self.name,
            dict(self.labels),
            Resources(
                millicores(self.allocatable_vcpu - daemon_vcpu),
                self.allocatable_memory_bytes - daemon_memory,
                self.max_pods,
            ),
            self.taints,
        )
        return Room(node.with_pods([pod.info for pod in (*self.pinned, *self.pods)]))

    def utilization(self, ignore_daemonsets: bool = False) -> Utilization:
        return utilization(
            self.allocatable_vcpu,
            self.allocatable_memory_bytes,
            self.pods,
            (*self.daemonsets, *self.pinned),
            ignore_daemonsets,
        )


@dataclass(frozen=True, slots=True)
class Removable:
    """A node that may go: whether it is empty, and where each of its pods would go."""

    node: str
    group: str
    empty: bool
    utilization: Utilization
    moves: tuple[tuple[str, str], ...] = ()
    """(pod, destination node) for each pod that would move."""


@dataclass(frozen=True, slots=True)
class Kept:
    """A node that stays, and why."""

    node: str
    reason: Unremovable
    utilization: Utilization | None = None


def unremovable_reason(
    node: NodeInUse, threshold: float, ignore_daemonsets: bool = False
) -> tuple[Unremovable | None, Utilization | None]:
    """Why `node` cannot be a scale-down candidate (None if it can), and its utilisation."""
    if node.group is None:
        return Unremovable.NOT_AUTOSCALED, None
    used = node.utilization(ignore_daemonsets)
    if used.value >= threshold:
        return Unremovable.NOT_UNDERUTILIZED, used
    return None, used


def find_removable(
    candidates: Sequence[NodeInUse],
    destinations: Sequence[NodeInUse],
    threshold: float,
    ignore_daemonsets: bool = False,
    recently_unremovable: Collection[str] = (),
    check: FitCheck = DEFAULT_CHECK,
) -> tuple[list[Removable], list[Kept]]:
    """The candidates that may be removed, in order, and those kept with why.

    Args:
        candidates: the nodes to consider, in the order to consider them.
        destinations: every node pods may move to (candidates included: a candidate
            that stays may take another's pods), in the scheduler's order.
        threshold: ``scale_down_utilization_threshold``.
        ignore_daemonsets: ``ignore_daemonsets_utilization``.
        recently_unremovable: nodes whose pods found no place within the recheck time.
        check: the scheduler's filters.
    """
    rooms = Rooms((node.room() for node in destinations), check)
    gone: set[str] = set()
    removable: list[Removable] = []
    kept: list[Kept] = []
    for node in candidates:
        if node.name in recently_unremovable:
            kept.append(Kept(node.name, Unremovable.RECENTLY_UNREMOVABLE))
            continue
        reason, used = unremovable_reason(node, threshold, ignore_daemonsets)
        if reason is not None or used is None or node.group is None:
            kept.append(Kept(node.name, reason or Unremovable.NOT_AUTOSCALED, used))
            continue
        # Pods an earlier candidate's simulation put on this node move with it.
        own_room = rooms.by_name(node.name)
        arrived = tuple(own_room.placed) if own_room is not None else ()
        to_move = (*node.pods, *arrived)
        skip = tuple(sorted({*gone, node.name}))
        placed: list[tuple[Pod, Room]] = []
        for pod in to_move:
            room = rooms.place(pod, skip=skip)
            if room is None:
                break
            placed.append((pod, room))
        if len(placed) < len(to_move):
            for pod, room in placed:
                room.give_back(pod)
            kept.append(Kept(node.name, Unremovable.NO_PLACE_TO_MOVE_PODS, used))
            continue
        if own_room is not None:
            for pod in arrived:
                own_room.give_back(pod)
        gone.add(node.name)
        moves = tuple((pod.name, room.name) for pod, room in placed)
        removable.append(Removable(node.name, node.group, not to_move, used, moves))
    return removable, kept
