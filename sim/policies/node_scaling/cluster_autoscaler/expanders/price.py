"""``price``: the options that cost least for the pods they hold, on nodes of a size
that suits the cluster (``expander/price/price.go``, ``preferred.go``).

For each option (prices per hour):

    price ratio = (node price × nodes + stabilisation) / (pods' price + stabilisation)
    unfitness   = max(preferred CPU / node CPU, node CPU / preferred CPU)
    suppressed  = (unfitness − 1) × (1 − tanh((nodes − 1) / 15)) + 1
    score       = suppressed × price ratio

the lowest score wins, ties kept. The stabilisation is the price of a pod of 500 m CPU
and 500 MiB; a pod's price is what its requests cost by the pricing model
(`PodPrices`); the preferred node grows with the cluster: 1 CPU up to 2 nodes, 2 up to
6, 4 up to 20, 8 up to 60, 16 up to 200, else 32 (``SimplePreferredNodeProvider``).
Upstream multiplies the score of a node group that does not exist yet by 2 (node
auto-provisioning) and gives nodes with GPUs an unfitness of 1000; neither happens here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from sim.policies.node_scaling import Pod
from sim.policies.node_scaling.cluster_autoscaler.expanders import Cluster, Option

STABILIZATION_POD = Pod("stabilize", 0.5, 500 * 2**20)
"""Upstream's price stabilisation pod: 500 m CPU, 500 MiB."""


def preferred_vcpu(nodes: int) -> float:
    """The preferred node's CPU for a cluster of `nodes` nodes (doubling each time the
    cluster grows about threefold)."""
    for limit, vcpu in ((2, 1.0), (6, 2.0), (20, 4.0), (60, 8.0), (200, 16.0)):
        if nodes <= limit:
            return vcpu
    return 32.0


def unfitness(preferred: float, node_vcpu: float) -> float:
    """How far a node's CPU is from the preferred node's, as a ratio of at least 1
    (``SimpleNodeUnfitness``)."""
    return max(preferred / node_vcpu, node_vcpu / preferred)


class PriceExpander:
    """Keeps the options with the lowest price score.

    Args:
        pod_price: what a pod costs per hour (`PodPrices.pod_usd_per_hour`).
        preferred: the preferred node's CPU; None: from the cluster's size.
    """

    name = "price"

    def __init__(self, pod_price: Callable[[Pod], float], preferred: float | None = None) -> None:
        self.pod_price = pod_price
        self.preferred = preferred

    def score(self, option: Option, cluster: Cluster) -> float:
        """The option's score (lower is better)."""
        stabilization = self.pod_price(STABILIZATION_POD)
        nodes_price = option.usd_per_hour * option.node_count
        pods_price = sum(self.pod_price(pod) for pod in option.pods)
        ratio = (nodes_price + stabilization) / (pods_price + stabilization)
        preferred = self.preferred if self.preferred is not None else preferred_vcpu(cluster.nodes)
        unfit = unfitness(preferred, option.capacity_vcpu)
        suppressed = (unfit - 1.0) * (1.0 - math.tanh((option.node_count - 1) / 15.0)) + 1.0
        return suppressed * ratio

    def best_options(self, options: Sequence[Option], cluster: Cluster) -> list[Option]:
        if not options:
            return []
        scores = [self.score(option, cluster) for option in options]
        lowest = min(scores)
        return [option for option, score in zip(options, scores, strict=True) if score == lowest]
