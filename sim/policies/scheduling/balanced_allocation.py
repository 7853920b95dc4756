"""NodeResourcesBalancedAllocation: prefer nodes whose CPU and memory fill alike.

After ``pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go``. For each
weighted resource the node has, the fraction ``(requested + pod) / allocatable`` (at most
1), counting the pods' requests as they are (a missing request is 0 here, not a
default); the node scores ``(1 - sd) * 100`` truncated, where ``sd`` is the standard
deviation of the fractions (for two resources, half their difference). A pod that
requests nothing is skipped (``isBestEffortPod``): every node would score alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.policies.scheduling.objects import NodeInfo, PodInfo
from sim.policies.scheduling.plugin import MAX_NODE_SCORE, SKIP, RawScores

NAME = "NodeResourcesBalancedAllocation"


def balanced_score(fractions: Sequence[float]) -> int:
    """``(1 - sd) * 100`` truncated, each fraction capped at 1 (``balancedResourceScorer``)."""
    capped = [min(fraction, 1.0) for fraction in fractions]
    if len(capped) == 2:
        deviation = abs((capped[0] - capped[1]) / 2)
    elif len(capped) > 2:
        mean = sum(capped) / len(capped)
        deviation = math.sqrt(sum((f - mean) * (f - mean) for f in capped) / len(capped))
    else:
        deviation = 0.0
    return int((1 - deviation) * MAX_NODE_SCORE)


@dataclass(frozen=True, slots=True)
class BalancedAllocation(RawScores):
    """The NodeResourcesBalancedAllocation plugin: a score.

    Args:
        resources: the resources weighed (``cpu``, ``memory``); upstream's scorer uses
            only which resources are listed, not their weights.
    """

    resources: Mapping[str, int] | None = None
    name: str = NAME

    def pre_score(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo]
    ) -> Any:
        if pod.request_milli_cpu == 0 and pod.request_memory_bytes == 0:
            return SKIP
        return None

    def score(self, pod: PodInfo, node: NodeInfo, state: Any) -> int:
        fractions = []
        for resource in self.resources or {"cpu": 1, "memory": 1}:
            if resource == "cpu":
                allocatable = node.allocatable.milli_cpu
                requested = node.requested_milli_cpu + pod.request_milli_cpu
            elif resource == "memory":
                allocatable = node.allocatable.memory_bytes
                requested = node.requested_memory_bytes + pod.request_memory_bytes
            else:
                continue
            if allocatable:
                fractions.append(requested / allocatable)
        return balanced_score(fractions)
