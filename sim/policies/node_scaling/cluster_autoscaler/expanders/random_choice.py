"""``random``: no preference; the chain's final random choice picks among all options
(``expander/random``)."""

from __future__ import annotations

from collections.abc import Sequence

from sim.policies.node_scaling.cluster_autoscaler.expanders import Cluster, Option


class RandomExpander:
    """Keeps every option, so the chain's random choice decides."""

    name = "random"

    def best_options(self, options: Sequence[Option], cluster: Cluster) -> list[Option]:
        return list(options)
