"""Platforms: how a replica of an application is started, and what it holds.

* ``container``: place the container on a host (by the placement policy), pull its
  image unless present (the kubelet's ``IfNotPresent``), create it with a thin
  copy-on-write writable layer, start it (runtime start latency), then the app
  initialises.
* ``vm``: place a VM on a hypervisor host, provision it (including its disk image:
  a full copy per VM, or a thin clone over a base image held once per host), boot the
  guest OS, then the app initialises. The VM reserves its guest memory plus the
  hypervisor's overhead, per the KVM formula
  ``overhead = fraction × guest memory + fixed + per-vCPU × vCPUs``.

Replica lifecycle: requested → scheduled → (provisioning → booting) | (pulling →
creating → starting) → initializing → ready; or failed, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import numpy as np
import simpy

from sim.core.distributions import Distribution
from sim.core.records import EventLog, PullRecord, ReplicaRecord
from sim.model.host import Host
from sim.model.images import Image
from sim.model.registry import Registry
from sim.model.storage import DiskFull
from sim.policies.placement import PlacementPolicy, PlacementRequest


@dataclass(frozen=True, slots=True)
class App:
    """An application: its image, the resources one replica requests, its start-up work."""

    name: str
    image: Image
    vcpu: float
    memory_bytes: int
    init: Distribution


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

    def guest_memory_bytes(self, app: App) -> int:
        return app.memory_bytes + self.guest_os_memory_bytes

    def memory_overhead_bytes(self, app: App) -> int:
        """The hypervisor's memory overhead for one VM of this app (KVM formula)."""
        return round(
            self.overhead_fraction * self.guest_memory_bytes(app)
            + self.overhead_fixed_bytes
            + self.overhead_per_vcpu_bytes * app.vcpu
        )


@dataclass(frozen=True, slots=True)
class _Holding:
    """What a running replica holds on its host, to give back when it stops."""

    host: Host
    vcpu: float
    memory_bytes: int
    disk_bytes: int
    image: str = ""


class Platform(Protocol):
    """Starts and stops replicas of applications."""

    name: str
    kind: str

    def stop_replica(self, replica: str) -> None: ...

    def start_replica(
        self, replica: str, app: App, requested_s: float, pinned: Host | None = None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]: ...


def _place(
    hosts: Sequence[Host],
    policy: PlacementPolicy,
    vcpu: float,
    memory_bytes: int,
    pinned: Host | None,
) -> Host | None:
    """The host a replica goes to: the pinned one if it fits (a DaemonSet), else the
    policy's choice; None when nothing fits."""
    if pinned is not None:
        view = pinned.view()
        fits = view.vcpu_free + 1e-9 >= vcpu and view.memory_free_bytes >= memory_bytes
        return pinned if fits else None
    chosen = policy.choose(PlacementRequest(vcpu, memory_bytes), [host.view() for host in hosts])
    return None if chosen is None else next(host for host in hosts if host.name == chosen)


def _unschedulable(hosts: Sequence[Host], vcpu: float, memory_bytes: int) -> str:
    return (
        f"unschedulable: 0/{len(hosts)} hosts have {vcpu:g} vCPU and "
        f"{memory_bytes} B of memory free"
    )


class _Startup:
    """One replica's start-up: logs its state changes, times its phases, makes its record."""

    def __init__(
        self, env: simpy.Environment, log: EventLog, replica: str, app: App, platform: str
    ) -> None:
        self.env = env
        self.log = log
        self.replica = replica
        self.app = app
        self.platform = platform
        self.requested_s = env.now
        self.host = ""
        self.phases: dict[str, Any] = {}

    def enter(self, state: str, **details: Any) -> float:
        self.log.record(self.env.now, self.replica, "replica_state", state=state, **details)
        return self.env.now

    def timed(self, phase: str, seconds: float) -> simpy.Timeout:
        """Spend `seconds` in `phase` (e.g. ``boot_s``) and remember it."""
        self.phases[phase] = self.phases.get(phase, 0.0) + seconds
        return self.env.timeout(seconds)

    def _record(self, state: str, reason: str, ready_s: float | None) -> ReplicaRecord:
        record = ReplicaRecord(
            replica=self.replica,
            app=self.app.name,
            platform=self.platform,
            host=self.host,
            requested_s=self.requested_s,
            ready_s=ready_s,
            state=state,
            reason=reason,
        )
        return replace(record, **self.phases)

    def failed(self, reason: str) -> ReplicaRecord:
        self.enter("failed", reason=reason)
        return self._record("failed", reason, None)

    def ready(self) -> ReplicaRecord:
        return self._record("ready", "", self.enter("ready", host=self.host))


class ContainerPlatform:
    """Containers on the cluster's hosts.

    Args:
        env: the simulation environment.
        params: the platform's settings.
        hosts: the hosts containers may be placed on.
        placement: the placement policy.
        source_for: the registry (origin or mirror) a host pulls an image from.
        rng: the platform's random stream (create and runtime start latencies).
        init_rng: the stream for an app's initialisation time, by app name.
        log: the event log.
        pulls: where each pull's record is appended.
    """

    kind = "container"

    def __init__(
        self,
        env: simpy.Environment,
        params: ContainerPlatformParams,
        hosts: Sequence[Host],
        placement: PlacementPolicy,
        source_for: Callable[[Image], Registry],
        rng: np.random.Generator,
        init_rng: Callable[[str], np.random.Generator],
        log: EventLog,
        pulls: list[PullRecord],
    ) -> None:
        self.env = env
        self.params = params
        self.name = params.name
        self.hosts = hosts
        self.placement = placement
        self.source_for = source_for
        self.rng = rng
        self.init_rng = init_rng
        self.log = log
        self.pulls = pulls
        self._holdings: dict[str, _Holding] = {}

    def stop_replica(self, replica: str) -> None:
        """Stop and remove a ready container: its writable layer is discarded."""
        holding = self._holdings.pop(replica)
        stored = holding.host.engine.store.images[holding.image]
        stored.containers -= 1
        stored.last_used_s = self.env.now
        holding.host.disk.free(holding.disk_bytes)
        holding.host.release(holding.vcpu, holding.memory_bytes)
        self.log.record(self.env.now, replica, "replica_state", state="removed")

    def start_replica(
        self, replica: str, app: App, requested_s: float, pinned: Host | None = None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]:
        """Place (on `pinned` if given), pull, create, start, initialise one container."""
        startup = _Startup(self.env, self.log, replica, app, self.name)
        host = _place(self.hosts, self.placement, app.vcpu, app.memory_bytes, pinned)
        if host is None:
            return startup.failed(_unschedulable(self.hosts, app.vcpu, app.memory_bytes))
        host.reserve(app.vcpu, app.memory_bytes)
        startup.host = host.name
        startup.enter("scheduled", host=host.name)
        engine = host.engine
        if self.params.image_pull_policy == "Always" or not engine.has_image(app.image):
            pull = yield from self._pull(startup, host, app)
            if not pull.ok:
                host.release(app.vcpu, app.memory_bytes)
                return startup.failed(pull.reason)
        else:
            self.log.record(self.env.now, host.name, "image_present", image=app.image.reference)
        startup.enter("creating")
        try:
            host.disk.allocate(self.params.writable_layer_bytes)
        except DiskFull as error:
            host.release(app.vcpu, app.memory_bytes)
            return startup.failed(str(error))
        stored = engine.store.images[app.image.name]
        stored.containers += 1
        stored.last_used_s = self.env.now
        self._holdings[replica] = _Holding(
            host, app.vcpu, app.memory_bytes, self.params.writable_layer_bytes, app.image.name
        )
        yield startup.timed("create_s", self.params.create.sample(self.rng))
        startup.enter("starting")
        yield startup.timed("start_s", self.params.runtime_start.sample(self.rng))
        startup.enter("initializing")
        yield startup.timed("init_s", app.init.sample(self.init_rng(app.name)))
        return startup.ready()

    def _pull(
        self, startup: _Startup, host: Host, app: App
    ) -> Generator[simpy.Event, Any, PullRecord]:
        """Pull the app's image, backing off and retrying failures like the kubelet."""
        params = self.params
        backoff_s = params.pull_backoff_initial_s
        attempt = 0
        while True:
            attempt += 1
            startup.enter("pulling", image=app.image.reference, attempt=attempt)
            pull: PullRecord = yield self.env.process(
                host.engine.pull(app.image, self.source_for(app.image))
            )
            self.pulls.append(pull)
            startup.phases["wait_s"] = startup.phases.get("wait_s", 0.0) + pull.queued_s
            startup.phases.update(pull_download_s=pull.download_s, pull_extract_s=pull.extract_s)
            if pull.ok or attempt == params.pull_attempts:
                return pull
            startup.enter("pull_backoff", reason=pull.reason, backoff_s=backoff_s)
            yield startup.timed("wait_s", backoff_s)
            backoff_s = min(2 * backoff_s, params.pull_backoff_max_s)
            if params.image_pull_policy == "IfNotPresent" and host.engine.has_image(app.image):
                self.log.record(self.env.now, host.name, "image_present", image=app.image.reference)
                return replace(pull, ok=True, reason="", skipped=True)


class VmPlatform:
    """Virtual machines on the cluster's hypervisor hosts, one replica per VM.

    Args:
        env: the simulation environment.
        params: the platform's settings.
        hosts: the hypervisor hosts.
        placement: the placement policy.
        rng: the platform's random stream (provision and boot times).
        init_rng: the stream for an app's initialisation time, by app name.
        log: the event log.
    """

    kind = "vm"

    def __init__(
        self,
        env: simpy.Environment,
        params: VmPlatformParams,
        hosts: Sequence[Host],
        placement: PlacementPolicy,
        rng: np.random.Generator,
        init_rng: Callable[[str], np.random.Generator],
        log: EventLog,
    ) -> None:
        self.env = env
        self.params = params
        self.name = params.name
        self.hosts = hosts
        self.placement = placement
        self.rng = rng
        self.init_rng = init_rng
        self.log = log
        self._holdings: dict[str, _Holding] = {}

    def stop_replica(self, replica: str) -> None:
        """Shut a VM down and delete its disk (a clone's base image stays on the host)."""
        holding = self._holdings.pop(replica)
        holding.host.disk.free(holding.disk_bytes)
        holding.host.release(holding.vcpu, holding.memory_bytes)
        self.log.record(self.env.now, replica, "replica_state", state="stopped")

    def _disk_bytes(self, host: Host) -> tuple[int, int]:
        """(bytes to allocate, bytes to write) for one more VM disk on `host`."""
        params = self.params
        if params.disk_mode == "copy":
            return params.disk_image_bytes, params.disk_image_bytes
        base = 0 if params.name in host.vm_base_images else params.disk_image_bytes
        return base + params.clone_overlay_bytes, params.clone_overlay_bytes

    def start_replica(
        self, replica: str, app: App, requested_s: float, pinned: Host | None = None
    ) -> Generator[simpy.Event, Any, ReplicaRecord]:
        """Place (on `pinned` if given), provision, boot and initialise one VM replica."""
        params = self.params
        startup = _Startup(self.env, self.log, replica, app, self.name)
        memory_bytes = params.guest_memory_bytes(app) + params.memory_overhead_bytes(app)
        host = _place(self.hosts, self.placement, app.vcpu, memory_bytes, pinned)
        if host is None:
            return startup.failed(_unschedulable(self.hosts, app.vcpu, memory_bytes))
        startup.host = host.name
        allocate_bytes, write_bytes = self._disk_bytes(host)
        try:
            host.disk.allocate(allocate_bytes)
        except DiskFull as error:
            return startup.failed(str(error))
        host.vm_base_images.add(params.name)
        host.reserve(app.vcpu, memory_bytes)
        disk_bytes = (
            params.disk_image_bytes if params.disk_mode == "copy" else params.clone_overlay_bytes
        )
        self._holdings[replica] = _Holding(host, app.vcpu, memory_bytes, disk_bytes)
        startup.enter("scheduled", host=host.name, memory_bytes=memory_bytes)
        startup.enter("provisioning", disk_mode=params.disk_mode, disk_bytes=write_bytes)
        provision_s = (
            params.provision.sample(self.rng) + write_bytes / host.params.disk_write_bytes_s
        )
        yield startup.timed("provision_s", provision_s)
        startup.enter("booting")
        yield startup.timed("boot_s", params.boot.sample(self.rng))
        startup.enter("initializing")
        yield startup.timed("init_s", app.init.sample(self.init_rng(app.name)))
        return startup.ready()
