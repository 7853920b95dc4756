"""What the scheduler's plugins look at: pods and nodes as kube-scheduler sees them.

A `PodInfo` is one replica as a pod: its labels, its resource requests, its images and
its scheduling constraints (tolerations, node selector and affinity, pod anti-affinity,
topology spread). A `NodeInfo` is one node: its labels and taints, its allocatable CPU,
memory and pod count, the pods placed on it (and their summed requests) and the images
it reports. CPU is counted in whole millicores and memory in bytes, as Kubernetes
quantities are. The model keeps one `NodeInfo` per host up to date; a node that does
not exist yet (a node group's template) is a `NodeInfo` built from an instance type.

The selector semantics follow ``k8s.io/apimachinery/pkg/labels`` and
``k8s.io/component-helpers/scheduling/corev1`` (node selector terms, taint tolerations).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

HOSTNAME = "kubernetes.io/hostname"
"""The well-known label every node carries with its own name."""
ZONE = "topology.kubernetes.io/zone"
"""The well-known label of a node's availability zone."""
INSTANCE_TYPE = "node.kubernetes.io/instance-type"
"""The well-known label of a node's instance type."""

DEFAULT_MILLI_CPU_REQUEST = 100
"""Millicores a container without a CPU request counts as when scores are computed
(``schedutil.DefaultMilliCPURequest``)."""
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
"""Bytes a container without a memory request counts as when scores are computed
(``schedutil.DefaultMemoryRequest``)."""

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
Operator = Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]


@dataclass(frozen=True, slots=True)
class Taint:
    """A node's taint: pods that do not tolerate it are kept off (NoSchedule, NoExecute)
    or avoided (PreferNoSchedule)."""

    key: str
    value: str = ""
    effect: TaintEffect = "NoSchedule"

    def __str__(self) -> str:
        return f"{{{self.key}: {self.value}}}"


@dataclass(frozen=True, slots=True)
class Toleration:
    """A pod's toleration of taints.

    An empty key with ``Exists`` tolerates every taint; an empty effect tolerates every
    effect; ``Exists`` tolerates any value, ``Equal`` only its own.
    """

    key: str = ""
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str = ""
    effect: TaintEffect | Literal[""] = ""

    def tolerates(self, taint: Taint) -> bool:
        """Whether this toleration tolerates `taint` (``Toleration.ToleratesTaint``)."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return self.value == taint.value


def tolerated(taint: Taint, tolerations: Sequence[Toleration]) -> bool:
    """Whether any of `tolerations` tolerates `taint`."""
    return any(toleration.tolerates(taint) for toleration in tolerations)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One label requirement: a key, an operator and its values."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether `labels` meet the requirement; ``NotIn`` and ``DoesNotExist`` hold for
        a label that is absent, ``Gt`` and ``Lt`` compare whole numbers."""
        present = self.key in labels
        if self.operator == "Exists":
            return present
        if self.operator == "DoesNotExist":
            return not present
        if self.operator == "In":
            return present and labels[self.key] in self.values
        if self.operator == "NotIn":
            return not present or labels[self.key] not in self.values
        if not present or len(self.values) != 1:
            return False
        try:
            have, bound = int(labels[self.key]), int(self.values[0])
        except ValueError:
            return False
        return have > bound if self.operator == "Gt" else have < bound


@dataclass(frozen=True, slots=True)
class NodeSelectorTerm:
    """Requirements that must all hold (one term of a node affinity)."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """An empty term matches no node, as upstream's node selector does."""
        return bool(self.requirements) and all(r.matches(labels) for r in self.requirements)


@dataclass(frozen=True, slots=True)
class PreferredTerm:
    """A preferred node affinity term and its weight (1-100)."""

    weight: int
    term: NodeSelectorTerm


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A pod label selector: ``match_labels`` and ``requirements`` must all hold."""

    match_labels: tuple[tuple[str, str], ...] = ()
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """An empty selector matches every pod."""
        return all(labels.get(key) == value for key, value in self.match_labels) and all(
            requirement.matches(labels) for requirement in self.requirements
        )


@dataclass(frozen=True, slots=True)
class PodAffinityTerm:
    """Pods matching `selector` in the same `topology_key` domain as a node."""

    selector: LabelSelector
    topology_key: str


@dataclass(frozen=True, slots=True)
class WeightedPodAffinityTerm:
    """A preferred pod (anti-)affinity term and its weight (1-100)."""

    weight: int
    term: PodAffinityTerm


@dataclass(frozen=True, slots=True)
class SpreadConstraint:
    """A topology spread constraint (``pod.spec.topologySpreadConstraints[]``).

    Attributes:
        max_skew: the largest difference allowed between a domain's matching pods and
            the fewest any eligible domain has.
        topology_key: the node label whose values are the domains.
        when_unsatisfiable: ``DoNotSchedule`` (a filter) or ``ScheduleAnyway`` (a score).
        selector: which pods count.
        min_domains: with ``DoNotSchedule``, fewer eligible domains than this make the
            global minimum 0 (None: no minimum).
        node_affinity_policy: ``Honor`` counts only nodes that match the pod's node
            selector and required node affinity; ``Ignore`` counts every node.
        node_taints_policy: ``Honor`` leaves out nodes with taints the pod does not
            tolerate; ``Ignore`` counts them.
    """

    max_skew: int
    topology_key: str
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"]
    selector: LabelSelector
    min_domains: int | None = None
    node_affinity_policy: Literal["Honor", "Ignore"] = "Honor"
    node_taints_policy: Literal["Honor", "Ignore"] = "Ignore"


@dataclass(frozen=True, slots=True)
class PodInfo:
    """One replica as a pod (a single container).

    Attributes:
        name: the replica's name.
        labels: its labels (the app's, ``app: <name>``, and any it sets).
        milli_cpu: its CPU request in millicores (None: no request is set, which counts
            as 0 for fitting and as 100 m for scoring).
        memory_bytes: its memory request (None: no request; 200 MiB for scoring).
        images: the images of its containers.
        tolerations: the taints it tolerates.
        node_selector: labels a node must have.
        required_node_terms: node affinity required at scheduling; a node must match
            one of the terms (empty: no requirement).
        preferred_node_terms: node affinity preferred, with weights.
        required_anti_affinity: no matching pod may run in the same domain.
        preferred_anti_affinity: matching pods in the same domain lower a node's score.
        spread_constraints: its topology spread constraints.
        default_spread_selector: the pods its controller and services select, which
            the system's default spreading counts (None: it belongs to none).
        priority: its priority (a PriorityClass value): it may preempt pods of lower
            priority.
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    milli_cpu: int | None = 0
    memory_bytes: int | None = 0
    images: tuple[str, ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    node_selector: tuple[tuple[str, str], ...] = ()
    required_node_terms: tuple[NodeSelectorTerm, ...] = ()
    preferred_node_terms: tuple[PreferredTerm, ...] = ()
    required_anti_affinity: tuple[PodAffinityTerm, ...] = ()
    preferred_anti_affinity: tuple[WeightedPodAffinityTerm, ...] = ()
    spread_constraints: tuple[SpreadConstraint, ...] = ()
    default_spread_selector: LabelSelector | None = None
    priority: int = 0

    @property
    def request_milli_cpu(self) -> int:
        """Millicores the pod takes from a node (0 when it sets none)."""
        return self.milli_cpu or 0

    @property
    def request_memory_bytes(self) -> int:
        """Bytes the pod takes from a node (0 when it sets none)."""
        return self.memory_bytes or 0

    @property
    def non_zero_milli_cpu(self) -> int:
        """Millicores the pod counts as when nodes are scored (a missing request: 100)."""
        return DEFAULT_MILLI_CPU_REQUEST if self.milli_cpu is None else self.milli_cpu

    @property
    def non_zero_memory_bytes(self) -> int:
        """Bytes the pod counts as when nodes are scored (a missing request: 200 MiB)."""
        return DEFAULT_MEMORY_REQUEST if self.memory_bytes is None else self.memory_bytes

    def matches_node_affinity(self, labels: Mapping[str, str]) -> bool:
        """Whether a node's labels meet the pod's node selector and required node
        affinity (``GetRequiredNodeAffinity(pod).Match``)."""
        if any(labels.get(key) != value for key, value in self.node_selector):
            return False
        terms = self.required_node_terms
        return not terms or any(term.matches(labels) for term in terms)


@dataclass(frozen=True, slots=True)
class Resources:
    """CPU (millicores), memory (bytes) and a pod count."""

    milli_cpu: int = 0
    memory_bytes: int = 0
    pods: int = 0


class NodeInfo:
    """One node: what it offers, what is placed on it, what it holds.

    The pods' requests are summed as pods are added and removed, so a filter costs no
    scan of the node's pods.

    Args:
        name: the node's name.
        labels: its labels (``kubernetes.io/hostname`` is set to the name if absent).
        allocatable: CPU, memory and pods its pods may take.
        taints: its taints.
        images: the images it reports, by name, with their sizes.
        unschedulable: cordoned (``node.spec.unschedulable``).
    """

    __slots__ = (
        "name",
        "labels",
        "allocatable",
        "taints",
        "images",
        "unschedulable",
        "pods",
        "pods_with_affinity",
        "pods_with_required_anti_affinity",
        "requested_milli_cpu",
        "requested_memory_bytes",
        "non_zero_milli_cpu",
        "non_zero_memory_bytes",
    )

    def __init__(
        self,
        name: str,
        labels: Mapping[str, str] | None = None,
        allocatable: Resources = Resources(),
        taints: Sequence[Taint] = (),
        images: Mapping[str, int] | None = None,
        unschedulable: bool = False,
    ) -> None:
        self.name = name
        self.labels: dict[str, str] = {HOSTNAME: name, **(labels or {})}
        self.allocatable = allocatable
        self.taints = tuple(taints)
        self.images: Mapping[str, int] = images if images is not None else {}
        self.unschedulable = unschedulable
        self.pods: list[PodInfo] = []
        self.pods_with_affinity: list[PodInfo] = []
        """The pods with any anti-affinity term (``PodsWithAffinity``)."""
        self.pods_with_required_anti_affinity: list[PodInfo] = []
        """The pods with a required anti-affinity term."""
        self.requested_milli_cpu = 0
        self.requested_memory_bytes = 0
        self.non_zero_milli_cpu = 0
        self.non_zero_memory_bytes = 0

    def add_pod(self, pod: PodInfo) -> None:
        """Place `pod` on the node: its requests now count against the node."""
        self.pods.append(pod)
        if pod.required_anti_affinity or pod.preferred_anti_affinity:
            self.pods_with_affinity.append(pod)
        if pod.required_anti_affinity:
            self.pods_with_required_anti_affinity.append(pod)
        self._count(pod, 1)

    def remove_pod(self, name: str) -> PodInfo:
        """Take the pod named `name` off the node.

        Raises:
            KeyError: no such pod on the node.
        """
        for index, pod in enumerate(self.pods):
            if pod.name == name:
                del self.pods[index]
                for kept in (self.pods_with_affinity, self.pods_with_required_anti_affinity):
                    if any(other is pod for other in kept):
                        kept.remove(pod)
                self._count(pod, -1)
                return pod
        raise KeyError(name)

    def _count(self, pod: PodInfo, sign: int) -> None:
        self.requested_milli_cpu += sign * pod.request_milli_cpu
        self.requested_memory_bytes += sign * pod.request_memory_bytes
        self.non_zero_milli_cpu += sign * pod.non_zero_milli_cpu
        self.non_zero_memory_bytes += sign * pod.non_zero_memory_bytes

    def with_pods(self, pods: Sequence[PodInfo]) -> NodeInfo:
        """The node with `pods` added (for tables and templates)."""
        for pod in pods:
            self.add_pod(pod)
        return self

    def __repr__(self) -> str:
        return f"NodeInfo({self.name!r}, pods={len(self.pods)})"


class NodeList(list[NodeInfo]):
    """The cluster's nodes as a scheduling cycle sees them, and, when the caller knows
    it, which of them hold a pod with a required anti-affinity term (upstream's snapshot
    keeps that list, ``HavePodsWithRequiredAntiAffinityList``, so that a pod's cycle in a
    cluster without such pods visits no node for them)."""

    __slots__ = ("holding_required_anti_affinity",)

    def __init__(self, nodes: Iterable[NodeInfo] = ()) -> None:
        super().__init__(nodes)
        self.holding_required_anti_affinity: list[NodeInfo] | None = None
        """Those nodes, in order (None: not known, found by a scan)."""


def nodes_with_required_anti_affinity(nodes: Sequence[NodeInfo]) -> Sequence[NodeInfo]:
    """The nodes among `nodes` that hold a pod with a required anti-affinity term."""
    known = nodes.holding_required_anti_affinity if isinstance(nodes, NodeList) else None
    if known is not None:
        return known
    return [node for node in nodes if node.pods_with_required_anti_affinity]
