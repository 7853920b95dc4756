"""Requests to a registry: who asks, how a refused one fails, and blob requests on their
way and those that reach the registry together.

A host's daemon asks for a blob (`Registry.send_blob`); the request takes the round trip,
is admitted (or throttled, or failed), then its bytes travel over the network — after a
mirror's fill if the blob is missing there. In a pull storm thousands of hosts ask for the
same blobs in the same instant and every request takes the same round trip: they reach the
registry together, one after the other, on one event (`sim.model.primitives.clock`). There
they are admitted one by one, in the order they were made, and every run of requests from
hosts that receive nothing else meanwhile (each daemon pulls one image at a time) is sent
with `Network.send_together`: one flow per blob for hosts on twin paths, each transfer
ending, and telling its host, as it would have alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, cast

import simpy

from sim.core.records import EventKind
from sim.model.images.image import Layer
from sim.model.network.network import Network


class PullError(Exception):
    """A registry request that failed, with the reason Docker would print.

    Attributes:
        reason: the error text, e.g. ``toomanyrequests: ...``.
        retryable: whether the daemon retries the request (throttling and transient
            errors are retried; denials, rate limits and unknown manifests are not).
    """

    def __init__(self, reason: str, retryable: bool) -> None:
        super().__init__(reason, retryable)
        self.reason = reason
        self.retryable = retryable

    def __str__(self) -> str:
        return self.reason


class Client(Protocol):
    """Who asks a registry for something: a host's daemon or a mirror."""

    @property
    def name(self) -> str: ...

    @property
    def node(self) -> str: ...

    @property
    def principal(self) -> str: ...


class BlobSource(Protocol):
    """What a blob request uses of the registry it goes to (`sim.model.images.registry`)."""

    network: Network
    blobs_served: int
    bytes_served: int

    @property
    def node(self) -> str: ...

    def has_blob(self, layer: Layer) -> bool: ...

    def blob_refusal(self, client: Client) -> PullError | None: ...

    def upstream_fill(self, layer: Layer) -> simpy.Event: ...

    def reject(
        self, client: Client, kind: EventKind, reason: str, retryable: bool
    ) -> PullError: ...


class BlobRequest:
    """One blob request of `Registry.send_blob` on its way: admitted when it reaches the
    registry, then sent (after a mirror's fill, if the blob is missing there).

    Attributes:
        sole: whether its client receives nothing else while the blob is on its way, so
            that it may travel as a twin of other hosts' (`Network.send_together`).
    """

    __slots__ = ("registry", "client", "layer", "arrived", "failed", "size_bytes", "sole")

    def __init__(
        self,
        registry: BlobSource,
        client: Client,
        layer: Layer,
        arrived: Callable[[], None],
        failed: Callable[[PullError], None],
        size_bytes: int | None,
        sole: bool,
    ) -> None:
        self.registry = registry
        self.client = client
        self.layer = layer
        self.arrived = arrived
        self.failed = failed
        self.size_bytes = size_bytes
        self.sole = sole

    @property
    def sent_bytes(self) -> int:
        return self.layer.compressed_bytes if self.size_bytes is None else self.size_bytes

    def admitted(self) -> None:
        """The registry took the request: send the blob, or fill it from upstream first."""
        registry = self.registry
        if registry.has_blob(self.layer):
            self._send()
        else:
            # A fill is never done while it is pending: it leaves the table as it ends.
            registry.upstream_fill(self.layer).callbacks.append(self._filled)

    def _filled(self, fill: simpy.Event) -> None:
        if not fill.ok:
            fill.defused = True
            self.failed(cast(PullError, fill.value))
            return
        self._send()

    def _send(self) -> None:
        registry = self.registry
        registry.network.send(registry.node, self.client.node, self.sent_bytes, self.sent, self.cut)

    def sent(self, size_bytes: float) -> None:
        """The blob's last byte is in."""
        registry = self.registry
        registry.blobs_served += 1
        registry.bytes_served += int(size_bytes)
        self.arrived()

    def cut(self, error: Exception) -> None:
        """A link failed under the transfer: a retryable error."""
        self.failed(self.registry.reject(self.client, EventKind.BLOB_FAILED, str(error), True))


class ArrivingRequests:
    """Blob requests that reach a registry at `at_s`, in the order they were made.

    Args:
        registry: where they go.
        at_s: when they get there.
    """

    __slots__ = ("registry", "at_s", "event", "requests", "arrive")

    def __init__(self, registry: BlobSource, at_s: float) -> None:
        self.registry = registry
        self.at_s = at_s
        self.event: simpy.Event | None = None
        self.requests: list[BlobRequest] = []
        self.arrive = self._arrive
        """Their arrival, as one callback object (a request may join them only while the
        wait they are on ends with it)."""

    def _arrive(self, _: object = None) -> None:
        """Admit each request in turn; send each run of admitted requests from sole
        clients for blobs at hand together, every other request on its own, in order."""
        registry = self.registry
        run: list[BlobRequest] = []
        for request in self.requests:
            refusal = registry.blob_refusal(request.client)
            if refusal is not None:
                self._send(run)
                request.failed(refusal)
                continue
            if request.sole and registry.has_blob(request.layer):
                run.append(request)
                continue
            self._send(run)
            request.admitted()
        self._send(run)

    def _send(self, run: list[BlobRequest]) -> None:
        """Send `run` (then empty it): each client's requests in a row, rows alike in
        their sizes together."""
        if not run:
            return
        rows: list[list[BlobRequest]] = []
        for request in run:
            if rows and rows[-1][0].client is request.client:
                rows[-1].append(request)
            else:
                rows.append([request])
        start = 0
        for end in range(1, len(rows) + 1):
            if end == len(rows) or _sizes(rows[end]) != _sizes(rows[start]):
                _send_together(self.registry, rows[start:end])
                start = end
        run.clear()


def _sizes(row: Sequence[BlobRequest]) -> list[int]:
    return [request.sent_bytes for request in row]


def _send_together(registry: BlobSource, rows: list[list[BlobRequest]]) -> None:
    def arrived(index: int, members: list[int]) -> None:
        for member in members:
            request = rows[member][index]
            request.sent(request.sent_bytes)

    def failed(index: int, members: list[int], error: Exception) -> None:
        for member in members:
            rows[member][index].cut(error)

    registry.network.send_together(
        registry.node,
        [row[0].client.node for row in rows],
        _sizes(rows[0]),
        arrived,
        failed,
    )
