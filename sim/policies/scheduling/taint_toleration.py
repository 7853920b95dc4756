"""TaintToleration: pods stay off nodes whose taints they do not tolerate.

After ``pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go``.

Filter: a node with a ``NoSchedule`` or ``NoExecute`` taint the pod does not tolerate is
rejected (``node(s) had untolerated taint {key: value}``, the first such taint).
Score: the number of ``PreferNoSchedule`` taints the pod does not tolerate, counting only
its tolerations whose effect is empty or ``PreferNoSchedule``; normalised in reverse, so
the node with the most such taints gets 0 and a node with none 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sim.policies.scheduling.objects import NodeInfo, PodInfo, tolerated
from sim.policies.scheduling.plugin import NoPreFilter, Rejection, default_normalize_score

NAME = "TaintToleration"


@dataclass(frozen=True, slots=True)
class TaintToleration(NoPreFilter):
    """The TaintToleration plugin: a filter and a score."""

    name: str = NAME

    def filter(self, pod: PodInfo, node: NodeInfo, state: Any) -> Rejection | None:
        for taint in node.taints:
            if taint.effect != "PreferNoSchedule" and not tolerated(taint, pod.tolerations):
                return Rejection((f"node(s) had untolerated taint {taint}",), unresolvable=True)
        return None

    def pre_score(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo]
    ) -> Any:
        return tuple(t for t in pod.tolerations if t.effect in ("", "PreferNoSchedule"))

    def score(self, pod: PodInfo, node: NodeInfo, state: Any) -> int:
        return sum(
            taint.effect == "PreferNoSchedule" and not tolerated(taint, state)
            for taint in node.taints
        )

    def normalize(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], scores: list[int], state: Any
    ) -> list[int]:
        return default_normalize_score(scores, reverse=True)
