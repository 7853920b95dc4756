"""``fargate``: an AWS Fargate task per replica, billed by the task's vCPU and memory.

Fargate runs each task in its own micro-VM: there is no host to place on and no image
cache to share, so every task provisions (capacity, a network interface) and then pulls
its image from an empty cache before the container is created and started. A task's size
is the smallest one Fargate offers that holds the app's request — Fargate's valid
combinations: 0.25 vCPU with 0.5, 1 or 2 GB; 0.5 vCPU with 1 to 4 GB; 1 vCPU with 2 to
8 GB; 2 vCPU with 4 to 16 GB; 4 vCPU with 8 to 30 GB (in 1 GB steps); 8 vCPU with 16 to
60 GB (4 GB steps); 16 vCPU with 32 to 120 GB (8 GB steps) — and a task is billed per
second (one-minute minimum) at ``vcpu × vcpu_usd_per_hour + memory_gb × gb_usd_per_hour``
(Linux/x86 in us-east-1: 0.04048 USD per vCPU-hour and 0.004445 per GB-hour, read from
AWS's Fargate pricing page). It is what "pay for the task, not the node" costs against
containers packed on shared nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.core.distributions import Distribution, LogNormal
from sim.core.errors import ConfigError
from sim.core.settings import Kind, setting
from sim.model.hosts.cloud import InstanceType
from sim.model.hosts.replica import App
from sim.model.hosts.runtime import ContainerSettings, PullPolicy
from sim.model.platforms import PlatformContext
from sim.model.platforms.base import InstancePerReplica

GB = 2**30
"""Fargate's memory sizes are in GiB (its 'GB')."""

TASK_SIZES: tuple[tuple[float, tuple[float, ...]], ...] = (
    (0.25, (0.5, 1.0, 2.0)),
    (0.5, tuple(float(gb) for gb in range(1, 5))),
    (1.0, tuple(float(gb) for gb in range(2, 9))),
    (2.0, tuple(float(gb) for gb in range(4, 17))),
    (4.0, tuple(float(gb) for gb in range(8, 31))),
    (8.0, tuple(float(gb) for gb in range(16, 61, 4))),
    (16.0, tuple(float(gb) for gb in range(32, 121, 8))),
)
"""Fargate's task sizes: each vCPU size with the memory sizes (GB) it allows."""


def task_size(vcpu: float, memory_bytes: int) -> tuple[float, float] | None:
    """The smallest Fargate task (vCPU, memory GB) that holds the request; None if none.

    Sizes are tried in order of vCPU, then memory, so the cheapest fitting one wins
    (every step up in either raises the price).
    """
    for task_vcpu, memories_gb in TASK_SIZES:
        if task_vcpu + 1e-9 < vcpu:
            continue
        for memory_gb in memories_gb:
            if memory_gb * GB >= memory_bytes:
                return task_vcpu, memory_gb
    return None


@dataclass(frozen=True, kw_only=True)
class FargateParams(ContainerSettings):
    """Fargate tasks (SI units; prices in USD)."""

    name: str = setting("", entry_name=True)
    provision: Distribution = setting(
        LogNormal(20.0, 0.3),
        doc="capacity and the task's network interface, to PENDING done (an estimate)",
    )
    vcpu_usd_per_hour: float = setting(0.04048, minimum=0, doc="per vCPU of the task size")
    gb_usd_per_hour: float = setting(0.004445, minimum=0, doc="per GB of the task size")
    ephemeral_storage_bytes: int = setting(20 * GB, unit="size", above=0, doc="each task's disk")
    image_pull_policy: PullPolicy = setting("Always", doc="no image cache between tasks")

    def check_app(self, app: App) -> None:
        """Refuse an app no Fargate task can hold (asked when the config is read).

        Raises:
            ConfigError: naming the app.
        """
        self.instance_type(app)

    def instance_type(self, app: App) -> InstanceType:
        """The task size the app runs on, as a priced instance type.

        Raises:
            ConfigError: no Fargate task is that large.
        """
        size = task_size(app.vcpu, app.memory_bytes)
        if size is None:
            raise ConfigError(
                f"workload.apps.{app.name}",
                f"{app.vcpu:g} vCPU, {app.memory_bytes / GB:g} GB",
                "at most 16 vCPU and 120 GB: the largest Fargate task",
            )
        vcpu, memory_gb = size
        price = vcpu * self.vcpu_usd_per_hour + memory_gb * self.gb_usd_per_hour
        return InstanceType(
            f"fargate-{vcpu:g}vcpu-{memory_gb:g}gb", vcpu, int(memory_gb * GB), price
        )


class FargatePlatform(InstancePerReplica):
    """Replicas as Fargate tasks: each replica launches a task of the app's size,
    provisions it and pulls into its empty cache; the replica holds (and is billed for)
    the whole task, and stopping it stops the task."""

    kind = "fargate"
    instance_suffix = "task"

    def instance_for(self, app: App) -> tuple[InstanceType, int, Mapping[str, Any]]:
        """The smallest task size that holds the app."""
        size = self.params.instance_type(app)
        return size, self.params.ephemeral_storage_bytes, {"task_size": size.name}


def build(params: FargateParams, context: PlatformContext) -> FargatePlatform:
    return FargatePlatform(params, context)


KIND = Kind("fargate", FargateParams, build, "an AWS Fargate task per replica, billed per task")
