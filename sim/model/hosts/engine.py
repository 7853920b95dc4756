"""The container engine on a host: image pulls as the Docker daemon does them.

A pull asks the registry for the manifest, then walks the image's layers up from the
base: each layer whose ChainID is stored is "Already exists", until the first miss;
every layer from there up is fetched. Blobs download in parallel through the daemon's
``max_concurrent_downloads`` slots (3), shared by every pull on the host; a slot frees
as soon as its blob is down. Each layer is extracted after its parent, so extraction is
serial in layer order. A failed download is retried (``download_attempts`` in all,
waiting ``attempt × retry_backoff_s`` in between). A layer another pull on the same host
is already fetching is waited for, not fetched twice, and a layer counts as stored only
once its extraction has finished.

Before a pull that would not fit on the disk the engine garbage-collects images as the
kubelet does; if the pull still does not fit it fails with ``no space left on device``.
The same collection runs every ``image_gc_period_s`` against the 85/80 % thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import simpy

from sim.core.records import EventKind, EventLog, PullRecord
from sim.core.settings import setting
from sim.model.hosts.cohort import PullCohorts
from sim.model.hosts.pull import Pull
from sim.model.images.download import LayerDownload
from sim.model.images.image import Image
from sim.model.images.lazy_download import LazyLayerDownload
from sim.model.images.registry import Registry
from sim.model.images.snapshotters import SNAPSHOTTERS, SnapshotterParams
from sim.model.images.snapshotters.overlayfs import OverlayfsParams
from sim.model.images.store import DiskAccount, DiskTotals, LayerStore
from sim.model.primitives.ratelimit import RequestQuota, TokenBucket
from sim.model.primitives.signal import Signal
from sim.model.primitives.slots import Slots
from sim.policies.image_gc import (
    GcThresholds,
    ImageRecord,
    bytes_to_free,
    choose_images_to_delete,
    images_too_old,
)


@dataclass(frozen=True, slots=True)
class CrashLoopParams:
    """The kubelet's CrashLoopBackOff (KEP-4603 makes both settings)."""

    initial_s: float = setting(
        10.0, unit="duration", above=0, doc="the wait before the second restart (the first: none)"
    )
    max_s: float = setting(
        300.0, unit="duration", above=0, doc="waits double up to this (below initial: both)"
    )


@dataclass(frozen=True, slots=True)
class EngineParams:
    """Daemon and kubelet settings of a host (SI units).

    ``extraction_bytes_s`` is the rate at which uncompressed layer bytes are written out;
    ``math.inf`` makes extraction instantaneous. ``registry_pull_qps`` and
    ``registry_burst`` are the kubelet's pull rate limit (a token bucket; 0 QPS turns it
    off): a pull over it fails at once with ``pull QPS exceeded``.
    """

    max_concurrent_downloads: int = setting(3, minimum=1, doc="dockerd's download slots")
    download_attempts: int = setting(5, minimum=1, doc="tries per blob or manifest request")
    retry_backoff_s: float = setting(5.0, unit="duration", doc="attempt n waits n times this")
    extraction_bytes_s: float = setting(
        math.inf,
        unit="bandwidth",
        above=0,
        off="off",
        off_value=math.inf,
        doc="uncompressed bytes written per second; off: instant",
    )
    serialize_image_pulls: bool = setting(True, doc="the kubelet pulls one image at a time")
    registry_pull_qps: float = setting(5.0, minimum=0, doc="the kubelet's pull rate; 0: off")
    registry_burst: int = setting(10, minimum=1, doc="the kubelet's pull burst")
    image_gc: GcThresholds = setting(
        default_factory=GcThresholds, doc="the kubelet's image garbage collection"
    )
    snapshotter: SnapshotterParams = setting(
        default_factory=OverlayfsParams,
        family=SNAPSHOTTERS,
        doc="overlayfs: whole layers before the start; lazy: start-up reads first",
    )
    crash_loop_backoff: CrashLoopParams = setting(
        default_factory=CrashLoopParams, doc="the kubelet's restart back-off of crashed containers"
    )

    @property
    def image_gc_period_s(self) -> float:
        return self.image_gc.period_s


class _HasEngine(Protocol):
    @property
    def engine(self) -> ContainerEngine: ...


class ContainerEngine:
    """A host's container daemon: its pulls, its layer store and its image GC.

    Args:
        env: the simulation environment.
        host: the host's name (its events' source and its network node).
        principal: who the host is to a private registry.
        disk: the host's disk account.
        params: daemon and kubelet settings.
        log: the event log.
        pull_cohorts: where its pulls may join other hosts' (`sim.model.hosts.cohort`).
    """

    __slots__ = (
        "env",
        "name",
        "node",
        "principal",
        "disk",
        "params",
        "log",
        "store",
        "download_slots",
        "pull_lock",
        "pull_limiter",
        "layers_in_flight",
        "downloads_active",
        "downloads_active_max",
        "images_removed",
        "lazy_background_bytes",
        "pull_cohorts",
        "started_s",
    )

    def __init__(
        self,
        env: simpy.Environment,
        host: str,
        principal: str,
        disk: DiskAccount,
        params: EngineParams,
        log: EventLog,
        pull_cohorts: PullCohorts | None = None,
    ) -> None:
        self.env = env
        self.name = host
        self.node = host
        self.principal = principal
        self.disk = disk
        self.params = params
        self.log = log
        self.store = LayerStore(disk, detection_period_s=params.image_gc.period_s)
        self.started_s = env.now
        """When the kubelet started (its image GC's maximum age counts from there)."""
        self.download_slots = Slots(env, params.max_concurrent_downloads)
        self.pull_lock = Slots(env, 1) if params.serialize_image_pulls else None
        """The kubelet's one-pull-at-a-time lock (None when pulls run in parallel)."""
        self.pull_limiter = (
            TokenBucket(RequestQuota(params.registry_pull_qps, params.registry_burst))
            if params.registry_pull_qps > 0
            else None
        )
        """The kubelet's pull rate limit (None when off)."""
        # Layers being fetched on this host, by ChainID.
        self.layers_in_flight: dict[str, LayerDownload | LazyLayerDownload] = {}
        # The periodic check below looks no further than this level.
        disk.watch(params.image_gc.high_percent - 1)
        self.downloads_active = 0
        self.downloads_active_max = 0
        self.images_removed = 0
        self.lazy_background_bytes = 0
        self.pull_cohorts = pull_cohorts
        """Where its pulls may join other hosts' in step (None: each pulls on its own)."""

    def has_image(self, image: Image) -> bool:
        """Whether the image is tagged here with all its layers."""
        return self.store.has_image(image)

    def cache(self, image: Image) -> None:
        """Put `image` in the layer store as a node image built with it cached holds it
        from boot (an AMI or a data-volume snapshot): its layers extracted on the disk
        and the image tagged now, with no pull and no bytes from a registry.

        Raises:
            ValueError: its layers do not fit on the disk.
        """
        store = self.store
        present = store.present_prefix(image)
        added = image.chain_ids[present:]
        self.disk.allocate(sum(layer.size_bytes for layer in image.layers[present:]))
        for index in range(present, len(image.layers)):
            parent = image.chain_ids[index - 1] if index else None
            store.add_layer(image.chain_ids[index], image.layers[index], parent)
        store.tag_image(image, self.env.now)
        for chain_id in added:
            store.release(chain_id)

    def pull(
        self, image: Image, registry: Registry, startup_read_fraction: float | None = None
    ) -> Generator[simpy.Event, Any, PullRecord]:
        """Pull `image` from `registry` (part of a SimPy process body); never raises.

        With a lazy snapshotter the pull ends once every layer is usable (its start-up
        part is in: `startup_read_fraction` of it, or the snapshotter's share if None);
        the rest of each layer it fetched then streams in the background.

        Returns:
            the pull's record, complete or failed with the reason.
        """
        record: PullRecord = yield self.begin_pull(image, registry, startup_read_fraction)
        return record

    def begin_pull(
        self, image: Image, registry: Registry, startup_read_fraction: float | None = None
    ) -> Signal:
        """`pull`, as a signal that succeeds with the pull's record."""
        pull = Pull(self, image, registry, startup_read_fraction)
        pull.start()
        return pull.ended

    def image_records(self) -> list[ImageRecord]:
        """The stored images as the kubelet's garbage collector sees them now."""
        return self.store.kubelet_records(self.env.now)

    def collect_garbage(self, bytes_needed: int, reason: str) -> int:
        """Remove unused images, least recently used first, until `bytes_needed` is freed
        by the kubelet's accounting; returns the disk bytes really freed."""
        names = choose_images_to_delete(
            self.image_records(), bytes_needed, self.env.now, self.params.image_gc.min_age_s
        )
        return self._remove_images(names, reason)

    def _remove_images(self, names: list[str], reason: str) -> int:
        """Remove the named images; returns the disk bytes really freed."""
        freed = 0
        for name in names:
            image_bytes = self.store.images[name].image.size_bytes
            disk_freed = self.store.remove_image(name)
            freed += disk_freed
            self.images_removed += 1
            self.log.record(
                self.env.now,
                self.name,
                EventKind.IMAGE_REMOVED,
                image=name,
                reason=reason,
                image_bytes=image_bytes,
                disk_bytes_freed=disk_freed,
            )
        return freed

    def check_image_gc(self) -> None:
        """One periodic run of the kubelet's image GC: with a maximum age, delete the
        images unused that long; then collect if usage is at or above the high threshold."""
        gc = self.params.image_gc
        if gc.max_age_s > 0:
            names = images_too_old(self.image_records(), self.env.now, self.started_s, gc.max_age_s)
            self._remove_images(names, reason="age")
        disk = self.disk
        # Cheap pre-test: usage_percent >= high needs used >= (high - 1) % of capacity.
        if not disk.at_watch_level:
            return
        needed = bytes_to_free(disk.capacity_bytes, disk.available_bytes, self.params.image_gc)
        if needed > 0:
            self.collect_garbage(needed, reason="threshold")


def run_image_gc(
    env: simpy.Environment,
    hosts: Sequence[_HasEngine],
    period_s: float,
    disks: DiskTotals | None = None,
    max_age: bool = False,
) -> Generator[simpy.Event, Any, None]:
    """The kubelet's periodic image garbage collection on every host (a SimPy process body).

    Every host's kubelet starts at time 0 with the same period, so their checks fall at
    the same instants; one process checks them all, in host order, rather than one
    process per host. `hosts` may change during the run (hosts joining and leaving).
    With `disks`, the totals the hosts' disks keep, a check finds at once that no disk is
    near the high threshold and visits no host: a large cluster with room on its disks
    costs nothing per period (unless a maximum image age is set, which every host checks).
    """
    while True:
        yield env.timeout(period_s)
        if disks is not None and not disks.disks_at_watch_level and not max_age:
            continue
        for host in hosts:
            host.engine.check_image_gc()
