"""The cluster's nodes as a node autoscaler's results count them: pods pending, nodes by
instance type and capacity type, and what the scaler did so far.

With a node scaler that reports them (``cluster-autoscaler``, ``karpenter``; ``simple``
with ``node_metrics: true``), each time-series row gets ``pods_pending`` (now),
``nodes:<type>:<capacity>`` (running now, for every type and capacity type the pools
have or the scaler may launch, so the columns are the same in every row), and
``node_scale_ups``, ``nodes_removed``, ``node_disruptions`` (so far); the summary's node
part is built from the nodes' lives (`NodeLife`) and the scaler's tally.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.core.records import NODES_COLUMN, NodeLife
from sim.model.cluster.scalers import NodeScaler
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.model.hosts.cloud import Cloud
from sim.model.hosts.host import Host

ON_DEMAND = "on-demand"
SPOT = "spot"
UNPRICED = "unpriced"
"""The instance type of a pool's host given by vCPU and memory alone."""


class NodeMetrics:
    """Counts the cluster's nodes for the time series and the summary.

    Args:
        cloud: every instance's record.
        scheduler: the pending replicas.
        scaler: the node scaler (its nodes, its tally, the kinds of node it launches).
        pool_hosts: the pools' hosts.
    """

    def __init__(
        self, cloud: Cloud, scheduler: Scheduler, scaler: NodeScaler, pool_hosts: Sequence[Host]
    ) -> None:
        self.cloud = cloud
        self.scheduler = scheduler
        self.scaler = scaler
        self.pool_hosts = tuple(pool_hosts)
        kinds = {self._kind(host) for host in self.pool_hosts}
        kinds.update(scaler.node_kinds())
        self.kinds = sorted(kinds)
        """Every (instance type, capacity type) the run may have a node of."""

    def _kind(self, host: Host) -> tuple[str, str]:
        record = self.cloud.records.get(host.name)
        instance_type = (record.instance_type if record else "") or UNPRICED
        spot = record is not None and record.on_demand_usd_per_hour is not None
        return instance_type, SPOT if spot else ON_DEMAND

    def nodes(self) -> list[Host]:
        """The pools' hosts and every node the scaler launched, in order."""
        return [*self.pool_hosts, *self.scaler.nodes()]

    def columns(self) -> dict[str, float | int]:
        """The time-series columns now."""
        running = dict.fromkeys(self.kinds, 0)
        for host in self.nodes():
            record = self.cloud.records.get(host.name)
            if record is None or record.terminated_s is not None or host.down:
                continue
            running[self._kind(host)] = running.get(self._kind(host), 0) + 1
        tally = self.scaler.tally
        return {
            "pods_pending": len(self.scheduler.pending),
            **{f"{NODES_COLUMN}{t}:{c}": count for (t, c), count in sorted(running.items())},
            "node_scale_ups": tally.scale_ups,
            "nodes_removed": tally.nodes_removed,
            "node_disruptions": tally.disruptions,
        }

    def lives(self) -> list[NodeLife]:
        """Each node's life, in order."""
        lives = []
        for host in self.nodes():
            record = self.cloud.records.get(host.name)
            if record is None:
                continue
            instance_type, capacity = self._kind(host)
            lives.append(
                NodeLife(host.name, instance_type, capacity, record.launched_s, record.terminated_s)
            )
        return lives

    def report(self) -> dict[str, Any]:
        """What the summary's node part needs besides the lives and the replicas."""
        tally = self.scaler.tally
        return {
            "pods_pending_max": self.scheduler.pending_max,
            "node_scale_ups": tally.scale_ups,
            "nodes_launched": tally.nodes_launched,
            "removed": {str(reason): count for reason, count in tally.removed.items()},
            "node_disruptions": tally.disruptions,
            "pods_evicted": tally.pods_evicted,
        }
