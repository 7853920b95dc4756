"""Deployments: replicas of apps asked for at given times, each started on its platform.

A deployment asks for `replicas` replicas of an app on a platform at a time (or one on
every host, as a DaemonSet; replica k of a staggered one ``k × stagger`` later), each
named ``<app>-<platform>-<n>``; a replica with a lifetime stops that long after it is
ready. The deployer runs them in time order and reports how many it asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import simpy

from sim.core.records import EventKind, EventLog, ReplicaRecord, ReplicaState
from sim.model.hosts.host import Host
from sim.model.hosts.replica import App, Ledger, Platform
from sim.model.primitives.clock import after
from sim.model.primitives.signal import Signal

_REPLICA_STATE = EventKind.REPLICA_STATE
_STATE = ("state",)
_REQUESTED = (ReplicaState.REQUESTED,)
"""A requested replica's event as constants (an enum member's lookup on its class
takes ~0.1 µs)."""


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
        self._gone: set[str] = set()
        """Replicas lost with their host or evicted from a drained node."""
        self._unreachable: set[str] = set()
        self._replacements: list[Signal] = []
        self._ending = 0
        """The deployments' replicas whose start-up (and lifetime) has not ended."""
        self._all_ended: simpy.Event | None = None
        """Happens once none of them is left, when the deployer is waiting for that."""

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The SimPy process: every deployment in time order, then until all its
        replicas are ready or failed."""
        for deployment in sorted(self.deployments, key=lambda d: d.at_s):
            if deployment.at_s > self.env.now:
                yield self.env.timeout(deployment.at_s - self.env.now)
            self._start(deployment, self._numbering)
        # As `all_of` over the replicas' ends would, without an event per replica.
        self._all_ended = self.env.event()
        if not self._ending:
            self._all_ended.succeed()
        yield self._all_ended
        while any(not ended.triggered for ended in self._replacements):
            yield self.env.all_of([ended for ended in self._replacements if not ended.triggered])

    def owns(self, replica: str) -> bool:
        """Whether `replica` is one of the deployments'."""
        return replica in self._owned

    def lose(self, replica: str, reason: str, replace: bool = True) -> None:
        """The replica is gone with its host: what it held is released and, unless it
        was pinned to that host (a DaemonSet's), a replacement is asked for at once — or,
        without `replace`, when the control plane evicts its pod (`replace_unreachable`)."""
        platform, app, lifetime_s, pinned = self._owned[replica]
        self._gone.add(replica)
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

    def evict(self, replica: str) -> None:
        """The replica's node is drained: a replica that runs stops, and unless it is a
        DaemonSet's pod a replacement is asked for at once (the ReplicaSet's new pod);
        one still starting is left to finish first."""
        platform, _, _, daemon = self._owned[replica]
        if replica in self._gone or replica in self.ledger.starting:
            return
        if self.ledger.get(replica) is None:
            return
        self._gone.add(replica)
        platform.stop_replica(replica)
        self.running -= 1
        if not daemon:
            self._replace(replica, None, counted=False)

    def _replace(self, replica: str, pinned: Host | None, counted: bool = True) -> None:
        """Ask for a new replica in the place of `replica` (counted among
        ``replicas_replaced`` when it replaces a lost one, not an evicted one)."""
        platform, app, lifetime_s, daemon = self._owned[replica]
        prefix = f"{app}-{platform.name}"
        self._numbering[prefix] = self._numbering.get(prefix, 0) + 1
        name = f"{prefix}-{self._numbering[prefix]}"
        self._request(name)
        ended = Signal(self.env)
        self._replacements.append(ended)
        self._launch(platform, name, app, pinned, lifetime_s, ended.succeed, counted, daemon)

    def _start(self, deployment: Deployment, numbering: dict[str, int]) -> None:
        """Ask for the deployment's replicas; each starts at once, one after the other
        (a staggered one when its turn comes)."""
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
        pinned: list[Host | None] = (
            list(hosts) if deployment.per_host else [None] * deployment.replicas
        )
        prefix = f"{deployment.app}-{deployment.platform}"
        for index, host in enumerate(pinned):
            numbering[prefix] = number = numbering.get(prefix, 0) + 1
            replica = f"{prefix}-{number}"
            self._ending += 1
            if index and deployment.stagger_s:
                later = partial(self._later, platform, replica, deployment, host)
                after(self.env, index * deployment.stagger_s, later)
            else:
                self._request(replica)
                self._launch(
                    platform, replica, deployment.app, host, deployment.lifetime_s, self._ended
                )

    def _ended(self) -> None:
        """One of the deployments' replicas has ended its start-up (and lifetime)."""
        self._ending -= 1
        if not self._ending and self._all_ended is not None:
            self._all_ended.succeed()

    def _request(self, replica: str) -> None:
        self.requested += 1
        self.log.add(self.env.now, replica, _REPLICA_STATE, _STATE, _REQUESTED)

    def _later(
        self,
        platform: Platform,
        replica: str,
        deployment: Deployment,
        pinned: Host | None,
        _: object,
    ) -> None:
        """Request a replica of a staggered deployment when its turn comes."""
        self._request(replica)
        self._launch(platform, replica, deployment.app, pinned, deployment.lifetime_s, self._ended)

    def _launch(
        self,
        platform: Platform,
        replica: str,
        app: str,
        pinned: Host | None,
        lifetime_s: float | None,
        ended: Callable[[], object],
        replacement: bool = False,
        daemon: bool | None = None,
    ) -> None:
        """Start a replica now; `ended` is called once it failed, or ended ready and,
        with a lifetime, stopped."""
        self._owned[replica] = (
            platform,
            app,
            lifetime_s,
            pinned is not None if daemon is None else daemon,
        )
        started = partial(self._started, platform, replica, lifetime_s, replacement, ended)
        platform.launch(replica, self.apps[app], pinned, started)

    def _started(
        self,
        platform: Platform,
        replica: str,
        lifetime_s: float | None,
        replacement: bool,
        ended: Callable[[], object],
        record: ReplicaRecord,
    ) -> None:
        self.ledger.finished(record)
        if replica in self._gone:
            if self.ledger.get(replica) is not None:
                platform.stop_replica(replica)
            ended()
            return
        if record.state != "ready":
            ended()
            return
        self.running += 1
        if replacement:
            self.replicas_replaced += 1
        for listener in self.ready_listeners:
            listener(replica)
        if lifetime_s is None:
            ended()
            return
        after(self.env, lifetime_s, partial(self._lifetime_over, platform, replica, ended))

    def _lifetime_over(
        self, platform: Platform, replica: str, ended: Callable[[], object], _: object
    ) -> None:
        if replica not in self._gone:
            platform.stop_replica(replica)
            self.running -= 1
        ended()
