"""``Emptiness``: delete empty nodes, as many as the budgets allow, at once
(``pkg/controllers/disruption/emptiness.go``). It runs for both consolidation
policies: a node whose pods all go with it (DaemonSet-like) is empty."""

from __future__ import annotations

from collections.abc import Sequence

from sim.policies.node_scaling.karpenter.disruption import (
    EMPTY,
    Candidate,
    Command,
    Simulate,
    budgets_for,
    sort_by_savings,
)


class Emptiness:
    """Deletes the empty candidates the budgets allow."""

    name = "emptiness"
    reason = EMPTY

    def should_disrupt(self, candidate: Candidate) -> bool:
        return candidate.consolidation and candidate.empty and candidate.consolidatable

    def compute(
        self, candidates: Sequence[Candidate], budgets: dict[str, int], simulate: Simulate
    ) -> Command | None:
        empty = [candidate for candidate in sort_by_savings(candidates) if candidate.empty]
        allowed, _ = budgets_for(empty, budgets)
        for candidate in allowed:
            budgets[candidate.pool] -= 1
        return Command(self.name, self.reason, tuple(allowed)) if allowed else None
