"""What a node scaler did: scale-ups, nodes launched and removed (with why), disruptions.

Every kind keeps one `NodeTally`; the summary's node-autoscaling part and the time
series' node columns read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Removal(StrEnum):
    """Why a node scaler removed a node: the ``<reason>`` of ``nodes_removed_<reason>``."""

    IDLE = "idle"
    """It ran no replica for a while (``simple``)."""
    EMPTY = "empty"
    """It ran no pod but DaemonSet-like ones (the Cluster Autoscaler's empty nodes,
    Karpenter's emptiness)."""
    UNDERUTILIZED = "underutilized"
    """Its pods fit on the other nodes: deleted after a drain (the Cluster Autoscaler
    below its utilisation threshold, Karpenter's consolidation by deletion)."""
    REPLACED = "replaced"
    """Karpenter consolidated it (with others perhaps) onto one cheaper new node."""
    EXPIRED = "expired"
    """Karpenter's ``expireAfter`` elapsed."""
    UNREGISTERED = "unregistered"
    """It did not join within the maximum provisioning time."""


@dataclass(slots=True)
class NodeTally:
    """A node scaler's counts.

    Attributes:
        scale_ups: decisions to add nodes (a Karpenter batch that launched any counts
            once; a replacement launched by consolidation does not).
        nodes_launched: nodes it launched, replacements included.
        removed: nodes it removed, by reason.
        disruptions: decisions that drained nodes running pods (a consolidation, a
            scale-down of an underutilised node, an expiry).
        pods_evicted: pods those drains evicted (each replaced elsewhere).
    """

    scale_ups: int = 0
    nodes_launched: int = 0
    removed: dict[Removal, int] = field(default_factory=lambda: dict.fromkeys(Removal, 0))
    disruptions: int = 0
    pods_evicted: int = 0

    def removed_node(self, reason: Removal) -> None:
        """Count one node removed for `reason`."""
        self.removed[reason] += 1

    @property
    def nodes_removed(self) -> int:
        return sum(self.removed.values())
