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
from functools import partial
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
from sim.model.primitives.signal import Signal, Task
from sim.policies.backoff import ImagePullBackoff

PullPolicy = Literal["IfNotPresent", "Always"]
Ended = Callable[[ReplicaRecord, Holding | None], None]
"""What a start-up's end is told: its record and, when ready, what the container holds."""

# Enum members as module constants (a lookup on the class takes ~0.1 µs).
_PULLING = ReplicaState.PULLING
_CREATING = ReplicaState.CREATING
_STARTING = ReplicaState.STARTING
_INITIALIZING = ReplicaState.INITIALIZING
_PULLING_DETAILS = ("state", "image", "attempt")


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
        """`begin`, as part of a SimPy process body."""
        ended = Signal(self.env)

        def then(record: ReplicaRecord, holding: Holding | None) -> None:
            ended.succeed((record, holding))

        self.begin(startup, host, app, then)
        result: tuple[ReplicaRecord, Holding | None] = yield ended
        return result

    def begin(self, startup: Startup, host: Host, app: App, then: Ended) -> None:
        """Pull (unless present), create, start and initialise the app's container on
        `host`, whose vCPU and memory are already reserved; then call `then` with the
        record and, when ready, what the container holds."""
        _Run(self, startup, host, app, then).begin()

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


class _Run:
    """One container's start-up on a host, as a chain of callbacks: each step runs as
    the wait before it ends (a pull, a back-off, a create, a start, an initialisation),
    in the order a process taking the same steps would; then `then`."""

    __slots__ = ("runtime", "startup", "host", "app", "then", "attempt", "waits", "holding")

    def __init__(
        self, runtime: ContainerRuntime, startup: Startup, host: Host, app: App, then: Ended
    ) -> None:
        self.runtime = runtime
        self.startup = startup
        self.host = host
        self.app = app
        self.then = then
        self.attempt = 0
        self.waits: ImagePullBackoff | None = None
        self.holding: Holding | None = None

    def begin(self) -> None:
        runtime = self.runtime
        image = self.app.image
        if runtime.settings.image_pull_policy == "Always" or not self.host.engine.has_image(image):
            self._pull()
        else:
            runtime.log.record(
                runtime.env.now, self.host.name, EventKind.IMAGE_PRESENT, image=image.reference
            )
            self._create()

    def _pull(self) -> None:
        """Pull the image, backing off and retrying failures like the kubelet."""
        self.attempt += 1
        app = self.app
        image = app.image
        self.startup.enter_with(
            _PULLING, _PULLING_DETAILS, (_PULLING, image.reference, self.attempt)
        )
        self.host.engine.begin_pull(
            image, self.runtime.source_for(image), app.startup_read_fraction
        ).add(self._attempted)

    def _attempted(self, ended: Signal) -> None:
        pull: PullRecord = ended._value
        runtime = self.runtime
        startup = self.startup
        runtime.pulls.append(pull)
        startup.add("wait_s", pull.queued_s)
        startup.phases.update(pull_download_s=pull.download_s, pull_extract_s=pull.extract_s)
        backoff = runtime.settings.image_pull_backoff
        if pull.ok or self.attempt == backoff.attempts:
            self._pulled(pull)
            return
        if self.waits is None:
            self.waits = ImagePullBackoff(backoff.initial_s, backoff.max_s)
        image = self.app.image
        backoff_s = self.waits.wait_after_failure_s(image.name, runtime.env.now)
        startup.enter(ReplicaState.PULL_BACKOFF, reason=pull.reason, backoff_s=backoff_s)
        startup.wait("wait_s", backoff_s, partial(self._backed_off, pull))

    def _backed_off(self, pull: PullRecord, _: object) -> None:
        runtime = self.runtime
        image = self.app.image
        if runtime.settings.image_pull_policy == "IfNotPresent" and self.host.engine.has_image(
            image
        ):
            runtime.log.record(
                runtime.env.now, self.host.name, EventKind.IMAGE_PRESENT, image=image.reference
            )
            self._pulled(replace(pull, ok=True, reason="", skipped=True))
            return
        self._pull()

    def _pulled(self, pull: PullRecord) -> None:
        if not pull.ok:
            self.then(self.startup.failed(pull.reason), None)
            return
        self._create()

    def _create(self) -> None:
        runtime = self.runtime
        startup = self.startup
        app = self.app
        host = self.host
        startup.enter(_CREATING)
        writable_bytes = runtime.settings.writable_layer_bytes
        try:
            runtime.create(host, app.image.name, writable_bytes)
        except DiskFull as error:
            self.then(startup.failed(str(error)), None)
            return
        self.holding = Holding(host, app.vcpu, app.memory_bytes, writable_bytes, app.image.name)
        startup.wait("create_s", runtime.create_time_s(), self._created)

    def _created(self, _: object) -> None:
        self.startup.enter(_STARTING)
        self.startup.wait("start_s", self.runtime.start_time_s(), self._started)

    def _started(self, _: object) -> None:
        runtime = self.runtime
        startup = self.startup
        app = self.app
        startup.enter(_INITIALIZING)
        init_s = app.init.sample(runtime.init_rng(app.name))
        engine = self.host.engine
        reads = pending_reads(engine, app.image, app.startup_read_fraction)
        if reads:
            reading = initialise(
                runtime.env, engine, runtime.source_for(app.image), startup.replica, reads, init_s
            )
            Task(runtime.env, reading).ended.add(partial(self._read, runtime.env.now))
        else:
            startup.wait("init_s", init_s, self._initialised)

    def _read(self, began_s: float, _: object) -> None:
        self.startup.add("init_s", self.runtime.env.now - began_s)
        self._initialised(None)

    def _initialised(self, _: object) -> None:
        self.then(self.startup.ready(), self.holding)
