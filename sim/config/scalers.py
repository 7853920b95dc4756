"""Checking a node scaler's settings against the rest of the configuration.

The scaler's own section is read by the one reader (its kind's parameter dataclass);
what only the whole configuration can check is here: the instance types it names are
priced, a node it would add keeps something for pods after its reserves and the
DaemonSets, its node groups are not named like the cluster's pools.
"""

from __future__ import annotations

import math
from typing import Any

from sim.config.params import Pricing
from sim.config.sections import ClusterSpec
from sim.core.errors import ConfigError
from sim.core.units import format_size
from sim.model.cluster.scalers.cluster_autoscaler import ClusterAutoscalerParams
from sim.model.cluster.scalers.karpenter import KarpenterParams
from sim.model.cluster.scalers.karpenter.pools import NodePoolParams, info_of
from sim.model.cluster.scalers.simple import SimpleScalerParams
from sim.model.hosts.allocatable import Reserved, overhead
from sim.model.hosts.cloud import max_pods_of


def instance_type_allowed(pricing: Pricing) -> str:
    """What an instance type setting may name."""
    return "an instance type of pricing: " + ", ".join(pricing.instance_types)


def kept_overhead(
    cluster: ClusterSpec, reserved: Reserved, vcpu: float, memory: int, key: str
) -> tuple[float, int]:
    """A host's reserves plus the DaemonSets' pods, checked to leave it something."""
    reserved = reserved.on(vcpu)
    kept_vcpu, kept_memory = overhead(reserved, cluster.daemonsets)
    if kept_vcpu >= vcpu - 1e-9:
        raise ConfigError(
            f"{key}.reserved.vcpu",
            f"{reserved.vcpu:g}",
            f"with the DaemonSets' {kept_vcpu - reserved.vcpu:g}, less than the host's {vcpu:g}",
        )
    if kept_memory >= memory:
        raise ConfigError(
            f"{key}.reserved.memory",
            format_size(reserved.memory_bytes),
            f"with the DaemonSets' {format_size(kept_memory - reserved.memory_bytes)}, "
            f"less than the host's {format_size(memory)}",
        )
    return kept_vcpu, kept_memory


def _priced(pricing: Pricing, name: str, key: str) -> None:
    if name not in pricing.instance_types:
        raise ConfigError(key, name, instance_type_allowed(pricing))


def node_scaler_of(cluster: ClusterSpec, pricing: Pricing) -> Any:
    """The node scaler's parameters, checked against the pricing and the pools; None
    when the cluster has no node scaler (``simple`` with ``enabled: false``).

    Raises:
        ConfigError: an instance type not priced, reserves that leave a node nothing.
    """
    scaler = cluster.scaler
    if isinstance(scaler, SimpleScalerParams):
        if not scaler.enabled:
            return None
        assert scaler.instance_type is not None
        _priced(pricing, scaler.instance_type, "cluster.scaler.instance_type")
        instance_type = pricing.instance_types[scaler.instance_type]
        kept_overhead(
            cluster,
            scaler.reserved,
            instance_type.vcpu,
            instance_type.memory_bytes,
            "cluster.scaler",
        )
        max_pods_of(scaler.max_pods, instance_type, "cluster.scaler.max_pods")
        return scaler
    if isinstance(scaler, ClusterAutoscalerParams):
        for name, group in scaler.node_groups.items():
            key = f"cluster.scaler.node_groups.{name}"
            _named_apart(name, cluster, key)
            _priced(pricing, group.instance_type, f"{key}.instance_type")
            instance_type = pricing.instance_types[group.instance_type]
            kept_overhead(
                cluster, group.reserved, instance_type.vcpu, instance_type.memory_bytes, key
            )
            max_pods_of(group.max_pods, instance_type, f"{key}.max_pods")
    if isinstance(scaler, KarpenterParams):
        for name, pool in scaler.node_pools.items():
            key = f"cluster.scaler.node_pools.{name}"
            _named_apart(name, cluster, key)
            for index, named in enumerate(pool.instance_types):
                _priced(pricing, named, f"{key}.instance_types[{index}]")
            allowed = [
                it
                for it in pricing.instance_types.values()
                if pool.requirements.allows(info_of(it))
            ]
            if not allowed:
                raise ConfigError(
                    key,
                    name,
                    "requirements some instance type of pricing meets (families, sizes, "
                    "instance_types, architectures)",
                )
            for each in allowed:
                max_pods_of(pool.max_pods, each, f"{key}.max_pods")
    return scaler


def most_hosts(scaler: Any, pricing: Pricing) -> int:
    """The most hosts the node scaler may add (0 without one), for the run's size limit:
    ``simple``'s ``max_hosts``; the Cluster Autoscaler's group maxima (at most
    ``max_nodes_total``); each NodePool's tightest limit, in nodes of the smallest
    instance type it allows (a NodePool without limits counts none: it has no bound)."""
    if scaler is None:
        return 0
    if isinstance(scaler, ClusterAutoscalerParams):
        total = sum(group.max_size for group in scaler.node_groups.values())
        return min(total, scaler.max_nodes_total) if scaler.max_nodes_total else total
    if isinstance(scaler, KarpenterParams):
        return sum(_pool_most_hosts(pool, pricing) for pool in scaler.node_pools.values())
    return int(getattr(scaler, "max_hosts", 0) or 0)


def _pool_most_hosts(pool: NodePoolParams, pricing: Pricing) -> int:
    allowed = [
        it for it in pricing.instance_types.values() if pool.requirements.allows(info_of(it))
    ]
    limits = pool.limits
    bounds = [] if limits.nodes is None else [limits.nodes]
    if limits.cpu is not None:
        bounds.append(math.ceil(limits.cpu / min(it.vcpu for it in allowed)))
    if limits.memory_bytes is not None:
        bounds.append(math.ceil(limits.memory_bytes / min(it.memory_bytes for it in allowed)))
    return min(bounds, default=0)


def _named_apart(name: str, cluster: ClusterSpec, key: str) -> None:
    """A node group's nodes are named ``<group>-<n>``, as a pool's hosts are."""
    if name in cluster.pools:
        raise ConfigError(
            key, name, "a name no pool of cluster.pools has (their hosts would clash)"
        )


def runs_spot(scaler: Any) -> bool:
    """Whether the node scaler may launch spot instances."""
    if scaler is None:
        return False
    may_run_spot = getattr(scaler, "may_run_spot", None)
    if may_run_spot is not None:
        return bool(may_run_spot())
    return getattr(scaler, "spot", None) is not None
