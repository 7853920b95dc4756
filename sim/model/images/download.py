"""One layer fetched by a host's daemon: downloaded through a download slot, retried on
retryable errors, then extracted once its parent is.

A pull storm has every host fetch every layer at once, so a layer's fetch is a chain of
callbacks rather than a SimPy process: no generator frames and no process events, a few
hundred bytes per layer in flight. Its steps wait only where time passes (the registry's
round trip, the bytes on the network, the extraction, a retry's back-off) or for a
download slot another fetch holds; the step after a wait runs as the wait ends — a free
slot is taken at once, the extraction follows the download (or the parent's extraction)
at once, and `extracted` (a `Signal`) tells the fetch above and the pulls that need the
layer as it happens.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, Self, cast

import simpy

from sim.core.records import EventKind, EventLog
from sim.model.images.image import Image, Layer
from sim.model.images.registry import Client, PullError, Registry
from sim.model.images.store import DiskAccount, LayerStore
from sim.model.primitives.clock import after
from sim.model.primitives.signal import Signal
from sim.model.primitives.slots import Slots

LAYER_DETAILS = ("image", "layer")
"""The details of a layer's events: its image's reference and its short id."""
LAYER_BYTES_DETAILS = ("image", "layer", "bytes")
"""The details of a layer's download events: with the bytes it moves."""
RETRY_DETAILS = ("reason", "attempt", "wait_s")
"""The details of a ``retrying`` event."""


class FetchSettings(Protocol):
    """The daemon settings a layer's fetch follows."""

    @property
    def download_attempts(self) -> int: ...

    @property
    def retry_backoff_s(self) -> float: ...

    @property
    def extraction_bytes_s(self) -> float: ...

    @property
    def serialize_image_pulls(self) -> bool: ...


class Daemon(Client, Protocol):
    """What a layer's fetch uses of its host's daemon (`sim.model.hosts.engine.ContainerEngine`)."""

    downloads_active: int
    downloads_active_max: int

    @property
    def env(self) -> simpy.Environment: ...

    @property
    def params(self) -> FetchSettings: ...

    @property
    def log(self) -> EventLog: ...

    @property
    def disk(self) -> DiskAccount: ...

    @property
    def store(self) -> LayerStore: ...

    @property
    def download_slots(self) -> Slots: ...

    @property
    def layers_in_flight(self) -> dict[str, Any]: ...


def retry_later(
    engine: Daemon, attempt: int, error: PullError, again: Callable[[Any], None]
) -> None:
    """Try a failed request again after ``attempt x retry_backoff_s`` (what the daemon
    does for a retryable failure before its last attempt): logged as ``retrying``."""
    wait_s = attempt * engine.params.retry_backoff_s
    engine.log.add(
        engine.env.now,
        engine.name,
        EventKind.RETRYING,
        RETRY_DETAILS,
        (error.reason, attempt, wait_s),
    )
    after(engine.env, wait_s, again)


@dataclass(slots=True)
class PullProgress:
    """What one pull has downloaded so far."""

    layers_downloaded: int = 0
    bytes_downloaded: int = 0
    retries: int = 0
    last_download_s: float = 0.0


class LayerFetch:
    """What any fetch of one layer of `image` holds: the layer, its ChainID and its
    parent's, where it comes from, the pull's counters, the attempt, and `extracted`, a
    signal that succeeds once the layer is complete (or fails with the fetch's PullError).

    Args:
        engine: the host's daemon (its slots, disk, layer store and log).
        image: the image being pulled.
        index: the layer's position in the image.
        registry: where the blob comes from.
        progress: the pull's counters.
    """

    __slots__ = (
        "engine",
        "image",
        "layer",
        "chain_id",
        "parent_chain_id",
        "registry",
        "parent",
        "progress",
        "extracted",
        "attempt",
    )

    def __init__(
        self,
        engine: Daemon,
        image: Image,
        index: int,
        registry: Registry,
        progress: PullProgress,
    ) -> None:
        self.engine = engine
        self.image = image
        self.layer: Layer = image.layers[index]
        self.chain_id = image.chain_ids[index]
        self.parent_chain_id = image.chain_ids[index - 1] if index > 0 else None
        self.registry = registry
        self.parent: Self | None = None
        self.progress = progress
        self.extracted = Signal(engine.env)
        self.attempt = 1


class LayerDownload(LayerFetch):
    """Download one layer of `image`, then extract it after its parent.

    While it runs, the layer is in its daemon's `layers_in_flight`, and other pulls on
    the host that need the same ChainID wait for its `extracted` signal instead of
    fetching it again; the signal fails with the PullError if the fetch does.
    Arguments as `LayerFetch`.
    """

    __slots__ = ()

    @property
    def readable(self) -> Signal:
        """When a container may use the layer: once it is extracted."""
        return self.extracted

    def start(self, parent: Self | None) -> None:
        """Begin now: take a download slot, or wait for one; extract only after
        `parent`, the fetch of the layer below, if it is being fetched too."""
        self.parent = parent
        slots = self.engine.download_slots
        if slots.take():
            self._downloading()
        else:
            slots.request().callbacks.append(self._downloading)

    def _downloading(self, _: simpy.Event | None = None) -> None:
        engine = self.engine
        engine.downloads_active += 1
        engine.downloads_active_max = max(engine.downloads_active_max, engine.downloads_active)
        layer = self.layer
        engine.log.add(
            engine.env.now,
            engine.name,
            EventKind.LAYER_DOWNLOADING,
            LAYER_BYTES_DETAILS,
            (self.image.reference, layer.short_id, layer.compressed_bytes),
        )
        self._request_blob()

    def _request_blob(self, _: simpy.Event | None = None) -> None:
        engine = self.engine
        self.registry.send_blob(
            engine,
            self.layer,
            self._downloaded,
            self._request_failed,
            sole=engine.params.serialize_image_pulls,
        )

    def _request_failed(self, error: PullError) -> None:
        """Retry a retryable error after ``attempt x retry_backoff_s``, up to the daemon's
        attempts; otherwise the download fails."""
        engine = self.engine
        if not error.retryable or self.attempt >= engine.params.download_attempts:
            self._release_slot()
            self._failed(error)
            return
        self.progress.retries += 1
        retry_later(engine, self.attempt, error, self._request_blob)
        self.attempt += 1

    def _release_slot(self) -> None:
        engine = self.engine
        engine.downloads_active -= 1
        engine.download_slots.release()

    def _downloaded(self) -> None:
        engine = self.engine
        now_s = engine.env.now
        self._release_slot()
        progress = self.progress
        layer = self.layer
        progress.layers_downloaded += 1
        progress.bytes_downloaded += layer.compressed_bytes
        progress.last_download_s = now_s
        engine.log.add(
            now_s,
            engine.name,
            EventKind.LAYER_DOWNLOADED,
            LAYER_BYTES_DETAILS,
            (self.image.reference, layer.short_id, layer.compressed_bytes),
        )
        if self.parent is None:
            self._extract()
        else:
            self.parent.extracted.add(self._parent_extracted)

    def _parent_extracted(self, extracted: Signal) -> None:
        if extracted.ok:
            self._extract()
        else:
            self._failed(cast(PullError, extracted.error))

    def _extract(self) -> None:
        engine = self.engine
        engine.log.add(
            engine.env.now,
            engine.name,
            EventKind.LAYER_EXTRACTING,
            LAYER_DETAILS,
            (self.image.reference, self.layer.short_id),
        )
        size_bytes = self.layer.size_bytes
        extraction_bytes_s = engine.params.extraction_bytes_s
        if size_bytes and math.isfinite(extraction_bytes_s):
            after(engine.env, size_bytes / extraction_bytes_s, self._extracted)
        else:
            self._extracted()

    def _extracted(self, _: simpy.Event | None = None) -> None:
        engine = self.engine
        layer = self.layer
        engine.disk.free(layer.compressed_bytes)
        engine.store.add_layer(self.chain_id, layer, self.parent_chain_id)
        engine.log.add(
            engine.env.now,
            engine.name,
            EventKind.LAYER_EXTRACTED,
            LAYER_DETAILS,
            (self.image.reference, layer.short_id),
        )
        del engine.layers_in_flight[self.chain_id]
        self.extracted.succeed()

    def _failed(self, error: PullError) -> None:
        engine = self.engine
        engine.disk.free(self.layer.size_bytes + self.layer.compressed_bytes)
        del engine.layers_in_flight[self.chain_id]
        self.extracted.fail(error)
