"""NodePool disruption budgets: how many of a pool's nodes may be disrupted at once
(``pkg/apis/v1/nodepool.go``: ``GetAllowedDisruptionsByReason``;
``pkg/controllers/disruption/helpers.go``: ``BuildDisruptionBudgetMapping``).

A budget is a number of nodes or a percentage of the pool's nodes, rounded *up* (10 %
of 10 nodes is 1; of 11, 2), for every reason or for the reasons it lists. The pool
allows the least of the budgets that apply to a reason, less the nodes already being
disrupted (or not ready), never below 0. A pool without budgets has upstream's default,
one budget of 10 %. Scheduled budgets (``schedule``, ``duration``) are not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NO_LIMIT = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Budget:
    """One disruption budget: ``nodes`` as a count (``"3"``) or a percentage (``"10%"``),
    for the listed reasons (empty: every reason)."""

    nodes: str = "10%"
    reasons: tuple[str, ...] = ()

    def allowed(self, num_nodes: int) -> int:
        """The disruptions it allows in a pool of `num_nodes` nodes."""
        if self.nodes.endswith("%"):
            return math.ceil(num_nodes * int(self.nodes[:-1]) / 100)
        return int(self.nodes)

    def applies(self, reason: str) -> bool:
        return not self.reasons or reason in self.reasons


DEFAULT_BUDGETS = (Budget("10%"),)


def allowed_disruptions(budgets: Sequence[Budget], num_nodes: int, reason: str) -> int:
    """The least any budget for `reason` allows (no budget for it: no limit)."""
    return min(
        (budget.allowed(num_nodes) for budget in budgets if budget.applies(reason)),
        default=NO_LIMIT,
    )


def budget_mapping(
    budgets: Mapping[str, Sequence[Budget]],
    nodes: Mapping[str, int],
    disrupting: Mapping[str, int],
    reason: str,
) -> dict[str, int]:
    """Each pool's disruptions still allowed for `reason`: its budgets over its nodes,
    less the nodes it has being disrupted or not ready."""
    return {
        pool: max(
            allowed_disruptions(pool_budgets, nodes.get(pool, 0), reason) - disrupting.get(pool, 0),
            0,
        )
        for pool, pool_budgets in budgets.items()
    }
