"""Node scalers: what adds hosts to the cluster for pending replicas and takes them away.
One module per kind, found by listing.

* ``simple``: one instance type; first-fit hosts for the pending replicas; a host that
  has run nothing for a while leaves (the scaler this simulator always had);
* ``cluster-autoscaler``: the Kubernetes Cluster Autoscaler: node groups with a minimum
  and a maximum, scale-up by simulating the pending pods on each group's template node
  and choosing a group with an expander, scale-down of nodes below a utilisation
  threshold whose pods fit elsewhere;
* ``karpenter``: Karpenter: NodePools whose requirements select instance types of the
  pricing catalogue, pending pods batched and bin-packed onto the cheapest types that
  fit them (spot or on-demand), and disruption: empty nodes deleted, nodes consolidated
  onto the others or onto one cheaper node, nodes expired.

The SimPy loops live here; their decisions (which group, which node, which instance
type) are pure functions in `sim.policies.node_scaling`. Each kind module declares
``KIND = Kind(name, Params, build)``; ``build(params, context)`` returns the
`NodeScaler`, or None when the kind's settings turn it off. A config chooses one with
``cluster.scaler: {kind: <kind>, ...}`` (the ``cluster/scaler`` presets).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import simpy

from sim.core.records import EventLog
from sim.core.settings import Family
from sim.model.cluster.scalers.tally import NodeTally
from sim.model.cluster.scalers.workloads import Workloads
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.model.hosts.allocatable import DaemonSet
from sim.model.hosts.cloud import Cloud, InstanceType
from sim.model.hosts.host import Host

NODE_SCALERS = Family(
    "node-scaler",
    __name__,
    summary="adds hosts for pending replicas and removes them (cluster.scaler)",
)


@dataclass(frozen=True)
class ScalerContext:
    """What a node scaler kind is built with.

    Attributes:
        env: the simulation environment.
        cloud: launches, cordons and terminates instances (and bills them).
        scheduler: the pending replicas, and placement on the hosts.
        instance_types: the priced instance types (the pricing catalogue), by name.
        daemonsets: the pods every node runs (their requests are kept on each new node).
        log: the event log.
        generator: the run's named random streams (``generator(name)``).
    """

    env: simpy.Environment
    cloud: Cloud
    scheduler: Scheduler
    instance_types: Mapping[str, InstanceType]
    daemonsets: tuple[DaemonSet, ...]
    log: EventLog
    generator: Callable[[str], np.random.Generator]


class NodeScaler(Protocol):
    """A node scaler's control loops and what they did."""

    @property
    def actions(self) -> int:
        """Scale-outs and scale-ins so far (``cluster_scaling_actions``)."""
        ...

    @property
    def runs_to_horizon(self) -> bool:
        """Whether a run with it goes on to its horizon once its replicas are ready, so
        that what the scaler does after (scale-downs, consolidation) is seen."""
        ...

    @property
    def node_metrics(self) -> bool:
        """Whether the run writes the node-autoscaling summary keys and time-series
        columns."""
        ...

    @property
    def tally(self) -> NodeTally:
        """What it did."""
        ...

    def start(self, workloads: Workloads) -> None:
        """Start the control loops; `workloads` says which pods run on a host and moves
        them away when a node is drained."""
        ...

    def nodes(self) -> list[Host]:
        """Every host the scaler launched, in order (running or gone)."""
        ...

    def node_kinds(self) -> list[tuple[str, str]]:
        """Every (instance type, capacity type) it may launch."""
        ...


__all__ = ["NODE_SCALERS", "NodeScaler", "ScalerContext", "Workloads"]
