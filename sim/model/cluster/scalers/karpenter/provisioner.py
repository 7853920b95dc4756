"""Karpenter's provisioner: pending pods are batched, then bin-packed onto new nodes
(``pkg/controllers/provisioning``: ``batcher.go``, ``provisioner.go``).

A batch window opens when a replica becomes pending and stays open while more come
within ``batch_idle_duration`` (1 s) of the last, for at most ``batch_max_duration``
(10 s). Then every pending pod is scheduled (`sim.policies.node_scaling.karpenter.
scheduling.solve`) onto the cluster's nodes and the nodes still starting (so a pod
already provided for launches nothing more), then onto new NodeClaims, each launched as
the cheapest offering that holds its pods. Pods no NodePool can take (limits, nothing
fits) are tried again 10 s later.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

import simpy

from sim.core.records import EventKind
from sim.model.cluster.scalers.karpenter.state import ClusterState
from sim.model.cluster.scalers.nodes import ManagedNode, host_room
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.policies.node_scaling import Pod
from sim.policies.node_scaling.fit import Room
from sim.policies.node_scaling.karpenter.scheduling import Results, solve

RETRY_S = 10.0
"""How soon pods no NodePool could take are tried again."""


MIN_NOMINATION_S = 10.0
"""A node a provisioning pass meant pending pods for is nominated for twice
``batch_max_duration``, at least this long (``state/statenode.go``, ``nominationWindow``)."""


def existing_rooms(
    scheduler: Scheduler, starting: Sequence[ManagedNode], leave_out: Sequence[str] = ()
) -> list[Room]:
    """The nodes pods may go to: those in the cluster (joined nodes first, by name), then
    the nodes still starting (by name), as empty nodes of their shape."""
    joined = sorted(
        (host for host in scheduler.hosts if host.name not in leave_out), key=lambda h: h.name
    )
    rooms = [host_room(host) for host in joined]
    rooms += [
        Room.empty(node.template.shape, node.name)
        for node in sorted(starting, key=lambda n: n.name)
        if node.name not in leave_out
    ]
    return rooms


class Provisioner:
    """Batches pending pods and launches NodeClaims for them.

    Args:
        state: what Karpenter's controllers share.
        idle_s: ``batch_idle_duration``.
        max_s: ``batch_max_duration``.
        on_launch: told of each node launched (its expiry clock).
    """

    def __init__(
        self,
        state: ClusterState,
        idle_s: float,
        max_s: float,
        on_launch: Callable[[ManagedNode], None],
    ) -> None:
        self.state = state
        self.idle_s = idle_s
        self.max_s = max_s
        self.on_launch = on_launch
        self.launches = 0
        self._triggered = state.env.event()
        self._last_s = 0.0

    def trigger(self, replica: str = "") -> None:
        """A replica became pending: open a batch window, or extend the open one."""
        self._last_s = self.state.env.now
        if not self._triggered.triggered:
            self._triggered.succeed()

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The batcher and provisioner (a SimPy process body)."""
        while True:
            yield self._triggered
            start = self.state.env.now
            while True:
                deadline = min(self._last_s + self.idle_s, start + self.max_s)
                if self.state.env.now >= deadline:
                    break
                yield self.state.env.timeout(deadline - self.state.env.now)
            self._triggered = self.state.env.event()
            results = self.schedule()
            if results.unscheduled:
                self.state.env.process(self._retry())

    def _retry(self) -> Generator[simpy.Event, Any, None]:
        yield self.state.env.timeout(RETRY_S)
        if self.state.scheduler.pending:
            self.trigger()

    def pending_pods(self) -> list[Pod]:
        specs = self.state.scheduler.pending_pods
        return [
            Pod(name, request.vcpu, request.memory_bytes, specs.get(name))
            for name, request in self.state.scheduler.pending.items()
        ]

    def schedule(self) -> Results:
        """Schedule the pending pods and launch the NodeClaims they need."""
        alive = self.state.launcher.alive()
        starting = [node for node in alive if node.ready_s is None]
        rooms = existing_rooms(self.state.scheduler, starting)
        remaining = {name: pool.remaining(alive) for name, pool in self.state.pools.items()}
        results = solve(
            self.pending_pods(),
            rooms,
            [pool.template() for pool in self.state.pools.values()],
            remaining,
            self.state.check,
        )
        until = self.state.env.now + max(2 * self.max_s, MIN_NOMINATION_S)
        for node in alive:
            if results.existing.get(node.name):
                node.nominated_until_s = until
        planned = []
        for claim in results.new_claims:
            offering = claim.launch
            if offering is None:
                continue
            template = self.state.pools[claim.pool].templates[
                (offering.name, offering.capacity_type)
            ]
            planned.append((self.state.launcher.next_name(claim.pool), template, len(claim.pods)))
        if not planned:
            return results
        self.state.tally.scale_ups += 1
        self.launches += 1
        self.state.log.record(
            self.state.env.now,
            "karpenter",
            EventKind.NODE_SCALE_UP,
            nodeclaims=len(planned),
            pods=sum(count for _, _, count in planned),
            pending=len(self.state.scheduler.pending),
            nodes=",".join(
                f"{name}:{template.instance_type.name}:{template.capacity_type}"
                for name, template, _ in planned
            ),
        )
        for name, template, _ in planned:
            self.on_launch(self.state.launcher.launch(name, template))
        return results
