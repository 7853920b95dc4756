"""``container``: containers on the cluster's hosts (a Kubernetes-like node agent over a
container runtime): the scheduler places the container on a host by the placement
policy, then the host's runtime (`sim.model.hosts.runtime`) pulls its image unless present,
creates it with a thin copy-on-write writable layer and starts it, and the app
initialises."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from sim.core.records import EventKind, EventLog, ReplicaRecord, ReplicaState
from sim.core.settings import Kind, setting
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.model.hosts.host import Host
from sim.model.hosts.replica import App, Ledger, Startup, replica_pod
from sim.model.hosts.runtime import ContainerRuntime, ContainerSettings
from sim.model.platforms import PlatformContext
from sim.policies.placement import PLACEMENT, Placement, make_placement_policy


@dataclass(frozen=True, kw_only=True)
class ContainerParams(ContainerSettings):
    """Containers on the cluster's hosts (SI units)."""

    name: str = setting("", entry_name=True)
    placement: str = setting("spread", family=PLACEMENT, doc="which host a container goes to")


class ContainerPlatform:
    """Containers on the cluster's hosts.

    Args:
        env: the simulation environment.
        params: the platform's settings.
        scheduler: places containers on the cluster's hosts.
        placement: the placement policy.
        runtime: pulls, creates, starts and removes containers.
        log: the event log.
    """

    kind = "container"

    def __init__(
        self,
        env: simpy.Environment,
        params: ContainerParams,
        scheduler: Scheduler,
        placement: Placement,
        runtime: ContainerRuntime,
        ledger: Ledger,
        log: EventLog,
    ) -> None:
        self.env = env
        self.params = params
        self.name = params.name
        self.scheduler = scheduler
        self.placement = placement
        self.runtime = runtime
        self.ledger = ledger
        self.log = log

    def start_replica(
        self, replica: str, app: App, requested_s: float, pinned: Host | None = None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]:
        """Place (on `pinned` if given), pull, create, start, initialise one container."""
        startup = Startup(self.env, self.log, replica, app, self.name, self.ledger)
        pod = replica_pod(replica, app, app.vcpu, app.memory_bytes)
        host = yield from self.scheduler.place(
            replica, self.placement, pod, app.vcpu, app.memory_bytes, pinned
        )
        startup.add("wait_s", self.env.now - startup.requested_s)
        startup.host = host.name
        startup.enter(ReplicaState.SCHEDULED, host=host.name, memory_bytes=app.memory_bytes)
        record, holding = yield from self.runtime.run(startup, host, app)
        if holding is None:
            self.scheduler.release(host, replica, app.vcpu, app.memory_bytes)
        else:
            self.ledger.open(replica, holding, app, self.env.now)
        return record

    def stop_replica(self, replica: str) -> None:
        """Stop and remove a ready container."""
        holding = self.ledger.close(replica, self.env.now)
        self.runtime.remove_holding(holding)
        self.scheduler.release(holding.host, replica, holding.vcpu, holding.memory_bytes)
        self.log.record(self.env.now, replica, EventKind.REPLICA_STATE, state=ReplicaState.REMOVED)


def build(params: ContainerParams, context: PlatformContext) -> ContainerPlatform:
    return ContainerPlatform(
        context.env,
        params,
        context.scheduler,
        make_placement_policy(params.placement),
        context.runtime(params),
        context.ledger,
        context.log,
    )


KIND = Kind("container", ContainerParams, build, "a container on a cluster host")
