"""Platforms: how a replica of an application is started and stopped, and what it holds.

* ``container``: the scheduler places the container on a host (by the placement
  policy), the kubelet pulls its image unless present (``IfNotPresent``), retrying with
  ``ImagePullBackOff``; the runtime creates it with a thin copy-on-write writable layer
  and starts it (runtime start latency), then the app initialises.
* ``vm``: a VM is placed on a hypervisor host, provisioned (its disk image: a full copy
  per VM, or a thin clone over a base image held once per host), its guest OS boots,
  then the app initialises. It reserves its guest memory plus the hypervisor's overhead,
  per the KVM formula ``overhead = fraction × guest memory + fixed + per-vCPU × vCPUs``.
  With an ``instance_type``, each VM is instead its own cloud instance (EC2-like):
  launched, billed, provisioned and booted, the app running on the whole instance.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import simpy

from sim.core.distributions import Distribution
from sim.core.records import EventKind, EventLog, PullRecord, ReplicaRecord, ReplicaState
from sim.model.cloud import Cloud, InstanceType
from sim.model.host import Host
from sim.model.images import Image
from sim.model.registry import Registry
from sim.model.replica import App, Holding, Ledger, Startup
from sim.model.scheduler import Scheduler
from sim.model.storage import DiskFull
from sim.policies.placement import PlacementPolicy


@dataclass(frozen=True, slots=True)
class ContainerPlatformParams:
    """Settings of the container platform (SI units).

    A failed pull is retried as the kubelet does (``ImagePullBackOff``): after
    ``pull_backoff_initial_s``, doubling up to ``pull_backoff_max_s``; ``pull_attempts``
    caps the attempts (0: retry until the horizon, as Kubernetes does).
    """

    name: str
    placement: str
    create: Distribution
    runtime_start: Distribution
    writable_layer_bytes: int
    image_pull_policy: Literal["IfNotPresent", "Always"] = "IfNotPresent"
    pull_backoff_initial_s: float = 10.0
    pull_backoff_max_s: float = 300.0
    pull_attempts: int = 0


@dataclass(frozen=True, slots=True)
class VmPlatformParams:
    """Settings of a VM platform (SI units); a microVM is the same with smaller numbers."""

    name: str
    placement: str
    provision: Distribution
    boot: Distribution
    guest_os_memory_bytes: int
    disk_image_bytes: int
    disk_mode: Literal["copy", "clone"]
    clone_overlay_bytes: int
    overhead_fraction: float
    overhead_fixed_bytes: int
    overhead_per_vcpu_bytes: int
    instance_type: str | None = None

    def guest_memory_bytes(self, app: App) -> int:
        return app.memory_bytes + self.guest_os_memory_bytes

    def memory_overhead_bytes(self, app: App) -> int:
        """The hypervisor's memory overhead for one VM of this app (KVM formula)."""
        return round(
            self.overhead_fraction * self.guest_memory_bytes(app)
            + self.overhead_fixed_bytes
            + self.overhead_per_vcpu_bytes * app.vcpu
        )


class ContainerRuntime:
    """The node agent and container runtime of one platform: pull, create, start, init.

    Args:
        env: the simulation environment.
        params: the platform's settings.
        source_for: the registry (origin or mirror) a host pulls an image from.
        rng: the platform's stream (create and runtime start latencies).
        init_rng: the stream for an app's initialisation time, by app name.
        log: the event log.
        pulls: where each pull's record is appended.
    """

    def __init__(
        self,
        env: simpy.Environment,
        params: ContainerPlatformParams,
        source_for: Callable[[Image], Registry],
        rng: np.random.Generator,
        init_rng: Callable[[str], np.random.Generator],
        log: EventLog,
        pulls: list[PullRecord],
    ) -> None:
        self.env = env
        self.params = params
        self.source_for = source_for
        self.rng = rng
        self.init_rng = init_rng
        self.log = log
        self.pulls = pulls

    def run(
        self, startup: Startup, host: Host, app: App
    ) -> Generator[simpy.Event, Any, tuple[ReplicaRecord, Holding | None]]:
        """Pull (unless present), create, start and initialise the app's container on
        `host`, whose vCPU and memory are already reserved; returns the record and, when
        ready, what the container holds."""
        engine = host.engine
        if self.params.image_pull_policy == "Always" or not engine.has_image(app.image):
            pull = yield from self._pull(startup, host, app)
            if not pull.ok:
                return startup.failed(pull.reason), None
        else:
            self.log.record(
                self.env.now, host.name, EventKind.IMAGE_PRESENT, image=app.image.reference
            )
        startup.enter(ReplicaState.CREATING)
        try:
            host.disk.allocate(self.params.writable_layer_bytes)
        except DiskFull as error:
            return startup.failed(str(error)), None
        stored = engine.store.images[app.image.name]
        stored.containers += 1
        stored.last_used_s = self.env.now
        holding = Holding(
            host, app.vcpu, app.memory_bytes, self.params.writable_layer_bytes, app.image.name
        )
        yield startup.timed("create_s", self.params.create.sample(self.rng))
        startup.enter(ReplicaState.STARTING)
        yield startup.timed("start_s", self.params.runtime_start.sample(self.rng))
        startup.enter(ReplicaState.INITIALIZING)
        yield startup.timed("init_s", app.init.sample(self.init_rng(app.name)))
        return startup.ready(), holding

    def remove(self, holding: Holding) -> None:
        """Remove a container: its writable layer is discarded."""
        stored = holding.host.engine.store.images[holding.image]
        stored.containers -= 1
        stored.last_used_s = self.env.now
        holding.host.disk.free(holding.disk_bytes)

    def _pull(
        self, startup: Startup, host: Host, app: App
    ) -> Generator[simpy.Event, Any, PullRecord]:
        """Pull the app's image, backing off and retrying failures like the kubelet."""
        params = self.params
        backoff_s = params.pull_backoff_initial_s
        attempt = 0
        while True:
            attempt += 1
            startup.enter(ReplicaState.PULLING, image=app.image.reference, attempt=attempt)
            pull: PullRecord = yield self.env.process(
                host.engine.pull(app.image, self.source_for(app.image))
            )
            self.pulls.append(pull)
            startup.add("wait_s", pull.queued_s)
            startup.phases.update(pull_download_s=pull.download_s, pull_extract_s=pull.extract_s)
            if pull.ok or attempt == params.pull_attempts:
                return pull
            startup.enter(ReplicaState.PULL_BACKOFF, reason=pull.reason, backoff_s=backoff_s)
            yield startup.timed("wait_s", backoff_s)
            backoff_s = min(2 * backoff_s, params.pull_backoff_max_s)
            if params.image_pull_policy == "IfNotPresent" and host.engine.has_image(app.image):
                self.log.record(
                    self.env.now, host.name, EventKind.IMAGE_PRESENT, image=app.image.reference
                )
                return replace(pull, ok=True, reason="", skipped=True)


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
        params: ContainerPlatformParams,
        scheduler: Scheduler,
        placement: PlacementPolicy,
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
        host = yield from self.scheduler.place(
            replica, self.placement, app.vcpu, app.memory_bytes, pinned
        )
        startup.add("wait_s", self.env.now - startup.requested_s)
        startup.host = host.name
        startup.enter(ReplicaState.SCHEDULED, host=host.name, memory_bytes=app.memory_bytes)
        record, holding = yield from self.runtime.run(startup, host, app)
        if holding is None:
            self.scheduler.release(host, app.vcpu, app.memory_bytes)
        else:
            self.ledger.open(replica, holding, app, self.env.now)
        return record

    def stop_replica(self, replica: str) -> None:
        """Stop and remove a ready container."""
        holding = self.ledger.close(replica, self.env.now)
        self.runtime.remove(holding)
        self.scheduler.release(holding.host, holding.vcpu, holding.memory_bytes)
        self.log.record(self.env.now, replica, EventKind.REPLICA_STATE, state=ReplicaState.REMOVED)


class VmPlatform:
    """Virtual machines, one replica per VM: on the cluster's hypervisor hosts, or each its
    own cloud instance when the platform has an instance type.

    Args:
        env: the simulation environment.
        params: the platform's settings.
        scheduler: places VMs on the cluster's hosts.
        placement: the placement policy.
        cloud: launches instances (instance mode).
        instance_type: the type of each VM's instance, or None to use the cluster's hosts.
        principal: who a launched instance is to private registries.
        rng: the platform's random stream (provision and boot times).
        init_rng: the stream for an app's initialisation time, by app name.
        log: the event log.
    """

    kind = "vm"

    def __init__(
        self,
        env: simpy.Environment,
        params: VmPlatformParams,
        scheduler: Scheduler,
        placement: PlacementPolicy,
        cloud: Cloud,
        instance_type: InstanceType | None,
        rng: np.random.Generator,
        init_rng: Callable[[str], np.random.Generator],
        ledger: Ledger,
        log: EventLog,
    ) -> None:
        self.env = env
        self.params = params
        self.name = params.name
        self.scheduler = scheduler
        self.placement = placement
        self.cloud = cloud
        self.instance_type = instance_type
        self.rng = rng
        self.init_rng = init_rng
        self.ledger = ledger
        self.log = log

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
            host = yield from self.scheduler.place(
                replica, self.placement, app.vcpu, memory_bytes, pinned
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

    def start_replica(
        self, replica: str, app: App, requested_s: float, pinned: Host | None = None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]:
        """Place (on `pinned` if given) or launch, provision, boot and initialise one VM."""
        params = self.params
        startup = Startup(self.env, self.log, replica, app, self.name, self.ledger)
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
                self.scheduler.release(host, app.vcpu, memory_bytes)
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

    def stop_replica(self, replica: str) -> None:
        """Shut a VM down and delete its disk (a clone's base image stays on the host);
        an instance is terminated."""
        holding = self.ledger.close(replica, self.env.now)
        holding.host.disk.free(holding.disk_bytes)
        if self.instance_type is None:
            self.scheduler.release(holding.host, holding.vcpu, holding.memory_bytes)
        else:
            self.cloud.terminate(holding.host)
        self.log.record(self.env.now, replica, EventKind.REPLICA_STATE, state=ReplicaState.STOPPED)
