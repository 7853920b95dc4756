"""The container runtime of a host: pull, create, start, initialise, remove.

One runtime for every path that runs containers: the container platform on the cluster's
hosts, the Elastic Beanstalk and Fargate platforms on their own instances, and
sim-docker's daemon. Its steps are what a node agent over a container runtime does:

* the kubelet pulls the image unless it is present (``IfNotPresent``) or always
  (``Always``), retrying a failed pull with ``ImagePullBackOff`` (10 s doubling to
  5 min, as the kubelet's defaults, starting over after a failure more than 10 min after
  the previous one; `sim.policies.backoff`);
* ``create`` gives the container a thin copy-on-write writable layer over the image's
  read-only layers and marks the image in use (the layer store keeps the count and the
  last-used time the kubelet's image GC orders images by);
* ``start`` takes the runtime's start latency (about 0.57 s with the image cached on an
  SSD, in a measurement study of Docker's start-up);
* the app then initialises (with a lazy snapshotter, stalling for what it reads of a
  layer that has not arrived: `sim.model.hosts.lazy_reads`); ``remove`` discards the
  writable layer and marks the image used now.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import simpy

from sim.core.distributions import Constant, Distribution, LogNormal
from sim.core.records import EventKind, EventLog, PullRecord, ReplicaRecord, ReplicaState
from sim.core.settings import setting
from sim.model.hosts.host import Host
from sim.model.hosts.lazy_reads import initialise, pending_reads
from sim.model.hosts.replica import App, Holding, Startup
from sim.model.images.image import Image
from sim.model.images.registry import Registry
from sim.model.images.store import DiskFull
from sim.policies.backoff import ImagePullBackoff

PullPolicy = Literal["IfNotPresent", "Always"]


@dataclass(frozen=True, slots=True)
class PullBackoff:
    """How the kubelet retries a failed pull (``ImagePullBackOff``)."""

    initial_s: float = setting(10.0, unit="duration", doc="the first wait after a failure")
    max_s: float = setting(
        300.0, unit="duration", doc="waits double up to this; failures 2 x this apart start over"
    )
    attempts: int = setting(0, minimum=0, doc="attempts in all; 0: until the horizon")


@dataclass(frozen=True, kw_only=True)
class ContainerSettings:
    """What a container runtime takes: its latencies, its writable layer and its pull
    policy (SI units). Platforms that run containers share these settings."""

    create: Distribution = setting(
        LogNormal(0.05, 0.3), doc="namespaces, cgroups and the writable layer"
    )
    runtime_start: Distribution = setting(
        LogNormal(0.57, 0.25), doc="the runtime's start (0.57 s median, image cached, SSD)"
    )
    writable_layer_bytes: int = setting(
        1_000_000, unit="size", doc="the thin copy-on-write layer at creation"
    )
    image_pull_policy: PullPolicy = setting("IfNotPresent", doc="IfNotPresent or Always")
    image_pull_backoff: PullBackoff = setting(
        default_factory=PullBackoff, doc="the kubelet's ImagePullBackOff"
    )


def constant_settings() -> ContainerSettings:
    """Settings with no randomness: instant create and start (for exact tests)."""
    return ContainerSettings(create=Constant(0.0), runtime_start=Constant(0.0))


class ContainerRuntime:
    """The node agent and container runtime: pull, create, start, init, remove.

    Args:
        env: the simulation environment.
        settings: the runtime's settings.
        source_for: the registry (origin or mirror) a host pulls an image from.
        rng: the stream create and start latencies are drawn from.
        init_rng: the stream for an app's initialisation time, by app name.
        log: the event log.
        pulls: where each pull's record is appended.
    """

    def __init__(
        self,
        env: simpy.Environment,
        settings: ContainerSettings,
        source_for: Callable[[Image], Registry],
        rng: np.random.Generator,
        init_rng: Callable[[str], np.random.Generator],
        log: EventLog,
        pulls: list[PullRecord],
    ) -> None:
        self.env = env
        self.settings = settings
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
        if self.settings.image_pull_policy == "Always" or not engine.has_image(app.image):
            pull = yield from self.pull(startup, host, app)
            if not pull.ok:
                return startup.failed(pull.reason), None
        else:
            self.log.record(
                self.env.now, host.name, EventKind.IMAGE_PRESENT, image=app.image.reference
            )
        startup.enter(ReplicaState.CREATING)
        try:
            self.create(host, app.image.name, self.settings.writable_layer_bytes)
        except DiskFull as error:
            return startup.failed(str(error)), None
        holding = Holding(
            host, app.vcpu, app.memory_bytes, self.settings.writable_layer_bytes, app.image.name
        )
        yield startup.timed("create_s", self.create_time_s())
        startup.enter(ReplicaState.STARTING)
        yield startup.timed("start_s", self.start_time_s())
        startup.enter(ReplicaState.INITIALIZING)
        init_s = app.init.sample(self.init_rng(app.name))
        reads = pending_reads(engine, app.image, app.startup_read_fraction)
        if reads:
            began_s = self.env.now
            yield from initialise(
                self.env, engine, self.source_for(app.image), startup.replica, reads, init_s
            )
            startup.add("init_s", self.env.now - began_s)
        else:
            yield startup.timed("init_s", init_s)
        return startup.ready(), holding

    def create(self, host: Host, image: str, writable_bytes: int) -> None:
        """Create a container of `image` on `host`: its writable layer takes
        `writable_bytes` of the disk, and the image is in use.

        Raises:
            DiskFull: the writable layer does not fit (nothing is taken).
        """
        host.disk.allocate(writable_bytes)
        host.engine.store.use(image, self.env.now)

    def create_time_s(self) -> float:
        """How long one create takes (a draw from the runtime's stream)."""
        return self.settings.create.sample(self.rng)

    def start_time_s(self) -> float:
        """How long one start takes (a draw from the runtime's stream)."""
        return self.settings.runtime_start.sample(self.rng)

    def remove(self, host: Host, image: str, writable_bytes: int) -> None:
        """Remove a container: its writable layer is discarded, its image used now."""
        host.engine.store.unuse(image, self.env.now)
        host.disk.free(writable_bytes)

    def remove_holding(self, holding: Holding) -> None:
        """Remove the container a ready replica holds."""
        self.remove(holding.host, holding.image, holding.disk_bytes)

    def pull(
        self, startup: Startup, host: Host, app: App
    ) -> Generator[simpy.Event, Any, PullRecord]:
        """Pull the app's image, backing off and retrying failures like the kubelet."""
        settings = self.settings
        backoff = settings.image_pull_backoff
        waits = ImagePullBackoff(backoff.initial_s, backoff.max_s)
        attempt = 0
        while True:
            attempt += 1
            startup.enter(ReplicaState.PULLING, image=app.image.reference, attempt=attempt)
            pull = yield from host.engine.pull(
                app.image, self.source_for(app.image), app.startup_read_fraction
            )
            self.pulls.append(pull)
            startup.add("wait_s", pull.queued_s)
            startup.phases.update(pull_download_s=pull.download_s, pull_extract_s=pull.extract_s)
            if pull.ok or attempt == backoff.attempts:
                return pull
            backoff_s = waits.wait_after_failure_s(app.image.name, self.env.now)
            startup.enter(ReplicaState.PULL_BACKOFF, reason=pull.reason, backoff_s=backoff_s)
            yield startup.timed("wait_s", backoff_s)
            if settings.image_pull_policy == "IfNotPresent" and host.engine.has_image(app.image):
                self.log.record(
                    self.env.now, host.name, EventKind.IMAGE_PRESENT, image=app.image.reference
                )
                return replace(pull, ok=True, reason="", skipped=True)
