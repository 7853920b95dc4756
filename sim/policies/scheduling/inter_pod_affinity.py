"""InterPodAffinity, for pod anti-affinity: keep pods away from pods they should not meet.

After ``pkg/scheduler/framework/plugins/interpodaffinity/`` (``filtering.go``,
``scoring.go``); only anti-affinity terms are modelled (no pod affinity).

Filter: a node is rejected when a pod the incoming pod's required anti-affinity term
selects runs in the node's domain of the term's topology key (``node(s) didn't match pod
anti-affinity rules``), or when a pod already running in one of the node's domains has a
required anti-affinity term that selects the incoming pod (``node(s) didn't satisfy
existing pods anti-affinity rules``).

Score: every preferred anti-affinity term of the incoming pod takes its weight off each
domain (of its topology key) where a pod it selects runs, once per such pod; every
preferred anti-affinity term of a running pod that selects the incoming pod takes its
weight off that pod's domain. A node scores the sum over its domains, and the scores are
rescaled to 0-100 between the lowest and the highest (all 0 when they are equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sim.policies.scheduling.objects import NodeInfo, PodAffinityTerm, PodInfo
from sim.policies.scheduling.plugin import MAX_NODE_SCORE, SKIP, Rejection

NAME = "InterPodAffinity"
ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"

Pair = tuple[str, str]


def _domains(terms: Sequence[PodAffinityTerm], pod: PodInfo, node: NodeInfo) -> list[Pair]:
    """The (topology key, value) pairs of `node` for the terms that select `pod`."""
    return [
        (term.topology_key, node.labels[term.topology_key])
        for term in terms
        if term.topology_key in node.labels and term.selector.matches(pod.labels)
    ]


@dataclass(frozen=True, slots=True)
class _FilterState:
    existing: frozenset[Pair]
    incoming: frozenset[Pair]


@dataclass(frozen=True, slots=True)
class InterPodAffinity:
    """The InterPodAffinity plugin (anti-affinity): a filter and a score."""

    name: str = NAME

    def pre_filter(self, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Any:
        existing: set[Pair] = set()
        incoming: set[Pair] = set()
        for node in nodes:
            for other in node.pods_with_required_anti_affinity:
                existing.update(_domains(other.required_anti_affinity, pod, node))
            if pod.required_anti_affinity:
                for other in node.pods:
                    incoming.update(_domains(pod.required_anti_affinity, other, node))
        if not existing and not incoming:
            return None
        return _FilterState(frozenset(existing), frozenset(incoming))

    def filter(self, pod: PodInfo, node: NodeInfo, state: Any) -> Rejection | None:
        if state is None:
            return None
        if any(pair in state.existing for pair in node.labels.items()):
            return Rejection((EXISTING_ANTI_AFFINITY,))
        for term in pod.required_anti_affinity:
            value = node.labels.get(term.topology_key)
            if value is not None and (term.topology_key, value) in state.incoming:
                return Rejection((ANTI_AFFINITY,))
        return None

    def pre_score(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo]
    ) -> Any:
        scores: dict[Pair, int] = {}
        for node in nodes:
            for other in node.pods if pod.preferred_anti_affinity else node.pods_with_affinity:
                for weighted in pod.preferred_anti_affinity:
                    for pair in _domains((weighted.term,), other, node):
                        scores[pair] = scores.get(pair, 0) - weighted.weight
                for weighted in other.preferred_anti_affinity:
                    for pair in _domains((weighted.term,), pod, node):
                        scores[pair] = scores.get(pair, 0) - weighted.weight
        return scores or SKIP

    def score(self, pod: PodInfo, node: NodeInfo, state: Any) -> int:
        return sum(state.get(pair, 0) for pair in node.labels.items())

    def normalize(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], scores: list[int], state: Any
    ) -> list[int]:
        lowest, highest = min(scores, default=0), max(scores, default=0)
        spread = highest - lowest
        if spread <= 0:
            return [0 for _ in scores]
        return [int(MAX_NODE_SCORE * ((score - lowest) / spread)) for score in scores]
