"""One image pull by a host's daemon, step by step.

The kubelet's pull rate limit first; then the pull lock (the kubelet pulls one image at a
time unless ``serialize_image_pulls`` is off); the manifest request, retried like a blob's;
then the layers: those present from the base up are "Already exists", the rest are fetched
(`sim.model.images.download`) or, when another pull on the host is fetching them, waited
for. The pull ends when every layer it needs is usable — complete, or failed with the first
failing layer's error — and its record is made.

A pull is a chain of callbacks rather than a SimPy process: its steps wait only where the
registry's round trip or a retry's back-off passes, for the lock another pull holds, or
for its layers; the step after a wait runs as the wait ends (the layers tell the pull with
a `Signal` as each one is usable). Its end is a signal too, `ended`: the start-up that
asked for the pull goes on at once.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

import simpy

from sim.core.records import EventKind, PullRecord
from sim.model.hosts.cohort import PullCohorts
from sim.model.hosts.daemon import FetchingDaemon
from sim.model.images.download import LayerDownload, PullProgress, retry_later
from sim.model.images.image import Image
from sim.model.images.lazy_download import LazyLayerDownload
from sim.model.images.registry import PullError, Registry
from sim.model.primitives.ratelimit import TokenBucket
from sim.model.primitives.signal import Signal
from sim.model.primitives.slots import Slots

Fetch = LayerDownload | LazyLayerDownload


class PullDaemon(FetchingDaemon, Protocol):
    """What a pull uses of its host's daemon (`sim.model.hosts.engine.ContainerEngine`)."""

    @property
    def pull_lock(self) -> Slots | None: ...

    @property
    def pull_limiter(self) -> TokenBucket | None: ...

    @property
    def pull_cohorts(self) -> PullCohorts | None: ...

    def collect_garbage(self, bytes_needed: int, reason: str) -> int: ...


# Enum members as module constants (a lookup on the class takes ~0.1 µs).
_PULL_REQUESTED = EventKind.PULL_REQUESTED
_MANIFEST_RECEIVED = EventKind.MANIFEST_RECEIVED
_PULL_COMPLETED = EventKind.PULL_COMPLETED
_REQUESTED_DETAILS = ("image", "registry")
_MANIFEST_DETAILS = ("image", "digest")
_EXISTS_DETAILS = ("image", "layer")
_QUEUED_DETAILS = ("image", "layer")
_COMPLETED_DETAILS = ("image", "digest", "bytes")
_FAILED_DETAILS = ("image", "reason")


class Pull:
    """Pull `image` from `registry` onto `engine`'s host; `ended` succeeds with the record.

    With a lazy snapshotter the pull ends once every layer is usable (its start-up part
    is in: `startup_read_fraction` of it, or the snapshotter's share if None); the rest
    of each layer it fetched then streams in the background.

    Args:
        engine: the host's daemon.
        image: the image to pull.
        registry: where it comes from (the origin or a mirror).
        startup_read_fraction: the app's start-up reads, for a lazy snapshotter.
    """

    __slots__ = (
        "engine",
        "image",
        "registry",
        "startup_read_fraction",
        "requested_s",
        "started_s",
        "progress",
        "attempt",
        "present",
        "leases",
        "fetches",
        "waits",
        "pending",
        "locked",
        "ended",
        "record",
    )

    def __init__(
        self,
        engine: PullDaemon,
        image: Image,
        registry: Registry,
        startup_read_fraction: float | None = None,
    ) -> None:
        self.engine = engine
        self.image = image
        self.registry = registry
        self.startup_read_fraction = startup_read_fraction
        self.requested_s = engine.env.now
        self.started_s = self.requested_s
        self.progress = PullProgress()
        self.attempt = 1
        self.present = 0
        self.leases: list[str] = []
        self.fetches: list[Fetch] = []
        # Per layer from the first missing one: its fetch, and whether this pull owns it.
        self.waits: list[tuple[Fetch, bool]] = []
        self.pending = 0
        self.locked = False
        self.ended = Signal(engine.env)
        self.record: PullRecord | None = None

    def start(self) -> None:
        """Ask: the kubelet's rate limit, then the pull lock, then the manifest."""
        engine = self.engine
        image = self.image
        engine.log.add(
            self.requested_s,
            engine.name,
            _PULL_REQUESTED,
            _REQUESTED_DETAILS,
            (image.reference, self.registry.name),
        )
        limiter = engine.pull_limiter
        if limiter is not None and not limiter.take(self.requested_s):
            self._end("pull QPS exceeded", (0, 0))
            return
        lock = engine.pull_lock
        if lock is None:
            self._request_manifest()
        elif lock.take():
            self.locked = True
            self._request_manifest()
        else:
            lock.request().callbacks.append(self._lock_granted)

    def _lock_granted(self, _: simpy.Event) -> None:
        self.locked = True
        self.started_s = self.engine.env.now
        self._request_manifest()

    def _request_manifest(self, _: simpy.Event | None = None) -> None:
        self.registry.request_manifest(
            self.engine, self.image, self._manifest_received, self._manifest_failed
        )

    def _manifest_failed(self, error: PullError) -> None:
        """Retry a retryable failure after ``attempt x retry_backoff_s``, up to the
        daemon's attempts; otherwise the pull fails."""
        engine = self.engine
        if not error.retryable or self.attempt >= engine.params.download_attempts:
            self._failed(error)
            return
        self.progress.retries += 1
        retry_later(engine, self.attempt, error, self._request_manifest)
        self.attempt += 1

    def _manifest_received(self) -> None:
        engine = self.engine
        image = self.image
        engine.log.add(
            engine.env.now,
            engine.name,
            _MANIFEST_RECEIVED,
            _MANIFEST_DETAILS,
            (image.reference, image.manifest_digest),
        )
        try:
            self._start_fetches()
        except PullError as error:
            self._failed(error)

    def _start_fetches(self) -> None:
        """Hold the layers present from the base up, then start fetching every layer
        above the first miss that no other pull on the host is fetching already.

        Raises:
            PullError: the fetched layers do not fit on the disk, even after image GC.
        """
        engine = self.engine
        image = self.image
        store = engine.store
        now_s = engine.env.now
        self.present = present = store.present_prefix(image)
        for index in range(present):
            chain_id = image.chain_ids[index]
            store.hold(chain_id)
            self.leases.append(chain_id)
            engine.log.add(
                now_s,
                engine.name,
                EventKind.LAYER_ALREADY_EXISTS,
                _EXISTS_DETAILS,
                (image.reference, image.layers[index].short_id),
            )
        in_flight = engine.layers_in_flight
        own = [
            index
            for index in range(present, len(image.layers))
            if image.chain_ids[index] not in in_flight
        ]
        snapshotter = engine.params.snapshotter
        if snapshotter.lazy:
            # Nothing to extract: a lazy layer takes its unpacked size from the start.
            needed = sum(image.layers[i].size_bytes for i in own)
        else:
            needed = sum(image.layers[i].size_bytes + image.layers[i].compressed_bytes for i in own)
        disk = engine.disk
        if not disk.fits(needed):
            engine.collect_garbage(needed - disk.available_bytes, reason="pull")
            if not disk.fits(needed):
                raise PullError(
                    f"no space left on device: need {needed} B, {disk.available_bytes} B free",
                    False,
                )
        disk.allocate(needed)
        cohorts = engine.pull_cohorts
        if cohorts is not None and cohorts.join(self, own):
            return
        fetches = self.fetches
        for index in own:
            fetch: Fetch
            if snapshotter.lazy:
                startup_bytes = snapshotter.startup_bytes(
                    image.layers[index].compressed_bytes, self.startup_read_fraction
                )
                fetch = LazyLayerDownload(
                    engine,
                    image,
                    index,
                    self.registry,
                    self.progress,
                    startup_bytes,
                    snapshotter.background_delay_s,
                )
            else:
                fetch = LayerDownload(engine, image, index, self.registry, self.progress)
            in_flight[fetch.chain_id] = fetch
            fetches.append(fetch)
            engine.log.add(
                now_s,
                engine.name,
                EventKind.LAYER_QUEUED,
                _QUEUED_DETAILS,
                (image.reference, fetch.layer.short_id),
            )
        own_chain_ids = {fetch.chain_id for fetch in fetches}
        waits = self.waits
        for index in range(present, len(image.layers)):
            chain_id = image.chain_ids[index]
            waits.append((in_flight[chain_id], chain_id in own_chain_ids))
        self.pending = len(waits) + 1
        for wait, is_own in waits:
            wait.readable.add(
                self._own_usable if is_own else partial(self._shared_usable, wait.chain_id)
            )
        for fetch in fetches:
            parent_chain_id = fetch.parent_chain_id
            parent: Any = in_flight.get(parent_chain_id) if parent_chain_id else None
            fetch.start(parent)
        self._usable()

    def _shared_usable(self, chain_id: str, readable: Signal) -> None:
        """A layer another pull fetches is usable (or failed): hold it at once, so that
        it stays while this pull waits for its other layers."""
        if readable.ok:
            self.engine.store.hold(chain_id)
        self._usable()

    def _own_usable(self, _: Signal) -> None:
        self._usable()

    def _usable(self) -> None:
        """One more layer is usable or has failed; the pull goes on once every one has."""
        self.pending -= 1
        if self.pending:
            return
        error: PullError | None = None
        for wait, _ in self.waits:
            readable = wait.readable
            if readable.ok:
                self.leases.append(wait.chain_id)
            else:
                error = error or _pull_error(readable)
        if error is not None:
            self._failed(error)
            return
        self.engine.store.tag_image(self.image, self.engine.env.now)
        for fetch in self.fetches:
            if isinstance(fetch, LazyLayerDownload):
                fetch.stream_rest()
        shared = sum(not is_own for _, is_own in self.waits)
        self._end("", (self.present, shared))

    def fetched(self, chain_ids: list[str]) -> None:
        """Its cohort fetched every layer it lacked (`chain_ids`, from the base up): it
        ends as when its own fetches have."""
        self.leases.extend(chain_ids)
        self.engine.store.tag_image(self.image, self.engine.env.now)
        self._end("", (self.present, 0))

    def _failed(self, error: PullError) -> None:
        for fetch in self.fetches:
            if isinstance(fetch, LazyLayerDownload):
                fetch.abandon()
        self._end(error.reason, (0, 0))

    def _end(self, reason: str, counts: tuple[int, int]) -> None:
        """Give back the layers held and the lock; log how the pull ended (completed, or
        failed with `reason`), make its record and tell `ended`."""
        engine = self.engine
        store = engine.store
        for chain_id in self.leases:
            store.release(chain_id)
        if self.locked:
            assert engine.pull_lock is not None
            engine.pull_lock.release()
        image = self.image
        progress = self.progress
        finished_s = engine.env.now
        started_s = self.started_s
        # With nothing downloaded (every layer present or shared), the pull's time is the
        # manifest request and the wait: none of it is extraction.
        downloads_done_s = (
            max(progress.last_download_s, started_s) if progress.layers_downloaded else finished_s
        )
        if reason:
            engine.log.add(
                finished_s,
                engine.name,
                EventKind.PULL_FAILED,
                _FAILED_DETAILS,
                (image.reference, reason),
            )
        else:
            engine.log.add(
                finished_s,
                engine.name,
                _PULL_COMPLETED,
                _COMPLETED_DETAILS,
                (image.reference, image.manifest_digest, progress.bytes_downloaded),
            )
        self.record = PullRecord(  # by position: a storm makes thousands at one instant
            engine.name,  # host
            image.name,  # image
            self.registry.name,  # registry
            self.requested_s,  # started_s
            finished_s,  # finished_s
            not reason,  # ok
            reason,  # reason
            False,  # skipped
            started_s - self.requested_s,  # queued_s
            counts[0],  # layers_already_exists
            progress.layers_downloaded,  # layers_downloaded
            counts[1],  # layers_shared
            progress.bytes_downloaded,  # bytes_downloaded
            downloads_done_s - started_s,  # download_s
            finished_s - downloads_done_s,  # extract_s
            progress.retries,  # retries
        )
        self.ended.succeed(self.record)


def _pull_error(readable: Signal) -> PullError:
    error = readable.error
    assert isinstance(error, PullError)
    return error
