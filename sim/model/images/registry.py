"""Image registries: where manifests and layer blobs come from.

A registry serves the manifests and blobs it holds; its kind (`sim.model.images.registries`:
public, private, mirror, quota) says who may pull and where a miss goes. Any registry
may limit pulls per client over a sliding window (over it the manifest request fails
with HTTP 429 ``toomanyrequests`` and the daemon does not retry) and may have
request-rate quotas (token buckets, like ECR's per-second API quotas: a throttled request
fails with a retryable ``ThrottlingException``). A pull-through mirror fetches a miss
from its upstream once, however many clients ask for it at the same time, or — when it
does not coalesce misses — once per client that misses while a fetch is in flight. Each
registry sits at a node of the network; its blobs travel over the network's links, so
its egress bandwidth is the bandwidth of its access link.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from functools import partial
from typing import Any, cast

import numpy as np
import simpy

from sim.core.records import EventKind, EventLog
from sim.model.images.image import Image, Layer
from sim.model.images.registries import RegistryParams
from sim.model.images.registry_requests import ArrivingRequests, BlobRequest, Client, PullError
from sim.model.network.network import Network, TransferFailed
from sim.model.primitives.clock import after, still_last, wait
from sim.model.primitives.ratelimit import TokenBucket


class Registry:
    """A registry serving manifests and blobs over the network.

    Args:
        env: the simulation environment.
        params: the registry's configuration.
        network: the network its blobs travel over; ``params.name`` is its node.
        log: the event log.
        rng: the registry's own stream, for transient failures.
        images: the images published here (its catalog), keyed by ``repository:tag``.
        upstream: for a mirror, the registry it fetches misses from.
        egress: the address a host's requests come from, by host name (hosts behind one
            NAT gateway share one, and so share a per-client pull-rate limit); None:
            each host its own.
    """

    def __init__(
        self,
        env: simpy.Environment,
        params: RegistryParams,
        network: Network,
        log: EventLog,
        rng: np.random.Generator,
        images: dict[str, Image],
        upstream: Registry | None = None,
        egress: Callable[[str], str] | None = None,
    ) -> None:
        if params.upstream_name is not None and upstream is None:
            raise ValueError(f"{params.name} needs its upstream registry")
        self.env = env
        self.params = params
        self.network = network
        self.log = log
        self.upstream = upstream
        self._rng = rng
        self._manifests: dict[str, Image] = dict(images)
        self._blobs: set[str] = {
            layer.digest for image in images.values() for layer in image.layers
        }
        self._pulls_by_client: dict[str, deque[float]] = {}
        manifest_quota, blob_quota = params.quotas.manifest_quota, params.quotas.blob_quota
        self._manifest_bucket = TokenBucket(manifest_quota) if manifest_quota else None
        self._blob_bucket = TokenBucket(blob_quota) if blob_quota else None
        self._upstream_fetches: dict[str, simpy.Process] = {}
        self._coalesce_misses = params.coalesces_misses
        # Routes never change once a node is on the network, nor their latency.
        self._round_trips: dict[str, float] = {}
        self.manifests_served = 0
        self.blobs_served = 0
        self.bytes_served = 0
        self.bytes_from_upstream = 0
        self.requests_rejected = 0
        self._egress = egress
        self._routes_version = 0
        self._arriving: ArrivingRequests | None = None
        self.outage: str | None = None
        """While set, the registry is down (a fault): every request fails with a 5xx."""

    @property
    def name(self) -> str:
        return self.params.name

    @property
    def node(self) -> str:
        return self.params.name

    @property
    def principal(self) -> str:
        return self.params.principal or self.params.name

    def holds(self, image: Image) -> bool:
        """Whether the manifest and every blob of `image` are stored here."""
        return image.reference in self._manifests and all(
            layer.digest in self._blobs for layer in image.layers
        )

    def stored_bytes(self) -> int:
        """Compressed bytes of the distinct blobs stored here."""
        sizes: dict[str, int] = {}
        for image in self._manifests.values():
            for layer in image.layers:
                sizes[layer.digest] = layer.compressed_bytes
        return sum(size for digest, size in sizes.items() if digest in self._blobs)

    def reject(self, client: Client, kind: EventKind, reason: str, retryable: bool) -> PullError:
        self.requests_rejected += 1
        self.log.record(self.env.now, self.name, kind, client=client.name, reason=reason)
        return PullError(reason, retryable)

    def _round_trip_s(self, client: Client) -> float:
        """A request's time: there and back over the network, plus the registry's work."""
        if self.network.routes_version != self._routes_version:
            self._round_trips.clear()
            self._routes_version = self.network.routes_version
        if self.network.links_down and not self.network.reachable(self.node, client.node):
            return self.params.request_time_s
        round_trip_s = self._round_trips.get(client.node)
        if round_trip_s is None:
            latency_s = self.network.latency_s(self.node, client.node)
            round_trip_s = 2.0 * latency_s + self.params.request_time_s
            self._round_trips[client.node] = round_trip_s
        return round_trip_s

    def _admit_manifest(self, client: Client, image: Image) -> None:
        params = self.params
        denial = params.denial(client.principal, image.repository)
        if denial is not None:
            raise self.reject(client, EventKind.PULL_DENIED, denial, False)
        self._check_outage(client)
        if params.pull_limit is not None:
            source = client.name
            if self._egress is not None and not isinstance(client, Registry):
                source = self._egress(source)
            window = self._pulls_by_client.setdefault(source, deque())
            while window and window[0] <= self.env.now - params.pull_limit.window_s:
                window.popleft()
            if len(window) >= params.pull_limit.count:
                limit = params.pull_limit
                raise self.reject(
                    client,
                    EventKind.PULL_RATE_LIMITED,
                    f"toomanyrequests: pull rate limit {limit.count};w={limit.window_s:g}",
                    False,
                )
            window.append(self.env.now)
        if self._manifest_bucket is not None and not self._manifest_bucket.take(self.env.now):
            raise self.reject(
                client, EventKind.REQUEST_THROTTLED, "ThrottlingException: Rate exceeded", True
            )

    def get_manifest(self, client: Client, image: Image) -> Generator[simpy.Event, Any, Image]:
        """Request the manifest of `image` (a SimPy process body); returns the image.

        Raises:
            PullError: denied, rate limited, throttled or unknown manifest.
        """
        yield self.env.timeout(self._round_trip_s(client))
        self._admit_manifest(client, image)
        if image.reference not in self._manifests:
            yield self._missing_manifest(client, image)
        self.manifests_served += 1
        return image

    def request_manifest(
        self,
        client: Client,
        image: Image,
        received: Callable[[], None],
        failed: Callable[[PullError], None],
    ) -> None:
        """`get_manifest` driven by callbacks rather than by a process: `received` runs
        when the manifest is in, `failed` with the error when the request fails. A
        host's daemon asks for its manifests this way (`sim.model.hosts.pull`)."""
        after(
            self.env,
            self._round_trip_s(client),
            partial(self._manifest_requested, client, image, received, failed),
        )

    def _manifest_requested(
        self,
        client: Client,
        image: Image,
        received: Callable[[], None],
        failed: Callable[[PullError], None],
        _: object = None,
    ) -> None:
        try:
            self._admit_manifest(client, image)
            if image.reference not in self._manifests:
                self._missing_manifest(client, image).callbacks.append(
                    partial(self._manifest_filled, received, failed)
                )
                return
        except PullError as error:
            failed(error)
            return
        self.manifests_served += 1
        received()

    def _manifest_filled(
        self,
        received: Callable[[], None],
        failed: Callable[[PullError], None],
        fill: simpy.Event,
    ) -> None:
        if not fill.ok:
            fill.defused = True
            failed(cast(PullError, fill.value))
            return
        self.manifests_served += 1
        received()

    def _missing_manifest(self, client: Client, image: Image) -> simpy.Process:
        """The upstream fetch of a manifest this registry lacks, shared by every client
        that misses it (or, not coalescing misses, the client's own).

        Raises:
            PullError: manifest unknown, with no upstream to ask.
        """
        if self.upstream is None:
            raise self.reject(
                client,
                EventKind.MANIFEST_UNKNOWN,
                f"manifest unknown: {image.reference}",
                False,
            )
        pending = self._upstream_fetches.get(image.reference)
        if pending is None:
            pending = self.env.process(self._manifest_from_upstream(image))
            self._upstream_fetches[image.reference] = pending
        elif not self._coalesce_misses:
            pending = self.env.process(self._manifest_from_upstream(image, shared=False))
        return pending

    def _manifest_from_upstream(
        self, image: Image, shared: bool = True
    ) -> Generator[simpy.Event, Any, None]:
        """Fetch a missing manifest from the upstream: the `shared` fetch every client
        that misses it waits for, or (not coalescing misses) one client's own."""
        assert self.upstream is not None
        try:
            yield from self.upstream.get_manifest(self, image)
            self._manifests[image.reference] = image
        finally:
            if shared:
                del self._upstream_fetches[image.reference]

    def fetch_blob(self, client: Client, layer: Layer) -> Generator[simpy.Event, Any, None]:
        """Send one layer blob to the client (a SimPy process body).

        Raises:
            PullError: throttled or a transient failure (both retryable).
        """
        yield self.env.timeout(self._round_trip_s(client))
        self._admit_blob(client)
        if layer.digest not in self._blobs:
            yield self.upstream_fill(layer)
        try:
            yield self._send_blob(client, layer)
        except TransferFailed as error:
            raise self.reject(client, EventKind.BLOB_FAILED, str(error), True) from None

    def send_blob(
        self,
        client: Client,
        layer: Layer,
        arrived: Callable[[], None],
        failed: Callable[[PullError], None],
        size_bytes: int | None = None,
        sole: bool = False,
    ) -> None:
        """`fetch_blob` driven by callbacks rather than by a process.

        `arrived` runs as the blob's last byte arrives, `failed` with the error when the
        request fails (throttled, a transient failure, the mirror's upstream failing, a
        link failing under the transfer). A host's daemon downloads its layers this
        way, so that thousands of downloads at once cost no process (and no generator
        frames) each. With `size_bytes`, only that many bytes of the blob are sent (an
        HTTP range request, as a lazy snapshotter makes); a mirror still fills the whole
        blob first. A `sole` client receives nothing else while the blob is on its way
        (its daemon pulls one image at a time): requests from such clients that reach the
        registry together travel together (`sim.model.images.registry_requests`).
        """
        request = BlobRequest(self, client, layer, arrived, failed, size_bytes, sole)
        round_trip_s = self._round_trip_s(client)
        at_s = self.env.now + round_trip_s
        arriving = self._arriving
        if arriving is None or not still_last(self.env, arriving.event, at_s, arriving.arrive):
            arriving = ArrivingRequests(self, at_s)
            arriving.event = wait(self.env, round_trip_s, arriving.arrive)
            self._arriving = arriving
        arriving.requests.append(request)

    def round_trip_s(self, client: Client) -> float:
        """How long a request from `client` takes to reach the registry and come back."""
        return self._round_trip_s(client)

    def takes_every_blob_request(self) -> bool:
        """Whether every blob request reaching the registry now is taken: no request
        quota, no transient failures, the registry up and every link up."""
        return (
            self._blob_bucket is None
            and self.params.failure_probability == 0
            and self.outage is None
            and not self.network.links_down
        )

    def has_blob(self, layer: Layer) -> bool:
        """Whether the layer's blob is stored here (a mirror fills what it lacks)."""
        return layer.digest in self._blobs

    def blob_refusal(self, client: Client) -> PullError | None:
        """Why a blob request from `client` reaching the registry now is refused
        (throttled, a transient failure, the registry or the route down), or None."""
        try:
            self._admit_blob(client)
        except PullError as error:
            return error
        return None

    def _check_outage(self, client: Client) -> None:
        if self.network.links_down and not self.network.reachable(self.node, client.node):
            raise self.reject(
                client,
                EventKind.BLOB_FAILED,
                "dial tcp: connect: network is unreachable",
                True,
            )
        if self.outage is not None:
            raise self.reject(
                client, EventKind.BLOB_FAILED, "received unexpected HTTP status: 503", True
            )

    def _admit_blob(self, client: Client) -> None:
        """Raise a retryable PullError if the blob request is throttled or fails."""
        self._check_outage(client)
        if self._blob_bucket is not None and not self._blob_bucket.take(self.env.now):
            raise self.reject(
                client, EventKind.REQUEST_THROTTLED, "ThrottlingException: Rate exceeded", True
            )
        if (
            self.params.failure_probability > 0
            and self._rng.random() < self.params.failure_probability
        ):
            raise self.reject(
                client, EventKind.BLOB_FAILED, "received unexpected HTTP status: 503", True
            )

    def _send_blob(
        self, client: Client, layer: Layer, size_bytes: int | None = None
    ) -> simpy.Event:
        """Put the blob (or its first `size_bytes`) on the network; the event succeeds
        when it has arrived (and the registry has counted it)."""
        sent_bytes = layer.compressed_bytes if size_bytes is None else size_bytes
        arrived = self.network.transfer(self.node, client.node, sent_bytes)
        arrived.callbacks.append(self._count_served)
        return arrived

    def _count_served(self, arrived: simpy.Event) -> None:
        if not arrived.ok:
            return
        self.blobs_served += 1
        self.bytes_served += cast(int, arrived.value)

    def upstream_fill(self, layer: Layer) -> simpy.Process:
        """The fetch of a missing blob from the upstream, started once however many
        clients wait for it — or, not coalescing misses, one more fetch for each client
        that misses it while the first is in flight."""
        pending = self._upstream_fetches.get(layer.digest)
        if pending is None:
            pending = self.env.process(self._fill_from_upstream(layer))
            self._upstream_fetches[layer.digest] = pending
        elif not self._coalesce_misses:
            pending = self.env.process(self._fill_from_upstream(layer, shared=False))
        return pending

    def _fill_from_upstream(
        self, layer: Layer, shared: bool = True
    ) -> Generator[simpy.Event, Any, None]:
        assert self.upstream is not None
        self.log.record(
            self.env.now,
            self.name,
            EventKind.UPSTREAM_FETCH,
            layer=layer.short_id,
            bytes=layer.compressed_bytes,
            upstream=self.upstream.name,
        )
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    yield from self.upstream.fetch_blob(self, layer)
                    break
                except PullError as error:
                    if not error.retryable or attempt >= 5:
                        raise
                    yield self.env.timeout(5.0 * attempt)
            self._blobs.add(layer.digest)
            self.bytes_from_upstream += layer.compressed_bytes
        finally:
            if shared:
                del self._upstream_fetches[layer.digest]


__all__ = ["Client", "PullError", "Registry"]
