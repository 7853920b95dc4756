"""``least-nodes``: the options that add the fewest nodes (``expander/leastnodes``)."""

from __future__ import annotations

from collections.abc import Sequence

from sim.policies.node_scaling.cluster_autoscaler.expanders import Cluster, Option


class LeastNodes:
    """Keeps the options that add the fewest nodes."""

    name = "least-nodes"

    def best_options(self, options: Sequence[Option], cluster: Cluster) -> list[Option]:
        fewest = min((option.node_count for option in options), default=0)
        return [option for option in options if option.node_count == fewest]
