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
from sim.model.images.download import LayerDownload, PullProgress
from sim.model.images.image import Image
from sim.model.images.lazy_download import LazyLayerDownload
from sim.model.images.registry import PullError, Registry
from sim.model.images.snapshotters import SNAPSHOTTERS, SnapshotterParams
from sim.model.images.snapshotters.overlayfs import OverlayfsParams
from sim.model.images.store import DiskAccount, DiskTotals, LayerStore
from sim.model.primitives.ratelimit import RequestQuota, TokenBucket
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
        "_pull_lock",
        "_pull_limiter",
        "layers_in_flight",
        "downloads_active",
        "downloads_active_max",
        "images_removed",
        "lazy_background_bytes",
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
        self._pull_lock = Slots(env, 1) if params.serialize_image_pulls else None
        self._pull_limiter = (
            TokenBucket(RequestQuota(params.registry_pull_qps, params.registry_burst))
            if params.registry_pull_qps > 0
            else None
        )
        # Layers being fetched on this host, by ChainID.
        self.layers_in_flight: dict[str, LayerDownload | LazyLayerDownload] = {}
        # The periodic check below looks no further than this level.
        disk.watch(params.image_gc.high_percent - 1)
        self.downloads_active = 0
        self.downloads_active_max = 0
        self.images_removed = 0
        self.lazy_background_bytes = 0

    def has_image(self, image: Image) -> bool:
        """Whether the image is tagged here with all its layers."""
        return self.store.has_image(image)

    def pull(
        self, image: Image, registry: Registry, startup_read_fraction: float | None = None
    ) -> Generator[simpy.Event, Any, PullRecord]:
        """Pull `image` from `registry` (a SimPy process body); never raises.

        With a lazy snapshotter the pull ends once every layer is usable (its start-up
        part is in: `startup_read_fraction` of it, or the snapshotter's share if None);
        the rest of each layer it fetched then streams in the background.

        Returns:
            the pull's record, complete or failed with the reason.
        """
        requested_s = self.env.now
        self.log.record(
            requested_s,
            self.name,
            EventKind.PULL_REQUESTED,
            image=image.reference,
            registry=registry.name,
        )
        if self._pull_limiter is not None and not self._pull_limiter.take(requested_s):
            return self._ended(
                image,
                registry,
                requested_s,
                requested_s,
                "pull QPS exceeded",
                PullProgress(),
                (0, 0),
            )
        lock_request = self._pull_lock.request() if self._pull_lock else None
        if lock_request is not None:
            yield lock_request
        started_s = self.env.now
        leases: list[str] = []
        downloads: list[LayerDownload | LazyLayerDownload] = []
        progress = PullProgress()
        counts = (0, 0)
        reason = ""
        try:
            yield from self._with_retries(lambda: registry.get_manifest(self, image), progress)
            self.log.record(
                self.env.now,
                self.name,
                EventKind.MANIFEST_RECEIVED,
                image=image.reference,
                digest=image.manifest_digest,
            )
            present, waits, downloads = self._start_downloads(
                image, registry, leases, progress, startup_read_fraction
            )
            error: PullError | None = None
            for chain_id, extracted, is_own in waits:
                try:
                    yield extracted
                except PullError as failure:
                    error = error or failure
                    continue
                if not is_own:
                    self.store.hold(chain_id)
                leases.append(chain_id)
            if error is not None:
                raise error
            counts = (present, sum(not is_own for _, _, is_own in waits))
            self.store.tag_image(image, self.env.now)
            for download in downloads:
                if isinstance(download, LazyLayerDownload):
                    download.stream_rest()
        except PullError as error:
            reason = error.reason
            for download in downloads:
                if isinstance(download, LazyLayerDownload):
                    download.abandon()
        finally:
            for chain_id in leases:
                self.store.release(chain_id)
            if self._pull_lock is not None and lock_request is not None:
                self._pull_lock.release()
        return self._ended(image, registry, requested_s, started_s, reason, progress, counts)

    def _ended(
        self,
        image: Image,
        registry: Registry,
        requested_s: float,
        started_s: float,
        reason: str,
        progress: PullProgress,
        counts: tuple[int, int],
    ) -> PullRecord:
        """Log how a pull ended (completed, or failed with `reason`) and make its record."""
        finished_s = self.env.now
        # With nothing downloaded (every layer present or shared), the pull's time is the
        # manifest request and the wait: none of it is extraction.
        downloads_done_s = (
            max(progress.last_download_s, started_s) if progress.layers_downloaded else finished_s
        )
        if reason:
            self.log.record(
                finished_s, self.name, EventKind.PULL_FAILED, image=image.reference, reason=reason
            )
        else:
            self.log.record(
                finished_s,
                self.name,
                EventKind.PULL_COMPLETED,
                image=image.reference,
                digest=image.manifest_digest,
                bytes=progress.bytes_downloaded,
            )
        return PullRecord(
            host=self.name,
            image=image.name,
            registry=registry.name,
            started_s=requested_s,
            finished_s=finished_s,
            ok=not reason,
            reason=reason,
            skipped=False,
            queued_s=started_s - requested_s,
            layers_already_exists=counts[0],
            layers_downloaded=progress.layers_downloaded,
            layers_shared=counts[1],
            bytes_downloaded=progress.bytes_downloaded,
            download_s=downloads_done_s - started_s,
            extract_s=finished_s - downloads_done_s,
            retries=progress.retries,
        )

    def _with_retries(
        self, request: Any, progress: PullProgress
    ) -> Generator[simpy.Event, Any, Any]:
        """Run a registry request, retrying retryable failures with linear backoff."""
        attempt = 1
        while True:
            try:
                return (yield from request())
            except PullError as error:
                if not error.retryable or attempt >= self.params.download_attempts:
                    raise
                progress.retries += 1
                wait_s = attempt * self.params.retry_backoff_s
                self.log.record(
                    self.env.now,
                    self.name,
                    EventKind.RETRYING,
                    reason=error.reason,
                    attempt=attempt,
                    wait_s=wait_s,
                )
                yield self.env.timeout(wait_s)
                attempt += 1

    def _start_downloads(
        self,
        image: Image,
        registry: Registry,
        leases: list[str],
        progress: PullProgress,
        startup_read_fraction: float | None = None,
    ) -> tuple[int, list[tuple[str, simpy.Event, bool]], list[LayerDownload | LazyLayerDownload]]:
        """Start fetching every layer above the first miss.

        Returns:
            how many layers already exist; what to wait for, layer by layer from the
            first missing one: its ChainID, the event of its being usable (extracted; with
            a lazy snapshotter, its start-up part in) and whether this pull fetches it (or
            another pull on the host does); and the fetches this pull started.
        """
        present = self.store.present_prefix(image)
        for index in range(present):
            chain_id = image.chain_ids[index]
            self.store.hold(chain_id)
            leases.append(chain_id)
            self.log.record(
                self.env.now,
                self.name,
                EventKind.LAYER_ALREADY_EXISTS,
                image=image.reference,
                layer=image.layers[index].short_id,
            )
        in_flight = self.layers_in_flight
        own = [
            index
            for index in range(present, len(image.layers))
            if image.chain_ids[index] not in in_flight
        ]
        snapshotter = self.params.snapshotter
        if snapshotter.lazy:
            # Nothing to extract: a lazy layer takes its unpacked size from the start.
            needed = sum(image.layers[i].size_bytes for i in own)
        else:
            needed = sum(image.layers[i].size_bytes + image.layers[i].compressed_bytes for i in own)
        if not self.disk.fits(needed):
            self.collect_garbage(needed - self.disk.available_bytes, reason="pull")
            if not self.disk.fits(needed):
                raise PullError(
                    f"no space left on device: need {needed} B, {self.disk.available_bytes} B free",
                    False,
                )
        self.disk.allocate(needed)
        downloads: list[LayerDownload | LazyLayerDownload] = []
        for index in own:
            download: LayerDownload | LazyLayerDownload
            if snapshotter.lazy:
                startup_bytes = snapshotter.startup_bytes(
                    image.layers[index].compressed_bytes, startup_read_fraction
                )
                download = LazyLayerDownload(
                    self,
                    image,
                    index,
                    registry,
                    progress,
                    startup_bytes,
                    snapshotter.background_delay_s,
                )
            else:
                download = LayerDownload(self, image, index, registry, progress)
            in_flight[download.chain_id] = download
            downloads.append(download)
            self.log.record(
                self.env.now,
                self.name,
                EventKind.LAYER_QUEUED,
                image=image.reference,
                layer=download.layer.short_id,
            )
        for download in downloads:
            parent_chain_id = download.parent_chain_id
            parent: Any = in_flight.get(parent_chain_id) if parent_chain_id else None
            download.start(parent)
        waits: list[tuple[str, simpy.Event, bool]] = []
        for index in range(present, len(image.layers)):
            chain_id = image.chain_ids[index]
            waits.append((chain_id, in_flight[chain_id].readable, index in own))
        return present, waits, downloads

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
