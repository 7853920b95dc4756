"""Cloud instances: hosts that are launched and terminated at run time, and billed.

An instance of a type (vCPU, memory, price per hour) becomes a host attached to the
network when it is launched; billing runs from launch to termination, per second with a
60-second minimum, as EC2 bills Linux on-demand instances. The cluster's fixed hosts
are instances too, launched at time 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import simpy

from sim.core.errors import ConfigError
from sim.core.records import EventKind, EventLog
from sim.core.settings import setting
from sim.model.hosts.cohort import PullCohorts
from sim.model.hosts.engine import EngineParams
from sim.model.hosts.host import DEFAULT_MAX_PODS, Host, HostParams
from sim.model.hosts.spot import SpotParams
from sim.model.images.image import Image
from sim.model.images.store import DiskTotals
from sim.model.network.network import Network
from sim.model.network.topology import LinkParams
from sim.policies.scheduling.objects import Taint


@dataclass(frozen=True, slots=True)
class InstanceType:
    """An EC2-like instance type and its on-demand price."""

    name: str = setting(entry_name=True)
    vcpu: float = setting(minimum=0.001, doc="vCPUs")
    memory_bytes: int = setting(unit="size", above=0, doc="memory")
    usd_per_hour: float = setting(minimum=0, doc="on-demand price")
    architecture: str = setting(
        "amd64", choices=("amd64", "arm64"), doc="its CPU architecture (kubernetes.io/arch)"
    )
    enis: int | None = setting(None, minimum=1, doc="network interfaces it can attach")
    ipv4_per_eni: int | None = setting(None, minimum=1, doc="IPv4 addresses per interface")

    def eks_max_pods(self) -> int | None:
        """The EKS AMI's ``maxPods`` for this type with the VPC CNI (one address per pod,
        the first of each interface its own): ``enis × (ipv4_per_eni − 1) + 2``; None
        without interface data."""
        if self.enis is None or self.ipv4_per_eni is None:
            return None
        return self.enis * (self.ipv4_per_eni - 1) + 2


def max_pods_of(value: int | str, instance_type: InstanceType | None, key: str) -> int:
    """A node's ``maxPods``: a number, or ``eks``: the EKS AMI's figure for its type.

    Raises:
        ConfigError: ``eks`` for a type without network interface data.
    """
    if isinstance(value, int):
        return value
    found = instance_type.eks_max_pods() if instance_type is not None else None
    if found is None:
        raise ConfigError(
            key,
            value,
            "a whole number of pods, or eks for an instance type with network interface "
            "data in pricing (enis, ipv4_per_eni)",
        )
    return found


@dataclass(slots=True)
class InstanceRecord:
    """One instance's life, for billing."""

    name: str
    instance_type: str
    usd_per_hour: float
    launched_s: float
    terminated_s: float | None = None
    on_demand_usd_per_hour: float | None = None
    """For a spot instance: what it would cost on demand (None: it is on demand)."""


class Cloud:
    """Launches hosts as instances and keeps their billing records.

    Args:
        env: the simulation environment.
        network: where new hosts are attached.
        attachment: the switch the n-th host of the cluster (0-based) hangs off.
        host_link: the link a new host gets.
        engine_params: its container daemon's settings.
        log: the event log.
        disk_totals: the cluster-wide disk total.
        attached: how many hosts are on the network already (the pools' hosts).
        joined: told when an instance joins the cluster (replicas may be placed on it).
        left: told when an instance of the cluster is terminated.
        principal: who launched instances are to private registries (their IAM role).
        disk_write_bytes_s: an instance volume's write rate (EBS gp3 baseline: 125 MiB/s).
        pull_cohorts: where its instances' pulls may join other hosts'.
        node_images: the images the cluster's node image holds from boot (a node scaler
            launches its nodes with them, `Host`'s ``cached_images``).
    """

    def __init__(
        self,
        env: simpy.Environment,
        network: Network,
        attachment: Callable[[int], str],
        host_link: LinkParams,
        engine_params: EngineParams,
        log: EventLog,
        disk_totals: DiskTotals,
        attached: int,
        joined: Callable[[Host], None],
        left: Callable[[Host], None],
        principal: str,
        disk_write_bytes_s: float = 125 * 2**20,
        pull_cohorts: PullCohorts | None = None,
        node_images: Sequence[Image] = (),
    ) -> None:
        self.env = env
        self.principal = principal
        self.node_images = tuple(node_images)
        self.disk_write_bytes_s = disk_write_bytes_s
        self.network = network
        self.attachment = attachment
        self.host_link = host_link
        self.engine_params = engine_params
        self.log = log
        self.disk_totals = disk_totals
        self.pull_cohorts = pull_cohorts
        self._joined = joined
        self._left = left
        self._members: set[str] = set()
        self.records: dict[str, InstanceRecord] = {}
        self.launched: list[Host] = []
        """Every instance launched during the run, in or out of the cluster."""
        self._attached = attached
        self._running = 0
        self.running_max = 0
        self.launch_listeners: list[Callable[[Host], None]] = []
        """Told about each instance launched during the run (spot clocks start there)."""

    def register(self, host: Host, instance_type: InstanceType | None) -> None:
        """Record a host that exists from the start (a cluster pool's host); it is billed
        if it has an instance type (a spot host at its spot price)."""
        usd_per_hour = instance_type.usd_per_hour if instance_type else 0.0
        spot = host.params.spot
        self.records[host.name] = InstanceRecord(
            host.name,
            instance_type.name if instance_type else "",
            usd_per_hour * spot.price_fraction if spot else usd_per_hour,
            self.env.now,
            on_demand_usd_per_hour=usd_per_hour if spot else None,
        )
        self._running += 1
        self.running_max = max(self.running_max, self._running)

    def launch(
        self,
        name: str,
        instance_type: InstanceType,
        disk_bytes: int,
        join_cluster: bool,
        spot: SpotParams | None = None,
        overhead: tuple[float, int] = (0.0, 0),
        labels: tuple[tuple[str, str], ...] = (),
        taints: tuple[Taint, ...] = (),
        max_pods: int = DEFAULT_MAX_PODS,
        zone: str = "",
        cached_images: Sequence[Image] = (),
    ) -> Host:
        """A new instance: a host on the network, billed from now.

        With `join_cluster`, the host joins the cluster's host list (a node the cluster
        scaler added); otherwise it belongs to one replica (an Elastic Beanstalk instance).
        `overhead` is the vCPU and memory its replicas can never have (node reserves and
        DaemonSet pods); `labels`, `taints` and `max_pods` are the node's, `zone` its
        availability zone; `cached_images` are on its disk from boot.
        """
        params = HostParams(
            name,
            instance_type.vcpu,
            instance_type.memory_bytes,
            disk_bytes,
            self.principal,
            self.disk_write_bytes_s,
            instance_type=instance_type.name,
            zone=zone,
            spot=spot,
            overhead_vcpu=overhead[0],
            overhead_memory_bytes=overhead[1],
            labels=labels,
            taints=taints,
            max_pods=max_pods,
        )
        host = self._attach(params, cached_images)
        usd_per_hour = instance_type.usd_per_hour
        self.records[name] = InstanceRecord(
            name,
            instance_type.name,
            usd_per_hour * spot.price_fraction if spot else usd_per_hour,
            self.env.now,
            on_demand_usd_per_hour=usd_per_hour if spot else None,
        )
        self.launched.append(host)
        for listener in self.launch_listeners:
            listener(host)
        if join_cluster:
            self.join(host)
        self._running += 1
        self.running_max = max(self.running_max, self._running)
        self.log.record(
            self.env.now, name, EventKind.INSTANCE_LAUNCHED, instance_type=instance_type.name
        )
        return host

    def _attach(self, params: HostParams, cached_images: Sequence[Image]) -> Host:
        """A new host of `params` (its disk holding `cached_images`), on the network."""
        host = Host(
            self.env,
            params,
            self.engine_params,
            self.log,
            self.disk_totals,
            self.pull_cohorts,
            cached_images,
        )
        self.network.attach(
            params.name,
            self.attachment(self._attached),
            self.host_link.bandwidth_bytes_s,
            self.host_link.latency_s,
        )
        self._attached += 1
        return host

    def join(self, host: Host) -> None:
        """A launched host joins the cluster: replicas may now be placed on it."""
        if host.name in self._members:
            return
        self._members.add(host.name)
        self._joined(host)

    def member(self, host: Host) -> None:
        """Count a host that is in the cluster from the start (a pool's) as a member."""
        self._members.add(host.name)

    def terminate(self, host: Host) -> None:
        """Stop billing the instance, take it out of the cluster; its disk no longer
        counts in the cluster's disk in use."""
        self.records[host.name].terminated_s = self.env.now
        host.disk.detach()
        self._running -= 1
        if host.name in self._members:
            self._members.discard(host.name)
            self._left(host)
        self.log.record(self.env.now, host.name, EventKind.INSTANCE_TERMINATED)

    def cordon(self, host: Host) -> None:
        """Nothing new is placed on the instance (it is about to go): out of the
        cluster's hosts, still running and billed."""
        if host.name in self._members:
            self._members.discard(host.name)
            self._left(host)

    def reclaim(self, host: Host) -> None:
        """The cloud takes the instance back (a spot interruption): billing stops, and
        it leaves the cluster if it was still in it."""
        record = self.records[host.name]
        if record.terminated_s is not None:
            return
        record.terminated_s = self.env.now
        if not host.down:
            self._running -= 1
        if host.name in self._members:
            self._members.discard(host.name)
            self._left(host)
        self.log.record(self.env.now, host.name, EventKind.INSTANCE_TERMINATED, reason="spot")

    def crash(self, host: Host) -> None:
        """The instance is down (it crashed and will reboot): out of the cluster, still
        billed, as a rebooting instance is."""
        self._running -= 1
        if host.name in self._members:
            self._members.discard(host.name)
            self._left(host)

    def reboot(self, host: Host, rejoin: bool = True) -> None:
        """A crashed instance is back and rejoins the cluster (unless it stays tainted)."""
        self._running += 1
        self.running_max = max(self.running_max, self._running)
        if rejoin:
            self.join(host)

    def replace(self, old: Host, name: str, on_demand: bool = False) -> Host:
        """A new instance in place of `old` (terminated): the same size and price, a
        disk with only the node image's cached images, billed from now; it joins the
        cluster. With `on_demand`, a spot instance is replaced by an on-demand one."""
        record = self.records[old.name]
        params = dataclasses.replace(old.params, name=name)
        usd_per_hour, on_demand_usd = record.usd_per_hour, record.on_demand_usd_per_hour
        if on_demand and on_demand_usd is not None:
            params = dataclasses.replace(params, spot=None)
            usd_per_hour, on_demand_usd = on_demand_usd, None
        host = self._attach(params, self.node_images)
        self.records[name] = InstanceRecord(
            name,
            record.instance_type,
            usd_per_hour,
            self.env.now,
            on_demand_usd_per_hour=on_demand_usd,
        )
        self.launched.append(host)
        self._running += 1
        self.running_max = max(self.running_max, self._running)
        self.log.record(
            self.env.now, name, EventKind.INSTANCE_LAUNCHED, instance_type=record.instance_type
        )
        self.join(host)
        return host

    @property
    def running(self) -> int:
        """Instances (hosts) running now."""
        return self._running
