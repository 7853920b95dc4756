"""What consolidating some nodes would do: delete them, replace them by one cheaper
node, or nothing (``pkg/controllers/disruption/consolidation.go``,
``computeConsolidation``).

The candidates' pods (with any pending pods) are scheduled on the rest of the cluster
and, if need be, on new NodeClaims. If a candidate's pod finds no place, nothing. If no
new NodeClaim is needed, the candidates are deleted. If exactly one is, it may replace
them when one of its instance type options costs less than the candidates together:
options that do not are dropped, and when the replacement may be spot or on demand only
spot stays (consolidation assumes the cheaper spot launch). Replacing spot nodes by a
spot node is ``SpotToSpotConsolidation``, a feature gate off by default: not done. Two
new NodeClaims or more: nothing (a node is not turned into several).
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.policies.node_scaling.karpenter.catalogue import ON_DEMAND, SPOT, Offering, by_price
from sim.policies.node_scaling.karpenter.disruption import (
    UNDERUTILIZED,
    WHEN_EMPTY_OR_UNDERUTILIZED,
    Candidate,
    Command,
    Simulate,
    all_spot,
)


class Consolidation:
    """What both consolidation methods share: their reason, and which candidates they
    may take — the pool consolidates underutilised nodes, the node runs pods, and none
    was scheduled on or left it for consolidateAfter (upstream's ``consolidation``,
    embedded in both, and its ``ShouldDisrupt``)."""

    reason = UNDERUTILIZED

    def should_disrupt(self, candidate: Candidate) -> bool:
        return (
            candidate.consolidation
            and not candidate.empty
            and candidate.policy == WHEN_EMPTY_OR_UNDERUTILIZED
            and candidate.consolidatable
        )


def cheaper_options(options: Sequence[Offering], price: float) -> list[Offering]:
    """The options priced strictly below `price`, spot only when both capacity types
    remain, cheapest first."""
    kept = [o for o in options if o.usd_per_hour < price]
    capacity = {o.capacity_type for o in kept}
    if SPOT in capacity and ON_DEMAND in capacity:
        kept = [o for o in kept if o.capacity_type == SPOT]
    return by_price(kept)


def compute_consolidation(
    method: str,
    reason: str,
    candidates: Sequence[Candidate],
    simulate: Simulate,
    spot_to_spot: bool = False,
) -> tuple[Command | None, list[Offering]]:
    """The command consolidating `candidates` would be (None: nothing to do), and the
    replacement's remaining options (for multi-node's further filter)."""
    results = simulate(candidates)
    moving = {pod.name for candidate in candidates for pod in candidate.pods}
    if not results.all_scheduled(moving):
        return None, []
    if not results.new_claims:
        return Command(method, reason, tuple(candidates)), []
    if len(results.new_claims) != 1:
        return None, []
    claim = results.new_claims[0]
    price = sum(candidate.price for candidate in candidates)
    if all_spot(candidates) and any(o.capacity_type == SPOT for o in claim.offerings):
        if not spot_to_spot:
            return None, []
        claim_offerings = [o for o in claim.offerings if o.capacity_type == SPOT]
    else:
        claim_offerings = list(claim.offerings)
    options = cheaper_options(claim_offerings, price)
    if not options:
        return None, []
    return Command(method, reason, tuple(candidates), options[0]), options
