"""Costs and resource-seconds: pure functions over a run's records.

* Instances are billed per second from launch to termination (or the end of the run),
  with a minimum per instance (60 s for EC2 Linux on-demand), at their type's price.
* Registry storage is billed per GB-month for the distinct blobs a registry holds,
  prorated over the run (a month = 30 days); egress per GB served.
* Resource-seconds *reserved* are what replicas held (a container's requests, a VM's
  guest memory plus hypervisor overhead, a whole instance for an instance-per-replica
  platform) times how long; *used* vCPU-seconds are the requests' busy CPU time, and
  used memory is the app's own memory over the replica's life.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_MONTH = 30 * 86400.0
BYTES_PER_GB = 1e9


@dataclass(frozen=True, slots=True)
class InstanceUsage:
    """One instance's billed life."""

    usd_per_hour: float
    launched_s: float
    terminated_s: float | None


@dataclass(frozen=True, slots=True)
class RegistryUsage:
    """One registry's stored bytes and bytes served, with its prices."""

    stored_bytes: int
    served_bytes: int
    storage_usd_per_gb_month: float
    egress_usd_per_gb: float


def instance_cost_usd(
    instances: Iterable[InstanceUsage], end_s: float, minimum_s: float = 60.0
) -> float:
    """What the instances cost, billed per second with a minimum each."""
    total = 0.0
    for instance in instances:
        until_s = end_s if instance.terminated_s is None else instance.terminated_s
        billed_s = max(until_s - instance.launched_s, minimum_s)
        total += billed_s * instance.usd_per_hour / SECONDS_PER_HOUR
    return total


def registry_cost_usd(registries: Iterable[RegistryUsage], duration_s: float) -> float:
    """Storage prorated over `duration_s` plus egress, over all registries."""
    total = 0.0
    for registry in registries:
        stored_gb = registry.stored_bytes / BYTES_PER_GB
        total += stored_gb * registry.storage_usd_per_gb_month * duration_s / SECONDS_PER_MONTH
        total += registry.served_bytes / BYTES_PER_GB * registry.egress_usd_per_gb
    return total
