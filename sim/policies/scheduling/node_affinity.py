"""NodeAffinity: a pod's node selector and node affinity.

After ``pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go``.

Filter: the node must carry every label of the pod's ``nodeSelector`` and match one of
its required node affinity terms (every requirement of the term), else
``node(s) didn't match Pod's node affinity/selector``. Score: the sum of the weights of
the preferred terms the node matches, normalised so the best node gets 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sim.policies.scheduling.objects import NodeInfo, PodInfo
from sim.policies.scheduling.plugin import (
    SKIP,
    NoPreFilter,
    Rejection,
    default_normalize_score,
)

NAME = "NodeAffinity"
REASON = "node(s) didn't match Pod's node affinity/selector"


@dataclass(frozen=True, slots=True)
class NodeAffinity(NoPreFilter):
    """The NodeAffinity plugin: a filter and a score."""

    name: str = NAME

    def filter(self, pod: PodInfo, node: NodeInfo, state: Any) -> Rejection | None:
        if pod.matches_node_affinity(node.labels):
            return None
        return Rejection((REASON,), unresolvable=True)

    def pre_score(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo]
    ) -> Any:
        return pod.preferred_node_terms or SKIP

    def score(self, pod: PodInfo, node: NodeInfo, state: Any) -> int:
        return sum(
            preferred.weight
            for preferred in pod.preferred_node_terms
            if preferred.term.matches(node.labels)
        )

    def normalize(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], scores: list[int], state: Any
    ) -> list[int]:
        return default_normalize_score(scores)
