"""Resilience: the faults injected into a run, the world they act on, and their tally.

`Resilience` is the world a fault acts on (`sim.model.faults.kinds.FaultWorld`): it starts
each fault's processes at the run's start and routes what a fault does to the part that
handles it — hosts failing and coming back (`HostFaults`: crashes, disk pressure, spot
reclaims), registries and links going down, containers crashing — while the `Tally`
hands every lost replica to its owner (the service's fleet, like an Auto Scaling group or
a Deployment; or the deployer), which asks for a replacement (a crashed host's only once
the control plane evicts its pods: `sim.model.cluster.node_lifecycle`), and times each
recovery. Every crash, loss, return and recovery is an event.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any

import numpy as np
import simpy

from sim.core.distributions import Distribution
from sim.core.records import EventKind, EventLog, FailReason
from sim.core.streams import RandomStreams
from sim.model.cluster.cluster import Cluster
from sim.model.cluster.deployments import Deployer
from sim.model.cluster.node_lifecycle import NodeLifecycleParams
from sim.model.faults.host_faults import HostFaults
from sim.model.faults.kinds import FAULTS
from sim.model.faults.tally import Tally, no_faults_report
from sim.model.hosts.host import Host
from sim.model.hosts.replica import Ledger
from sim.model.service.fleet import Fleet, Member
from sim.model.service.service import Service
from sim.policies.backoff import CrashLoopBackoff


class Resilience:
    """Injects a run's faults and keeps their tally.

    Args:
        env: the simulation environment.
        faults: the fault specs (each the parameters of a kind of `FAULTS`).
        cluster: the hosts, the cloud and the scheduler.
        ledger: every replica's holdings and start-ups.
        deployer: the deployments (owner of their replicas).
        service: the served app (its fleet owns its replicas), or None.
        log: the event log.
        streams: the run's named random streams (faults draw from ``faults/...``).
        node_lifecycle: when the pods of a crashed host are evicted and replaced.
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
        node_lifecycle: NodeLifecycleParams | None = None,
    ) -> None:
        self.env = env
        self.faults = tuple(faults)
        self.cluster = cluster
        self.log = log
        self.streams = streams
        self.tally = Tally(env, ledger, deployer, service, log)
        self.hosts = HostFaults(env, cluster, self.tally, log, streams, node_lifecycle)
        crash_loop = cluster.engine_params.crash_loop_backoff
        self.crash_loop = CrashLoopBackoff(crash_loop.initial_s, crash_loop.max_s)

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
        self.hosts.crash(hosts, fault, recovery)

    def recover(self, hosts: Sequence[Host], fault: str) -> None:
        """The hosts come back: rebooted, or replaced by new instances."""
        self.hosts.recover(hosts, fault)

    def fill_disk(
        self, host: Host, fault: str, fill_bytes: int, eviction_percent: float
    ) -> tuple[Host, int]:
        """Fill the (current) host's disk; past the eviction threshold, evict its pods."""
        return self.hosts.fill_disk(host, fault, fill_bytes, eviction_percent)

    def release_disk(
        self, host: Host, fault: str, filled_bytes: int, eviction_percent: float
    ) -> None:
        """The fill is gone; the node's taint is lifted once it is under the threshold."""
        self.hosts.release_disk(host, fault, filled_bytes, eviction_percent)

    @property
    def filled_bytes(self) -> Mapping[str, int]:
        """Bytes disk-pressure faults hold on each host's disk now."""
        return self.hosts.filled_bytes

    def registry_down(self, registry: str, fault: str, down: bool) -> None:
        """The registry answers 503 to everything (down) or serves again."""
        self.cluster.registries[registry].outage = fault if down else None
        kind = EventKind.REGISTRY_DOWN if down else EventKind.REGISTRY_UP
        self.log.record(self.env.now, registry, kind, fault=fault)

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

    # Containers that crash -------------------------------------------------------------

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
        fleet = self.tally.fleet
        return fleet if fleet is not None and fleet.app.name == app else None

    # The run ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start every fault's processes, and the interruption clock of every spot host."""
        self.hosts.start_spot_clocks()
        for params in self.faults:
            kind = FAULTS.kind_of(params)
            for process in kind.build(params, self):
                self.env.process(process)

    def report(self, end_s: float) -> dict[str, Any]:
        """Its part of the summary (`Tally.report`)."""
        return self.tally.report(end_s)

    def sample(self) -> dict[str, int]:
        """Its columns of a time-series row (`Tally.sample`)."""
        return self.tally.sample(self.hosts.hosts_down)


__all__ = ["Resilience", "no_faults_report"]
