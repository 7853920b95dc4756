"""``beanstalk-docker``: Elastic Beanstalk's Docker platform, one EC2 instance per replica.

Each replica is a new instance of the environment's instance type: it is launched
(billed from then), provisioned and booted; then the platform's agent pulls the app's
image into the instance's empty cache and runs the container. Scaling out therefore
pays an instance boot and a cold pull every time; stopping a replica terminates its
instance.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import simpy

from sim.core.distributions import Distribution, LogNormal
from sim.core.records import EventKind, EventLog, ReplicaRecord, ReplicaState
from sim.core.settings import Kind, setting
from sim.model.hosts.cloud import Cloud, InstanceType
from sim.model.hosts.host import Host
from sim.model.hosts.replica import App, Ledger, Startup
from sim.model.hosts.runtime import ContainerRuntime, ContainerSettings, PullPolicy
from sim.model.platforms import PlatformContext


@dataclass(frozen=True, kw_only=True)
class BeanstalkParams(ContainerSettings):
    """An Elastic Beanstalk Docker environment: its instances and their container runtime
    (SI units)."""

    name: str = setting("", entry_name=True)
    instance_type: str = setting("m5.large", doc="every replica's instance")
    # EC2 RunInstances to running, measured at 6.4 s and 22.7 s (README: calibrated
    # defaults): their median, 90 % between 5.9 s and 36 s.
    provision: Distribution = setting(
        LogNormal(14.5, 0.55), doc="launch request to instance running"
    )
    # Field reports put a new Beanstalk instance in service 3 to 5 minutes after launch;
    # this boot makes the whole start-up about 4 minutes at the median.
    boot: Distribution = setting(
        LogNormal(220.0, 0.2), doc="OS boot, the Beanstalk agent and its deployment hooks"
    )
    root_volume_bytes: int = setting(8 * 2**30, unit="size", above=0, doc="each instance's disk")
    image_pull_policy: PullPolicy = setting("Always", doc="the agent pulls at deployment")


class BeanstalkDockerPlatform:
    """Replicas as Elastic Beanstalk Docker instances.

    Args:
        env: the simulation environment.
        params: the environment's settings.
        instance_type: its instances' type.
        cloud: launches and terminates the instances.
        runtime: pulls and runs the container on a booted instance.
        rng: the platform's stream (provision and boot times).
        ledger: where the replicas' holdings are kept (the whole instance each).
        log: the event log.
    """

    kind = "beanstalk-docker"

    def __init__(
        self,
        env: simpy.Environment,
        params: BeanstalkParams,
        instance_type: InstanceType,
        cloud: Cloud,
        runtime: ContainerRuntime,
        rng: np.random.Generator,
        ledger: Ledger,
        log: EventLog,
    ) -> None:
        self.env = env
        self.params = params
        self.name = params.name
        self.instance_type = instance_type
        self.cloud = cloud
        self.runtime = runtime
        self.rng = rng
        self.ledger = ledger
        self.log = log

    def start_replica(
        self, replica: str, app: App, requested_s: float, pinned: Host | None = None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]:
        """Launch an instance, boot it, then pull and run the app's container on it."""
        startup = Startup(self.env, self.log, replica, app, self.name, self.ledger)
        instance = self.cloud.launch(
            f"{replica}-instance",
            self.instance_type,
            self.params.root_volume_bytes,
            join_cluster=False,
        )
        instance.reserve(app.vcpu, app.memory_bytes)
        startup.host = instance.name
        startup.enter(
            ReplicaState.SCHEDULED,
            host=instance.name,
            instance_type=self.instance_type.name,
            memory_bytes=instance.params.memory_bytes,
        )
        startup.enter(ReplicaState.PROVISIONING)
        yield startup.timed("provision_s", self.params.provision.sample(self.rng))
        startup.enter(ReplicaState.BOOTING)
        yield startup.timed("boot_s", self.params.boot.sample(self.rng))
        record, holding = yield from self.runtime.run(startup, instance, app)
        if holding is None:
            self.cloud.terminate(instance)
        else:
            whole_instance = replace(
                holding, vcpu=instance.params.vcpu, memory_bytes=instance.params.memory_bytes
            )
            self.ledger.open(replica, whole_instance, app, self.env.now)
        return record

    def stop_replica(self, replica: str) -> None:
        """Terminate the replica's instance."""
        holding = self.ledger.close(replica, self.env.now)
        self.runtime.remove_holding(holding)
        self.cloud.terminate(holding.host)
        self.log.record(
            self.env.now, replica, EventKind.REPLICA_STATE, state=ReplicaState.TERMINATED
        )


def build(params: BeanstalkParams, context: PlatformContext) -> BeanstalkDockerPlatform:
    return BeanstalkDockerPlatform(
        context.env,
        params,
        context.instance_types[params.instance_type],
        context.cloud,
        context.runtime(params),
        context.rng,
        context.ledger,
        context.log,
    )


KIND = Kind(
    "beanstalk-docker", BeanstalkParams, build, "an Elastic Beanstalk Docker instance per replica"
)
