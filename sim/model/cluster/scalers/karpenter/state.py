"""What Karpenter's controllers share: the cluster as they see it and the means to act on
it (upstream's controllers share one ``state.Cluster``)."""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from sim.core.records import EventLog
from sim.model.cluster.scalers.karpenter.pools import NodePool
from sim.model.cluster.scalers.nodes import NodeLauncher
from sim.model.cluster.scalers.tally import NodeTally
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.policies.node_scaling.fit import FitCheck


@dataclass(frozen=True)
class ClusterState:
    """Karpenter's shared state.

    Attributes:
        env: the simulation environment.
        scheduler: the cluster's nodes and pending pods.
        pools: the NodePools, by name.
        launcher: Karpenter's nodes; launches, drains and deletes them.
        check: the scheduler's filters.
        log: the event log.
        tally: the scaler's counts.
    """

    env: simpy.Environment
    scheduler: Scheduler
    pools: dict[str, NodePool]
    launcher: NodeLauncher
    check: FitCheck
    log: EventLog
    tally: NodeTally
