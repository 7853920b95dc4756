"""DefaultPreemption: the pods a pod that fits nowhere evicts, and from which node.

After kube-scheduler's PostFilter plugin (``pkg/scheduler/framework/plugins/
defaultpreemption/default_preemption.go`` and ``pkg/scheduler/framework/preemption/
preemption.go``). On each node, every pod of lower priority that may be evicted is taken
off; if the pod then passes the filters, the node is a candidate, and the pods taken off
are put back one by one, the most important first (higher priority, then the earlier
placed), each one kept (*reprieved*) if the pod still fits with it: the rest are the
node's *victims*. Of the candidates the one chosen has the lowest highest-priority
victim, then the least sum of victims' priorities, then the fewest victims, then comes
first in the scheduler's node order.

This is what makes the Cluster Autoscaler's overprovisioning work: pause pods of
priority -1 hold room, a real pod that finds none preempts them at once, and the
evicted pause pods, pending now, make the node autoscaler add a node for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sim.policies.scheduling.objects import NodeInfo, PodInfo

Fits = Callable[[PodInfo, NodeInfo], bool]
"""Whether a pod passes the filters on a node (a copy the caller may change)."""


@dataclass(frozen=True, slots=True)
class Preemption:
    """The node a pod is to go to, and the pods to evict from it first."""

    node: str
    victims: tuple[PodInfo, ...]


def victims_on(
    pod: PodInfo, node: NodeInfo, fits: Fits, evictable: Callable[[PodInfo], bool]
) -> tuple[PodInfo, ...] | None:
    """The fewest pods of lower priority `pod` must evict from `node` to fit there, the
    more important ones reprieved first (``SelectVictimsOnNode``); None when evicting
    every such pod would not make it fit, or there is none."""
    lower = [other for other in node.pods if other.priority < pod.priority and evictable(other)]
    if not lower:
        return None
    lowered = {id(other) for other in lower}
    trial = NodeInfo(node.name, node.labels, node.allocatable, node.taints, node.images)
    trial.unschedulable = node.unschedulable
    trial.with_pods([other for other in node.pods if id(other) not in lowered])
    if not fits(pod, trial):
        return None
    victims = []
    # sorted() keeps the node's order among equal priorities: the earlier placed first.
    for other in sorted(lower, key=lambda each: -each.priority):
        trial.add_pod(other)
        if not fits(pod, trial):
            trial.remove_pod(other.name)
            victims.append(other)
    return tuple(victims)


def choose_preemption(
    pod: PodInfo,
    nodes: Sequence[NodeInfo],
    fits: Fits,
    evictable: Callable[[PodInfo], bool],
) -> Preemption | None:
    """The node `pod` preempts on and its victims (``pickOneNodeForPreemption`` without
    disruption budgets or start times); None when no node would hold it."""
    best: tuple[tuple[int, int, int, int], Preemption] | None = None
    for index, node in enumerate(nodes):
        victims = victims_on(pod, node, fits, evictable)
        if victims is None:
            continue
        if not victims:
            return Preemption(node.name, ())
        priorities = [victim.priority for victim in victims]
        key = (max(priorities), sum(priorities), len(victims), index)
        if best is None or key < best[0]:
            best = (key, Preemption(node.name, victims))
    return None if best is None else best[1]
