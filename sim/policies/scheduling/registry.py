"""Every scheduler plugin by name, and kube-scheduler's default profile.

As ``pkg/scheduler/framework/plugins/registry.go`` lists the in-tree plugins and
``pkg/scheduler/apis/config/v1/default_plugins.go`` the default profile, this module
is the one place that knows which plugins exist: a profile names them, and
`build_filters` and `build_scores` make them from the profile's arguments.

The default profile's filters run in upstream's order (the first that rejects a node
gives the reason); its score weights are upstream's: TaintToleration 3, NodeAffinity 2,
NodeResourcesFit 1, PodTopologySpread 2, InterPodAffinity 2,
NodeResourcesBalancedAllocation 1, ImageLocality 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sim.policies.scheduling import (
    balanced_allocation,
    image_locality,
    inter_pod_affinity,
    node_affinity,
    node_resources_fit,
    node_unschedulable,
    pod_topology_spread,
    taint_toleration,
)
from sim.policies.scheduling.balanced_allocation import BalancedAllocation
from sim.policies.scheduling.image_locality import ImageLocality
from sim.policies.scheduling.inter_pod_affinity import InterPodAffinity
from sim.policies.scheduling.node_affinity import NodeAffinity
from sim.policies.scheduling.node_resources_fit import DEFAULT_SHAPE, ResourceFit, Strategy
from sim.policies.scheduling.node_unschedulable import NodeUnschedulable
from sim.policies.scheduling.plugin import FilterPlugin, ScorePlugin
from sim.policies.scheduling.pod_topology_spread import PodTopologySpread
from sim.policies.scheduling.taint_toleration import TaintToleration


@dataclass(frozen=True, slots=True)
class PluginArgs:
    """The plugins' arguments (``pluginConfig`` of a profile).

    Attributes:
        strategy: NodeResourcesFit's scoring strategy.
        resources: NodeResourcesFit's resource weights.
        shape: RequestedToCapacityRatio's (utilisation, score 0-10) points.
        balanced_resources: NodeResourcesBalancedAllocation's resource weights.
        default_spread: PodTopologySpread's defaulting: ``System`` spreads a pod that
            sets no constraints over hostnames (maxSkew 3) and zones (maxSkew 5), softly;
            ``None`` does not.
    """

    strategy: Strategy = "LeastAllocated"
    resources: Mapping[str, int] = field(default_factory=lambda: {"cpu": 1, "memory": 1})
    shape: tuple[tuple[int, int], ...] = DEFAULT_SHAPE
    balanced_resources: Mapping[str, int] = field(default_factory=lambda: {"cpu": 1, "memory": 1})
    default_spread: Literal["System", "None"] = "System"


def _fit(args: PluginArgs) -> ResourceFit:
    return ResourceFit(args.strategy, args.resources, args.shape)


def _spread(args: PluginArgs) -> PodTopologySpread:
    return PodTopologySpread(args.default_spread)


FILTERS: Mapping[str, Callable[[PluginArgs], FilterPlugin]] = {
    node_unschedulable.NAME: lambda args: NodeUnschedulable(),
    taint_toleration.NAME: lambda args: TaintToleration(),
    node_affinity.NAME: lambda args: NodeAffinity(),
    node_resources_fit.NAME: _fit,
    pod_topology_spread.NAME: _spread,
    inter_pod_affinity.NAME: lambda args: InterPodAffinity(),
}
"""Filter plugins by name, in the order the default profile runs them."""

SCORES: Mapping[str, Callable[[PluginArgs], ScorePlugin]] = {
    taint_toleration.NAME: lambda args: TaintToleration(),
    node_affinity.NAME: lambda args: NodeAffinity(),
    node_resources_fit.NAME: _fit,
    pod_topology_spread.NAME: _spread,
    inter_pod_affinity.NAME: lambda args: InterPodAffinity(),
    balanced_allocation.NAME: lambda args: BalancedAllocation(args.balanced_resources),
    image_locality.NAME: lambda args: ImageLocality(),
}
"""Score plugins by name."""

DEFAULT_FILTERS: tuple[str, ...] = tuple(FILTERS)
"""The default profile's filters, in upstream's order."""

DEFAULT_WEIGHTS: Mapping[str, int] = {
    taint_toleration.NAME: 3,
    node_affinity.NAME: 2,
    node_resources_fit.NAME: 1,
    pod_topology_spread.NAME: 2,
    inter_pod_affinity.NAME: 2,
    balanced_allocation.NAME: 1,
    image_locality.NAME: 1,
}
"""The default profile's score plugins and their weights."""


def build_filters(names: tuple[str, ...], args: PluginArgs) -> tuple[FilterPlugin, ...]:
    """The named filter plugins, in the registry's order whatever order `names` has.

    Raises:
        KeyError: a name that is no filter plugin.
    """
    for name in names:
        if name not in FILTERS:
            raise KeyError(name)
    return tuple(FILTERS[name](args) for name in FILTERS if name in names)


def build_scores(
    weights: Mapping[str, int], args: PluginArgs
) -> tuple[tuple[ScorePlugin, int], ...]:
    """The score plugins with a weight above 0, each with its weight, in the
    registry's order.

    Raises:
        KeyError: a name that is no score plugin.
    """
    for name in weights:
        if name not in SCORES:
            raise KeyError(name)
    return tuple((SCORES[name](args), weights[name]) for name in SCORES if weights.get(name, 0) > 0)
