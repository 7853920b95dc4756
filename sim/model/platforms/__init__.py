"""Platforms: how a replica of an application starts, what it holds, what it costs.
One module per kind, found by listing.

* ``container``: placed on a cluster host, its image pulled unless present, created
  with a thin writable layer and started by the host's container runtime;
* ``vm``: a VM per replica on a host's hypervisor (a full disk image or a clone), or
  each its own cloud instance; a microVM is a ``vm`` with small numbers;
* ``beanstalk-docker``: an Elastic Beanstalk Docker instance per replica, pulling the
  app's image into its empty cache after booting;
* ``fargate``: an AWS Fargate task per replica, billed per vCPU- and GB-second of the
  task size.

Each kind module holds its parameter dataclass and ``KIND = Kind(name, Params, build)``
with ``build(params, context)`` returning the `Platform`; a config chooses one with
``platform.<name>: {kind: <kind>, ...}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import simpy

from sim.core.records import EventLog
from sim.core.settings import Family
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.model.hosts.cloud import Cloud, InstanceType
from sim.model.hosts.replica import Ledger, Platform
from sim.model.hosts.runtime import ContainerRuntime, ContainerSettings

PLATFORMS = Family(
    "platform",
    __name__,
    summary="how a replica starts, what it holds and costs (platform.<name>)",
    homes={"beanstalk-docker": "beanstalk"},
)


@dataclass(frozen=True)
class PlatformContext:
    """What a platform kind is built with: the parts of the cluster it uses.

    Attributes:
        env: the simulation environment.
        scheduler: places replicas on the cluster's hosts.
        cloud: launches and terminates instances (and bills them).
        instance_types: the priced instance types, by name.
        ledger: where replicas' holdings are kept.
        log: the event log.
        rng: the platform's own stream (``platform/<name>``).
        init_rng: an app's initialisation stream, by app name.
        runtime: makes a container runtime with given settings, drawing from the
            platform's stream.
    """

    env: simpy.Environment
    scheduler: Scheduler
    cloud: Cloud
    instance_types: Mapping[str, InstanceType]
    ledger: Ledger
    log: EventLog
    rng: np.random.Generator
    init_rng: Callable[[str], np.random.Generator]
    runtime: Callable[[ContainerSettings], ContainerRuntime]


__all__ = ["PLATFORMS", "Platform", "PlatformContext"]
