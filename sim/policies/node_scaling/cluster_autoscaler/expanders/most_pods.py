"""``most-pods``: the options that would schedule the most pending pods
(``expander/mostpods``)."""

from __future__ import annotations

from collections.abc import Sequence

from sim.policies.node_scaling.cluster_autoscaler.expanders import Cluster, Option


class MostPods:
    """Keeps the options whose new nodes would hold the most pods."""

    name = "most-pods"

    def best_options(self, options: Sequence[Option], cluster: Cluster) -> list[Option]:
        most = max((len(option.pods) for option in options), default=0)
        return [option for option in options if len(option.pods) == most]
