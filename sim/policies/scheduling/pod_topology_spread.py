"""PodTopologySpread: spread matching pods evenly over topology domains (zones, nodes).

After ``pkg/scheduler/framework/plugins/podtopologyspread/`` (``filtering.go``,
``scoring.go``, ``common.go``).

Filter, for each ``DoNotSchedule`` constraint: the node must carry the constraint's
topology key; counting the pods its selector matches on every node that has all the
constraints' keys and passes the constraint's inclusion policies (the pod's node
affinity, by default; its taints, if asked), the node's domain may not exceed the least
filled domain by more than ``maxSkew`` once the pod is added (``matchNum + selfMatch -
minMatchNum <= maxSkew``; the minimum is 0 when fewer domains exist than ``minDomains``).

Score, for each ``ScheduleAnyway`` constraint — or, for a pod that sets none, the
system's defaults (hostname with maxSkew 3 and zone with maxSkew 5, over the pods its
controller or services select): a node earns ``count * log(domains + 2) + maxSkew - 1``
per constraint, where ``count`` is the matching pods in its domain (on the node itself
for the hostname key) and ``domains`` the number of domains among the candidate nodes;
summed and rounded, then reversed into 0-100 (``100 * (max + min - score) / max``), so
the emptiest domain scores best. With the pod's own constraints, a candidate missing a
topology key scores 0; with the defaults, nodes without a zone still spread by hostname.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sim.policies.scheduling.objects import (
    HOSTNAME,
    ZONE,
    LabelSelector,
    NodeInfo,
    PodInfo,
    SpreadConstraint,
    tolerated,
)
from sim.policies.scheduling.plugin import MAX_NODE_SCORE, SKIP, Rejection

NAME = "PodTopologySpread"
MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"
SKEWED = "node(s) didn't match pod topology spread constraints"


def system_default_constraints(selector: LabelSelector) -> tuple[SpreadConstraint, ...]:
    """kube-scheduler's system default constraints over the pods `selector` matches."""
    return (
        SpreadConstraint(3, HOSTNAME, "ScheduleAnyway", selector),
        SpreadConstraint(5, ZONE, "ScheduleAnyway", selector),
    )


def count_matching(pods: Sequence[PodInfo], selector: LabelSelector) -> int:
    """The pods `selector` matches (``countPodsMatchSelector``)."""
    return sum(selector.matches(pod.labels) for pod in pods)


def included(constraint: SpreadConstraint, pod: PodInfo, node: NodeInfo) -> bool:
    """Whether `node` counts for `constraint` (``matchNodeInclusionPolicies``)."""
    if constraint.node_affinity_policy == "Honor" and not pod.matches_node_affinity(node.labels):
        return False
    if constraint.node_taints_policy == "Honor":
        for taint in node.taints:
            if taint.effect != "PreferNoSchedule" and not tolerated(taint, pod.tolerations):
                return False
    return True


def _has_keys(node: NodeInfo, constraints: Sequence[SpreadConstraint]) -> bool:
    return all(constraint.topology_key in node.labels for constraint in constraints)


def _round_half_away(value: float) -> int:
    whole = int(abs(value) + 0.5)
    return whole if value >= 0 else -whole


@dataclass(frozen=True, slots=True)
class _FilterState:
    constraints: tuple[SpreadConstraint, ...]
    counts: tuple[dict[str, int], ...]


@dataclass(frozen=True, slots=True)
class _ScoreState:
    constraints: tuple[SpreadConstraint, ...]
    ignored: frozenset[str]
    counts: tuple[dict[str, int], ...]
    weights: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PodTopologySpread:
    """The PodTopologySpread plugin: a filter and a score.

    Args:
        default_spread: ``System`` spreads pods that set no constraints by the system's
            defaults (scoring only); ``None`` leaves them alone.
    """

    default_spread: Literal["System", "None"] = "System"
    name: str = NAME

    def pre_filter(self, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Any:
        constraints = tuple(
            c for c in pod.spread_constraints if c.when_unsatisfiable == "DoNotSchedule"
        )
        if not constraints:
            return None
        counts: tuple[dict[str, int], ...] = tuple({} for _ in constraints)
        for node in nodes:
            if not _has_keys(node, constraints):
                continue
            for constraint, domain_counts in zip(constraints, counts, strict=True):
                if not included(constraint, pod, node):
                    continue
                value = node.labels[constraint.topology_key]
                matched = count_matching(node.pods, constraint.selector)
                domain_counts[value] = domain_counts.get(value, 0) + matched
        return _FilterState(constraints, counts)

    def filter(self, pod: PodInfo, node: NodeInfo, state: Any) -> Rejection | None:
        if state is None:
            return None
        for constraint, domain_counts in zip(state.constraints, state.counts, strict=True):
            value = node.labels.get(constraint.topology_key)
            if value is None:
                return Rejection((MISSING_LABEL,), unresolvable=True)
            least = min(domain_counts.values()) if domain_counts else math.inf
            if constraint.min_domains is not None and len(domain_counts) < constraint.min_domains:
                least = 0
            self_match = 1 if constraint.selector.matches(pod.labels) else 0
            skew = domain_counts.get(value, 0) + self_match - least
            if skew > constraint.max_skew:
                return Rejection((SKEWED,))
        return None

    def _soft_constraints(self, pod: PodInfo) -> tuple[SpreadConstraint, ...]:
        if pod.spread_constraints:
            return tuple(
                c for c in pod.spread_constraints if c.when_unsatisfiable == "ScheduleAnyway"
            )
        if self.default_spread == "System" and pod.default_spread_selector is not None:
            return system_default_constraints(pod.default_spread_selector)
        return ()

    def pre_score(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo]
    ) -> Any:
        constraints = self._soft_constraints(pod)
        if not nodes or not constraints:
            return SKIP
        require_all = bool(pod.spread_constraints) or self.default_spread != "System"
        ignored: set[str] = set()
        counts: tuple[dict[str, int], ...] = tuple({} for _ in constraints)
        for node in feasible:
            if require_all and not _has_keys(node, constraints):
                ignored.add(node.name)
                continue
            for constraint, domain_counts in zip(constraints, counts, strict=True):
                if constraint.topology_key != HOSTNAME:
                    domain_counts.setdefault(node.labels.get(constraint.topology_key, ""), 0)
        weights = tuple(
            math.log(
                (len(feasible) - len(ignored) if c.topology_key == HOSTNAME else len(domains)) + 2
            )
            for c, domains in zip(constraints, counts, strict=True)
        )
        for node in nodes:
            if require_all and not _has_keys(node, constraints):
                continue
            for constraint, domain_counts in zip(constraints, counts, strict=True):
                if not included(constraint, pod, node):
                    continue
                value = node.labels.get(constraint.topology_key, "")
                if value in domain_counts:
                    domain_counts[value] += count_matching(node.pods, constraint.selector)
        return _ScoreState(constraints, frozenset(ignored), counts, weights)

    def score(self, pod: PodInfo, node: NodeInfo, state: Any) -> int:
        if node.name in state.ignored:
            return 0
        total = 0.0
        for constraint, domain_counts, weight in zip(
            state.constraints, state.counts, state.weights, strict=True
        ):
            value = node.labels.get(constraint.topology_key)
            if value is None:
                continue
            if constraint.topology_key == HOSTNAME:
                count = count_matching(node.pods, constraint.selector)
            else:
                count = domain_counts[value]
            total += count * weight + (constraint.max_skew - 1)
        return _round_half_away(total)

    def normalize(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], scores: list[int], state: Any
    ) -> list[int]:
        kept = [
            s for node, s in zip(feasible, scores, strict=True) if node.name not in state.ignored
        ]
        lowest = min(kept, default=0)
        highest = max([0, *kept])
        normalized = []
        for node, score in zip(feasible, scores, strict=True):
            if node.name in state.ignored:
                normalized.append(0)
            elif highest == 0:
                normalized.append(MAX_NODE_SCORE)
            else:
                normalized.append(MAX_NODE_SCORE * (highest + lowest - score) // highest)
        return normalized
