"""One layer fetched by a lazy snapshotter: its start-up part first, the rest later.

The start-up part (the layer's table of contents and what the app reads at start-up,
`sim.model.images.snapshotters.lazy`) is one ranged blob request; once it is in, the layer is
usable: it is recorded in the layer store as incomplete, and `readable` succeeds. The
pull that owns the fetch calls `stream_rest` once every layer it fetches is usable; the
remaining bytes then travel as one more network flow, and when they (and the parent
layer) have arrived the layer is complete — it exists for later pulls — and `extracted`
succeeds. Like `sim.model.images.download.LayerDownload`, the fetch is a chain of
callbacks rather than a SimPy process, and other pulls on the host that need the layer
wait for its signals instead of fetching it again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Protocol, Self

from sim.core.records import EventKind
from sim.model.images.download import (
    LAYER_BYTES_DETAILS,
    Daemon,
    LayerFetch,
    PullProgress,
    retry_later,
)
from sim.model.images.image import Image
from sim.model.images.registry import PullError, Registry
from sim.model.primitives.signal import Signal

if TYPE_CHECKING:
    import simpy

_LAZY_EXTRACTED_DETAILS = ("image", "layer", "background_bytes")


class LazyDaemon(Daemon, Protocol):
    """A daemon whose snapshotter pulls lazily: it counts the bytes streamed after start."""

    lazy_background_bytes: int


class LazyLayerDownload(LayerFetch):
    """Fetch one layer of `image` lazily: `startup_bytes` before the start, the rest after.

    Args:
        engine: the host's daemon (its disk, layer store and log).
        image: the image being pulled.
        index: the layer's position in the image.
        registry: where the blob comes from.
        progress: the pull's counters (the start-up part counts there).
        startup_bytes: the bytes fetched before the container may start.
        background_delay_s: how long after the start the rest begins to stream.
    """

    __slots__ = ("startup_bytes", "background_delay_s", "readable", "streaming")

    engine: LazyDaemon

    def __init__(
        self,
        engine: LazyDaemon,
        image: Image,
        index: int,
        registry: Registry,
        progress: PullProgress,
        startup_bytes: int,
        background_delay_s: float = 0.0,
    ) -> None:
        super().__init__(engine, image, index, registry, progress)
        self.startup_bytes = startup_bytes
        self.background_delay_s = background_delay_s
        self.readable = Signal(engine.env)
        self.streaming = False

    @property
    def background_bytes(self) -> int:
        """The bytes that stream after the start."""
        return self.layer.compressed_bytes - self.startup_bytes

    def start(self, parent: Self | None) -> None:
        """Begin now; the layer is complete only after `parent`, the fetch of the layer
        below, if it is being fetched too."""
        self.parent = parent
        engine = self.engine
        engine.log.add(
            engine.env.now,
            engine.name,
            EventKind.LAYER_DOWNLOADING,
            LAYER_BYTES_DETAILS,
            (self.image.reference, self.layer.short_id, self.startup_bytes),
        )
        self._request(self.startup_bytes, self._startup_arrived)

    def _request(self, size_bytes: int, arrived: Callable[[], None]) -> None:
        self.registry.send_blob(
            self.engine,
            self.layer,
            arrived,
            partial(self._request_failed, size_bytes, arrived),
            size_bytes=size_bytes,
        )

    def _request_failed(
        self, size_bytes: int, arrived: Callable[[], None], error: PullError
    ) -> None:
        """Retry after ``attempt x retry_backoff_s``: the start-up part up to the daemon's
        attempts (then the pull fails), the background part until it succeeds."""
        engine = self.engine
        if not self.streaming and (
            not error.retryable or self.attempt >= engine.params.download_attempts
        ):
            self._failed(error)
            return
        self.progress.retries += not self.streaming
        retry_later(engine, self.attempt, error, lambda _: self._request(size_bytes, arrived))
        self.attempt += 1

    def _startup_arrived(self) -> None:
        engine = self.engine
        now_s = engine.env.now
        progress = self.progress
        progress.layers_downloaded += 1
        progress.bytes_downloaded += self.startup_bytes
        progress.last_download_s = now_s
        engine.log.add(
            now_s,
            engine.name,
            EventKind.LAYER_DOWNLOADED,
            LAYER_BYTES_DETAILS,
            (self.image.reference, self.layer.short_id, self.startup_bytes),
        )
        engine.store.add_layer(self.chain_id, self.layer, self.parent_chain_id, complete=False)
        self.readable.succeed()

    def stream_rest(self) -> None:
        """Fetch the rest of the layer in the background (its pull's container may start
        now), after `background_delay_s`. The fetch holds the layer, so it stays on disk
        until it is complete."""
        self.streaming = True
        self.attempt = 1
        self.engine.store.hold(self.chain_id)
        if self.background_delay_s > 0:
            self.engine.env.timeout(self.background_delay_s).callbacks.append(self._stream)
        else:
            self._stream(None)

    def _stream(self, _: simpy.Event | None) -> None:
        if self.background_bytes > 0:
            self._request(self.background_bytes, self._rest_arrived)
        else:
            self._rest_arrived()

    def abandon(self) -> None:
        """The pull that owned this fetch failed before streaming: the layer is not
        fetched any further (its usable part goes with the pull's leases)."""
        if self.readable.processed and self.readable.ok and not self.streaming:
            del self.engine.layers_in_flight[self.chain_id]
            self.extracted.fail(PullError("the pull that fetched the layer failed", True))

    def _rest_arrived(self) -> None:
        engine = self.engine
        engine.lazy_background_bytes += self.background_bytes
        if self.parent is None:
            self._complete(None)
        else:
            # If the parent's own pull failed before streaming it, this layer is whole
            # but does not exist for later pulls until the parent is fetched again.
            self.parent.extracted.add(self._complete)

    def _complete(self, _: Signal | None) -> None:
        engine = self.engine
        store = engine.store
        store.complete_layer(self.chain_id)
        engine.log.add(
            engine.env.now,
            engine.name,
            EventKind.LAYER_EXTRACTED,
            _LAZY_EXTRACTED_DETAILS,
            (self.image.reference, self.layer.short_id, self.background_bytes),
        )
        del engine.layers_in_flight[self.chain_id]
        store.release(self.chain_id)
        self.extracted.succeed()

    def _failed(self, error: PullError) -> None:
        engine = self.engine
        engine.disk.free(self.layer.size_bytes)
        del engine.layers_in_flight[self.chain_id]
        self.readable.fail(error)
        self.extracted.fail(error)
