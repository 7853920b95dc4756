"""``least-waste``, the default: the options that would leave the least CPU and memory
idle (``expander/waste/waste.go``).

An option's waste is the fraction of its new nodes' CPU capacity its pods would not
request plus the same fraction of memory (capacity, not allocatable, as upstream
reads the template node's ``status.capacity``); the lowest sum wins, ties are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.policies.node_scaling.cluster_autoscaler.expanders import Cluster, Option


def wasted(option: Option) -> float:
    """The option's waste: idle CPU fraction plus idle memory fraction."""
    vcpu = option.capacity_vcpu * option.node_count
    memory = option.capacity_memory_bytes * option.node_count
    requested_vcpu = sum(pod.vcpu for pod in option.pods)
    requested_memory = sum(pod.memory_bytes for pod in option.pods)
    return (vcpu - requested_vcpu) / vcpu + (memory - requested_memory) / memory


class LeastWaste:
    """Keeps the options with the least wasted CPU plus memory."""

    name = "least-waste"

    def best_options(self, options: Sequence[Option], cluster: Cluster) -> list[Option]:
        if not options:
            return []
        scores = [wasted(option) for option in options]
        least = min(scores)
        return [option for option, score in zip(options, scores, strict=True) if score == least]
