"""A scheduler profile: which filter and score plugins run, with which weights and arguments.

``cluster.scheduler`` configures the profile; its defaults are kube-scheduler's default
profile (``pkg/scheduler/apis/config/v1/default_plugins.go``) with the plugins' default
arguments. A plugin is left out by turning its filter off
(``cluster.scheduler.filters.TaintToleration=false``) or giving its score weight 0
(``cluster.scheduler.scores.ImageLocality=0``); upstream disables a plugin by listing it
as disabled, and refuses weight 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sim.core.errors import ConfigError
from sim.core.settings import setting
from sim.policies.scheduling.node_resources_fit import DEFAULT_SHAPE, STRATEGIES
from sim.policies.scheduling.plugin import FilterPlugin, ScorePlugin
from sim.policies.scheduling.registry import (
    DEFAULT_FILTERS,
    DEFAULT_WEIGHTS,
    FILTERS,
    SCORES,
    PluginArgs,
    build_filters,
    build_scores,
)

RESOURCES = ("cpu", "memory")
"""The resources the resource plugins can weigh."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShapePoint:
    """One point of RequestedToCapacityRatio's shape."""

    utilization: int = setting(minimum=0, maximum=100, doc="requested / allocatable, percent")
    score: int = setting(minimum=0, maximum=10, doc="the score there, 0-10")


@dataclass(frozen=True, slots=True)
class Profile:
    """The built plugins of a profile.

    Attributes:
        filters: the filter plugins, in the order they run.
        scores: the score plugins, each with its weight.
        percentage_of_nodes_to_score: the share of nodes to find feasible before
            scoring (0: kube-scheduler's adaptive share; every node below 100 nodes).
    """

    filters: tuple[FilterPlugin, ...]
    scores: tuple[tuple[ScorePlugin, int], ...]
    percentage_of_nodes_to_score: int = 0


def _default_filters() -> dict[str, bool]:
    return {name: True for name in DEFAULT_FILTERS}


def _default_resources() -> dict[str, int]:
    return {"cpu": 1, "memory": 1}


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerParams:
    """The scheduler's profile (``cluster.scheduler``): kube-scheduler's default profile
    unless told otherwise."""

    filters: Mapping[str, bool] = setting(
        default_factory=_default_filters, doc="filter plugins, each on (true) or off"
    )
    scores: Mapping[str, int] = setting(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        doc="score plugins and their weights (0: off)",
    )
    scoring_strategy: str = setting(
        "LeastAllocated", choices=STRATEGIES, doc="NodeResourcesFit's score"
    )
    resources: Mapping[str, int] = setting(
        default_factory=_default_resources, doc="NodeResourcesFit's weight per resource"
    )
    shape: tuple[ShapePoint, ...] = setting(
        default_factory=lambda: tuple(ShapePoint(utilization=u, score=s) for u, s in DEFAULT_SHAPE),
        doc="RequestedToCapacityRatio's points, utilization ascending",
    )
    balanced_resources: Mapping[str, int] = setting(
        default_factory=_default_resources,
        doc="NodeResourcesBalancedAllocation's weight per resource",
    )
    default_spread: str = setting(
        "System",
        choices=("System", "None"),
        doc="System: spread a pod without constraints over hosts (skew 3) and zones (5)",
    )
    percentage_of_nodes_to_score: int = setting(
        0, minimum=0, maximum=100, doc="nodes to find feasible, percent; 0: adaptive"
    )

    def __post_init__(self) -> None:
        for name, on in self.filters.items():
            if name not in FILTERS:
                raise ConfigError(f"filters.{name}", on, "a filter plugin: " + ", ".join(FILTERS))
        for name, weight in self.scores.items():
            if name not in SCORES:
                raise ConfigError(f"scores.{name}", weight, "a score plugin: " + ", ".join(SCORES))
            if not 0 <= weight <= 100:
                raise ConfigError(f"scores.{name}", weight, "a weight from 0 (off) to 100")
        for key, weights in (
            ("resources", self.resources),
            ("balanced_resources", self.balanced_resources),
        ):
            for resource, weight in weights.items():
                if resource not in RESOURCES:
                    raise ConfigError(f"{key}.{resource}", weight, "cpu or memory")
                if not 1 <= weight <= 100:
                    raise ConfigError(f"{key}.{resource}", weight, "a weight from 1 to 100")
        points = [point.utilization for point in self.shape]
        if not points or any(b <= a for a, b in zip(points, points[1:], strict=False)):
            raise ConfigError("shape", points, "at least one point, utilization strictly ascending")

    def plugin_args(self) -> PluginArgs:
        """The plugins' arguments this profile sets."""
        return PluginArgs(
            strategy=self.scoring_strategy,  # type: ignore[arg-type]
            resources=dict(self.resources),
            shape=tuple((point.utilization, point.score) for point in self.shape),
            balanced_resources=dict(self.balanced_resources),
            default_spread=self.default_spread,  # type: ignore[arg-type]
        )

    def profile(self) -> Profile:
        """The plugins this profile runs."""
        args = self.plugin_args()
        on = tuple(
            name for name, enabled in {**_default_filters(), **self.filters}.items() if enabled
        )
        return Profile(
            build_filters(on, args),
            build_scores({**DEFAULT_WEIGHTS, **self.scores}, args),
            self.percentage_of_nodes_to_score,
        )
