"""How many nodes of a group the pending pods need: the Cluster Autoscaler's binpacking
estimator (``estimator/binpacking_estimator.go``, ``decreasing_pod_orderer.go``).

Pods are taken in groups of equivalent pods (here: pods with the same requests and
labels, in the order the groups first appear), the groups sorted by decreasing score,
the group's CPU request over the template's allocatable CPU plus its memory over the
allocatable memory (first-fit decreasing). For each group, its pods first go to any new node already
added, while they fit; the rest go to the last node added, or to a new one while the
limit allows. A pod that does not fit an empty new node ends its group (upstream stops
adding nodes once the last one added stayed empty). Returns how many new nodes hold
pods, and the pods placed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.policies.node_scaling import NodeShape, Pod
from sim.policies.node_scaling.fit import DEFAULT_CHECK, FitCheck, Room, why_not


@dataclass(frozen=True, slots=True)
class Estimate:
    """Nodes needed and the pods they hold."""

    node_count: int
    pods: tuple[Pod, ...]


def _score(pod: Pod, template: NodeShape) -> float:
    score = 0.0
    if template.vcpu > 0:
        score += pod.vcpu / template.vcpu
    if template.memory_bytes > 0:
        score += pod.memory_bytes / template.memory_bytes
    return score


def equivalence_groups(pods: Sequence[Pod]) -> list[list[Pod]]:
    """Pods with the same requests and labels (replicas of one app), grouped in the order
    each group first appears."""
    groups: dict[tuple[float, int, tuple[tuple[str, str], ...]], list[Pod]] = {}
    for pod in pods:
        labels = tuple(sorted(pod.spec.labels.items())) if pod.spec is not None else ()
        groups.setdefault((pod.vcpu, pod.memory_bytes, labels), []).append(pod)
    return list(groups.values())


def estimate(
    pods: Sequence[Pod], template: NodeShape, max_nodes: int, check: FitCheck = DEFAULT_CHECK
) -> Estimate:
    """How many nodes of `template` the `pods` need, adding at most `max_nodes`, by the
    scheduler's filters `check`."""
    groups = sorted(
        equivalence_groups(pods), key=lambda group: _score(group[0], template), reverse=True
    )
    nodes: list[Room] = []
    placed: list[Pod] = []
    for group in groups:
        index = 0
        while index < len(group):
            room = next((r for r in nodes if why_not(group[index], r, check) is None), None)
            if room is None:
                break
            room.take(group[index])
            placed.append(group[index])
            index += 1
        for pod in group[index:]:
            if nodes and why_not(pod, nodes[-1], check) is None:
                nodes[-1].take(pod)
                placed.append(pod)
                continue
            if nodes and not nodes[-1].placed:
                break
            if len(nodes) >= max_nodes:
                break
            nodes.append(Room.empty(template, f"{template.name}-e{len(nodes)}"))
            if why_not(pod, nodes[-1], check) is not None:
                break
            nodes[-1].take(pod)
            placed.append(pod)
    return Estimate(sum(1 for node in nodes if node.placed), tuple(placed))
