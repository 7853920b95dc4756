"""Placing replicas on the cluster's hosts, and waiting when nothing fits.

A replica that fits on no host is *pending* (as a Kubernetes pod is): it waits until
capacity changes — a replica stops, a host joins — and tries again. The cluster scaler
looks at the pending replicas to decide whether to add hosts.

The scheduler keeps the hosts ranked by each policy and request it has placed
(`HostRanking`), so a placement costs O(log hosts) rather than a scan of the cluster.
When hosts carry zones, it spreads replicas over the zones first (a topology spread
constraint on the zone label), scanning the hosts.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.core.records import EventKind, EventLog, ReplicaState
from sim.core.units import format_size
from sim.model.cluster.ranking import HostRanking
from sim.model.hosts.host import Host, HostList
from sim.policies.placement import PlacementPolicy, PlacementRequest, fits


class Scheduler:
    """Reserves room for replicas on hosts chosen by a placement policy.

    Args:
        env: the simulation environment.
        hosts: the cluster's hosts (the list may grow and shrink during the run). A
            `HostList` lets the scheduler keep them ranked between placements; with a
            plain list, each placement asks the policy to scan them all.
        log: the event log.
    """

    def __init__(self, env: simpy.Environment, hosts: list[Host], log: EventLog) -> None:
        self.env = env
        self.hosts = hosts
        self.log = log
        self.pending: dict[str, PlacementRequest] = {}
        self.pending_reasons: dict[str, str] = {}
        self.largest_addable: tuple[str, float, int] | None = None
        """The biggest host that can still join (name, allocatable vCPU and memory), if
        any can."""
        self.addable_overhead = False
        """True when the hosts that can join keep reserves or DaemonSet pods."""
        self.warnings: list[str] = []
        """One line per kind of request that fits no host the cluster has or can get."""
        self._warned: set[PlacementRequest] = set()
        self._changed = env.event()
        self._rankings: dict[tuple[str, PlacementRequest], HostRanking] = {}
        self._ranked_hosts_changes = -1
        self._zoned_hosts = False
        self._zoned_changes: int | None = -1

    def _fit(
        self, policy: PlacementPolicy, request: PlacementRequest, pinned: Host | None
    ) -> Host | None:
        if pinned is not None:
            return pinned if _fits_on(pinned, request.vcpu, request.memory_bytes) else None
        if self._zoned():
            return self._fit_across_zones(policy, request)
        ranking = self._ranking(policy, request)
        if ranking is not None:
            return ranking.best()
        chosen = policy.choose(request, [host.view() for host in self.hosts])
        return None if chosen is None else next(h for h in self.hosts if h.name == chosen)

    def _zoned(self) -> bool:
        """Whether the hosts carry zones (checked again when hosts join or leave)."""
        changes = getattr(self.hosts, "changes", None)
        if changes is None or changes != self._zoned_changes:
            self._zoned_hosts = any(host.params.zone for host in self.hosts)
            self._zoned_changes = changes
        return self._zoned_hosts

    def _fit_across_zones(self, policy: PlacementPolicy, request: PlacementRequest) -> Host | None:
        """Spread over zones first, as a topology spread constraint on the zone does: the
        replica goes to the zone with the fewest replicas among those where it fits (ties
        to the zone named first), and there to the host the policy prefers."""
        replicas: dict[str, int] = {}
        fitting: dict[str, list[Host]] = {}
        for host in self.hosts:
            zone = host.params.zone
            replicas[zone] = replicas.get(zone, 0) + host.replicas
            if fits(request, host.view()):
                fitting.setdefault(zone, []).append(host)
        if not fitting:
            return None
        zone = min(fitting, key=lambda name: (replicas[name], name))
        hosts = fitting[zone]
        chosen = policy.choose(request, [host.view() for host in hosts])
        return None if chosen is None else next(h for h in hosts if h.name == chosen)

    def _ranking(self, policy: PlacementPolicy, request: PlacementRequest) -> HostRanking | None:
        """The hosts ranked by `policy` for `request`, rebuilt when hosts joined or left."""
        hosts = self.hosts
        if not isinstance(hosts, HostList):
            return None
        if hosts.changes != self._ranked_hosts_changes:
            self._rankings.clear()
            self._ranked_hosts_changes = hosts.changes
        key = (policy.name, request)
        ranking = self._rankings.get(key)
        if ranking is None:
            ranking = HostRanking(policy, request, hosts)
            self._rankings[key] = ranking
        return ranking

    def _reservations_changed(self, host: Host) -> None:
        for ranking in self._rankings.values():
            ranking.changed(host)

    def place(
        self,
        replica: str,
        policy: PlacementPolicy,
        vcpu: float,
        memory_bytes: int,
        pinned: Host | None = None,
    ) -> Generator[simpy.Event, Any, Host]:
        """Reserve `vcpu` and `memory_bytes` for `replica` on a host, waiting while none fits
        (a SimPy process body); returns the host."""
        if pinned is not None and _fits_on(pinned, vcpu, memory_bytes):
            # A DaemonSet's replica on its own host: nothing to choose.
            return self._reserve(replica, pinned, vcpu, memory_bytes)
        request = PlacementRequest(vcpu, memory_bytes)
        while True:
            host = self._fit(policy, request, pinned)
            if host is not None:
                return self._reserve(replica, host, vcpu, memory_bytes)
            if replica not in self.pending:
                self.pending[replica] = request
                never = self.never_fits(request)
                reason = never or (
                    f"unschedulable: 0/{len(self.hosts)} hosts have {vcpu:g} vCPU and "
                    f"{memory_bytes} B of memory free"
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
            yield self._changed

    def _reserve(self, replica: str, host: Host, vcpu: float, memory_bytes: int) -> Host:
        """Reserve room for `replica` on `host` (it is no longer pending)."""
        self.pending.pop(replica, None)
        self.pending_reasons.pop(replica, None)
        host.reserve(vcpu, memory_bytes)
        self._reservations_changed(host)
        return host

    def never_fits(self, request: PlacementRequest) -> str | None:
        """Why `request` can never be placed (no host the cluster has, nor the biggest it
        can add, is that large), or None when some host could hold it once free."""
        for host in self.hosts:
            if host.params.allocatable_vcpu + 1e-9 >= request.vcpu and (
                host.params.allocatable_memory_bytes >= request.memory_bytes
            ):
                return None
        addable = self.largest_addable
        if addable is not None and (
            addable[1] + 1e-9 >= request.vcpu and addable[2] >= request.memory_bytes
        ):
            return None
        biggest = max(
            ((h.params.allocatable_vcpu, h.params.allocatable_memory_bytes) for h in self.hosts),
            default=(0.0, 0),
        )
        reserved = any(
            h.params.overhead_vcpu or h.params.overhead_memory_bytes for h in self.hosts
        ) or (addable is not None and self.addable_overhead)
        growth = (
            f"; the cluster scaler adds {addable[0]} ({addable[1]:g} vCPU, "
            f"{format_size(addable[2])}{' allocatable' if reserved else ''})"
            if addable is not None
            else "; no cluster scaler adds hosts"
        )
        return (
            f"never fits: needs {request.vcpu:g} vCPU and {format_size(request.memory_bytes)} "
            f"of memory; the largest host has {biggest[0]:g} vCPU and "
            f"{format_size(biggest[1])}{' allocatable' if reserved else ''}{growth}"
        )

    def release(self, host: Host, vcpu: float, memory_bytes: int) -> None:
        """Give back a replica's reservation; pending replicas try again."""
        host.release(vcpu, memory_bytes)
        self._reservations_changed(host)
        self.capacity_changed()

    def capacity_changed(self) -> None:
        """Wake the pending replicas (a host joined or room was freed)."""
        if self.pending:
            changed, self._changed = self._changed, self.env.event()
            changed.succeed()


def _fits_on(host: Host, vcpu: float, memory_bytes: int) -> bool:
    """Whether `vcpu` and `memory_bytes` fit in what `host` has free (as its view says)."""
    params = host.params
    return (
        params.allocatable_vcpu - host.vcpu_reserved + 1e-9 >= vcpu
        and params.allocatable_memory_bytes - host.memory_reserved_bytes >= memory_bytes
    )
