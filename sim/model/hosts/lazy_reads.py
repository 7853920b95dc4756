"""What a lazily pulled container's init reads on demand, and how long it stalls for it.

With a lazy snapshotter (`sim.model.images.snapshotters.lazy`) a container may start
before its layers have arrived. As its app initialises it reads its read set; the part
that was not prefetched, of a layer still streaming in the background, comes from the
registry on demand: one ranged request per ``chunk_size`` bytes, one at a time (a
reading thread blocks on each), each paying the request's round trip and its bytes over
the network, which it shares with everything else. A layer that has fully arrived is read
locally from then on, so the stall ends when the layer's stream does, if that comes
first.

The reads are spread over the init: its compute time is split into equal slices, with
the on-demand reads of one layer between two slices, in layer order. The layers' streams
begin ``background_delay`` after the container could start (stargz holds them 5 s after
its last mount or prefetch), so a short init reads all it needs on demand. Each layer's reads
are logged (``on_demand_read``: the replica, the layer, the bytes and ranges read, the
stall), and the bytes count with the lazy pull's bytes after the start.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.core.records import EventKind
from sim.model.hosts.engine import ContainerEngine
from sim.model.images.image import Image, Layer
from sim.model.images.lazy_download import LazyLayerDownload
from sim.model.images.registry import PullError, Registry
from sim.model.images.snapshotters.lazy import LazyParams


def pending_reads(
    engine: ContainerEngine, image: Image, read_fraction: float | None
) -> list[tuple[str, Layer, int]]:
    """The layers of `image` still streaming on the host whose reads are not prefetched:
    (ChainID, layer, bytes to read on demand), in layer order."""
    in_flight = engine.layers_in_flight
    if not in_flight:
        return []
    snapshotter = engine.params.snapshotter
    reads = []
    for chain_id, layer in zip(image.chain_ids, image.layers, strict=True):
        if not isinstance(in_flight.get(chain_id), LazyLayerDownload):
            continue
        size = snapshotter.on_demand_bytes(layer.compressed_bytes, read_fraction)
        if size > 0:
            reads.append((chain_id, layer, size))
    return reads


def initialise(
    env: simpy.Environment,
    engine: ContainerEngine,
    registry: Registry,
    replica: str,
    reads: list[tuple[str, Layer, int]],
    compute_s: float,
) -> Generator[simpy.Event, Any, None]:
    """The app's init (a SimPy process body): `compute_s` of its own work, split into
    ``len(reads) + 1`` equal slices, with each layer's on-demand reads in between."""
    slice_s = compute_s / (len(reads) + 1)
    snapshotter = engine.params.snapshotter
    assert isinstance(snapshotter, LazyParams)  # only a lazy pull leaves layers to read
    chunk = snapshotter.chunk_size
    for chain_id, layer, size in reads:
        yield env.timeout(slice_s)
        began_s = env.now
        done = ranges = 0
        while done < size and chain_id in engine.layers_in_flight:
            part = min(chunk, size - done)
            yield _ranged_read(env, engine, registry, layer, part)
            done += part
            ranges += 1
        engine.lazy_background_bytes += done
        engine.log.record(
            env.now,
            engine.name,
            EventKind.ON_DEMAND_READ,
            replica=replica,
            layer=layer.short_id,
            bytes=done,
            ranges=ranges,
            stall_s=env.now - began_s,
        )
    yield env.timeout(slice_s)


def _ranged_read(
    env: simpy.Environment, engine: ContainerEngine, registry: Registry, layer: Layer, size: int
) -> simpy.Event:
    """One ranged request for `size` bytes of the layer's blob, retried after
    ``attempt x retry_backoff_s`` until it succeeds (the app waits for its read)."""
    arrived = simpy.Event(env)
    attempt = 1

    def received(*_: object) -> None:
        arrived.succeed()

    def request() -> None:
        registry.send_blob(engine, layer, received, failed, size_bytes=size)

    def failed(_: PullError) -> None:
        nonlocal attempt
        wait_s = attempt * engine.params.retry_backoff_s
        attempt += 1
        env.timeout(wait_s).callbacks.append(lambda _: request())

    request()
    return arrived
