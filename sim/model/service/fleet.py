"""A fleet: the replicas of one application behind a load balancer, kept at a desired size.

Like an Auto Scaling group behind an Elastic Load Balancer (or a Kubernetes Deployment
behind a Service): the fleet launches replicas on its platform until it has as many as
desired; a replica that is ready passes the load balancer's health check
(``healthy_threshold`` checks ``health_check_interval_s`` apart) and then takes traffic.
Scaling in picks replicas still launching first, then the newest in service; a replica in
service is drained: it gets no new requests, its in-flight requests finish, then it
stops. (An Elastic Load Balancer completes deregistration as soon as a target has no
in-flight requests, and cuts those still running after the deregistration delay, 300 s
by default; requests here never run that long, so none is cut.) A launch that fails is
replaced after ``relaunch_delay_s``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol

import simpy

from sim.core.records import EventKind, EventLog, ReplicaRecord, ReplicaState
from sim.model.hosts.host import Host
from sim.model.hosts.replica import App, Ledger, Platform
from sim.model.service.monitoring import Monitoring
from sim.model.service.replica_queue import ReplicaQueue
from sim.policies.backoff import CrashLoopBackoff


class Draining(Protocol):
    """A replica's queue being drained."""

    def outstanding(self, t_s: float) -> int: ...

    def drained_at_s(self) -> float: ...


class ReplicaTraffic(Protocol):
    """The traffic a fleet adds its replicas to (either traffic mode)."""

    def add_replica(self, queue: ReplicaQueue) -> None: ...

    def drain_replica(self, name: str) -> Draining: ...

    def remove_replica(self, name: str) -> Draining: ...


@dataclass(frozen=True, slots=True)
class FleetParams:
    """How the fleet's replicas serve and are checked (SI units)."""

    workers: int
    queue_capacity: int
    timeout_s: float
    health_check_interval_s: float
    healthy_threshold: int
    relaunch_delay_s: float = 10.0
    track_requests: bool = False


@dataclass(slots=True)
class Member:
    """One replica of the fleet and where it is in its life."""

    name: str
    launched_s: float
    state: str = "launching"
    ready_s: float | None = None
    in_service_s: float | None = None
    stopped_s: float | None = None
    record: ReplicaRecord | None = None
    cancelled: bool = False
    queue: ReplicaQueue | None = None
    replacement: bool = False
    pinned: Host | None = None
    """The host it must start on (its node came back before its pods were evicted)."""


class Fleet:
    """The replicas of one app on one platform, scaled by `set_desired`.

    Args:
        env: the simulation environment.
        app: the application.
        platform: where its replicas run.
        params: serving and health-check settings.
        traffic: the request driver whose ready set this fleet keeps up to date.
        monitoring: told when replicas enter and leave service.
        log: the event log.
        record: called with each finished replica start-up's record.
        ledger: the replicas' holdings (to clean up after a replica lost while starting).
        failed: told about requests cut when a replica is lost, with the reason.
    """

    def __init__(
        self,
        env: simpy.Environment,
        app: App,
        platform: Platform,
        params: FleetParams,
        traffic: ReplicaTraffic,
        monitoring: Monitoring,
        log: EventLog,
        record: Callable[[ReplicaRecord], None],
        ledger: Ledger | None = None,
        failed: Callable[[list[tuple[float, float, float]], str], None] | None = None,
    ) -> None:
        self.env = env
        self.app = app
        self.platform = platform
        self.params = params
        self.traffic = traffic
        self.monitoring = monitoring
        self.log = log
        self.record = record
        self.size_max = 0
        self.live = env.event()
        """Succeeds the first time as many replicas have served as are desired (see
        `ready_for_traffic`)."""
        self.name = f"{app.name}-{platform.name}"
        self.desired = 0
        self.members: dict[str, Member] = {}
        self.history: list[Member] = []
        self._launched = 0
        self.ledger = ledger
        self.failed = failed
        self.replicas_lost = 0
        self.replicas_replaced = 0
        self.in_service_listeners: list[Callable[[str], None]] = []
        """Told the name of each replica entering service (fault recovery watches)."""
        self.container_crashes = 0
        self.unreachable: dict[str, Member] = {}
        """Replicas lost with a host the control plane has not given up on yet: their
        pods still count toward the desired size until they are evicted."""

    def active(self) -> list[Member]:
        """Members launching, in service or restarting (not draining, not stopped), and
        those on an unreachable host awaiting eviction."""
        return [
            m for m in self.members.values() if m.state in ("launching", "in_service", "restarting")
        ] + list(self.unreachable.values())

    def count(self, state: str) -> int:
        return sum(member.state == state for member in self.members.values())

    def set_desired(self, desired: int, reason: str = "") -> None:
        """Change the desired number of replicas; launches or drains at once."""
        self.log.record(
            self.env.now,
            self.name,
            EventKind.DESIRED_CAPACITY,
            desired=desired,
            previous=self.desired,
            reason=reason,
        )
        self.desired = desired
        self._reconcile()
        self._check_live()

    def _reconcile(self, pinned: Host | None = None) -> None:
        active = self.active()
        for _ in range(self.desired - len(active)):
            self._launch(pinned)
        surplus = len(active) - self.desired
        if surplus <= 0:
            return
        for name in list(self.unreachable)[:surplus]:
            del self.unreachable[name]
            surplus -= 1
        active = [m for m in active if m.state != "lost"]
        launching = [m for m in active if m.state == "launching" and not m.cancelled]
        in_service = sorted(
            (m for m in active if m.state == "in_service"),
            key=lambda m: (m.launched_s, m.name),
            reverse=True,
        )
        for member in (launching[::-1] + in_service)[:surplus]:
            if member.state == "launching":
                member.cancelled = True
                member.state = "cancelled"
            else:
                self._drain(member)

    def lose(self, name: str, reason: str, replace: bool = True) -> None:
        """The replica is gone with its host: requests it was serving fail for `reason`,
        what it held is released, and a replacement is launched at once — or, without
        `replace`, when the control plane evicts its pod (`replace_unreachable`)."""
        member = self.members.pop(name)
        previous = member.state
        now = self.env.now
        member.state = "lost"
        member.stopped_s = now
        self.replicas_lost += 1
        self.log.record(now, name, EventKind.REPLICA_STATE, state=ReplicaState.LOST, reason=reason)
        queue = member.queue
        if previous == "in_service":
            self.traffic.remove_replica(name)
            self.monitoring.replica_out_of_service(name)
        if queue is not None and self.failed is not None:
            self.failed(queue.cut(now), reason)
        if member.ready_s is not None and previous != "stopped":
            self.platform.stop_replica(name)
        if not replace:
            self.unreachable[name] = member
            return
        self._replace()

    def replace_unreachable(self, name: str, pinned: Host | None = None) -> None:
        """The pod of a replica lost with its host is gone now: evicted (its replacement
        goes where the scheduler puts it), or its host came back (`pinned`: the kubelet
        starts it there again)."""
        if self.unreachable.pop(name, None) is not None:
            self._replace(pinned)

    def _replace(self, pinned: Host | None = None) -> None:
        before = self._launched
        self._reconcile(pinned)
        for index in range(before + 1, self._launched + 1):
            self.members[f"{self.name}-{index}"].replacement = True

    def evict(self, name: str) -> None:
        """The replica's host is about to go (a spot notice): drain it and launch its
        replacement at once."""
        member = self.members[name]
        if member.state != "in_service":
            return
        self._drain(member)
        self._replace()

    def crash_container(
        self, name: str, reason: str, restart_s: float, backoff: CrashLoopBackoff
    ) -> None:
        """The replica's container exits: the requests it was serving fail for `reason`;
        the kubelet restarts it in place after its CrashLoopBackOff delay (none after its
        first exit), the restart takes `restart_s`, and it serves again once it passes the
        health check."""
        member = self.members[name]
        if member.state != "in_service":
            return
        now = self.env.now
        self.container_crashes += 1
        self.traffic.remove_replica(name)
        self.monitoring.replica_out_of_service(name)
        if member.queue is not None and self.failed is not None:
            self.failed(member.queue.cut(now), reason)
        delay_s = backoff.restart_delay_s(name, now)
        member.state = "restarting"
        self.log.record(
            now,
            name,
            EventKind.REPLICA_STATE,
            state=ReplicaState.CRASH_LOOP_BACKOFF,
            reason=reason,
            backoff_s=delay_s,
        )
        self.env.process(self._restart(member, delay_s + restart_s))

    def _restart(self, member: Member, wait_s: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(wait_s)
        if member.state != "restarting":
            return
        self.log.record(
            self.env.now, member.name, EventKind.REPLICA_STATE, state=ReplicaState.STARTING
        )
        params = self.params
        yield self.env.timeout(params.health_check_interval_s * params.healthy_threshold)
        if member.state != "restarting":
            return
        self._enter_service(member)

    def _launch(self, pinned: Host | None = None) -> None:
        self._launched += 1
        name = f"{self.name}-{self._launched}"
        member = Member(name, self.env.now, pinned=pinned)
        self.members[name] = member
        self.history.append(member)
        self.size_max = max(self.size_max, len(self.members))
        self.log.record(self.env.now, name, EventKind.REPLICA_STATE, state=ReplicaState.REQUESTED)
        self.env.process(self._start(member))

    def _start(self, member: Member) -> Generator[simpy.Event, Any, None]:
        record = yield from self.platform.start_replica(
            member.name, self.app, self.env.now, member.pinned
        )
        member.record = record
        self.record(record)
        if member.state == "lost":
            if self.ledger is not None and self.ledger.get(member.name) is not None:
                self.platform.stop_replica(member.name)
            return
        if record.state != "ready":
            member.state = "failed"
            member.stopped_s = self.env.now
            del self.members[member.name]
            yield self.env.timeout(self.params.relaunch_delay_s)
            self._reconcile()
            return
        member.ready_s = self.env.now
        if member.cancelled:
            self._stop(member)
            return
        params = self.params
        yield self.env.timeout(params.health_check_interval_s * params.healthy_threshold)
        if member.state == "lost":
            return
        if member.cancelled:
            self._stop(member)
            return
        self._enter_service(member)

    def _enter_service(self, member: Member) -> None:
        params = self.params
        first = member.in_service_s is None
        member.state = "in_service"
        member.in_service_s = self.env.now
        member.queue = ReplicaQueue(
            member.name,
            params.workers,
            params.queue_capacity,
            params.timeout_s,
            params.track_requests,
        )
        self.traffic.add_replica(member.queue)
        if member.replacement and first:
            self.replicas_replaced += 1
        self.monitoring.replica_in_service(member.name)
        self.log.record(
            self.env.now, member.name, EventKind.REPLICA_STATE, state=ReplicaState.IN_SERVICE
        )
        self._check_live()
        for listener in self.in_service_listeners:
            listener(member.name)

    def ready_for_traffic(self) -> bool:
        """Whether the fleet is ready for traffic: as many replicas have passed their
        health check and are still members as are desired. A replica restarting after a
        container crash counts (it served, and will again), so a crash loop does not
        hold traffic back for ever."""
        served = sum(m.state in ("in_service", "restarting") for m in self.members.values())
        return served >= self.desired

    def _check_live(self) -> None:
        """Open to traffic once ready; checked whenever the desired count or a replica's
        readiness changes, so a scale-in before the first replica serves cannot leave
        the service waiting for a replica that will never come."""
        if not self.live.triggered and self.ready_for_traffic():
            self.live.succeed()

    def _drain(self, member: Member) -> None:
        member.state = "draining"
        queue = self.traffic.drain_replica(member.name)
        self.monitoring.replica_out_of_service(member.name)
        self.log.record(
            self.env.now,
            member.name,
            EventKind.REPLICA_STATE,
            state=ReplicaState.DRAINING,
            in_flight=queue.outstanding(self.env.now),
        )
        self.env.process(self._finish_drain(member, queue))

    def _finish_drain(self, member: Member, queue: Draining) -> Generator[simpy.Event, Any, None]:
        wait_s = max(queue.drained_at_s() - self.env.now, 0.0)
        yield self.env.timeout(wait_s)
        if member.state != "lost":
            self._stop(member)

    def _stop(self, member: Member) -> None:
        self.platform.stop_replica(member.name)
        member.state = "stopped"
        member.stopped_s = self.env.now
        self.members.pop(member.name, None)
