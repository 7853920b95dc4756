"""NodeUnschedulable: nothing new goes to a cordoned node.

After ``pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go``: a node
marked unschedulable rejects pods (``node(s) were unschedulable``) unless they tolerate
the ``node.kubernetes.io/unschedulable`` NoSchedule taint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.policies.scheduling.objects import NodeInfo, PodInfo, Taint, tolerated
from sim.policies.scheduling.plugin import NoPreFilter, Rejection

NAME = "NodeUnschedulable"
UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")


@dataclass(frozen=True, slots=True)
class NodeUnschedulable(NoPreFilter):
    """The NodeUnschedulable plugin: a filter."""

    name: str = NAME

    def filter(self, pod: PodInfo, node: NodeInfo, state: Any) -> Rejection | None:
        if node.unschedulable and not tolerated(UNSCHEDULABLE_TAINT, pod.tolerations):
            return Rejection(("node(s) were unschedulable",), unresolvable=True)
        return None
