"""``balance_similar_node_groups``: spreading a scale-up over similar node groups
(``processors/nodegroupset``: ``compare_nodegroups.go``, ``balancing_processor.go``).

Two groups are similar when their template nodes have the same CPU capacity, memory
capacities within 1.5 %, allocatable CPU and memory within 5 %, and the same labels but
for the zone and host name labels (a group per zone is the usual reason to balance).
The nodes a scale-up adds are then split over the chosen group and its similar groups
that could also take the pods: one at a time to the group that is smallest after the
ones already given, a group at its maximum dropping out; a request larger than the
groups' room is capped to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.policies.node_scaling import NodeShape

IGNORED_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "topology.ebs.csi.aws.com/zone",
    }
)
"""Labels that may differ between similar groups (upstream's basic ignored labels)."""

MAX_MEMORY_DIFFERENCE = 0.015
MAX_ALLOCATABLE_DIFFERENCE = 0.05


@dataclass(frozen=True, slots=True)
class GroupTemplate:
    """A node group's template for comparison: capacity, allocatable and labels."""

    group: str
    capacity_vcpu: float
    capacity_memory_bytes: int
    template: NodeShape


def _close(a: float, b: float, ratio: float) -> bool:
    larger = max(a, b)
    return larger == 0 or (larger - min(a, b)) / larger <= ratio


def similar(a: GroupTemplate, b: GroupTemplate) -> bool:
    """Whether two groups' nodes are alike enough to balance between them."""
    if a.capacity_vcpu != b.capacity_vcpu:
        return False
    if not _close(a.capacity_memory_bytes, b.capacity_memory_bytes, MAX_MEMORY_DIFFERENCE):
        return False
    if not _close(a.template.vcpu, b.template.vcpu, MAX_ALLOCATABLE_DIFFERENCE):
        return False
    if not _close(a.template.memory_bytes, b.template.memory_bytes, MAX_ALLOCATABLE_DIFFERENCE):
        return False
    labels_a = {k: v for k, v in a.template.labels.items() if k not in IGNORED_LABELS}
    labels_b = {k: v for k, v in b.template.labels.items() if k not in IGNORED_LABELS}
    return labels_a == labels_b


def similar_groups(chosen: GroupTemplate, others: Sequence[GroupTemplate]) -> list[str]:
    """The groups among `others` similar to `chosen`, in their order (not itself)."""
    return [
        other.group for other in others if other.group != chosen.group and similar(chosen, other)
    ]


@dataclass(frozen=True, slots=True)
class GroupSize:
    """A node group's current (target) size and maximum."""

    group: str
    size: int
    max_size: int


@dataclass(slots=True)
class _Growth:
    group: str
    size: int
    new_size: int
    max_size: int


def balance_scale_up(groups: Sequence[GroupSize], new_nodes: int) -> dict[str, int]:
    """The new size of each group that grows when `new_nodes` nodes are split between
    `groups`, smallest first (only groups that grow are listed; a group already at its
    maximum takes none)."""
    infos = [_Growth(g.group, g.size, g.size, g.max_size) for g in groups if g.size < g.max_size]
    new_nodes = min(new_nodes, sum(info.max_size - info.size for info in infos))
    infos.sort(key=lambda info: info.size)  # stable: equal sizes keep the groups' order
    start = 0
    current = 0
    while new_nodes > 0:
        if infos[current].new_size < infos[current].max_size:
            infos[current].new_size += 1
            new_nodes -= 1
        else:
            # A full group leaves the front of the list; every group between the
            # start and here has the same size, so the order holds.
            infos[start], infos[current] = infos[current], infos[start]
            start += 1
        size = infos[current].new_size
        if current < len(infos) - 1 and size > infos[current + 1].new_size:
            current += 1
        else:
            current = start
    return {info.group: info.new_size for info in infos if info.new_size != info.size}
