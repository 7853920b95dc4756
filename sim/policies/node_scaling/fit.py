"""Whether a pod fits a node: the one seam every node scaling decision goes through.

A node scaler asks whether a pod would fit a node as it is now, or a node it could add
(a template node built from an instance type, its reserves, labels and taints), and if
not, why. The answer is the scheduler framework's (`sim.policies.scheduling`): the
run's filter plugins (``NodeResourcesFit``: CPU, memory and pod count; and whichever
the profile runs), given as a `FitCheck`; by default the default profile's filters. A
`Room` is one node in a simulation, pods placed on it in the simulation counting against
it; `Rooms` places pods first-fit over several, as the autoscalers' cluster snapshots do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sim.policies.node_scaling import NodeShape, Pod
from sim.policies.scheduling.objects import NodeInfo, PodInfo
from sim.policies.scheduling.plugin import FilterPlugin, Rejection
from sim.policies.scheduling.registry import DEFAULT_FILTERS, PluginArgs, build_filters

FitCheck = Callable[[PodInfo, NodeInfo], Rejection | None]
"""The scheduler's filters for one pod on one node: why it may not go there, or None."""


def filters_check(filters: Sequence[FilterPlugin]) -> FitCheck:
    """A check that runs `filters` in order on the node alone (each filter's cluster-wide
    look, PreFilter, sees just that node)."""

    def check(pod: PodInfo, node: NodeInfo) -> Rejection | None:
        for plugin in filters:
            rejection = plugin.filter(pod, node, plugin.pre_filter(pod, [node]))
            if rejection is not None:
                return rejection
        return None

    return check


DEFAULT_CHECK: FitCheck = filters_check(build_filters(DEFAULT_FILTERS, PluginArgs()))
"""The default profile's filters."""


@dataclass(slots=True)
class Room:
    """One node in a simulation: the scheduler's view of it, and the pods placed on it
    in the simulation."""

    node: NodeInfo
    placed: list[Pod] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def vcpu_free(self) -> float:
        return (self.node.allocatable.milli_cpu - self.node.requested_milli_cpu) / 1000

    @property
    def memory_free_bytes(self) -> int:
        return self.node.allocatable.memory_bytes - self.node.requested_memory_bytes

    @classmethod
    def empty(cls, shape: NodeShape, name: str = "") -> Room:
        """A new node of `shape`, with nothing on it."""
        return cls(shape.node(name))

    @classmethod
    def copy_of(cls, node: NodeInfo) -> Room:
        """A node as it is now, to simulate on without changing it."""
        copy = NodeInfo(node.name, node.labels, node.allocatable, node.taints, node.images)
        return cls(copy.with_pods(node.pods))

    def take(self, pod: Pod) -> None:
        """Place `pod` on this node (the caller checked it fits)."""
        self.node.add_pod(pod.info)
        self.placed.append(pod)

    def give_back(self, pod: Pod) -> None:
        """Take `pod`, placed by `take`, off this node again."""
        self.node.remove_pod(pod.name)
        self.placed = [placed for placed in self.placed if placed is not pod]


def why_not(pod: Pod, room: Room, check: FitCheck = DEFAULT_CHECK) -> str | None:
    """None when `pod` fits `room`; otherwise why not, in the scheduler's words."""
    rejection = check(pod.info, room.node)
    return None if rejection is None else ", ".join(rejection.reasons)


def fits_shape(pod: Pod, shape: NodeShape, check: FitCheck = DEFAULT_CHECK) -> bool:
    """Whether `pod` fits an empty node of `shape`."""
    return why_not(pod, Room.empty(shape), check) is None


class Rooms:
    """Several nodes in a simulation, filled first-fit in their order.

    Args:
        rooms: the nodes, in the order they are tried.
        check: the scheduler's filters.
    """

    def __init__(self, rooms: Iterable[Room], check: FitCheck = DEFAULT_CHECK) -> None:
        self.rooms = list(rooms)
        self.check = check

    def place(self, pod: Pod, skip: Sequence[str] = ()) -> Room | None:
        """Place `pod` on the first node it fits (not one named in `skip`); None if
        none."""
        for room in self.rooms:
            if room.name in skip:
                continue
            if why_not(pod, room, self.check) is None:
                room.take(pod)
                return room
        return None

    def by_name(self, name: str) -> Room | None:
        return next((room for room in self.rooms if room.name == name), None)
