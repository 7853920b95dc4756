"""How long nodes have been unneeded, and which of them the Cluster Autoscaler deletes now.

Every loop the removable nodes (`eligibility.find_removable`) are *unneeded*: a node keeps
the time it first became unneeded while it stays so, and forgets it the first loop it is
not (``core/scaledown/unneeded``). A node unneeded for ``scale_down_unneeded_time`` may
be deleted (``RemovableAt``), unless its group would fall below its minimum size,
counting the deletions already under way and those chosen before it. Of those, empty
nodes come first and are deleted in bulk; a node that needs a drain is deleted with at
most ``max_drain_parallelism`` drains under way; and no more than
``max_scale_down_parallelism`` deletions (empty or drained) run at once
(``processors/scaledowncandidates``, ``MaxNodesProcessor``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sim.policies.node_scaling.cluster_autoscaler.eligibility import (
    Kept,
    Removable,
    Unremovable,
)


class UnneededNodes:
    """The nodes found removable, with the time each first became so."""

    def __init__(self) -> None:
        self._since: dict[str, float] = {}
        self._removable: dict[str, Removable] = {}

    def update(self, removable: Sequence[Removable], now_s: float) -> None:
        """This loop's removable nodes: the others are needed again."""
        since = {node.node: self._since.get(node.node, now_s) for node in removable}
        self._since = since
        self._removable = {node.node: node for node in removable}

    def since(self, node: str) -> float | None:
        """When `node` became unneeded (None: it is needed)."""
        return self._since.get(node)

    def forget(self, node: str) -> None:
        """Drop `node` (deleted, or being deleted)."""
        self._since.pop(node, None)
        self._removable.pop(node, None)

    def nodes(self) -> list[tuple[Removable, float]]:
        """Each unneeded node with its since-time, the longest unneeded first (then by
        name)."""
        return sorted(
            ((node, self._since[name]) for name, node in self._removable.items()),
            key=lambda item: (item[1], item[0].node),
        )


@dataclass(frozen=True, slots=True)
class GroupSize:
    """A node group's target size (nodes it has and is launching) and minimum."""

    size: int
    min_size: int


@dataclass(frozen=True, slots=True)
class Deletions:
    """What to delete now: empty nodes, nodes to drain, and unneeded nodes kept."""

    empty: tuple[Removable, ...]
    drain: tuple[Removable, ...]
    kept: tuple[Kept, ...]


def nodes_to_delete(
    unneeded: Sequence[tuple[Removable, float]],
    now_s: float,
    unneeded_time_s: float,
    groups: Mapping[str, GroupSize],
    deleting: Mapping[str, int],
    max_parallel: int,
    max_drain: int,
    deletions_in_progress: int = 0,
    drains_in_progress: int = 0,
) -> Deletions:
    """The unneeded nodes to delete at `now_s`.

    Args:
        unneeded: the unneeded nodes with their since-times, in the order to consider.
        now_s: the time now.
        unneeded_time_s: ``scale_down_unneeded_time``.
        groups: each group's target size and minimum.
        deleting: deletions under way per group.
        max_parallel: ``max_scale_down_parallelism`` (empty and drained together).
        max_drain: ``max_drain_parallelism``.
        deletions_in_progress: nodes being deleted now.
        drains_in_progress: of those, the ones being drained.
    """
    chosen: dict[str, int] = dict(deleting)
    ready: list[Removable] = []
    kept: list[Kept] = []
    for node, since_s in unneeded:
        if now_s - since_s < unneeded_time_s:
            kept.append(Kept(node.node, Unremovable.NOT_UNNEEDED_LONG_ENOUGH, node.utilization))
            continue
        group = groups[node.group]
        if group.size - chosen.get(node.group, 0) <= group.min_size:
            kept.append(Kept(node.node, Unremovable.MIN_SIZE_REACHED, node.utilization))
            continue
        chosen[node.group] = chosen.get(node.group, 0) + 1
        ready.append(node)
    room = max(max_parallel - deletions_in_progress, 0)
    drain_room = max(max_drain - drains_in_progress, 0)
    empty = [node for node in ready if node.empty][:room]
    drain = [node for node in ready if not node.empty][: min(drain_room, room - len(empty))]
    return Deletions(tuple(empty), tuple(drain), tuple(kept))
