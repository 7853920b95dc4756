"""What every platform shares: the app a replica runs, its start-up record, its holdings.

Replica lifecycle (events ``replica_state``): requested → pending (while nothing fits)
→ scheduled → (provisioning → booting) and/or (pulling → creating → starting) →
initializing → ready; or failed, with the reason. A fleet then puts a ready replica in
service, drains it and stops it (removed / stopped).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any, Protocol

import simpy

from sim.core.distributions import Distribution
from sim.core.records import EventLog, ReplicaRecord
from sim.model.host import Host
from sim.model.images import Image


@dataclass(frozen=True, slots=True)
class App:
    """An application: its image, the resources one replica requests, its start-up work."""

    name: str
    image: Image
    vcpu: float
    memory_bytes: int
    init: Distribution


@dataclass(frozen=True, slots=True)
class Holding:
    """What a running replica holds on its host, to give back when it stops."""

    host: Host
    vcpu: float
    memory_bytes: int
    disk_bytes: int
    image: str = ""


class Platform(Protocol):
    """Starts and stops replicas of applications."""

    name: str
    kind: str

    def start_replica(
        self, replica: str, app: App, requested_s: float, pinned: Host | None = None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]: ...

    def stop_replica(self, replica: str) -> None: ...

    def holding(self, replica: str) -> Holding | None: ...


class Startup:
    """One replica's start-up: logs its state changes, times its phases, makes its record."""

    def __init__(
        self, env: simpy.Environment, log: EventLog, replica: str, app: App, platform: str
    ) -> None:
        self.env = env
        self.log = log
        self.replica = replica
        self.app = app
        self.platform = platform
        self.requested_s = env.now
        self.host = ""
        self.phases: dict[str, Any] = {}

    def enter(self, state: str, **details: Any) -> float:
        self.log.record(self.env.now, self.replica, "replica_state", state=state, **details)
        return self.env.now

    def add(self, phase: str, seconds: float) -> None:
        """Count `seconds` toward `phase` (e.g. ``wait_s``)."""
        self.phases[phase] = self.phases.get(phase, 0.0) + seconds

    def timed(self, phase: str, seconds: float) -> simpy.Timeout:
        """Spend `seconds` in `phase` (e.g. ``boot_s``) and remember it."""
        self.add(phase, seconds)
        return self.env.timeout(seconds)

    def _record(self, state: str, reason: str, ready_s: float | None) -> ReplicaRecord:
        record = ReplicaRecord(
            replica=self.replica,
            app=self.app.name,
            platform=self.platform,
            host=self.host,
            requested_s=self.requested_s,
            ready_s=ready_s,
            state=state,
            reason=reason,
        )
        return replace(record, **self.phases)

    def failed(self, reason: str) -> ReplicaRecord:
        self.enter("failed", reason=reason)
        return self._record("failed", reason, None)

    def ready(self) -> ReplicaRecord:
        return self._record("ready", "", self.enter("ready", host=self.host))
