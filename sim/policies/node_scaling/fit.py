"""Whether a pod fits a node: the one seam every node scaling decision goes through.

`why_not` says whether a pod fits the room left on a node (or on a template node that
does not exist yet), and if not, why: the node's free vCPU and memory after what its
pods already request (the scheduler's own `sim.policies.placement.fits`, against the
node's allocatable less reserves and DaemonSets, `sim.model.hosts.allocatable`), and its
taints (the pods of this simulator tolerate none). A `Room` is the free capacity of one
node in a simulation; `Rooms` places pods first-fit over several, as the autoscalers'
cluster snapshots do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sim.policies.node_scaling import NodeShape, Pod, Taint
from sim.policies.placement import HostView, PlacementRequest, fits

BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")
"""Taint effects a pod must tolerate to be scheduled on the node."""


@dataclass(slots=True)
class Room:
    """What is left of one node in a simulation (its free vCPU and memory) and its
    taints; pods placed on it in the simulation are listed."""

    name: str
    vcpu_free: float
    memory_free_bytes: int
    taints: tuple[Taint, ...] = ()
    vcpu_total: float = 0.0
    memory_total_bytes: int = 0
    pods: tuple[Pod, ...] = ()

    @classmethod
    def empty(cls, shape: NodeShape, name: str = "") -> Room:
        """A new node of `shape`, with nothing on it."""
        return cls(
            name or shape.name,
            shape.vcpu,
            shape.memory_bytes,
            shape.taints,
            shape.vcpu,
            shape.memory_bytes,
        )

    def take(self, pod: Pod) -> None:
        """Place `pod` on this node (the caller checked it fits)."""
        self.vcpu_free -= pod.vcpu
        self.memory_free_bytes -= pod.memory_bytes
        self.pods = (*self.pods, pod)

    def give_back(self, pod: Pod) -> None:
        """Take `pod`, placed by `take`, off this node again."""
        self.vcpu_free += pod.vcpu
        self.memory_free_bytes += pod.memory_bytes
        self.pods = tuple(placed for placed in self.pods if placed is not pod)


def why_not(pod: Pod, room: Room) -> str | None:
    """None when `pod` fits `room`; otherwise why not, in the scheduler's words."""
    for taint in room.taints:
        if taint.effect in BLOCKING_EFFECTS:
            return f"untolerated taint {taint}"
    view = HostView(
        name=room.name,
        vcpu_total=room.vcpu_total or room.vcpu_free,
        vcpu_free=room.vcpu_free,
        memory_total_bytes=room.memory_total_bytes or room.memory_free_bytes,
        memory_free_bytes=room.memory_free_bytes,
        replicas=len(room.pods),
    )
    if fits(PlacementRequest(pod.vcpu, pod.memory_bytes), view):
        return None
    if pod.vcpu > room.vcpu_free + 1e-9:
        return f"insufficient cpu ({pod.vcpu:g} requested, {max(room.vcpu_free, 0.0):g} free)"
    return f"insufficient memory ({pod.memory_bytes} B requested, {room.memory_free_bytes} B free)"


def fits_shape(pod: Pod, shape: NodeShape) -> bool:
    """Whether `pod` fits an empty node of `shape`."""
    return why_not(pod, Room.empty(shape)) is None


class Rooms:
    """Several nodes in a simulation, filled first-fit in their order.

    Args:
        rooms: the nodes, in the order they are tried.
    """

    def __init__(self, rooms: Iterable[Room]) -> None:
        self.rooms = list(rooms)

    def place(self, pod: Pod, skip: Sequence[str] = ()) -> Room | None:
        """Place `pod` on the first node it fits (not one named in `skip`); None if
        none."""
        for room in self.rooms:
            if room.name in skip:
                continue
            if why_not(pod, room) is None:
                room.take(pod)
                return room
        return None

    def by_name(self, name: str) -> Room | None:
        return next((room for room in self.rooms if room.name == name), None)
