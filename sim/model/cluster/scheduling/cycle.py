"""One scheduling cycle: filter the nodes, score the feasible ones, pick the best.

As kube-scheduler's ``schedulePod`` (``pkg/scheduler/schedule_one.go``) runs it:

1. every filter plugin looks at the cluster once for the pod (PreFilter);
2. nodes are filtered one after another, starting where the previous cycle stopped,
   until enough feasible nodes are found (``numFeasibleNodesToFind``: every node in a
   cluster of fewer than 100; else ``percentageOfNodesToScore``, by default
   ``50 - nodes / 125`` percent but at least 5 % and at least 100 nodes); a node's
   filters run in the profile's order and the first rejection is its reason;
3. with one feasible node, it is chosen without scoring; otherwise each score plugin
   scores the feasible nodes (after its PreScore, which may skip it), normalises its
   scores, and they are summed, each times the plugin's weight;
4. the highest total wins; ties are broken uniformly at random (upstream samples the
   tied nodes as a reservoir), here with one draw from the scheduler's named stream.

`SchedulingCycle.filter` runs the filters alone for one node, which need not be in the
cluster: a node autoscaler asks it whether a pending pod would fit on a node it could add.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.cluster.scheduling.profile import Profile
from sim.policies.scheduling.objects import NodeInfo, PodInfo
from sim.policies.scheduling.plugin import NoPreFilter, Rejection, Skip

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


def num_feasible_nodes_to_find(nodes: int, percentage: int = 0) -> int:
    """How many feasible nodes a cycle looks for before it stops filtering.

    Every node in a cluster of fewer than 100; otherwise `percentage` percent of them
    (0: adaptive, ``50 - nodes / 125`` but at least 5), and never fewer than 100.
    """
    if nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return nodes
    if percentage == 0:
        percentage = max(50 - nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


@dataclass(frozen=True, slots=True)
class Decision:
    """What a cycle decided for a pod.

    Attributes:
        node: the chosen node, or None when no node is feasible.
        rejections: why each rejected node was rejected, by node name.
        nodes: how many nodes the cluster has.
        totals: each scored node's weighted total (empty when no scoring ran).
    """

    node: NodeInfo | None
    rejections: Mapping[str, Rejection]
    nodes: int
    totals: Mapping[str, int]

    def message(self) -> str:
        """Why the pod fits nowhere, as the scheduler reports it (``FitError``):
        ``0/3 nodes are available: 1 Too many pods, 2 Insufficient cpu.``"""
        counts: Counter[str] = Counter()
        for rejection in self.rejections.values():
            counts.update(rejection.reasons)
        reasons = sorted(f"{count} {reason}" for reason, count in counts.items())
        return f"0/{self.nodes} nodes are available: {', '.join(reasons)}."


class SchedulingCycle:
    """Runs a profile's plugins for pods, one cycle at a time.

    Args:
        profile: the plugins and their weights.
        rng: the stream ties are broken from.
    """

    def __init__(self, profile: Profile, rng: np.random.Generator) -> None:
        self.profile = profile
        self.rng = rng
        self.next_start = 0
        """Where the next cycle starts filtering (``nextStartNodeIndex``)."""
        self._stateless = [
            type(plugin).pre_filter is NoPreFilter.pre_filter for plugin in profile.filters
        ]
        """Per filter plugin, whether its pre-filter is `NoPreFilter`'s (its state None)."""

    def pre_filter(self, pod: PodInfo, nodes: Sequence[NodeInfo]) -> list[Any]:
        """Each filter plugin's state for `pod` over the cluster `nodes`."""
        return [
            None if stateless else plugin.pre_filter(pod, nodes)
            for plugin, stateless in zip(self.profile.filters, self._stateless, strict=True)
        ]

    def run_filters(self, pod: PodInfo, node: NodeInfo, states: Sequence[Any]) -> Rejection | None:
        """The first rejection of `node` by the profile's filters, or None if it passes."""
        for plugin, state in zip(self.profile.filters, states, strict=True):
            rejection = plugin.filter(pod, node, state)
            if rejection is not None:
                return rejection
        return None

    def filter(
        self,
        pod: PodInfo,
        node: NodeInfo,
        nodes: Sequence[NodeInfo],
        member: bool | None = None,
    ) -> Rejection | None:
        """Whether `pod` may go to `node`, in a cluster of `nodes`.

        `node` may be a node that does not exist yet (a node group's template): the
        filters' cluster-wide state is computed over `nodes` with `node` added when it is
        not among them (`member`, when the caller knows; else looked for), as a node
        autoscaler's simulation adds a template node to its snapshot.
        """
        if member is None:
            member = any(each is node for each in nodes)
        everyone = nodes if member else [*nodes, node]
        return self.run_filters(pod, node, self.pre_filter(pod, everyone))

    def schedule(self, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Decision:
        """One cycle for `pod` over `nodes` (in the scheduler's node order)."""
        count = len(nodes)
        if count == 0:
            return Decision(None, {}, 0, {})
        states = self.pre_filter(pod, nodes)
        wanted = num_feasible_nodes_to_find(count, self.profile.percentage_of_nodes_to_score)
        feasible: list[NodeInfo] = []
        rejections: dict[str, Rejection] = {}
        start = self.next_start % count
        processed = 0
        for offset in range(count):
            node = nodes[(start + offset) % count]
            processed += 1
            rejection = self.run_filters(pod, node, states)
            if rejection is None:
                feasible.append(node)
                if len(feasible) >= wanted:
                    break
            else:
                rejections[node.name] = rejection
        self.next_start = (start + processed) % count
        if not feasible:
            return Decision(None, rejections, count, {})
        if len(feasible) == 1:
            return Decision(feasible[0], rejections, count, {})
        totals = self.score(pod, feasible, nodes)
        best = max(totals)
        tied = [index for index, total in enumerate(totals) if total == best]
        chosen = tied[int(self.rng.integers(len(tied)))] if len(tied) > 1 else tied[0]
        return Decision(
            feasible[chosen],
            rejections,
            count,
            {node.name: total for node, total in zip(feasible, totals, strict=True)},
        )

    def score(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo]
    ) -> list[int]:
        """Each feasible node's total: every score plugin's normalised scores times its
        weight, summed."""
        totals = [0] * len(feasible)
        for plugin, weight in self.profile.scores:
            state = plugin.pre_score(pod, feasible, nodes)
            if isinstance(state, Skip):
                continue
            raw = [plugin.score(pod, node, state) for node in feasible]
            for index, score in enumerate(plugin.normalize(pod, feasible, raw, state)):
                totals[index] += score * weight
        return totals
