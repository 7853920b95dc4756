"""``SingleNodeConsolidation``: delete one node, or replace it by one cheaper node
(``pkg/controllers/disruption/singlenodeconsolidation.go``).

Candidates are tried one at a time, highest savings ratio first, taking the NodePools
in turn (the first of each pool, then the second of each...); a candidate whose pool's
budget is spent is passed over; the first that consolidates is the command.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.policies.node_scaling.karpenter.disruption import (
    Candidate,
    Command,
    Simulate,
    sort_by_savings,
)
from sim.policies.node_scaling.karpenter.disruption.consolidation import (
    Consolidation,
    compute_consolidation,
)


def interleaved(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates by savings ratio, the NodePools (by name) taking turns."""
    pools: dict[str, list[Candidate]] = {}
    for candidate in sort_by_savings(candidates):
        pools.setdefault(candidate.pool, []).append(candidate)
    order = sorted(pools)
    longest = max((len(group) for group in pools.values()), default=0)
    return [pools[pool][i] for i in range(longest) for pool in order if i < len(pools[pool])]


class SingleNodeConsolidation(Consolidation):
    """Consolidates the first candidate that can be, alone."""

    name = "single-node consolidation"

    def compute(
        self, candidates: Sequence[Candidate], budgets: dict[str, int], simulate: Simulate
    ) -> Command | None:
        for candidate in interleaved(candidates):
            if budgets.get(candidate.pool, 0) <= 0:
                continue
            command, _ = compute_consolidation(self.name, self.reason, [candidate], simulate)
            if command is not None:
                budgets[candidate.pool] -= 1
                return command
        return None
