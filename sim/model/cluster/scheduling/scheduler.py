"""Placing replicas on the cluster's hosts, and waiting when nothing fits.

Each replica is a pod to the scheduler. Every placement runs the profile's filters
(`sim.model.cluster.scheduling.profile`: resources and pod count, taints, node
affinity, topology spread, pod anti-affinity); which feasible host wins is the
placement's choice: ``scheduler`` runs the profile's weighted scores
(`SchedulingCycle`), ``spread`` and ``binpack`` rank the hosts by exact fractions of
what they have free or in use (`HostRanking`, a heap kept between placements, so a
placement costs O(log hosts) rather than a scan). When hosts carry zones, the presets
spread replicas over the zones first (the zone with the fewest replicas among those
with a feasible host), as they always did.

A replica that fits on no host is *pending* (as a Kubernetes pod is): it waits until
capacity changes — a replica stops, a host joins — and tries again. The cluster scaler
looks at the pending replicas to decide whether to add hosts. Before it waits, a pod of
higher priority than some placed pods preempts them
(`sim.policies.scheduling.preemption`): its victims are evicted through their owners,
who ask for replacements, and it takes their room at once.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol

import numpy as np
import simpy

from sim.core.records import EventKind, EventLog, ReplicaState
from sim.model.cluster.scheduling.cycle import Decision, SchedulingCycle
from sim.model.cluster.scheduling.pending import Addable, never_fits, pending_reason
from sim.model.cluster.scheduling.profile import Profile, SchedulerParams
from sim.model.cluster.scheduling.ranking import HostRanking
from sim.model.hosts.host import Host, HostList
from sim.policies.placement import Placement, PlacementPolicy, PlacementRequest, ProfilePlacement
from sim.policies.scheduling.objects import ZONE, NodeInfo, NodeList, PodInfo
from sim.policies.scheduling.preemption import choose_preemption


class _PodOnNode(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def movable(self) -> bool: ...

    @property
    def starting(self) -> bool: ...


class Evictions(Protocol):
    """The pods on each host and their eviction through their owners (the run's
    `sim.model.cluster.scalers.workloads.Workloads`)."""

    def pods_on(self, host: Host) -> Sequence[_PodOnNode]: ...

    def evict(self, replica: str) -> None: ...


def node_tree_order(hosts: Sequence[Host]) -> list[Host]:
    """The hosts in the order kube-scheduler's node tree lists them: zones in the order
    their first node joined, taking one node of each zone in turn."""
    zones: dict[str, list[Host]] = {}
    for host in hosts:
        zones.setdefault(host.node.labels.get(ZONE, ""), []).append(host)
    order: list[Host] = []
    columns = list(zones.values())
    for row in range(max((len(column) for column in columns), default=0)):
        order.extend(column[row] for column in columns if row < len(column))
    return order


class Scheduler:
    """Reserves room for replicas on hosts chosen by the profile and a placement.

    Args:
        env: the simulation environment.
        hosts: the cluster's hosts (the list may grow and shrink during the run). A
            `HostList` lets the scheduler keep them ranked between placements; with a
            plain list, each placement scans them all.
        log: the event log.
        profile: the filter and score plugins (default: kube-scheduler's default profile).
        rng: the stream ties between equally scored hosts are broken from.
    """

    def __init__(
        self,
        env: simpy.Environment,
        hosts: list[Host],
        log: EventLog,
        profile: Profile | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.env = env
        self.hosts = hosts
        self.log = log
        self.cycle = SchedulingCycle(
            profile if profile is not None else SchedulerParams().profile(),
            rng if rng is not None else np.random.default_rng(0),
        )
        self.pending: dict[str, PlacementRequest] = {}
        """What each pending replica asks for, by name."""
        self.pending_pods: dict[str, PodInfo] = {}
        """Each pending replica as a pod, by name."""
        self.pending_reasons: dict[str, str] = {}
        self.pending_since: dict[str, float] = {}
        """When each pending replica became pending."""
        self.pending_max = 0
        """The most replicas pending at once so far."""
        self.pending_listeners: list[Callable[[str], None]] = []
        """Told the name of each replica that becomes pending (a node scaler's batcher)."""
        self.addable: tuple[Addable, ...] = ()
        """The hosts a node scaler can still add, the largest first (set by the scaler)."""
        self.warnings: list[str] = []
        """One line per kind of request that fits no host the cluster has or can get."""
        self._warned: set[PlacementRequest] = set()
        self._changed = env.event()
        self._rankings: dict[tuple[Any, ...], HostRanking] = {}
        self._ranked_hosts_changes = -1
        self._zoned_hosts = False
        self._zoned_changes: int | None = -1
        self._ordered: list[Host] = []
        self._ordered_nodes = NodeList()
        self._ordered_node_ids: set[int] = set()
        self._ordered_changes: int | None = -1
        self._anti_affinity_pods = 0
        """Placed pods with a required anti-affinity term: while there is one, a host's
        feasibility may change with pods on other hosts, so the presets scan."""
        self.evictions: Evictions | None = None
        """Who evicts a preemption's victims (set by the run; None: no preemption)."""
        self.preemptions = 0
        """Pods that preempted others so far."""
        self._placed_priorities: dict[int, int] = {}
        """Placed pods by priority: a pod preempts only where some are below its own."""
        self._nominated: dict[str, tuple[Host, PodInfo]] = {}
        """Pods that preempted, by name, with the node their victims' room is kept on."""

    # The nodes ---------------------------------------------------------------------

    def nodes(self) -> list[NodeInfo]:
        """Every host as a node, in the node tree's order."""
        self._in_order()
        return list(self._ordered_nodes)

    def _in_order(self) -> list[Host]:
        """The hosts in the node tree's order (with their nodes, and the set of those),
        kept until a host joins or leaves: a DaemonSet's thousands of pods at once
        look at the same nodes."""
        changes = getattr(self.hosts, "changes", None)
        if changes is None or changes != self._ordered_changes:
            self._ordered = node_tree_order(self.hosts)
            self._ordered_nodes = NodeList(host.node for host in self._ordered)
            self._ordered_node_ids = {id(node) for node in self._ordered_nodes}
            self._ordered_changes = changes
        return self._ordered

    def _zoned(self) -> bool:
        """Whether the hosts carry zones (checked again when hosts join or leave)."""
        changes = getattr(self.hosts, "changes", None)
        if changes is None or changes != self._zoned_changes:
            self._zoned_hosts = any(host.params.zone for host in self.hosts)
            self._zoned_changes = changes
        return self._zoned_hosts

    # Choosing a host ---------------------------------------------------------------

    def _fit(
        self, placement: Placement, pod: PodInfo, request: PlacementRequest, pinned: Host | None
    ) -> tuple[Host | None, Decision | None]:
        """The host `pod` goes to now (None: none), and the cycle's decision (None for a
        pinned pod that fits: no one reads it). Pods nominated to a node by a
        preemption, of at least `pod`'s priority, count on it as if placed (upstream's
        ``RunFilterPluginsWithNominatedPods``), so that the room their victims leave is
        theirs."""
        if not self._nominated:
            return self._fit_now(placement, pod, request, pinned)
        nominated = [
            (host, nominee)
            for name, (host, nominee) in self._nominated.items()
            if name != pod.name and nominee.priority >= pod.priority
        ]
        for host, nominee in nominated:
            host.node.add_pod(nominee)
        try:
            return self._fit_now(placement, pod, request, pinned)
        finally:
            for host, nominee in nominated:
                host.node.remove_pod(nominee.name)
                # A ranking that found the host full with the nominee looks again.
                self._reservations_changed(host)

    def _fit_now(
        self, placement: Placement, pod: PodInfo, request: PlacementRequest, pinned: Host | None
    ) -> tuple[Host | None, Decision | None]:
        hosts = self._in_order()
        nodes = self._ordered_nodes
        nodes.holding_required_anti_affinity = None if self._anti_affinity_pods else []
        if pinned is not None:
            member = id(pinned.node) in self._ordered_node_ids
            rejection = self.cycle.filter(pod, pinned.node, nodes, member)
            if rejection is None:
                return pinned, None
            return None, Decision(None, {pinned.name: rejection}, len(nodes), {})
        if isinstance(placement, ProfilePlacement):
            decision = self.cycle.schedule(pod, nodes)
            chosen = decision.node
            host = None if chosen is None else next(h for h in hosts if h.node is chosen)
            return host, decision
        states = self.cycle.pre_filter(pod, nodes)
        rejections: dict[str, Any] = {}

        def feasible(host: Host) -> bool:
            rejection = self.cycle.run_filters(pod, host.node, states)
            if rejection is not None:
                rejections[host.name] = rejection
            return rejection is None

        host = self._ranked_choice(placement, pod, request, feasible)
        if host is None:
            for other in self.hosts:
                if other.name not in rejections:
                    feasible(other)
        return host, Decision(None if host is None else host.node, rejections, len(nodes), {})

    def _ranked_choice(
        self,
        policy: PlacementPolicy,
        pod: PodInfo,
        request: PlacementRequest,
        feasible: Callable[[Host], bool],
    ) -> Host | None:
        if self._zoned():
            return self._across_zones(policy, request, feasible)
        local = _local_filters(pod) and not self._anti_affinity_pods
        ranking = self._ranking(policy, request, pod) if local else None
        if ranking is not None:
            return ranking.best(feasible)
        candidates = [host for host in self.hosts if feasible(host)]
        chosen = policy.choose(request, [host.view() for host in candidates])
        return None if chosen is None else next(h for h in candidates if h.name == chosen)

    def _across_zones(
        self, policy: PlacementPolicy, request: PlacementRequest, feasible: Callable[[Host], bool]
    ) -> Host | None:
        """Spread over zones first: the replica goes to the zone with the fewest replicas
        among those with a feasible host (ties to the zone named first), and there to
        the host the policy prefers."""
        replicas: dict[str, int] = {}
        fitting: dict[str, list[Host]] = {}
        for host in self.hosts:
            zone = host.params.zone
            replicas[zone] = replicas.get(zone, 0) + host.replicas
            if feasible(host):
                fitting.setdefault(zone, []).append(host)
        if not fitting:
            return None
        zone = min(fitting, key=lambda name: (replicas[name], name))
        hosts = fitting[zone]
        chosen = policy.choose(request, [host.view() for host in hosts])
        return None if chosen is None else next(h for h in hosts if h.name == chosen)

    def _ranking(
        self, policy: PlacementPolicy, request: PlacementRequest, pod: PodInfo
    ) -> HostRanking | None:
        """The hosts ranked by `policy` for `request`, rebuilt when hosts joined or left;
        one ranking per set of node constraints too, as a ranking forgets the hosts it
        found infeasible (a tainted node refuses one pod of a shape but takes another
        that tolerates the taint)."""
        hosts = self.hosts
        if not isinstance(hosts, HostList):
            return None
        if hosts.changes != self._ranked_hosts_changes:
            self._rankings.clear()
            self._ranked_hosts_changes = hosts.changes
        key = (policy.name, request, pod.tolerations, pod.node_selector, pod.required_node_terms)
        ranking = self._rankings.get(key)
        if ranking is None:
            ranking = HostRanking(policy, request, hosts)
            self._rankings[key] = ranking
        return ranking

    def _reservations_changed(self, host: Host) -> None:
        for ranking in self._rankings.values():
            ranking.changed(host)

    # Placing and releasing -----------------------------------------------------------

    def place(
        self,
        replica: str,
        placement: Placement,
        pod: PodInfo,
        vcpu: float,
        memory_bytes: int,
        pinned: Host | None = None,
        tried: bool = False,
    ) -> Generator[simpy.Event, Any, Host]:
        """Reserve `vcpu` and `memory_bytes` for `replica` (the pod `pod`) on a host,
        waiting while none is feasible (a SimPy process body); returns the host. With
        `tried`, `try_place` has just found none: it waits for a change first."""
        if tried:
            yield self._changed
        while True:
            host = self.try_place(replica, placement, pod, vcpu, memory_bytes, pinned)
            if host is not None:
                return host
            yield self._changed

    def try_place(
        self,
        replica: str,
        placement: Placement,
        pod: PodInfo,
        vcpu: float,
        memory_bytes: int,
        pinned: Host | None = None,
    ) -> Host | None:
        """One scheduling attempt of `place`: the host now reserved for `replica`, or
        None, the replica pending (recorded so the first time). A pod that fits nowhere
        may preempt pods of lower priority once per attempt, then tries again at once."""
        request = PlacementRequest(vcpu, memory_bytes)
        host, decision = self._fit(placement, pod, request, pinned)
        if host is None and pinned is None and self._preempt(replica, pod):
            host, decision = self._fit(placement, pod, request, pinned)
        if host is not None:
            if self._nominated:
                self._forget_nomination(replica)
            if self.pending:
                self.pending.pop(replica, None)
                self.pending_pods.pop(replica, None)
                self.pending_reasons.pop(replica, None)
                self.pending_since.pop(replica, None)
            host.reserve(vcpu, memory_bytes, pod)
            priorities = self._placed_priorities
            priorities[pod.priority] = priorities.get(pod.priority, 0) + 1
            if pod.required_anti_affinity:
                self._anti_affinity_pods += 1
            self._reservations_changed(host)
            return host
        if replica not in self.pending:
            self.pending[replica] = request
            self.pending_pods[replica] = pod
            self.pending_since[replica] = self.env.now
            self.pending_max = max(self.pending_max, len(self.pending))
            never = never_fits(request, self.hosts, self.addable)
            assert decision is not None
            reason = never or pending_reason(
                request, decision, not isinstance(placement, ProfilePlacement)
            )
            self.pending_reasons[replica] = reason
            if never is not None and request not in self._warned:
                self._warned.add(request)
                self.warnings.append(f"{replica} (and replicas like it) {never}")
            self.log.record(
                self.env.now,
                replica,
                EventKind.REPLICA_STATE,
                state=ReplicaState.PENDING,
                reason=reason,
            )
            for listener in self.pending_listeners:
                listener(replica)
        return None

    def _forget_nomination(self, replica: str) -> None:
        """The pod is placed: its nominated node is free of it (a ranking that found the
        node full while the nominee counted there looks at it again)."""
        nomination = self._nominated.pop(replica, None)
        if nomination is not None:
            self._reservations_changed(nomination[0])

    def _preempt(self, replica: str, pod: PodInfo) -> bool:
        """Evict the pods of lower priority `pod` needs gone to fit on some host (the
        preemption upstream's PostFilter chooses); whether it evicted any. Pods still
        starting and pods pinned to their host are never victims."""
        evictions = self.evictions
        if evictions is None or not any(
            priority < pod.priority and count for priority, count in self._placed_priorities.items()
        ):
            return False
        hosts = self._in_order()
        nodes = self._ordered_nodes
        evictable: set[str] = set()
        for host in hosts:
            if any(other.priority < pod.priority for other in host.node.pods):
                evictable.update(
                    each.name
                    for each in evictions.pods_on(host)
                    if each.movable and not each.starting
                )

        def fits(candidate: PodInfo, node: NodeInfo) -> bool:
            return self.cycle.filter(candidate, node, nodes, member=False) is None

        chosen = choose_preemption(pod, nodes, fits, lambda other: other.name in evictable)
        if chosen is None or not chosen.victims:
            return False
        self.preemptions += 1
        self.log.record(
            self.env.now,
            replica,
            EventKind.PREEMPTED,
            node=chosen.node,
            victims=",".join(victim.name for victim in chosen.victims),
        )
        self._nominated[replica] = (next(h for h in hosts if h.name == chosen.node), pod)
        for victim in chosen.victims:
            evictions.evict(victim.name)
        return True

    def release(self, host: Host, replica: str, vcpu: float, memory_bytes: int) -> None:
        """Give back a replica's reservation; pending replicas try again."""
        pod = host.release(vcpu, memory_bytes, replica)
        if pod is not None and pod.priority in self._placed_priorities:
            self._placed_priorities[pod.priority] -= 1
        if pod is not None and pod.required_anti_affinity:
            self._anti_affinity_pods -= 1
        self._reservations_changed(host)
        self.capacity_changed()

    def capacity_changed(self) -> None:
        """Wake the pending replicas (a host joined or room was freed)."""
        if self.pending:
            changed, self._changed = self._changed, self.env.event()
            changed.succeed()


def _local_filters(pod: PodInfo) -> bool:
    """Whether the pod's filters look at each node alone (no spread constraint or pod
    anti-affinity, whose answer for one node changes with pods on others)."""
    return not pod.required_anti_affinity and not any(
        c.when_unsatisfiable == "DoNotSchedule" for c in pod.spread_constraints
    )


__all__ = ["Addable", "Scheduler", "node_tree_order"]
