"""``vm``: one VM per replica. On the cluster's hypervisor hosts, a VM is placed,
provisioned (its disk image: a full copy per VM, or a thin clone over a base image held
once per host), its guest OS boots, then the app initialises; it reserves its guest
memory plus the hypervisor's overhead, per the KVM formula ``overhead = fraction × guest
memory + fixed + per-vCPU × vCPUs`` (OpenShift Virtualization's sizing). With an
``instance_type``, each VM is instead its own cloud instance (EC2-like): launched,
billed, provisioned and booted, the app running on the whole instance. A Firecracker-like
microVM is a ``vm`` with small numbers (the ``microvm`` preset).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal

import simpy

from sim.core.distributions import Distribution, LogNormal
from sim.core.records import ReplicaRecord, ReplicaState
from sim.core.settings import Kind, setting
from sim.model.hosts.cloud import InstanceType
from sim.model.hosts.host import Host
from sim.model.hosts.replica import App, Holding, Startup, replica_pod
from sim.model.images.store import DiskFull
from sim.model.platforms import PlatformContext
from sim.model.platforms.base import BasePlatform
from sim.policies.placement import PLACEMENT, Placement, make_placement_policy

MIB = 2**20


@dataclass(frozen=True, slots=True)
class MemoryOverhead:
    """The hypervisor's memory per VM: ``fraction × guest memory + fixed + per_vcpu ×
    vCPUs`` (KVM, after OpenShift Virtualization's sizing formula)."""

    fraction: float = setting(0.002, minimum=0, doc="of the guest's memory")
    fixed_bytes: int = setting(218 * MIB, unit="size", doc="per VM")
    per_vcpu_bytes: int = setting(8 * MIB, unit="size", doc="per vCPU of the VM")


@dataclass(frozen=True, kw_only=True)
class VmParams:
    """A VM platform (SI units)."""

    name: str = setting("", entry_name=True)
    placement: str = setting("spread", family=PLACEMENT, doc="which host a VM goes to")
    provision: Distribution = setting(
        LogNormal(8.0, 0.3), doc="API call, scheduling, network setup (plus the disk copy)"
    )
    # EC2's running-to-SSH, the same guest boot on a KVM-based hypervisor, measured at
    # 3.1 s (Amazon Linux 2023) and 22.8 s (Percival's ec2-boot-bench sample): their
    # median, with 90 % of boots between 4.8 s and 35 s (docs/semantics.md).
    boot: Distribution = setting(LogNormal(13.0, 0.6), doc="guest OS boot to init")
    guest_os_memory_bytes: int = setting(
        512 * MIB, unit="size", doc="added to the app's memory request"
    )
    disk_image_bytes: int = setting(8 * 2**30, unit="size", above=0, doc="the VM's disk")
    disk_mode: Literal["copy", "clone"] = setting(
        "copy", doc="copy: a full disk per VM; clone: a base once per host + an overlay"
    )
    clone_overlay_bytes: int = setting(
        200_000_000, unit="size", doc="a clone's own writes over the base"
    )
    memory_overhead: MemoryOverhead = setting(
        default_factory=MemoryOverhead, doc="the hypervisor's memory per VM"
    )
    instance_type: str | None = setting(
        None, doc="each VM its own instance of this type (none: on the cluster's hosts)"
    )

    def guest_memory_bytes(self, app: App) -> int:
        return app.memory_bytes + self.guest_os_memory_bytes

    def memory_overhead_bytes(self, app: App) -> int:
        """The hypervisor's memory overhead for one VM of this app (KVM formula)."""
        overhead = self.memory_overhead
        return round(
            overhead.fraction * self.guest_memory_bytes(app)
            + overhead.fixed_bytes
            + overhead.per_vcpu_bytes * app.vcpu
        )


class VmPlatform(BasePlatform):
    """Virtual machines, one replica per VM: on the cluster's hypervisor hosts, or each its
    own cloud instance when the platform has an instance type.

    Args:
        params: the platform's settings.
        context: the parts of the cluster it uses (scheduler or cloud, streams, ledger).
    """

    kind = "vm"

    def __init__(self, params: VmParams, context: PlatformContext) -> None:
        super().__init__(params, context)
        self.placement: Placement = make_placement_policy(params.placement)
        self.instance_type: InstanceType | None = (
            context.instance_types[params.instance_type] if params.instance_type else None
        )
        self.init_rng = context.init_rng

    def _disk_bytes(self, host: Host) -> tuple[int, int]:
        """(bytes to allocate, bytes to write) for one more VM disk on `host`."""
        params = self.params
        if params.disk_mode == "copy":
            return params.disk_image_bytes, params.disk_image_bytes
        base = 0 if params.name in host.vm_base_images else params.disk_image_bytes
        return base + params.clone_overlay_bytes, params.clone_overlay_bytes

    def _host(
        self, replica: str, app: App, memory_bytes: int, pinned: Host | None
    ) -> Generator[simpy.Event, Any, Host]:
        """A hypervisor host with room reserved for the VM, or a new instance for it."""
        if self.instance_type is None:
            pod = replica_pod(replica, app, app.vcpu, memory_bytes)
            host = yield from self.scheduler.place(
                replica, self.placement, pod, app.vcpu, memory_bytes, pinned
            )
            return host
        instance = self.cloud.launch(
            f"{replica}-instance",
            self.instance_type,
            self.params.disk_image_bytes,
            join_cluster=False,
        )
        instance.reserve(app.vcpu, memory_bytes)
        return instance

    def start(
        self, startup: Startup, app: App, pinned: Host | None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]:
        """Place (on `pinned` if given) or launch, provision, boot and initialise one VM."""
        params = self.params
        replica = startup.replica
        memory_bytes = params.guest_memory_bytes(app)
        if self.instance_type is None:
            memory_bytes += params.memory_overhead_bytes(app)
        host = yield from self._host(replica, app, memory_bytes, pinned)
        startup.add("wait_s", self.env.now - startup.requested_s)
        startup.host = host.name
        write_bytes = disk_bytes = 0
        if self.instance_type is None:
            allocate_bytes, write_bytes = self._disk_bytes(host)
            try:
                host.disk.allocate(allocate_bytes)
            except DiskFull as error:
                self.scheduler.release(host, replica, app.vcpu, memory_bytes)
                return startup.failed(str(error))
            host.vm_base_images |= {params.name}
            disk_bytes = write_bytes if params.disk_mode == "clone" else allocate_bytes
        if self.instance_type is None:
            holding = Holding(host, app.vcpu, memory_bytes, disk_bytes)
        else:
            holding = Holding(host, host.params.vcpu, host.params.memory_bytes, 0)
        self.ledger.open(replica, holding, app, self.env.now)
        startup.enter(ReplicaState.SCHEDULED, host=host.name, memory_bytes=memory_bytes)
        startup.enter(ReplicaState.PROVISIONING, disk_mode=params.disk_mode, disk_bytes=write_bytes)
        provision_s = (
            params.provision.sample(self.rng) + write_bytes / host.params.disk_write_bytes_s
        )
        yield startup.timed("provision_s", provision_s)
        startup.enter(ReplicaState.BOOTING)
        yield startup.timed("boot_s", params.boot.sample(self.rng))
        startup.enter(ReplicaState.INITIALIZING)
        yield startup.timed("init_s", app.init.sample(self.init_rng(app.name)))
        return startup.ready()

    def release(self, replica: str, holding: Holding) -> None:
        """Shut a VM down and delete its disk (a clone's base image stays on the host);
        an instance is terminated."""
        holding.host.disk.free(holding.disk_bytes)
        if self.instance_type is None:
            self.scheduler.release(holding.host, replica, holding.vcpu, holding.memory_bytes)
        else:
            self.cloud.terminate(holding.host)


def build(params: VmParams, context: PlatformContext) -> VmPlatform:
    return VmPlatform(params, context)


KIND = Kind("vm", VmParams, build, "a VM per replica, on a host or as its own instance")
