"""Karpenter's NodePools: their settings, the offerings their requirements allow, and
what they may still launch.

A NodePool's requirements select instance types of the pricing catalogue (families,
sizes, types, architectures) in its capacity types; each such offering becomes a
`Template`: the node it would make, its instance type less the pool's reserves and the
cluster's DaemonSets, with the pool's labels (and the well-known capacity-type and
NodePool labels), taints and ``maxPods``, priced on demand or at the spot fraction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sim.core.errors import ConfigError
from sim.core.settings import setting
from sim.model.cluster.scalers import ScalerContext
from sim.model.cluster.scalers.nodes import ManagedNode, Template
from sim.model.hosts.allocatable import Reserved, overhead
from sim.model.hosts.cloud import InstanceType, max_pods_of
from sim.model.hosts.node_settings import labels_setting, max_pods_setting, taints_setting
from sim.model.hosts.spot import SpotParams
from sim.model.hosts.taints import TaintSpec
from sim.policies.node_scaling import NodeShape
from sim.policies.node_scaling.karpenter.catalogue import (
    CAPACITY_TYPES,
    ON_DEMAND,
    SPOT,
    InstanceTypeInfo,
    Offering,
    Requirements,
    by_price,
)
from sim.policies.node_scaling.karpenter.disruption import (
    CONSOLIDATION_POLICIES,
    EMPTY,
    UNDERUTILIZED,
    WHEN_EMPTY_OR_UNDERUTILIZED,
)
from sim.policies.node_scaling.karpenter.disruption.budgets import Budget
from sim.policies.node_scaling.karpenter.scheduling import PoolTemplate, Remaining

CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type"
NODEPOOL_LABEL = "karpenter.sh/nodepool"
BUDGET_NODES = re.compile(r"((100|[0-9]{1,2})%|[0-9]+)")
REASONS = (EMPTY, UNDERUTILIZED, "Drifted")


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetParams:
    """One disruption budget (``spec.disruption.budgets[]``)."""

    nodes: str | int = setting(
        "10%",
        doc="nodes that may be disrupted at once: a count or a percentage (rounded up)",
        expected="a count of nodes (3) or a percentage (10%)",
    )
    reasons: tuple[str, ...] = setting((), doc="the reasons it limits (empty: all): Empty, ...")

    def __post_init__(self) -> None:
        if not BUDGET_NODES.fullmatch(str(self.nodes)):
            raise ConfigError("nodes", self.nodes, "a count of nodes (3) or a percentage (10%)")
        for index, reason in enumerate(self.reasons):
            if reason not in REASONS:
                raise ConfigError(f"reasons[{index}]", reason, "one of " + ", ".join(REASONS))

    def build(self) -> Budget:
        return Budget(str(self.nodes), self.reasons)


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsParams:
    """What a NodePool may hold at most (``spec.limits``), in instance capacity."""

    cpu: float | None = setting(None, unit="cpu", minimum=0, doc="vCPUs (None: no limit)")
    memory_bytes: int | None = setting(None, unit="size", minimum=0, doc="memory")
    nodes: int | None = setting(None, minimum=0, doc="nodes")


def _default_budgets() -> tuple[BudgetParams, ...]:
    return (BudgetParams(),)


@dataclass(frozen=True, slots=True, kw_only=True)
class NodePoolParams:
    """One NodePool: its requirements over the catalogue, limits and disruption."""

    families: tuple[str, ...] = setting((), doc="instance families (m5, c5); empty: any")
    sizes: tuple[str, ...] = setting((), doc="instance sizes (large, xlarge); empty: any")
    instance_types: tuple[str, ...] = setting((), doc="instance types; empty: any")
    architectures: tuple[str, ...] = setting(
        ("amd64",), doc="CPU architectures (amd64, arm64); empty: any"
    )
    capacity_types: tuple[str, ...] = setting(
        (ON_DEMAND,), doc="on-demand and/or spot (spot is taken first when both are)"
    )
    weight: int = setting(0, minimum=0, maximum=100, doc="heavier pools are tried first")
    limits: LimitsParams = setting(default_factory=LimitsParams, doc="what it may hold at most")
    consolidation_policy: str = setting(
        WHEN_EMPTY_OR_UNDERUTILIZED, choices=CONSOLIDATION_POLICIES, doc="which nodes consolidate"
    )
    consolidate_after_s: float = setting(
        0.0,
        unit="duration",
        off="Never",
        off_value=math.inf,
        doc="a node with no pod event this long may consolidate; Never: no consolidation",
    )
    budgets: tuple[BudgetParams, ...] = setting(
        default_factory=_default_budgets, doc="disruption budgets ({nodes, reasons})"
    )
    expire_after_s: float = setting(
        30 * 86400.0,
        unit="duration",
        off="Never",
        off_value=math.inf,
        doc="a node this old is drained and removed, budgets or not; Never: no expiry",
    )
    spot: SpotParams = setting(
        default_factory=SpotParams, doc="its spot offerings' price fraction and interruptions"
    )
    reserved: Reserved = setting(
        default_factory=Reserved, doc="what each of its nodes keeps from pods"
    )
    labels: Mapping[str, str] = labels_setting()
    taints: tuple[TaintSpec, ...] = taints_setting()
    max_pods: int | str = max_pods_setting()

    def __post_init__(self) -> None:
        if not self.capacity_types:
            raise ConfigError("capacity_types", "[]", "on-demand, spot or both")
        for index, capacity in enumerate(self.capacity_types):
            if capacity not in CAPACITY_TYPES:
                raise ConfigError(
                    f"capacity_types[{index}]", capacity, "one of " + ", ".join(CAPACITY_TYPES)
                )

    @property
    def requirements(self) -> Requirements:
        return Requirements(
            self.families,
            self.sizes,
            self.instance_types,
            self.architectures,
            tuple(c for c in CAPACITY_TYPES if c in self.capacity_types),
        )

    @property
    def consolidates(self) -> bool:
        return math.isfinite(self.consolidate_after_s)


def info_of(instance_type: InstanceType) -> InstanceTypeInfo:
    return InstanceTypeInfo(
        instance_type.name,
        instance_type.vcpu,
        instance_type.memory_bytes,
        instance_type.usd_per_hour,
        instance_type.architecture,
    )


class NodePool:
    """A NodePool's templates (one per offering) and its state.

    Args:
        name: the pool's name.
        params: its settings.
        context: the catalogue and the DaemonSets.
    """

    def __init__(self, name: str, params: NodePoolParams, context: ScalerContext) -> None:
        self.name = name
        self.params = params
        self.templates: dict[tuple[str, str], Template] = {}
        self.offerings: dict[tuple[str, str], Offering] = {}
        requirements = params.requirements
        for instance_type in context.instance_types.values():
            info = info_of(instance_type)
            if not requirements.allows(info):
                continue
            reserved = params.reserved.on(instance_type.vcpu)
            kept = overhead(reserved, context.daemonsets)
            if kept[0] >= instance_type.vcpu - 1e-9 or kept[1] >= instance_type.memory_bytes:
                continue  # nothing left for pods on this type
            max_pods = max_pods_of(params.max_pods, instance_type, f"node_pools.{name}.max_pods")
            for capacity in requirements.capacity_types:
                spot = params.spot if capacity == SPOT else None
                price = instance_type.usd_per_hour * (spot.price_fraction if spot else 1.0)
                labels = {
                    **params.labels,
                    CAPACITY_TYPE_LABEL: capacity,
                    NODEPOOL_LABEL: name,
                }
                shape = NodeShape(
                    f"{name}/{instance_type.name}/{capacity}",
                    instance_type.vcpu - kept[0],
                    instance_type.memory_bytes - kept[1],
                    labels,
                    tuple(taint.build() for taint in params.taints),
                    max_pods,
                )
                key = (instance_type.name, capacity)
                self.offerings[key] = Offering(info, capacity, price, shape)
                self.templates[key] = Template(
                    name,
                    instance_type,
                    capacity,
                    price,
                    kept,
                    (reserved.vcpu, reserved.memory_bytes),
                    shape,
                    spot,
                )

    def template(self) -> PoolTemplate:
        """The pool as the provisioning scheduler sees it."""
        return PoolTemplate(self.name, tuple(by_price(self.offerings.values())), self.params.weight)

    def remaining(self, nodes: Sequence[ManagedNode]) -> Remaining:
        """What the pool may still launch, given its nodes (those starting included)."""
        limits = self.params.limits
        mine = [node for node in nodes if node.template.group == self.name]
        vcpu = sum(node.template.instance_type.vcpu for node in mine)
        memory = sum(node.template.instance_type.memory_bytes for node in mine)
        return Remaining(
            None if limits.cpu is None else limits.cpu - vcpu,
            None if limits.memory_bytes is None else limits.memory_bytes - memory,
            None if limits.nodes is None else limits.nodes - len(mine),
        )

    def budgets(self) -> tuple[Budget, ...]:
        return tuple(budget.build() for budget in self.params.budgets)
