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
from dataclasses import dataclass
from enum import StrEnum

from sim.policies.node_scaling import Pod, Taint
from sim.policies.node_scaling.cluster_autoscaler.utilization import Utilization, utilization
from sim.policies.node_scaling.fit import Room, Rooms


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
            DaemonSet pods included).
        allocatable_memory_bytes: its allocatable memory.
        pods: the pods that must move if it goes, in the order they came.
        daemonset_pods: the pods that go with it (its DaemonSets, pinned replicas).
        taints: its taints (a destination's taints keep pods off it).
    """

    name: str
    group: str | None
    allocatable_vcpu: float
    allocatable_memory_bytes: int
    pods: tuple[Pod, ...] = ()
    daemonset_pods: tuple[Pod, ...] = ()
    taints: tuple[Taint, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether no pod would have to move (only DaemonSet pods run on it)."""
        return not self.pods

    def room(self) -> Room:
        """What is free on it now."""
        requested = (*self.pods, *self.daemonset_pods)
        return Room(
            self.name,
            self.allocatable_vcpu - sum(pod.vcpu for pod in requested),
            self.allocatable_memory_bytes - sum(pod.memory_bytes for pod in requested),
            self.taints,
            self.allocatable_vcpu,
            self.allocatable_memory_bytes,
        )

    def utilization(self, ignore_daemonsets: bool = False) -> Utilization:
        return utilization(
            self.allocatable_vcpu,
            self.allocatable_memory_bytes,
            self.pods,
            self.daemonset_pods,
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
) -> tuple[list[Removable], list[Kept]]:
    """The candidates that may be removed, in order, and those kept with why.

    Args:
        candidates: the nodes to consider, in the order to consider them.
        destinations: every node pods may move to (candidates included: a candidate
            that stays may take another's pods), in the scheduler's order.
        threshold: ``scale_down_utilization_threshold``.
        ignore_daemonsets: ``ignore_daemonsets_utilization``.
        recently_unremovable: nodes whose pods found no place within the recheck time.
    """
    rooms = Rooms(node.room() for node in destinations)
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
        arrived = own_room.pods if own_room is not None else ()
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
