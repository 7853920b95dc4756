"""``karpenter``: Karpenter, price-aware provisioning and consolidation.

After kubernetes-sigs/karpenter v1.14 and aws/karpenter-provider-aws v1.14 (their docs'
NodePool and disruption pages, ``pkg/controllers/provisioning`` and
``pkg/controllers/disruption``), split as Karpenter splits its controllers: NodePools
(`pools`: requirements over the pricing catalogue, limits, disruption settings), the
provisioner (`provisioner`: pending pods batched and bin-packed onto the cheapest
instance types that fit them, spot first when allowed) and disruption (`disruption`:
emptiness, multi- and single-node consolidation within budgets, expiry). Spot nodes are
interrupted by the cluster's spot model (a two-minute notice, drained, reclaimed); their
pods go pending and the provisioner replaces the capacity.

Karpenter's nodes are named ``<nodepool>-<n>``; it manages only those (the pools' hosts
stay).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sim.core.distributions import Distribution, LogNormal
from sim.core.errors import ConfigError
from sim.core.settings import Kind, setting
from sim.model.cluster.scalers import ScalerContext
from sim.model.cluster.scalers.karpenter.disruption import Disruption
from sim.model.cluster.scalers.karpenter.pools import NodePool, NodePoolParams
from sim.model.cluster.scalers.karpenter.provisioner import Provisioner
from sim.model.cluster.scalers.karpenter.state import ClusterState
from sim.model.cluster.scalers.nodes import ManagedNode, NodeLauncher, addable, cluster_check
from sim.model.cluster.scalers.tally import NodeTally
from sim.model.cluster.scalers.workloads import Workloads
from sim.model.hosts.host import Host
from sim.policies.node_scaling.karpenter.catalogue import SPOT


@dataclass(frozen=True, slots=True, kw_only=True)
class KarpenterParams:
    """Karpenter's settings (its defaults; SI units)."""

    node_pools: Mapping[str, NodePoolParams] = setting(doc="NodePools, by name")
    batch_idle_duration_s: float = setting(
        1.0, unit="duration", above=0, doc="a batch ends this long after its last pending pod"
    )
    batch_max_duration_s: float = setting(
        10.0, unit="duration", above=0, doc="a batch ends this long after its first"
    )
    provision: Distribution = setting(LogNormal(65.0, 0.2), doc="launch to node ready")
    disk_bytes: int = setting(100_000_000_000, unit="size", above=0, doc="each node's disk")

    def __post_init__(self) -> None:
        if not self.node_pools:
            raise ConfigError("node_pools", "none", "at least one NodePool")

    def may_run_spot(self) -> bool:
        """Whether a NodePool may launch spot instances."""
        return any(SPOT in pool.capacity_types for pool in self.node_pools.values())


class Karpenter:
    """Karpenter's controllers over its NodePools.

    Args:
        params: its settings.
        context: the cluster it scales.
    """

    runs_to_horizon = True
    node_metrics = True

    def __init__(self, params: KarpenterParams, context: ScalerContext) -> None:
        self.params = params
        self.env = context.env
        self.scheduler = context.scheduler
        self.tally = NodeTally()
        self.pools = {
            name: NodePool(name, pool, context) for name, pool in params.node_pools.items()
        }
        self.launcher = NodeLauncher(
            self.env,
            context.cloud,
            self.scheduler,
            context.log,
            context.generator("node-scaler/karpenter/provision"),
            params.provision,
            params.disk_bytes,
            self.tally,
        )
        check = cluster_check(self.scheduler)
        state = ClusterState(
            self.env, self.scheduler, self.pools, self.launcher, check, context.log, self.tally
        )
        self.provisioner = Provisioner(
            state, params.batch_idle_duration_s, params.batch_max_duration_s, self._launched
        )
        self.disruption = Disruption(state, self.provisioner)
        self.scheduler.addable = addable(
            {
                f"{name}/{key[0]}/{key[1]}": template
                for name, pool in self.pools.items()
                for key, template in pool.templates.items()
            }
        )

    @property
    def actions(self) -> int:
        """Batches that launched nodes, and disruption commands carried out."""
        return self.provisioner.launches + self.disruption.commands

    def _launched(self, node: ManagedNode) -> None:
        after = self.pools[node.template.group].params.expire_after_s
        self.env.process(self.disruption.expire(node, after))

    def start(self, workloads: Workloads) -> None:
        self.scheduler.pending_listeners.append(self.provisioner.trigger)
        self.env.process(self.provisioner.run())
        self.disruption.start(workloads)

    def nodes(self) -> list[Host]:
        return [node.host for node in self.launcher.nodes]

    def node_kinds(self) -> list[tuple[str, str]]:
        return [key for pool in self.pools.values() for key in pool.templates]


def build(params: KarpenterParams, context: ScalerContext) -> Karpenter:
    return Karpenter(params, context)


KIND = Kind(
    "karpenter",
    KarpenterParams,
    build,
    "NodePools over the price catalogue: cheapest-fit provisioning, consolidation, spot",
)
