"""What every platform shares: the app a replica runs, its start-up record, its holdings.

Replica lifecycle (events ``replica_state``): requested → pending (while nothing fits)
→ scheduled → (provisioning → booting) and/or (pulling → creating → starting) →
initializing → ready; or failed, with the reason. A fleet then puts a ready replica in
service, drains it and stops it (removed / stopped).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import simpy

from sim.core.distributions import Distribution
from sim.core.records import DetailValue, EventKind, EventLog, ReplicaRecord, ReplicaState
from sim.model.hosts.host import Host, millicores
from sim.model.images.image import Image
from sim.model.primitives.clock import after
from sim.model.primitives.signal import Signal
from sim.policies.scheduling.objects import LabelSelector, PodInfo


@dataclass(frozen=True, slots=True)
class App:
    """An application: its image, the resources one replica requests, its start-up work,
    and the memory it actually uses (its working set; None: as much as it requests)."""

    name: str
    image: Image
    vcpu: float
    memory_bytes: int
    init: Distribution
    startup_read_fraction: float | None = None
    """The share of each layer it reads at start-up with a lazy snapshotter (None: the
    snapshotter's own)."""
    working_set_bytes: int | None = None
    """The memory a replica uses (None: its request)."""
    pod_spec: PodInfo | None = None
    """Its replicas' labels and scheduling constraints, as a pod template (None: the label
    ``app: <name>`` and no constraint)."""

    @property
    def used_memory_bytes(self) -> int:
        """The memory a replica uses: its working set, else its request."""
        return self.memory_bytes if self.working_set_bytes is None else self.working_set_bytes


def replica_pod(replica: str, app: App, vcpu: float, memory_bytes: int) -> PodInfo:
    """A replica of `app` as the pod the scheduler places: the app's pod template with
    the replica's name, requests and image.

    Every replica carries the label ``app: <name>`` (unless the app sets another
    ``app``), and the pods with the app's labels are what the system's default topology
    spreading counts, as if a Service selected the app's pods by them.
    """
    template = app.pod_spec
    if template is None:
        labels = {"app": app.name}
        return PodInfo(
            replica,
            labels=labels,
            milli_cpu=millicores(vcpu),
            memory_bytes=memory_bytes,
            images=(app.image.name,),
            default_spread_selector=LabelSelector(tuple(labels.items())),
        )
    # By position, not `dataclasses.replace`: a DaemonSet makes one pod per host.
    return PodInfo(
        replica,
        template.labels,
        millicores(vcpu),
        memory_bytes,
        (app.image.name,),
        template.tolerations,
        template.node_selector,
        template.required_node_terms,
        template.preferred_node_terms,
        template.required_anti_affinity,
        template.preferred_anti_affinity,
        template.spread_constraints,
        template.default_spread_selector,
        template.priority,
    )


@dataclass(frozen=True, slots=True)
class Holding:
    """What a running replica holds on its host, to give back when it stops."""

    host: Host
    vcpu: float
    memory_bytes: int
    disk_bytes: int
    image: str = ""


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a replica held and for how long: the basis of resource-seconds reserved."""

    replica: str
    vcpu: float
    memory_bytes: int
    app_memory_bytes: int
    since_s: float
    until_s: float


class Ledger:
    """The book of a run's replicas: the holdings of running ones, the reservations of
    stopped ones, the start-ups in progress (so a run's end can say where each one
    stands), and the record of each start-up that ended."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[Holding, float, int]] = {}
        self.closed: list[Reservation] = []
        self.starting: dict[str, Startup] = {}
        self.records: list[ReplicaRecord] = []
        self.ready = 0
        """Start-ups that ended ready."""
        self.lost: dict[str, str] = {}
        """Replicas lost with their host, and why (a start-up still running on a crashed
        host ends failed with that reason)."""

    def finished(self, record: ReplicaRecord) -> None:
        """Keep the record of a start-up that ended (ready or failed)."""
        self.records.append(record)
        if record.state == "ready":
            self.ready += 1

    def unfinished(self, now_s: float, pending_reasons: Mapping[str, str]) -> list[ReplicaRecord]:
        """Records of the start-ups still in progress at `now_s`, with their state and
        why (a pending one: why nothing fits, and its wait so far)."""
        records = []
        for name, startup in self.starting.items():
            if name in pending_reasons:
                startup.add("wait_s", now_s - startup.requested_s)
                records.append(startup.unfinished("pending", pending_reasons[name]))
            else:
                records.append(startup.unfinished())
        return records

    def open(self, replica: str, holding: Holding, app: App, now_s: float) -> None:
        self._open[replica] = (holding, now_s, app.used_memory_bytes)

    def on_host(self, host: Host) -> list[str]:
        """The replicas holding resources on `host` or starting there, in the order they
        were placed or opened (start-ups first)."""
        starting = [name for name, startup in self.starting.items() if startup.host == host.name]
        held = [
            name
            for name, (holding, _, _) in self._open.items()
            if holding.host is host and name not in self.starting
        ]
        return starting + held

    def get(self, replica: str) -> Holding | None:
        entry = self._open.get(replica)
        return None if entry is None else entry[0]

    def close(self, replica: str, now_s: float) -> Holding:
        holding, since_s, app_memory = self._open.pop(replica)
        self.closed.append(
            Reservation(replica, holding.vcpu, holding.memory_bytes, app_memory, since_s, now_s)
        )
        return holding

    def reservations(self, now_s: float) -> list[Reservation]:
        """Every reservation, those still open counted until `now_s`."""
        still_open = [
            Reservation(replica, holding.vcpu, holding.memory_bytes, app_memory, since_s, now_s)
            for replica, (holding, since_s, app_memory) in self._open.items()
        ]
        return self.closed + still_open


class Platform(Protocol):
    """Starts and stops replicas of applications."""

    name: str
    kind: str

    def start_replica(
        self, replica: str, app: App, requested_s: float, pinned: Host | None = None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]: ...

    def launch(
        self, replica: str, app: App, pinned: Host | None, then: Callable[[ReplicaRecord], Any]
    ) -> None:
        """Start one replica of `app` now, as `start_replica` would, then call `then` with
        its record."""
        ...

    def stop_replica(self, replica: str) -> None: ...


# Enum members as module constants: looking one up on its class takes ~0.1 µs, and a
# replica's start-up records a state change several times.
_REPLICA_STATE = EventKind.REPLICA_STATE
_READY = ReplicaState.READY
_FAILED = ReplicaState.FAILED
_STATE_ONLY = ("state",)
_HOST = ("state", "host")
_STATE_DETAILS: dict[tuple[str, ...], tuple[str, ...]] = {}
"""The detail names of a ``replica_state`` event, by the names of its particulars."""


class Startup:
    """One replica's start-up: logs its state changes, times its phases, makes its record.

    It is listed in the ledger's `starting` until it ends ready or failed, with the state
    it is in and why, so a replica still starting when the run ends still gets a record.
    """

    __slots__ = (
        "env",
        "log",
        "replica",
        "app",
        "platform",
        "requested_s",
        "host",
        "phases",
        "state",
        "reason",
        "_ledger",
    )

    def __init__(
        self,
        env: simpy.Environment,
        log: EventLog,
        replica: str,
        app: App,
        platform: str,
        ledger: Ledger | None = None,
    ) -> None:
        self.env = env
        self.log = log
        self.replica = replica
        self.app = app
        self.platform = platform
        self.requested_s = env.now
        self.host = ""
        self.phases: dict[str, Any] = {}
        self.state = "requested"
        self.reason = ""
        self._ledger = ledger
        if ledger is not None:
            ledger.starting[replica] = self

    def enter(self, state: str, **details: Any) -> float:
        """Log that the replica is in `state` now (with `details`); returns the time."""
        if not details:
            return self.enter_with(state, _STATE_ONLY, (state,))
        key = tuple(details)
        names = _STATE_DETAILS.get(key)
        if names is None:
            names = _STATE_DETAILS.setdefault(key, ("state", *key))
        now_s = self.enter_with(state, names, (state, *details.values()))
        if "reason" in details:
            self.reason = str(details["reason"])
        return now_s

    def enter_with(
        self, state: str, names: tuple[str, ...], values: tuple[DetailValue, ...]
    ) -> float:
        """`enter` for the busiest steps, given the event's detail names (``state``
        first, then no ``reason``) and values apart; returns the time."""
        now_s: float = self.env.now
        self.log.append((now_s, self.replica, _REPLICA_STATE, names, values))
        self.state = state
        self.reason = ""
        return now_s

    def _end(self) -> None:
        if self._ledger is not None:
            self._ledger.starting.pop(self.replica, None)

    def unfinished(self, state: str = "", reason: str = "") -> ReplicaRecord:
        """The record of a start-up the run ended during: its state now and why."""
        return self._record(state or self.state, reason or self.reason, None)

    def add(self, phase: str, seconds: float) -> None:
        """Count `seconds` toward `phase` (e.g. ``wait_s``)."""
        self.phases[phase] = self.phases.get(phase, 0.0) + seconds

    def timed(self, phase: str, seconds: float) -> simpy.Event:
        """Spend `seconds` in `phase` (e.g. ``boot_s``) and remember it: the event to
        wait for, one that has happened when the phase takes no time (the start-up goes
        on at once, as any step that waits for nothing)."""
        self.add(phase, seconds)
        if seconds == 0:
            return Signal(self.env).succeed()
        return simpy.Timeout(self.env, seconds)

    def wait(self, phase: str, seconds: float, callback: Callable[[Any], None]) -> None:
        """`timed`, for a chain of callbacks: spend `seconds` in `phase`, then call
        `callback` (with the event waited for, None if none) — at once when the phase
        takes no time."""
        phases = self.phases
        phases[phase] = phases.get(phase, 0.0) + seconds
        if seconds == 0:
            callback(None)
        else:
            after(self.env, seconds, callback)

    def _record(self, state: str, reason: str, ready_s: float | None) -> ReplicaRecord:
        phases = self.phases
        return ReplicaRecord(  # by position, phases by name: made once per replica
            self.replica,
            self.app.name,
            self.platform,
            self.host,
            self.requested_s,
            ready_s,
            state,
            reason,
            **phases,
        )

    def failed(self, reason: str) -> ReplicaRecord:
        self.enter(_FAILED, reason=reason)
        self._end()
        return self._record("failed", reason, None)

    def ready(self) -> ReplicaRecord:
        if self._ledger is not None and self.replica in self._ledger.lost:
            return self.failed(self._ledger.lost[self.replica])
        self._end()
        return self._record("ready", "", self.enter_with(_READY, _HOST, (_READY, self.host)))
