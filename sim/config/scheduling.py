"""The config forms of scheduling constraints: node taints and labels, pod tolerations,
node selectors, affinities and topology spread constraints.

Each spec reads one entry as a config writes it (snake_case keys after the Kubernetes
fields: ``{key: dedicated, value: gpu, effect: NoSchedule}``) and builds the scheduler's
object (`sim.policies.scheduling.objects`). `TaintSpec` lives with the hosts
(`sim.model.hosts.taints`), as node groups and pools take taints too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sim.core.settings import setting
from sim.model.hosts.taints import EFFECTS, TaintSpec
from sim.policies.scheduling.objects import (
    LabelSelector,
    NodeSelectorTerm,
    PodAffinityTerm,
    PodInfo,
    PreferredTerm,
    Requirement,
    SpreadConstraint,
    Toleration,
    WeightedPodAffinityTerm,
)

__all__ = [
    "EFFECTS",
    "AffinitySpec",
    "NodeAffinitySpec",
    "NodeTermSpec",
    "PodAntiAffinitySpec",
    "PodSchedulingSpec",
    "PodTermSpec",
    "PreferredNodeTermSpec",
    "PreferredPodTermSpec",
    "RequirementSpec",
    "SpreadSpec",
    "TaintSpec",
    "TolerationSpec",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TolerationSpec:
    """A pod's toleration of node taints."""

    key: str = setting("", doc="the taint key it tolerates; empty with Exists: every taint")
    operator: str = setting("Equal", choices=("Equal", "Exists"), doc="Equal: value must match")
    value: str = setting("", doc="the taint value (with Equal)")
    effect: str = setting("", choices=("", *EFFECTS), doc="the effect it tolerates; empty: all")

    def build(self) -> Toleration:
        return Toleration(self.key, self.operator, self.value, self.effect)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequirementSpec:
    """A label requirement (``matchExpressions[]``)."""

    key: str = setting(doc="the label's key")
    operator: str = setting(
        choices=("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"), doc="how it is compared"
    )
    values: tuple[str, ...] = setting((), doc="the values (In, NotIn; one number for Gt, Lt)")

    def build(self) -> Requirement:
        return Requirement(self.key, self.operator, self.values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeTermSpec:
    """A node selector term: every requirement must hold."""

    match_expressions: tuple[RequirementSpec, ...] = setting(doc="the requirements")

    def build(self) -> NodeSelectorTerm:
        return NodeSelectorTerm(tuple(r.build() for r in self.match_expressions))


@dataclass(frozen=True, slots=True, kw_only=True)
class PreferredNodeTermSpec:
    """A preferred node selector term and its weight."""

    weight: int = setting(minimum=1, maximum=100, doc="added to a matching node's score")
    match_expressions: tuple[RequirementSpec, ...] = setting(doc="the requirements")

    def build(self) -> PreferredTerm:
        term = NodeSelectorTerm(tuple(r.build() for r in self.match_expressions))
        return PreferredTerm(self.weight, term)


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeAffinitySpec:
    """Node affinity: terms required (one must match) and preferred (weighted)."""

    required: tuple[NodeTermSpec, ...] = setting((), doc="a node must match one of these")
    preferred: tuple[PreferredNodeTermSpec, ...] = setting((), doc="matching ones score more")


def _selector(
    match_labels: Mapping[str, str] | None,
    match_expressions: tuple[RequirementSpec, ...],
    own: Mapping[str, str],
) -> LabelSelector:
    labels = own if match_labels is None and not match_expressions else match_labels or {}
    return LabelSelector(tuple(sorted(labels.items())), tuple(r.build() for r in match_expressions))


@dataclass(frozen=True, slots=True, kw_only=True)
class PodTermSpec:
    """A pod anti-affinity term: pods the selector matches, in one topology domain."""

    topology_key: str = setting(doc="the node label whose values are the domains")
    match_labels: Mapping[str, str] | None = setting(
        None, doc="the pods it selects; null: the app's own labels"
    )
    match_expressions: tuple[RequirementSpec, ...] = setting((), doc="further requirements")

    def build(self, own: Mapping[str, str]) -> PodAffinityTerm:
        selector = _selector(self.match_labels, self.match_expressions, own)
        return PodAffinityTerm(selector, self.topology_key)


@dataclass(frozen=True, slots=True, kw_only=True)
class PreferredPodTermSpec:
    """A preferred pod anti-affinity term and its weight."""

    weight: int = setting(minimum=1, maximum=100, doc="taken off each matching pod's domain")
    topology_key: str = setting(doc="the node label whose values are the domains")
    match_labels: Mapping[str, str] | None = setting(
        None, doc="the pods it selects; null: the app's own labels"
    )
    match_expressions: tuple[RequirementSpec, ...] = setting((), doc="further requirements")

    def build(self, own: Mapping[str, str]) -> WeightedPodAffinityTerm:
        selector = _selector(self.match_labels, self.match_expressions, own)
        return WeightedPodAffinityTerm(self.weight, PodAffinityTerm(selector, self.topology_key))


@dataclass(frozen=True, slots=True, kw_only=True)
class PodAntiAffinitySpec:
    """Pod anti-affinity: terms required and preferred."""

    required: tuple[PodTermSpec, ...] = setting((), doc="no selected pod in the same domain")
    preferred: tuple[PreferredPodTermSpec, ...] = setting(
        (), doc="selected pods in the domain lower a node's score"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AffinitySpec:
    """A pod's affinity: to nodes, and away from other pods."""

    node_affinity: NodeAffinitySpec = setting(
        default_factory=NodeAffinitySpec, doc="which nodes, by their labels"
    )
    pod_anti_affinity: PodAntiAffinitySpec = setting(
        default_factory=PodAntiAffinitySpec, doc="away from which pods"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SpreadSpec:
    """A topology spread constraint."""

    max_skew: int = setting(1, minimum=1, doc="most a domain may hold above the emptiest")
    topology_key: str = setting(doc="the node label whose values are the domains")
    when_unsatisfiable: str = setting(
        "DoNotSchedule",
        choices=("DoNotSchedule", "ScheduleAnyway"),
        doc="DoNotSchedule: a filter; ScheduleAnyway: a score",
    )
    match_labels: Mapping[str, str] | None = setting(
        None, doc="the pods that count; null: the app's own labels"
    )
    match_expressions: tuple[RequirementSpec, ...] = setting((), doc="further requirements")
    min_domains: int | None = setting(None, minimum=1, doc="fewer domains: the minimum is 0")
    node_affinity_policy: str = setting(
        "Honor", choices=("Honor", "Ignore"), doc="count only nodes the pod's affinity allows"
    )
    node_taints_policy: str = setting(
        "Ignore", choices=("Honor", "Ignore"), doc="leave out nodes with untolerated taints"
    )

    def build(self, own: Mapping[str, str]) -> SpreadConstraint:
        return SpreadConstraint(
            self.max_skew,
            self.topology_key,
            self.when_unsatisfiable,  # type: ignore[arg-type]
            _selector(self.match_labels, self.match_expressions, own),
            self.min_domains,
            self.node_affinity_policy,  # type: ignore[arg-type]
            self.node_taints_policy,  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PodSchedulingSpec:
    """What an app's replicas carry to the scheduler (a part of `AppSpec`)."""

    labels: Mapping[str, str] = setting(
        default_factory=dict, doc="its pods' labels, besides app: <name>"
    )
    tolerations: tuple[TolerationSpec, ...] = setting((), doc="taints its pods tolerate")
    node_selector: Mapping[str, str] = setting(default_factory=dict, doc="labels a node must have")
    affinity: AffinitySpec = setting(
        default_factory=AffinitySpec, doc="node affinity and pod anti-affinity"
    )
    topology_spread: tuple[SpreadSpec, ...] = setting(
        (), doc="topology spread constraints (zone, hostname)"
    )
    priority: int = setting(
        0,
        doc="its pods' priority (a PriorityClass value): a pod that fits nowhere preempts "
        "pods of lower priority; -1 for overprovisioning's pause pods",
    )

    def pod(self, app: str) -> PodInfo:
        """The app's pod template: labels and constraints, no name or requests yet."""
        labels = {"app": app, **self.labels}
        node = self.affinity.node_affinity
        anti = self.affinity.pod_anti_affinity
        return PodInfo(
            "",
            labels=labels,
            tolerations=tuple(t.build() for t in self.tolerations),
            node_selector=tuple(sorted(self.node_selector.items())),
            required_node_terms=tuple(term.build() for term in node.required),
            preferred_node_terms=tuple(term.build() for term in node.preferred),
            required_anti_affinity=tuple(term.build(labels) for term in anti.required),
            preferred_anti_affinity=tuple(term.build(labels) for term in anti.preferred),
            spread_constraints=tuple(c.build(labels) for c in self.topology_spread),
            default_spread_selector=LabelSelector(tuple(sorted(labels.items()))),
            priority=self.priority,
        )
