"""Karpenter's disruption methods, each a small type behind one interface (`Method`).

The disruption controller tries its methods in order and takes the first command one
finds (``pkg/controllers/disruption/controller.go``): `Emptiness` deletes empty nodes;
`MultiNodeConsolidation` looks for several nodes whose pods fit the rest of the cluster
and at most one cheaper new node; `SingleNodeConsolidation` tries each node alone.
Each considers only its candidates (`Method.should_disrupt`), within its NodePools'
disruption budgets for its reason, and asks a scheduling simulation (`Simulate`) where
the candidates' pods would go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sim.policies.node_scaling import Pod
from sim.policies.node_scaling.karpenter.catalogue import SPOT, Offering
from sim.policies.node_scaling.karpenter.scheduling import Results

EMPTY = "Empty"
UNDERUTILIZED = "Underutilized"
WHEN_EMPTY = "WhenEmpty"
WHEN_EMPTY_OR_UNDERUTILIZED = "WhenEmptyOrUnderutilized"
CONSOLIDATION_POLICIES = (WHEN_EMPTY, WHEN_EMPTY_OR_UNDERUTILIZED)

PER_NODE_BASE_DISRUPTION_COST = 1.0
"""The cost of draining a node itself (cordon, drain, replacement latency)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A node Karpenter may disrupt.

    Attributes:
        node: its name.
        pool: its NodePool.
        offering: what it runs as (instance type, capacity type, price).
        pods: the pods that would have to move (reschedulable).
        policy: its NodePool's ``consolidationPolicy``.
        consolidation: whether its NodePool consolidates at all (``consolidateAfter``
            is not ``Never``).
        consolidatable: whether it has had no pod come or go for ``consolidateAfter``.
    """

    node: str
    pool: str
    offering: Offering
    pods: tuple[Pod, ...] = ()
    policy: str = WHEN_EMPTY_OR_UNDERUTILIZED
    consolidation: bool = True
    consolidatable: bool = True

    @property
    def price(self) -> float:
        return self.offering.usd_per_hour

    @property
    def empty(self) -> bool:
        """No pod would have to move (``IsEmpty``: no eviction cost above the node's)."""
        return not self.pods

    @property
    def savings_ratio(self) -> float:
        """Its price per unit of disruption: every pod costs 1 to evict, the node 1."""
        return self.price / (PER_NODE_BASE_DISRUPTION_COST + len(self.pods))


@dataclass(frozen=True, slots=True)
class Command:
    """A disruption decision: delete the candidates, or replace them by one node."""

    method: str
    reason: str
    candidates: tuple[Candidate, ...]
    replacement: Offering | None = None

    @property
    def decision(self) -> str:
        return "replace" if self.replacement is not None else "delete"

    @property
    def savings_usd_per_hour(self) -> float:
        """What the cluster costs less per hour once it is done."""
        saved = sum(candidate.price for candidate in self.candidates)
        return saved - (self.replacement.usd_per_hour if self.replacement else 0.0)


Simulate = Callable[[Sequence[Candidate]], Results]
"""Where the candidates' pods (and any pending pods) would go if the candidates were
gone: onto the other nodes, or onto new NodeClaims."""


class Method(Protocol):
    """A disruption method."""

    name: str
    reason: str

    def should_disrupt(self, candidate: Candidate) -> bool:
        """Whether the method considers `candidate` at all."""
        ...

    def compute(
        self, candidates: Sequence[Candidate], budgets: dict[str, int], simulate: Simulate
    ) -> Command | None:
        """The command it would start, within `budgets` (disruptions each NodePool still
        allows for its reason; spent as candidates are taken), or None."""
        ...


def sort_by_savings(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Highest savings ratio first (``sortCandidates``), ties by node name."""
    return sorted(candidates, key=lambda c: (-c.savings_ratio, c.node))


def all_spot(candidates: Sequence[Candidate]) -> bool:
    return all(candidate.offering.capacity_type == SPOT for candidate in candidates)


def budgets_for(
    candidates: Sequence[Candidate], budgets: Mapping[str, int]
) -> tuple[list[Candidate], bool]:
    """The candidates the budgets allow, in order, charging each pool; and whether any
    candidate was held back by a budget."""
    left = dict(budgets)
    allowed, constrained = [], False
    for candidate in candidates:
        if left.get(candidate.pool, 0) <= 0:
            constrained = True
            continue
        left[candidate.pool] -= 1
        allowed.append(candidate)
    return allowed, constrained


__all__ = [
    "CONSOLIDATION_POLICIES",
    "EMPTY",
    "UNDERUTILIZED",
    "WHEN_EMPTY",
    "WHEN_EMPTY_OR_UNDERUTILIZED",
    "Candidate",
    "Command",
    "Method",
    "Simulate",
    "sort_by_savings",
]
