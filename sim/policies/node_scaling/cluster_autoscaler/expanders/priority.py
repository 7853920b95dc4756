"""``priority``: the options of the node groups with the highest priority
(``expander/priority``).

Upstream reads priorities from a ConfigMap of ``priority: [regular expressions over
node group names]``; here each node group states its own ``priority``. An option whose
group has none is not used, unless no option has one: then all are kept, as upstream
keeps every option when none matches its list.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.policies.node_scaling.cluster_autoscaler.expanders import Cluster, Option


class PriorityExpander:
    """Keeps the options whose groups have the highest priority."""

    name = "priority"

    def best_options(self, options: Sequence[Option], cluster: Cluster) -> list[Option]:
        ranked = [option for option in options if option.priority is not None]
        if not ranked:
            return list(options)
        highest = max(option.priority for option in ranked if option.priority is not None)
        return [option for option in ranked if option.priority == highest]
