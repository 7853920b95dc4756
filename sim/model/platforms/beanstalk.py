"""``beanstalk-docker``: Elastic Beanstalk's Docker platform, one EC2 instance per replica.

Each replica is a new instance of the environment's instance type: it is launched
(billed from then), provisioned and booted; then the platform's agent pulls the app's
image into the instance's empty cache and runs the container. Scaling out therefore
pays an instance boot and a cold pull every time; stopping a replica terminates its
instance.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

import simpy

from sim.core.distributions import Distribution, LogNormal
from sim.core.records import ReplicaState
from sim.core.settings import Kind, setting
from sim.model.hosts.cloud import InstanceType
from sim.model.hosts.replica import App, Startup
from sim.model.hosts.runtime import ContainerSettings, PullPolicy
from sim.model.platforms import PlatformContext
from sim.model.platforms.base import InstancePerReplica


@dataclass(frozen=True, kw_only=True)
class BeanstalkParams(ContainerSettings):
    """An Elastic Beanstalk Docker environment: its instances and their container runtime
    (SI units)."""

    name: str = setting("", entry_name=True)
    instance_type: str = setting("m5.large", doc="every replica's instance")
    # EC2 RunInstances to running, measured at 6.4 s and 22.7 s (docs/semantics.md:
    # calibrated defaults): their median, 90 % between 5.9 s and 36 s.
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


class BeanstalkDockerPlatform(InstancePerReplica):
    """Replicas as Elastic Beanstalk Docker instances: each replica launches an instance
    of the environment's type, boots it, then its agent pulls and runs the app's
    container; the replica holds the whole instance, and stopping it terminates it."""

    kind = "beanstalk-docker"
    stopped_state = ReplicaState.TERMINATED

    def __init__(self, params: BeanstalkParams, context: PlatformContext) -> None:
        super().__init__(params, context)
        self.instance_type = context.instance_types[params.instance_type]

    def instance_for(self, app: App) -> tuple[InstanceType, int, Mapping[str, Any]]:
        """The environment's instance type, whatever the app."""
        details = {"instance_type": self.instance_type.name}
        return self.instance_type, self.params.root_volume_bytes, details

    def boot(self, startup: Startup) -> Generator[simpy.Event, Any, None]:
        """The OS, the Beanstalk agent and its deployment hooks."""
        startup.enter(ReplicaState.BOOTING)
        yield startup.timed("boot_s", self.params.boot.sample(self.rng))


def build(params: BeanstalkParams, context: PlatformContext) -> BeanstalkDockerPlatform:
    return BeanstalkDockerPlatform(params, context)


KIND = Kind(
    "beanstalk-docker", BeanstalkParams, build, "an Elastic Beanstalk Docker instance per replica"
)
