"""Resilience: faults injected into a run, what they take, and how the run recovers.

`Resilience` is the world a fault acts on (`sim.model.faults.kinds.FaultWorld`). A host that
crashes leaves the cluster at once (the scheduler places nothing more on it); every
replica on it — ready, serving, draining or still starting — is *lost*: the requests it
was serving or had queued fail with the fault's reason (``host failure``), what it held
is released, and its owner (the service's fleet, like an Auto Scaling group or a
Deployment; or the deployer) asks for a replacement at once, which the scheduler places
on another host, pulling its image there, or leaves pending for the cluster scaler. A
start-up in progress on the crashed host runs on to its end in the model (a pull's
flows already on the wire finish) and then fails with the fault's reason.

A host comes back by *reboot* (the same host rejoins, its layer cache still on its disk,
billed throughout as a rebooting instance is) or *replace* (the instance is terminated
and a new one of the same size and price, with an empty disk, joins).

Each crash is a recovery to watch: the service (or the deployments) had so many replicas
running just before it; it has *recovered* when as many run again, and
``time_to_recover_s`` is how long that took (a fault not recovered by the end counts
until the end). Every crash, loss, return and recovery is an event.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.core.distributions import Distribution
from sim.core.records import EventKind, EventLog, FailReason
from sim.core.streams import RandomStreams
from sim.model.cluster.cluster import Cluster
from sim.model.cluster.crash_loop import CrashLoopBackoff
from sim.model.cluster.deployments import Deployer
from sim.model.faults.kinds import FAULTS
from sim.model.faults.report import no_faults_report
from sim.model.hosts.host import Host
from sim.model.hosts.replica import Ledger
from sim.model.hosts.spot import SpotParams
from sim.model.service.fleet import Fleet, Member
from sim.model.service.service import Service


@dataclass(slots=True)
class _Recovery:
    fault: str
    since_s: float
    target: int
    recovered_s: float | None = None


class Resilience:
    """Injects a run's faults and keeps their tally.

    Args:
        env: the simulation environment.
        faults: the fault specs (each the parameters of a kind of `FAULTS`).
        cluster: the hosts, the cloud and the scheduler.
        ledger: every replica's holdings and start-ups.
        deployer: the deployments (owner of their replicas).
        service: the served app (its fleet owns its replicas), or None.
        zones: each host's zone, by host name.
        log: the event log.
        streams: the run's named random streams (faults draw from ``faults/...``).
    """

    def __init__(
        self,
        env: simpy.Environment,
        faults: Sequence[Any],
        cluster: Cluster,
        ledger: Ledger,
        deployer: Deployer,
        service: Service | None,
        log: EventLog,
        streams: RandomStreams,
    ) -> None:
        self.env = env
        self.faults = tuple(faults)
        self.cluster = cluster
        self.ledger = ledger
        self.deployer = deployer
        self.service = service
        self.log = log
        self.streams = streams
        self.hosts_failed = 0
        self.spot_interruptions = 0
        self._reclaimed: set[str] = set()
        self._pressured: set[str] = set()
        self.replicas_evicted = 0
        self.filled_bytes: dict[str, int] = {}
        """Bytes disk-pressure faults hold on each host's disk now."""
        self.recoveries: list[_Recovery] = []
        self._replaced: dict[str, int] = {}
        self.crash_loop = CrashLoopBackoff()
        self._current: dict[str, Host] = {host.name: host for host in cluster.hosts}
        """Each pool host's name -> the host now in its place (a replacement)."""
        fleet = service.fleet if service is not None else None
        if fleet is not None:
            fleet.in_service_listeners.append(self._check_recovered)
        deployer.ready_listeners.append(self._check_recovered)

    # The world a fault sees -------------------------------------------------------------

    def hosts_of(self, target: str) -> list[Host]:
        """The pool hosts a target names: a host, every host of a pool, or of a zone."""
        hosts = self.cluster.pool_hosts
        named = [h for h in hosts if h.name == target]
        if named:
            return named
        zoned = [h for h in hosts if h.params.zone == target]
        if zoned:
            return zoned
        return [h for h in hosts if h.name.rsplit("-", 1)[0] == target]

    def stream(self, name: str) -> np.random.Generator:
        return self.streams.generator(f"faults/{name}")

    def crash(self, hosts: Sequence[Host], fault: str, recovery: str) -> None:
        """The hosts (as they are now: a replaced one's successor) fail together."""
        now = self.env.now
        running = self._running()
        crashed = 0
        for original in hosts:
            host = self._current[original.name]
            if host.down:
                continue  # already down (overlapping faults): nothing more to lose
            host.down = True
            self._faulted(host)
            crashed += 1
            self.hosts_failed += 1
            names = self.ledger.on_host(host)
            self.log.record(
                now,
                host.name,
                EventKind.HOST_FAILED,
                fault=fault,
                replicas_lost=len(names),
                recovery=recovery,
            )
            if recovery == "replace":
                self.cluster.cloud.terminate(host)
            else:
                self.cluster.cloud.crash(host)
            for name in names:
                self._lose(name, FailReason.HOST_FAILURE)
        if crashed:
            self.recoveries.append(_Recovery(fault, now, running))
            self._check_recovered()

    def recover(self, hosts: Sequence[Host], fault: str) -> None:
        """The hosts come back: rebooted, or replaced by new instances."""
        now = self.env.now
        for original in hosts:
            host = self._current[original.name]
            if not host.down or host.name in self._reclaimed:
                continue
            record = self.cluster.cloud.records[host.name]
            if record.terminated_s is not None:
                count = self._replaced[original.name] = self._replaced.get(original.name, 0) + 1
                new = self.cluster.cloud.replace(host, f"{original.name}-r{count}")
                self._current[original.name] = new
                self.log.record(
                    now,
                    new.name,
                    EventKind.HOST_RECOVERED,
                    fault=fault,
                    how="replace",
                    replaces=host.name,
                )
            else:
                host.down = False
                self.cluster.cloud.reboot(host, rejoin=host.name not in self._pressured)
                if host.params.spot is not None:
                    self.env.process(self._spot_clock(host))
                self.log.record(now, host.name, EventKind.HOST_RECOVERED, fault=fault, how="reboot")
        self.cluster.scheduler.capacity_changed()

    def registry_down(self, registry: str, fault: str, down: bool) -> None:
        """The registry answers 503 to everything (down) or serves again."""
        self.cluster.registries[registry].outage = fault if down else None
        kind = EventKind.REGISTRY_DOWN if down else EventKind.REGISTRY_UP
        self.log.record(self.env.now, registry, kind, fault=fault)

    def crash_containers(self, app: str, fault: str, restart: Distribution) -> None:
        """Every container of the served app in service exits now."""
        fleet = self._fleet_of(app)
        if fleet is None:
            return
        rng = self.stream(f"container-crash/{app}")
        for name, member in list(fleet.members.items()):
            if member.state == "in_service":
                fleet.crash_container(
                    name, FailReason.CONTAINER_CRASH, restart.sample(rng), self.crash_loop
                )

    def watch_containers(
        self, app: str, fault: str, lifetime: Distribution, restart: Distribution
    ) -> None:
        """From now on, each container of the served app exits a `lifetime` draw after it
        enters service (again)."""
        fleet = self._fleet_of(app)
        if fleet is None:
            return
        rng = self.stream(f"container-crash/{app}")

        def entered(name: str) -> None:
            member = fleet.members.get(name)
            if member is not None:
                self.env.process(self._container_life(fleet, member, lifetime, restart, rng))

        fleet.in_service_listeners.append(entered)
        for name, member in list(fleet.members.items()):
            if member.state == "in_service":
                entered(name)

    def _container_life(
        self,
        fleet: Fleet,
        member: Member,
        lifetime: Distribution,
        restart: Distribution,
        rng: np.random.Generator,
    ) -> Generator[simpy.Event, Any, None]:
        since_s = member.in_service_s
        yield self.env.timeout(lifetime.sample(rng))
        if member.state == "in_service" and member.in_service_s == since_s:
            fleet.crash_container(
                member.name, FailReason.CONTAINER_CRASH, restart.sample(rng), self.crash_loop
            )

    def _fleet_of(self, app: str) -> Fleet | None:
        fleet = self.service.fleet if self.service is not None else None
        return fleet if fleet is not None and fleet.app.name == app else None

    def link_down(self, ends: tuple[str, str], fault: str, down: bool) -> bool:
        """The link fails (its flows cut, routes recomputed) or works again."""
        network = self.cluster.network
        u, v = ends
        if down:
            if not network.graph.has_edge(u, v):
                return False
            cut = network.fail_link(u, v)
            self.log.record(
                self.env.now, f"{u}--{v}", EventKind.LINK_DOWN, fault=fault, flows_cut=cut
            )
        else:
            network.restore_link(u, v)
            self.log.record(self.env.now, f"{u}--{v}", EventKind.LINK_UP, fault=fault)
        return True

    # Disk pressure --------------------------------------------------------------------

    def fill_disk(
        self, host: Host, fault: str, fill_bytes: int, eviction_percent: float
    ) -> tuple[Host, int]:
        """Fill the (current) host's disk, then act as the kubelet at its hard eviction
        threshold: collect unused images, then taint the node and evict its pods."""
        host = self._current.get(host.name, host)
        if host.down:
            return host, 0
        disk = host.disk
        filled = min(fill_bytes, disk.available_bytes)
        disk.allocate(filled)
        self.filled_bytes[host.name] = self.filled_bytes.get(host.name, 0) + filled
        over = self._over_threshold(host, eviction_percent)
        self.log.record(
            self.env.now,
            host.name,
            EventKind.DISK_PRESSURE,
            fault=fault,
            filled_bytes=filled,
            evicting=over,
        )
        if over:
            running = self._running()
            self._faulted(host)
            self.cluster.cloud.cordon(host)
            self._pressured.add(host.name)
            for name in self.ledger.on_host(host):
                self.replicas_evicted += 1
                self._lose(name, FailReason.EVICTED)
            # The evicted pods' images are unused now: the kubelet collects them too.
            self._over_threshold(host, eviction_percent)
            self.recoveries.append(_Recovery(fault, self.env.now, running))
            self._check_recovered()
        return host, filled

    def _over_threshold(self, host: Host, eviction_percent: float) -> bool:
        disk = host.disk
        limit = disk.capacity_bytes * eviction_percent / 100.0
        if disk.used_bytes < limit:
            return False
        host.engine.collect_garbage(int(disk.used_bytes - limit) + 1, reason="disk pressure")
        return disk.used_bytes >= limit

    def release_disk(
        self, host: Host, fault: str, filled_bytes: int, eviction_percent: float
    ) -> None:
        """The fill is gone; the node's taint is lifted once it is under the threshold."""
        if filled_bytes:
            host.disk.free(filled_bytes)
            self.filled_bytes[host.name] -= filled_bytes
        limit = host.disk.capacity_bytes * eviction_percent / 100.0
        if host.name in self._pressured and not host.down and host.disk.used_bytes < limit:
            self._pressured.discard(host.name)
            self.cluster.cloud.join(host)
            self.cluster.scheduler.capacity_changed()
            self.log.record(
                self.env.now, host.name, EventKind.HOST_RECOVERED, fault=fault, how="untainted"
            )

    # Spot capacity --------------------------------------------------------------------

    def _launched(self, host: Host) -> None:
        if host.params.spot is not None:
            self.env.process(self._spot_clock(host))

    def _spot_clock(self, host: Host) -> Generator[simpy.Event, Any, None]:
        """When the cloud reclaims the spot instance: an exponential time from its launch."""
        spot = host.params.spot
        assert spot is not None
        if spot.interruptions_per_h <= 0:
            return
        uniform = self.streams.generator(f"spot/{host.name}").random()
        yield self.env.timeout(-math.log1p(-uniform) * 3600.0 / spot.interruptions_per_h)
        if host.down or self.cluster.cloud.records[host.name].terminated_s is not None:
            return
        yield from self._interrupt(host, spot)

    def _interrupt(self, host: Host, spot: SpotParams) -> Generator[simpy.Event, Any, None]:
        """The two-minute notice: cordon and drain; then the instance is reclaimed."""
        now = self.env.now
        fault = f"spot:{host.name}"
        self.spot_interruptions += 1
        self.log.record(now, host.name, EventKind.SPOT_INTERRUPTION, notice_s=spot.notice_s)
        running = self._running()
        self._faulted(host)
        self.cluster.cloud.cordon(host)
        fleet = self.service.fleet if self.service is not None else None
        for name in self.ledger.on_host(host):
            if fleet is not None and name in fleet.members:
                fleet.evict(name)
        self.recoveries.append(_Recovery(fault, now, running))
        self._check_recovered()
        yield self.env.timeout(spot.notice_s)
        self.cluster.cloud.reclaim(host)
        host.down = True
        self._reclaimed.add(host.name)
        for name in self.ledger.on_host(host):
            self._lose(name, FailReason.SPOT_INTERRUPTION)
        self._check_recovered()
        original = next((name for name, current in self._current.items() if current is host), None)
        if original is None:
            return  # the scaler's instance: pending replicas bring capacity back
        yield self.env.timeout(spot.replace_after_s)
        count = self._replaced[original] = self._replaced.get(original, 0) + 1
        new = self.cluster.cloud.replace(
            host, f"{original}-r{count}", on_demand=spot.on_demand_fallback
        )
        self._current[original] = new
        how = "on-demand fallback" if spot.on_demand_fallback else "spot replacement"
        self.log.record(self.env.now, new.name, EventKind.HOST_RECOVERED, fault=fault, how=how)
        self.cluster.scheduler.capacity_changed()
        if new.params.spot is not None:
            self.env.process(self._spot_clock(new))

    def _faulted(self, host: Host) -> None:
        if host not in self.cluster.faulted:
            self.cluster.faulted.append(host)

    # Losses and recoveries -------------------------------------------------------------

    def _lose(self, replica: str, reason: str) -> None:
        self.ledger.lost[replica] = reason
        fleet = self.service.fleet if self.service is not None else None
        if fleet is not None and replica in fleet.members:
            fleet.lose(replica, reason)
        elif self.deployer.owns(replica):
            self.deployer.lose(replica, reason)

    def _running(self) -> int:
        if self.service is not None:
            return self.service.fleet.count("in_service")
        return self.deployer.running

    def _check_recovered(self, replica: str = "") -> None:
        running = None
        for recovery in self.recoveries:
            if recovery.recovered_s is not None:
                continue
            if running is None:
                running = self._running()
            if running >= recovery.target:
                recovery.recovered_s = self.env.now
                self.log.record(
                    self.env.now,
                    recovery.fault,
                    EventKind.SERVICE_RECOVERED,
                    time_to_recover_s=self.env.now - recovery.since_s,
                )

    # The run ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start every fault's processes, and the interruption clock of every spot host."""
        for host in self.cluster.pool_hosts:
            if host.params.spot is not None:
                self.env.process(self._spot_clock(host))
        self.cluster.cloud.launch_listeners.append(self._launched)
        for params in self.faults:
            kind = FAULTS.kind_of(params)
            for process in kind.build(params, self):
                self.env.process(process)

    def report(self, end_s: float) -> dict[str, Any]:
        """Its part of the summary: hosts failed, replicas lost and replaced, the longest
        time to recover (a fault not recovered counts until `end_s`; None without one)."""
        fleet = self.service.fleet if self.service is not None else None
        times = [
            (r.recovered_s if r.recovered_s is not None else end_s) - r.since_s
            for r in self.recoveries
        ]
        return {
            "hosts_failed": self.hosts_failed,
            "replicas_lost": self.deployer.replicas_lost + (fleet.replicas_lost if fleet else 0),
            "replicas_replaced": self.deployer.replicas_replaced
            + (fleet.replicas_replaced if fleet else 0),
            "time_to_recover_s": max(times) if times else None,
            "spot_interruptions": self.spot_interruptions,
        }

    def sample(self) -> dict[str, int]:
        """Its columns of a time-series row: hosts down now; hosts failed, replicas lost
        and replaced, spot interruptions so far."""
        fleet = self.service.fleet if self.service is not None else None
        return {
            "hosts_down": sum(host.down for host in self._current.values()),
            "hosts_failed": self.hosts_failed,
            "replicas_lost": self.deployer.replicas_lost + (fleet.replicas_lost if fleet else 0),
            "replicas_replaced": self.deployer.replicas_replaced
            + (fleet.replicas_replaced if fleet else 0),
            "spot_interruptions": self.spot_interruptions,
        }


__all__ = ["Resilience", "no_faults_report"]
