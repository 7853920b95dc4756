"""What every platform shares, so that a platform module says only what differs.

A replica's start-up is recorded by a `Startup` in the ledger from the moment it is
requested; a platform's `start` takes it from there (place or launch, pull, boot,
initialise) and returns its record. Stopping closes the replica's holding in the ledger,
gives back what it held (`release`) and logs the state the replica ends in.

`InstancePerReplica` is the shape of platforms that launch one cloud instance per replica
and run the app's container on it (Elastic Beanstalk's Docker platform, Fargate): launch,
provision, perhaps boot, pull and run; the replica holds the whole instance, and stopping
it terminates the instance.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Mapping
from dataclasses import replace
from typing import Any, ClassVar

import simpy

from sim.core.distributions import Distribution
from sim.core.records import EventKind, ReplicaRecord, ReplicaState
from sim.model.hosts.cloud import InstanceType
from sim.model.hosts.host import Host
from sim.model.hosts.replica import App, Holding, Startup
from sim.model.platforms import PlatformContext
from sim.model.primitives.signal import Task

_SCHEDULED = ReplicaState.SCHEDULED
"""An enum member as a module constant (a lookup on the class takes ~0.1 µs)."""
_PLACED = ("state", "host", "memory_bytes")


class BasePlatform(ABC):
    """Starts replicas through `start` and stops them through `release`.

    Args:
        params: the platform's settings (its ``name`` names the platform in records).
        context: the parts of the cluster it uses.
    """

    kind: ClassVar[str]
    stopped_state: ClassVar[str] = ReplicaState.STOPPED
    """The state a stopped replica ends in (``stopped``, ``removed``, ``terminated``)."""

    def __init__(self, params: Any, context: PlatformContext) -> None:
        self.env = context.env
        self.params = params
        self.name: str = params.name
        self.cloud = context.cloud
        self.scheduler = context.scheduler
        self.rng = context.rng
        self.ledger = context.ledger
        self.log = context.log

    def start_replica(
        self, replica: str, app: App, requested_s: float, pinned: Host | None = None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]:
        """Start one replica of `app` (on `pinned`, if given) and return its record."""
        startup = Startup(self.env, self.log, replica, app, self.name, self.ledger)
        return (yield from self.start(startup, app, pinned))

    def launch(
        self,
        replica: str,
        app: App,
        pinned: Host | None,
        then: Callable[[ReplicaRecord], Any],
    ) -> None:
        """Start one replica of `app` (on `pinned`, if given) now, then call `then` with
        its record."""
        startup = Startup(self.env, self.log, replica, app, self.name, self.ledger)
        self.begin(startup, app, pinned, then)

    def begin(
        self, startup: Startup, app: App, pinned: Host | None, then: Callable[[ReplicaRecord], Any]
    ) -> None:
        """`start` from now, then `then` with the record."""
        Task(self.env, self.start(startup, app, pinned)).ended.add(lambda ended: then(ended._value))

    @abstractmethod
    def start(
        self, startup: Startup, app: App, pinned: Host | None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]:
        """The platform's own start-up, from a replica requested to ready or failed."""
        ...

    def stop_replica(self, replica: str) -> None:
        """Stop a ready replica: give back what it holds and log how it ended."""
        holding = self.ledger.close(replica, self.env.now)
        self.release(replica, holding)
        self.log.record(self.env.now, replica, EventKind.REPLICA_STATE, state=self.stopped_state)

    @abstractmethod
    def release(self, replica: str, holding: Holding) -> None:
        """Give back what a stopped replica held."""
        ...

    def placed(self, startup: Startup, host: Host, memory_bytes: int) -> None:
        """Record that the scheduler placed the replica on `host` after its wait."""
        startup.add("wait_s", self.env.now - startup.requested_s)
        startup.host = host.name
        startup.enter_with(_SCHEDULED, _PLACED, (_SCHEDULED, host.name, memory_bytes))


class InstancePerReplica(BasePlatform):
    """One cloud instance per replica, running the app's container.

    A subclass says which instance an app gets (`instance_for`), what it boots after
    provisioning (`boot`), and names its instances with `instance_suffix`.
    """

    stopped_state: ClassVar[str] = ReplicaState.STOPPED
    instance_suffix: ClassVar[str] = "instance"

    def __init__(self, params: Any, context: PlatformContext) -> None:
        super().__init__(params, context)
        self.runtime = context.runtime(params)

    @abstractmethod
    def instance_for(self, app: App) -> tuple[InstanceType, int, Mapping[str, Any]]:
        """The instance type an app runs on, its disk, and what to log of it."""
        ...

    @property
    def provision(self) -> Distribution:
        """Launch request to instance running."""
        return self.params.provision

    def boot(self, startup: Startup) -> Generator[simpy.Event, Any, None]:
        """What the instance does between provisioning and pulling (nothing by default)."""
        yield from ()

    def start(
        self, startup: Startup, app: App, pinned: Host | None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]:
        """Launch an instance, provision (and boot) it, then pull and run the container."""
        instance_type, disk_bytes, details = self.instance_for(app)
        instance = self.cloud.launch(
            f"{startup.replica}-{self.instance_suffix}",
            instance_type,
            disk_bytes,
            join_cluster=False,
        )
        instance.reserve(app.vcpu, app.memory_bytes)
        startup.host = instance.name
        startup.enter(
            ReplicaState.SCHEDULED,
            host=instance.name,
            **details,
            memory_bytes=instance.params.memory_bytes,
        )
        startup.enter(ReplicaState.PROVISIONING)
        yield startup.timed("provision_s", self.provision.sample(self.rng))
        yield from self.boot(startup)
        record, holding = yield from self.runtime.run(startup, instance, app)
        if holding is None:
            self.cloud.terminate(instance)
        else:
            whole_instance = replace(
                holding, vcpu=instance.params.vcpu, memory_bytes=instance.params.memory_bytes
            )
            self.ledger.open(startup.replica, whole_instance, app, self.env.now)
        return record

    def release(self, replica: str, holding: Holding) -> None:
        """Remove the container and terminate its instance (billing ends)."""
        self.runtime.remove_holding(holding)
        self.cloud.terminate(holding.host)
