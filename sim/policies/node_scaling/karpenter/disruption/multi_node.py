"""``MultiNodeConsolidation``: delete several nodes at once, or replace them by one
cheaper node (``pkg/controllers/disruption/multinodeconsolidation.go``).

The candidates, highest savings ratio first and within the budgets (at most 100), are
tried as prefixes: a binary search over how many of the first ones to take (at least
two) keeps the longest prefix that consolidates. A replacement must be cheaper than the
cheapest candidate of any instance type it could be (``filterOutSameInstanceType``):
replacing [big, big, small] by one of the small's type is only deleting the bigs.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.policies.node_scaling.karpenter.catalogue import Offering
from sim.policies.node_scaling.karpenter.disruption import (
    Candidate,
    Command,
    Simulate,
    budgets_for,
    sort_by_savings,
)
from sim.policies.node_scaling.karpenter.disruption.consolidation import (
    Consolidation,
    cheaper_options,
    compute_consolidation,
)

MAX_CANDIDATES = 100


def without_same_types(
    command: Command, options: Sequence[Offering], candidates: Sequence[Candidate]
) -> Command | None:
    """The replacement, cheaper than each candidate of an instance type among its options
    (None when no option is)."""
    names = {o.name for o in options}
    prices = [c.price for c in candidates if c.offering.name in names]
    if not prices:
        return command
    kept = cheaper_options(options, min(prices))
    if not kept:
        return None
    return Command(command.method, command.reason, command.candidates, kept[0])


class MultiNodeConsolidation(Consolidation):
    """Consolidates the longest prefix of the candidates that can be."""

    name = "multi-node consolidation"

    def compute(
        self, candidates: Sequence[Candidate], budgets: dict[str, int], simulate: Simulate
    ) -> Command | None:
        allowed, _ = budgets_for(sort_by_savings(candidates), budgets)
        allowed = allowed[:MAX_CANDIDATES]
        if len(allowed) < 2:
            return None
        low, high = 1, len(allowed) - 1
        best: Command | None = None
        while low <= high:
            mid = (low + high) // 2
            batch = allowed[: mid + 1]
            command, options = compute_consolidation(self.name, self.reason, batch, simulate)
            if command is not None and command.replacement is not None:
                command = without_same_types(command, options, batch)
            if command is not None:
                best = command
                low = mid + 1
            else:
                high = mid - 1
        if best is not None:
            for candidate in best.candidates:
                budgets[candidate.pool] -= 1
        return best
