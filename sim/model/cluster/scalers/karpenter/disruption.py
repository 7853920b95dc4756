"""Karpenter's disruption controller: which nodes go, and how
(``pkg/controllers/disruption/controller.go``, ``queue.go``, ``validation.go``;
the disruption docs' control flow).

Every 10 s the controller builds the candidates (Karpenter's initialized nodes not
already being disrupted, without a replica still starting) and tries its methods in
order, emptiness, multi-node and single-node consolidation, each within its NodePools'
budgets for its reason; the first command found is started and the loop ends. A
command waits 15 s and is validated again (the same candidates must still qualify and
the method must reach the same decision), taints (cordons) its candidates, launches its
replacement and waits for it to join (giving up, and untainting, if it does not within
15 minutes), then drains and deletes the candidates.

Expiration is forceful: a node ``expire_after`` old is drained and deleted at once,
whatever the budgets, without waiting for a replacement; its pods go pending and the
provisioner provides for them.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import Any

import simpy

from sim.core.records import EventKind
from sim.model.cluster.scalers.karpenter.provisioner import Provisioner, existing_rooms
from sim.model.cluster.scalers.karpenter.state import ClusterState
from sim.model.cluster.scalers.nodes import ManagedNode, node_pods
from sim.model.cluster.scalers.tally import Removal
from sim.model.cluster.scalers.workloads import Workloads
from sim.policies.node_scaling.karpenter.disruption import (
    Candidate,
    Command,
    Method,
)
from sim.policies.node_scaling.karpenter.disruption.budgets import budget_mapping
from sim.policies.node_scaling.karpenter.disruption.consolidation import compute_consolidation
from sim.policies.node_scaling.karpenter.disruption.emptiness import Emptiness
from sim.policies.node_scaling.karpenter.disruption.multi_node import MultiNodeConsolidation
from sim.policies.node_scaling.karpenter.disruption.single_node import SingleNodeConsolidation
from sim.policies.node_scaling.karpenter.scheduling import Results, solve

POLLING_PERIOD_S = 10.0
"""How often the controller looks for disruption (``pollingPeriod``)."""
COMMAND_VALIDATION_DELAY_S = 15.0
"""How long a command waits before it is validated again (``commandValidationDelay``)."""
REGISTRATION_TTL_S = 15 * 60.0
"""How long a replacement may take to join before the command is abandoned."""
READY_POLL_S = 1.0


class Disruption:
    """Karpenter's disruption methods over its nodes, and expiry.

    Args:
        state: what Karpenter's controllers share.
        provisioner: what pending pods would need (the simulation's pools and limits).
    """

    def __init__(self, state: ClusterState, provisioner: Provisioner) -> None:
        self.state = state
        self.provisioner = provisioner
        self.methods: tuple[Method, ...] = (
            Emptiness(),
            MultiNodeConsolidation(),
            SingleNodeConsolidation(),
        )
        self.commands = 0
        self._in_command: set[str] = set()
        self._workloads: Workloads | None = None

    def start(self, workloads: Workloads) -> None:
        self._workloads = workloads
        self.state.env.process(self.run())

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The disruption loop (a SimPy process body)."""
        while True:
            yield self.state.env.timeout(POLLING_PERIOD_S)
            self.reconcile()

    # Candidates ------------------------------------------------------------------------

    def candidates(self) -> list[Candidate]:
        """Karpenter's initialized nodes that may be disrupted now."""
        workloads = self._workloads
        assert workloads is not None
        now = self.state.env.now
        found = []
        for node in self.state.launcher.alive():
            if (
                not node.ready
                or node.deleting
                or node.name in self._in_command
                or node.nominated_until_s > now
            ):
                continue
            movable, _, starting = node_pods(workloads, node.host)
            if starting:
                continue
            pool = self.state.pools[node.template.group].params
            since = max(node.host.last_pod_event_s, node.ready_s or 0.0)
            offering = self.state.pools[node.template.group].offerings[
                (node.template.instance_type.name, node.template.capacity_type)
            ]
            found.append(
                Candidate(
                    node.name,
                    node.template.group,
                    offering,
                    tuple(movable),
                    pool.consolidation_policy,
                    pool.consolidates,
                    now - since >= pool.consolidate_after_s,
                )
            )
        return found

    def budgets(self, reason: str) -> dict[str, int]:
        """What each NodePool still allows for `reason`."""
        nodes: dict[str, int] = {}
        disrupting: dict[str, int] = {}
        for node in self.state.launcher.alive():
            if not node.ready:
                continue
            pool = node.template.group
            nodes[pool] = nodes.get(pool, 0) + 1
            if node.deleting or node.name in self._in_command:
                disrupting[pool] = disrupting.get(pool, 0) + 1
        return budget_mapping(
            {name: pool.budgets() for name, pool in self.state.pools.items()},
            nodes,
            disrupting,
            reason,
        )

    def simulate(self, candidates: Sequence[Candidate]) -> Results:
        """Where the candidates' pods and the pending pods would go without them."""
        gone = {c.node for c in candidates}
        alive = self.state.launcher.alive()
        leaving = [n.name for n in alive if n.deleting or n.name in self._in_command]
        starting = [n for n in alive if n.ready_s is None]
        rooms = existing_rooms(self.state.scheduler, starting, [*gone, *leaving])
        now = self.state.env.now
        closed = {
            node.name
            for node in alive
            if node.ready
            and now - max(node.host.last_pod_event_s, node.ready_s or 0.0)
            < self.state.pools[node.template.group].params.consolidate_after_s
        }
        moving = [pod for candidate in candidates for pod in candidate.pods]
        return solve(
            [*moving, *self.provisioner.pending_pods()],
            rooms,
            [pool.template() for pool in self.state.pools.values()],
            {name: pool.remaining(alive) for name, pool in self.state.pools.items()},
            self.state.check,
            closed,
            {pod.name for pod in moving},
        )

    # Commands --------------------------------------------------------------------------

    def reconcile(self) -> None:
        """One loop: the first method that finds a command starts it."""
        candidates = self.candidates()
        for method in self.methods:
            considered = [c for c in candidates if method.should_disrupt(c)]
            if not considered:
                continue
            command = method.compute(considered, self.budgets(method.reason), self.simulate)
            if command is not None and command.candidates:
                self._in_command.update(c.node for c in command.candidates)
                self.state.env.process(self._execute(method, command))
                return

    def _still_valid(self, method: Method, command: Command) -> bool:
        """The command after the validation delay: its candidates still qualify, and the
        method reaches the same decision for them."""
        names = {c.node for c in command.candidates}
        self._in_command.difference_update(names)
        current = {c.node: c for c in self.candidates() if c.node in names}
        self._in_command.update(names)
        if set(current) != names:
            return False
        candidates = [current[c.node] for c in command.candidates]
        if not all(method.should_disrupt(c) for c in candidates):
            return False
        if command.reason == method.reason == "Empty":
            return all(c.empty for c in candidates)
        again, _ = compute_consolidation(method.name, method.reason, candidates, self.simulate)
        if again is None or again.decision != command.decision:
            return False
        if command.replacement is None or again.replacement is None:
            return command.replacement is again.replacement
        return (again.replacement.name, again.replacement.capacity_type) == (
            command.replacement.name,
            command.replacement.capacity_type,
        )

    def _execute(self, method: Method, command: Command) -> Generator[simpy.Event, Any, None]:
        names = [c.node for c in command.candidates]
        try:
            yield self.state.env.timeout(COMMAND_VALIDATION_DELAY_S)
            if not self._still_valid(method, command):
                return
            nodes = {node.name: node for node in self.state.launcher.alive() if node.name in names}
            for node in nodes.values():
                self.state.launcher.cloud.cordon(node.host)
            replacement = command.replacement
            self.commands += 1
            self.state.log.record(
                self.state.env.now,
                "karpenter",
                EventKind.NODE_DISRUPTION,
                method=method.name,
                decision=command.decision,
                nodes=",".join(names),
                replacement=str(replacement) if replacement else "",
                savings_usd_per_hour=round(command.savings_usd_per_hour, 6),
            )
            if replacement is not None:
                template = self.state.pools[command.candidates[0].pool].templates[
                    (replacement.name, replacement.capacity_type)
                ]
                new = self.state.launcher.launch(
                    self.state.launcher.next_name(command.candidates[0].pool), template
                )
                self.provisioner.on_launch(new)
                waited = 0.0
                while not new.ready:
                    if new.gone or waited >= REGISTRATION_TTL_S:
                        if not new.gone:
                            self.state.launcher.give_up(new)
                        for node in nodes.values():
                            self.state.launcher.cloud.join(node.host)
                        self.state.scheduler.capacity_changed()
                        return
                    yield self.state.env.timeout(READY_POLL_S)
                    waited += READY_POLL_S
            workloads = self._workloads
            assert workloads is not None
            if method.reason == "Empty":
                reason = Removal.EMPTY
            elif replacement is not None:
                reason = Removal.REPLACED
            else:
                reason = Removal.UNDERUTILIZED
            if any(c.pods for c in command.candidates):
                self.state.tally.disruptions += 1
            for name in names:
                leaving = nodes.get(name)
                if leaving is not None and not leaving.gone:
                    self.state.log.record(
                        self.state.env.now, name, EventKind.NODE_SCALE_DOWN, reason=str(reason)
                    )
                    self.state.env.process(self.state.launcher.remove(leaving, reason, workloads))
        finally:
            self._in_command.difference_update(names)

    def expire(self, node: ManagedNode, after_s: float) -> Generator[simpy.Event, Any, None]:
        """Drain and delete `node` once it is `after_s` old (a SimPy process body)."""
        if not math.isfinite(after_s):
            return
        yield self.state.env.timeout(after_s)
        workloads = self._workloads
        if node.gone or node.deleting or workloads is None:
            return
        pods = len([p for p in workloads.pods_on(node.host) if p.movable])
        self.state.log.record(
            self.state.env.now, node.name, EventKind.NODE_SCALE_DOWN, reason="expired"
        )
        self.state.log.record(
            self.state.env.now,
            "karpenter",
            EventKind.NODE_DISRUPTION,
            method="expiration",
            decision="delete",
            nodes=node.name,
            replacement="",
            savings_usd_per_hour=round(node.template.usd_per_hour, 6),
        )
        if pods:
            self.state.tally.disruptions += 1
        self.state.env.process(self.state.launcher.remove(node, Removal.EXPIRED, workloads))
