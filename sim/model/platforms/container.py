"""``container``: containers on the cluster's hosts (a Kubernetes-like node agent over a
container runtime): the scheduler places the container on a host by the placement
policy, then the host's runtime (`sim.model.hosts.runtime`) pulls its image unless present,
creates it with a thin copy-on-write writable layer and starts it, and the app
initialises."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import partial
from typing import Any

import simpy

from sim.core.records import ReplicaRecord, ReplicaState
from sim.core.settings import Kind, setting
from sim.model.hosts.host import Host
from sim.model.hosts.replica import App, Holding, Startup, replica_pod
from sim.model.hosts.runtime import ContainerSettings
from sim.model.platforms import PlatformContext
from sim.model.platforms.base import BasePlatform
from sim.model.primitives.signal import Signal, Task
from sim.policies.placement import PLACEMENT, Placement, make_placement_policy


@dataclass(frozen=True, kw_only=True)
class ContainerParams(ContainerSettings):
    """Containers on the cluster's hosts (SI units)."""

    name: str = setting("", entry_name=True)
    placement: str = setting("spread", family=PLACEMENT, doc="which host a container goes to")


class ContainerPlatform(BasePlatform):
    """Containers on the cluster's hosts: placed by the scheduler, then pulled, created,
    started and initialised by the host's container runtime.

    Args:
        params: the platform's settings.
        context: the parts of the cluster it uses (scheduler, runtime, ledger, log).
    """

    kind = "container"
    stopped_state = ReplicaState.REMOVED

    def __init__(self, params: ContainerParams, context: PlatformContext) -> None:
        super().__init__(params, context)
        self.placement: Placement = make_placement_policy(params.placement)
        self.runtime = context.runtime(params)

    def start(
        self, startup: Startup, app: App, pinned: Host | None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]:
        """Place (on `pinned` if given), pull, create, start, initialise one container."""
        ended = Signal(self.env)
        self.begin(startup, app, pinned, ended.succeed)
        record: ReplicaRecord = yield ended
        return record

    def begin(
        self, startup: Startup, app: App, pinned: Host | None, then: Callable[[ReplicaRecord], Any]
    ) -> None:
        """`start` as a chain of callbacks: then `then` with the record."""
        replica = startup.replica
        vcpu, memory_bytes = app.vcpu, app.memory_bytes
        pod = replica_pod(replica, app, vcpu, memory_bytes)
        scheduler = self.scheduler
        host = scheduler.try_place(replica, self.placement, pod, vcpu, memory_bytes, pinned)
        if host is None:
            waiting = scheduler.place(
                replica, self.placement, pod, vcpu, memory_bytes, pinned, tried=True
            )
            Task(self.env, waiting).ended.add(partial(self._placed_later, startup, app, then))
        else:
            self._placed(startup, app, then, host)

    def _placed_later(
        self, startup: Startup, app: App, then: Callable[[ReplicaRecord], Any], placed: Signal
    ) -> None:
        self._placed(startup, app, then, placed._value)

    def _placed(
        self, startup: Startup, app: App, then: Callable[[ReplicaRecord], Any], host: Host
    ) -> None:
        self.placed(startup, host, app.memory_bytes)
        self.runtime.begin(startup, host, app, partial(self._ran, startup, app, host, then))

    def _ran(
        self,
        startup: Startup,
        app: App,
        host: Host,
        then: Callable[[ReplicaRecord], Any],
        record: ReplicaRecord,
        holding: Holding | None,
    ) -> None:
        if holding is None:
            self.scheduler.release(host, startup.replica, app.vcpu, app.memory_bytes)
        else:
            self.ledger.open(startup.replica, holding, app, self.env.now)
        then(record)

    def release(self, replica: str, holding: Holding) -> None:
        """Remove the container and give its room on the host back to the scheduler."""
        self.runtime.remove_holding(holding)
        self.scheduler.release(holding.host, replica, holding.vcpu, holding.memory_bytes)


def build(params: ContainerParams, context: PlatformContext) -> ContainerPlatform:
    return ContainerPlatform(params, context)


KIND = Kind("container", ContainerParams, build, "a container on a cluster host")
