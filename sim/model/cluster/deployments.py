"""Deployments: replicas of apps asked for at given times, each started on its platform.

A deployment asks for `replicas` replicas of an app on a platform at a time (or one on
every host, as a DaemonSet; replica k of a staggered one ``k × stagger`` later), each
named ``<app>-<platform>-<n>``; a replica with a lifetime stops that long after it is
ready. The deployer runs them in time order and reports how many it asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import simpy

from sim.core.records import EventKind, EventLog, ReplicaState
from sim.model.hosts.host import Host
from sim.model.hosts.replica import App, Ledger, Platform


@dataclass(frozen=True, slots=True)
class Deployment:
    """Start `replicas` replicas of `app` on `platform` at simulated time `at_s`; with
    `per_host`, one replica on every host instead (like a Kubernetes DaemonSet). With a
    `stagger_s`, replica k (from 0, in host order for `per_host`) is requested at
    ``at_s + k * stagger_s`` instead of all at once (a rolling roll-out). With a
    `lifetime_s`, each replica stops that long after it is ready (a batch job, a rollout
    that replaces it), so its image becomes unused and image GC may remove it."""

    app: str
    replicas: int
    at_s: float
    platform: str
    per_host: bool = False
    lifetime_s: float | None = None
    stagger_s: float = 0.0


class Deployer:
    """Runs deployments.

    Args:
        env: the simulation environment.
        deployments: what to deploy, and when.
        platforms: the loaded platforms, by name.
        apps: the applications, by name.
        hosts: the cluster's hosts now (a per-host deployment starts one on each).
        ledger: where each start-up's record goes.
        log: the event log.
    """

    def __init__(
        self,
        env: simpy.Environment,
        deployments: Sequence[Deployment],
        platforms: Mapping[str, Platform],
        apps: Mapping[str, App],
        hosts: Callable[[], Sequence[Host]],
        ledger: Ledger,
        log: EventLog,
    ) -> None:
        self.env = env
        self.deployments = deployments
        self.platforms = platforms
        self.apps = apps
        self.hosts = hosts
        self.ledger = ledger
        self.log = log
        self.requested = 0
        """Replicas asked for so far."""
        self.running = 0
        """Replicas ready and not stopped or lost."""
        self.replicas_lost = 0
        self.replicas_replaced = 0
        self.ready_listeners: list[Callable[[str], None]] = []
        """Told whenever a replica becomes ready (fault recovery watches this)."""
        self._numbering: dict[str, int] = {}
        self._owned: dict[str, tuple[Platform, str, float | None, bool]] = {}
        self._lost: set[str] = set()
        self._unreachable: set[str] = set()
        self._replacements: list[simpy.Process] = []

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The SimPy process: every deployment in time order, then until all its
        replicas are ready or failed."""
        started: list[simpy.Process] = []
        for deployment in sorted(self.deployments, key=lambda d: d.at_s):
            if deployment.at_s > self.env.now:
                yield self.env.timeout(deployment.at_s - self.env.now)
            started.extend(self._start(deployment, self._numbering))
        yield self.env.all_of(started)
        while any(not process.triggered for process in self._replacements):
            yield self.env.all_of([p for p in self._replacements if not p.triggered])

    def owns(self, replica: str) -> bool:
        """Whether `replica` is one of the deployments'."""
        return replica in self._owned

    def lose(self, replica: str, reason: str, replace: bool = True) -> None:
        """The replica is gone with its host: what it held is released and, unless it
        was pinned to that host (a DaemonSet's), a replacement is asked for at once — or,
        without `replace`, when the control plane evicts its pod (`replace_unreachable`)."""
        platform, app, lifetime_s, pinned = self._owned[replica]
        self._lost.add(replica)
        self.replicas_lost += 1
        self.log.record(
            self.env.now, replica, EventKind.REPLICA_STATE, state=ReplicaState.LOST, reason=reason
        )
        if replica not in self.ledger.starting and self.ledger.get(replica) is not None:
            platform.stop_replica(replica)
            self.running -= 1
        if not replace:
            self._unreachable.add(replica)
            return
        if pinned:
            return
        self._replace(replica, None)

    def replace_unreachable(self, replica: str, pinned: Host | None = None) -> None:
        """The pod of a replica lost with its host is gone now: evicted (a replacement
        goes where the scheduler puts it; the caller never evicts a DaemonSet's pod), or
        its host came back (`pinned`: the kubelet starts it there again)."""
        if replica not in self._unreachable:
            return
        self._unreachable.discard(replica)
        self._replace(replica, pinned)

    def is_daemon(self, replica: str) -> bool:
        """Whether `replica` is a DaemonSet's pod (pinned to its host)."""
        return replica in self._owned and self._owned[replica][3]

    def _replace(self, replica: str, pinned: Host | None) -> None:
        platform, app, lifetime_s, daemon = self._owned[replica]
        prefix = f"{app}-{platform.name}"
        self._numbering[prefix] = self._numbering.get(prefix, 0) + 1
        name = f"{prefix}-{self._numbering[prefix]}"
        self._request(name)
        self._replacements.append(
            self.env.process(
                self._replica(platform, name, app, pinned, lifetime_s, True, daemon=daemon)
            )
        )

    def _start(self, deployment: Deployment, numbering: dict[str, int]) -> list[simpy.Process]:
        platform = self.platforms[deployment.platform]
        hosts = self.hosts()
        staggered = {"stagger_s": deployment.stagger_s} if deployment.stagger_s else {}
        self.log.record(
            self.env.now,
            "deployer",
            EventKind.DEPLOYMENT,
            app=deployment.app,
            replicas=len(hosts) if deployment.per_host else deployment.replicas,
            platform=deployment.platform,
            **staggered,
        )
        processes = []
        pinned: list[Host | None] = (
            list(hosts) if deployment.per_host else [None] * deployment.replicas
        )
        for index, host in enumerate(pinned):
            prefix = f"{deployment.app}-{deployment.platform}"
            numbering[prefix] = numbering.get(prefix, 0) + 1
            replica = f"{prefix}-{numbering[prefix]}"
            replica_run = self._replica(
                platform, replica, deployment.app, host, deployment.lifetime_s
            )
            if index and deployment.stagger_s:
                replica_run = self._later(index * deployment.stagger_s, replica, replica_run)
            else:
                self._request(replica)
            processes.append(self.env.process(replica_run))
        return processes

    def _request(self, replica: str) -> None:
        self.requested += 1
        self.log.record(
            self.env.now, replica, EventKind.REPLICA_STATE, state=ReplicaState.REQUESTED
        )

    def _later(
        self, delay_s: float, replica: str, replica_run: Generator[simpy.Event, Any, None]
    ) -> Generator[simpy.Event, Any, None]:
        """Request a replica of a staggered deployment when its turn comes."""
        yield self.env.timeout(delay_s)
        self._request(replica)
        yield from replica_run

    def _replica(
        self,
        platform: Platform,
        replica: str,
        app: str,
        pinned: Host | None,
        lifetime_s: float | None,
        replacement: bool = False,
        daemon: bool | None = None,
    ) -> Generator[simpy.Event, Any, None]:
        self._owned[replica] = (
            platform,
            app,
            lifetime_s,
            pinned is not None if daemon is None else daemon,
        )
        record = yield from platform.start_replica(replica, self.apps[app], self.env.now, pinned)
        self.ledger.finished(record)
        if replica in self._lost:
            if self.ledger.get(replica) is not None:
                platform.stop_replica(replica)
            return
        if record.state != "ready":
            return
        self.running += 1
        if replacement:
            self.replicas_replaced += 1
        for listener in self.ready_listeners:
            listener(replica)
        if lifetime_s is not None:
            yield self.env.timeout(lifetime_s)
            if replica in self._lost:
                return
            platform.stop_replica(replica)
            self.running -= 1
