"""Expanders: which node group the Cluster Autoscaler grows when several could help.

An *option* is one node group with the nodes it would add and the pending pods those
would hold (`estimator`). An expander keeps the best options; several run in a chain,
each narrowing what the one before kept, until one option is left, and a random choice
settles any tie left at the end (``expander/factory/chain.go``; ``--expander=priority,
least-waste``). Each expander is one module, registered here by name (as upstream's
``expander/factory``): ``random``, ``most-pods``, ``least-waste``, ``least-nodes``,
``price``, ``priority``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.core.settings import setting
from sim.policies.node_scaling import NodeShape, Pod


@dataclass(frozen=True, slots=True)
class Option:
    """One way to scale up: a node group, how many nodes, and the pods they would hold.

    Attributes:
        group: the node group.
        node_count: the nodes it would add.
        pods: the pending pods those nodes would hold.
        template: what one new node of the group offers its pods.
        capacity_vcpu: one node's vCPU capacity (its instance type's).
        capacity_memory_bytes: one node's memory capacity.
        usd_per_hour: one node's price.
        priority: the group's priority for the ``priority`` expander (None: the group
            is not in the priority list).
    """

    group: str
    node_count: int
    pods: tuple[Pod, ...]
    template: NodeShape
    capacity_vcpu: float
    capacity_memory_bytes: int
    usd_per_hour: float
    priority: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PodPrices:
    """What the ``price`` expander charges a pod per hour for what it requests (the
    pricing model upstream ships for GCE: ``cloudprovider/gce/gce_price_model.go``)."""

    usd_per_vcpu_hour: float = setting(0.033174, minimum=0, doc="per vCPU requested")
    usd_per_gib_hour: float = setting(0.004446, minimum=0, doc="per GiB of memory requested")

    def pod_usd_per_hour(self, pod: Pod) -> float:
        return pod.vcpu * self.usd_per_vcpu_hour + pod.memory_bytes / 2**30 * self.usd_per_gib_hour


@dataclass(frozen=True, slots=True)
class Cluster:
    """What an expander may know of the cluster: how many nodes it has now."""

    nodes: int


class Expander(Protocol):
    """Keeps the best of the options (all of them, or ties, when it cannot choose)."""

    name: str

    def best_options(self, options: Sequence[Option], cluster: Cluster) -> list[Option]: ...


def _registry() -> Mapping[str, Callable[[PodPrices], Expander]]:
    from sim.policies.node_scaling.cluster_autoscaler.expanders import (
        least_nodes,
        least_waste,
        most_pods,
        price,
        priority,
        random_choice,
    )

    return {
        "random": lambda prices: random_choice.RandomExpander(),
        "most-pods": lambda prices: most_pods.MostPods(),
        "least-waste": lambda prices: least_waste.LeastWaste(),
        "least-nodes": lambda prices: least_nodes.LeastNodes(),
        "price": lambda prices: price.PriceExpander(prices.pod_usd_per_hour),
        "priority": lambda prices: priority.PriorityExpander(),
    }


EXPANDER_NAMES = ("random", "most-pods", "least-waste", "least-nodes", "price", "priority")
"""Every expander, by the name ``--expander`` takes."""


def make_chain(names: Sequence[str], prices: PodPrices | None = None) -> list[Expander]:
    """The expanders `names` names, in order.

    Raises:
        KeyError: an unknown name.
    """
    registry = _registry()
    return [registry[name](prices or PodPrices()) for name in names]


def choose(
    options: Sequence[Option],
    chain: Sequence[Expander],
    cluster: Cluster,
    rng: np.random.Generator,
) -> Option | None:
    """The option the chain of expanders picks: each narrows the options the one before
    kept; once one is left it is chosen; ties left at the end are settled at random
    (one draw from `rng`, only when more than one is left). None without options."""
    remaining = list(options)
    if not remaining:
        return None
    for expander in chain:
        narrowed = expander.best_options(remaining, cluster)
        if narrowed:
            remaining = narrowed
        if len(remaining) == 1:
            return remaining[0]
    if len(remaining) == 1:
        return remaining[0]
    return remaining[int(rng.integers(len(remaining)))]


__all__ = [
    "EXPANDER_NAMES",
    "Cluster",
    "Expander",
    "Option",
    "PodPrices",
    "choose",
    "make_chain",
]
