"""Lazy pulling (``cluster.engine.snapshotter: lazy``): the container starts after the
manifest, each layer's table of contents and its prefetch; init reads the rest of its
read set on demand, range by range, while each layer streams in the background.

On an idle star the times are closed forms: a request takes a round trip (twice the
path's one-way latency plus the registry's request time), a transfer the path's one-way
latency and then bytes / bandwidth; flows that share the registry's link keep it full.
With ``prefetch: 1`` (the whole read set before the start: the upper bound) nothing is
read on demand, as in the model before read costs.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from worlds import MB, layered_image, pull_world

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.model.hosts.engine import EngineParams
from sim.model.hosts.lazy_reads import initialise, pending_reads
from sim.model.images.registries.public import PublicParams
from sim.model.images.snapshotters.lazy import LazyParams
from sim.model.images.snapshotters.overlayfs import OverlayfsParams
from sim.policies.image_gc import GcThresholds
from sim.scenario import Scenario

APP = layered_image("app", [(200 * MB, 100 * MB), (100 * MB, 50 * MB), (20 * MB, 10 * MB)])
SIZES = [100 * MB, 50 * MB, 10 * MB]
TOC = 64 * 1024
BANDWIDTH = 100 * MB


UPPER_BOUND = LazyParams(prefetch=1.0, background_delay=0.0)
UPPER_BOUND_RUN = "cluster.engine.snapshotter={kind: lazy, prefetch: 1, background_delay: 0s}"


def startup_bytes(compressed: int, fraction: float = 0.064) -> int:
    return min(compressed, TOC + math.ceil(fraction * compressed))


def engine(snapshotter: object) -> EngineParams:
    return EngineParams(serialize_image_pulls=False, snapshotter=snapshotter)  # type: ignore[arg-type]


def test_a_cold_lazy_pull_fetches_tocs_and_start_up_reads_first_then_the_rest() -> None:
    world = pull_world([APP], engine=engine(UPPER_BOUND))
    world.pull("host-1", "app")
    world.env.run()
    [record] = world.results
    before = sum(startup_bytes(size) for size in SIZES)
    total = sum(SIZES)
    assert record.ok and record.bytes_downloaded == before
    assert before == 3 * TOC + 6_400_000 + 3_200_000 + 640_000
    # the three start-up reads share the hub's link and keep it full
    assert record.finished_s == pytest.approx(before / BANDWIDTH)
    assert record.extract_s == 0
    host = world.engines["host-1"]
    assert host.lazy_background_bytes == total - before
    assert record.bytes_downloaded + host.lazy_background_bytes == total
    assert world.registries["hub"].bytes_served == total
    # the background streams keep the link full too: every layer is stored by total / bw
    stored = world.times("layer_extracted")
    assert len(stored) == 3 and max(stored) == pytest.approx(total / BANDWIDTH)
    assert all(layer.complete for layer in host.store.layers.values())
    # no compressed copy to extract: the disk holds the unpacked layers from the start
    assert host.disk.peak_bytes == host.disk.used_bytes == 320 * MB


def test_lazy_start_up_beats_the_full_pull_by_the_bytes_left_for_later() -> None:
    """One layer, latency on every link: manifest round trip, blob round trip, one-way
    latency, then the bytes — all the same for both but the bytes."""
    image = layered_image("one", [(300 * MB, 120 * MB)])
    latency_s, request_s = 0.01, 0.02
    hub = PublicParams(name="hub", bandwidth_bytes_s=BANDWIDTH, request_time_s=request_s)
    finished = {}
    for name, snapshotter in (("overlayfs", OverlayfsParams()), ("lazy", UPPER_BOUND)):
        world = pull_world([image], engine=engine(snapshotter), registry=hub, latency_s=latency_s)
        world.pull("host-1", "one")
        world.env.run()
        finished[name] = world.results[0].finished_s
        background = world.times("layer_extracted")
    round_trip_s = 2 * (2 * latency_s) + request_s
    early = startup_bytes(120 * MB)
    assert finished["overlayfs"] == pytest.approx(2 * round_trip_s + 2 * latency_s + 1.2)
    assert finished["lazy"] == pytest.approx(2 * round_trip_s + 2 * latency_s + early / BANDWIDTH)
    assert finished["overlayfs"] - finished["lazy"] == pytest.approx((120 * MB - early) / BANDWIDTH)
    # the rest is one more request after the start
    assert background == pytest.approx(
        [finished["lazy"] + round_trip_s + 2 * latency_s + (120 * MB - early) / BANDWIDTH]
    )


def test_a_layer_counts_as_stored_only_once_it_has_fully_arrived() -> None:
    world = pull_world([APP], engine=engine(UPPER_BOUND))
    world.pull("host-1", "app")
    world.pull("host-1", "app", at=0.5)  # started, still streaming
    world.pull("host-1", "app", at=10.0)  # all stored
    world.env.run()
    first, during, after = world.results
    assert (during.layers_already_exists, during.layers_shared, during.bytes_downloaded) == (
        0,
        3,
        0,
    )
    assert during.finished_s == pytest.approx(0.5)
    assert (after.layers_already_exists, after.bytes_downloaded) == (3, 0)
    assert world.registries["hub"].bytes_served == sum(SIZES)
    # the image's tag is the top layer's only user once the streams are done
    top = world.images["app"].chain_ids[-1]
    assert world.engines["host-1"].store.layers[top].users == 1


def run(*overrides: str) -> Scenario:
    world = Scenario(scenario_params(to_plain(sim.load_config(list(overrides)))))
    world.run()
    return world


ONE_WEB = (
    "platform=container",
    "workload.deployments=[{app: web, replicas: 1, platform: container}]",
    "~cluster.registry_mirrors",
)


@pytest.mark.parametrize(
    ("fraction", "override"),
    [(0.064, ()), (0.5, ("+workload.apps.web.startup_read_fraction=0.5",))],
)
def test_a_run_reports_bytes_before_the_start_and_in_the_background(
    fraction: float, override: tuple[str, ...]
) -> None:
    world = run(
        *ONE_WEB,
        UPPER_BOUND_RUN,
        *override,
    )
    # the run ends when the replica is ready; let the background streams finish
    world.env.run(until=world.env.now + 600)
    result = world.collect(())
    summary = result.summary
    image = world.params.apps["web"].image
    expected = sum(startup_bytes(layer.compressed_bytes, fraction) for layer in image.layers)
    assert summary["bytes_before_start"] == expected
    assert summary["lazy_background_bytes"] == image.compressed_bytes - expected
    assert summary["bytes_from_registry"] == image.compressed_bytes
    overlay = run(*ONE_WEB).collect(()).summary
    assert overlay["bytes_before_start"] == overlay["bytes_from_registry"] == image.compressed_bytes
    assert overlay["lazy_background_bytes"] == 0
    assert summary["startup_s_p50"] < overlay["startup_s_p50"]


def test_the_snapshotter_is_checked_as_a_kind() -> None:
    with pytest.raises(sim.ConfigError) as error:  # type: ignore[attr-defined]
        run(*ONE_WEB, "cluster.engine.snapshotter=stargz")
    assert "cluster.engine.snapshotter" in str(error.value)


@settings(max_examples=40, deadline=None)
@given(
    pulls=st.lists(
        st.tuples(st.sampled_from(["base", "a", "b", "c"]), st.integers(0, 40)),
        min_size=1,
        max_size=8,
    ),
    disk_mb=st.integers(min_value=60, max_value=400),
)
def test_lazy_bytes_and_disk_add_up(pulls: list[tuple[str, int]], disk_mb: int) -> None:
    """Overlapping lazy pulls with garbage collection: every byte a registry sent is a
    start-up or a background byte, each fetched layer ends complete, and the disk holds
    exactly the stored layers (never more than its capacity)."""
    specs = [
        layered_image("base", [(40 * MB, 15 * MB), (20 * MB, 8 * MB)]),
        layered_image("a", [(30 * MB, 10 * MB)], parent="base"),
        layered_image("b", [(50 * MB, 20 * MB), (5 * MB, 2 * MB)], parent="base"),
        layered_image("c", [(70 * MB, 30 * MB)]),
    ]
    lazy = EngineParams(
        serialize_image_pulls=False,
        image_gc=GcThresholds(min_age_s=0.0),
        snapshotter=LazyParams(),
    )
    world = pull_world(specs, disk_bytes=disk_mb * MB, engine=lazy)
    for name, at_s in pulls:
        world.pull("host-1", name, at=at_s / 10)
    world.env.run()
    host = world.engines["host-1"]
    before = sum(record.bytes_downloaded for record in world.results)
    assert world.registries["hub"].bytes_served == before + host.lazy_background_bytes
    assert not host.layers_in_flight
    assert all(stored.complete for stored in host.store.layers.values())
    assert host.disk.peak_bytes <= host.disk.capacity_bytes
    assert host.disk.used_bytes == host.store.layer_bytes()


# --- reads on demand -------------------------------------------------------------------

ONE_LAYER = layered_image("one", [(200 * MB, 100 * MB)])
REQUEST_S = 0.01


def reading_world(chunk: int, fraction: float = 0.064) -> tuple[Any, Any, list[Any]]:
    """One layer pulled lazily with nothing prefetched, and the on-demand reads of an
    init that starts as soon as the pull ends."""
    hub = PublicParams(name="hub", bandwidth_bytes_s=BANDWIDTH, request_time_s=REQUEST_S)
    snapshotter = LazyParams(
        prefetch=0.0, chunk_size=chunk, startup_read_fraction=fraction, background_delay=0.0
    )
    world = pull_world([ONE_LAYER], engine=engine(snapshotter), registry=hub)
    host = world.engines["host-1"]
    reads: list[Any] = []

    def start() -> Generator[Any, Any, None]:
        yield world.env.timeout(0.5)  # the pull (manifest, TOC) is over by then
        reads.extend(pending_reads(host, world.images["one"], None))
        yield from initialise(world.env, host, world.registries["hub"], "web-1", reads, 0.0)

    world.pull("host-1", "one")
    world.env.process(start())
    world.env.run()
    return world, host, reads


def test_init_reads_what_was_not_prefetched_range_by_range_at_a_round_trip_each() -> None:
    # 6.4 MB read in 1 MB ranges: six whole and one of 0.4 MB. Each takes a round trip
    # (the registry's 10 ms) and its bytes at half the link: the layer's stream has the
    # other half. The stream (100 MB) is far from done when the reads end.
    world, host, reads = reading_world(chunk=1 * MB)
    assert [(size) for _, _, size in reads] == [6_400_000]
    [event] = [e for e in world.log if str(e.kind) == "on_demand_read"]
    range_s = REQUEST_S + MB / (BANDWIDTH / 2)
    last_s = REQUEST_S + 0.4 * MB / (BANDWIDTH / 2)
    assert event.detail_or("replica") == "web-1"
    assert (event.detail_or("bytes"), event.detail_or("ranges")) == (6_400_000, 7)
    assert event.detail_or("stall_s") == pytest.approx(6 * range_s + last_s)
    # the reads count with the bytes after the start; the stream fetches them again
    assert host.lazy_background_bytes == 6_400_000 + 100 * MB - TOC


def test_the_stall_ends_when_the_layer_has_arrived() -> None:
    # 10 kB ranges: 640 of them would take 6.6 s; the stream is in after about 1 s and
    # from then on the layer is read locally.
    world, host, _ = reading_world(chunk=10_000)
    [event] = [e for e in world.log if str(e.kind) == "on_demand_read"]
    [arrived_s] = world.times("layer_extracted")
    began_s = event.time_s - event.detail_or("stall_s")
    assert began_s < arrived_s <= event.time_s < arrived_s + REQUEST_S + 10_000 / BANDWIDTH
    assert 0 < event.detail_or("bytes") < 6_400_000
    assert event.detail_or("ranges") == event.detail_or("bytes") // 10_000


def test_nothing_is_read_on_demand_from_an_arrived_or_prefetched_layer() -> None:
    world, host, _ = reading_world(chunk=1 * MB)
    assert pending_reads(host, world.images["one"], None) == []  # the stream is in
    prefetched = pull_world([ONE_LAYER], engine=engine(UPPER_BOUND))
    prefetched.pull("host-1", "one")
    prefetched.env.run(until=0.5)
    assert pending_reads(prefetched.engines["host-1"], prefetched.images["one"], None) == []


@given(st.integers(1, 10**9), st.floats(0, 1), st.floats(0, 1), st.integers(0, 10**6))
def test_a_layers_prefetch_on_demand_reads_and_stream_never_exceed_its_blob(
    compressed: int, fraction: float, prefetch: float, toc: int
) -> None:
    lazy = LazyParams(toc_bytes=toc, prefetch=prefetch, startup_read_fraction=fraction)
    before = lazy.startup_bytes(compressed, None)
    on_demand = lazy.on_demand_bytes(compressed, None)
    assert 0 <= before <= compressed and 0 <= on_demand <= compressed - before
    if toc + math.ceil(fraction * compressed) <= compressed:
        # prefetched and on demand make up the read set exactly
        assert before - toc + on_demand == math.ceil(fraction * compressed)


def test_a_run_stalls_init_by_the_on_demand_reads_and_prefetch_1_is_the_upper_bound() -> None:
    costed = run(*ONE_WEB, "cluster.engine.snapshotter=lazy").collect(())
    bound = run(*ONE_WEB, UPPER_BOUND_RUN).collect(())
    [replica] = costed.replicas
    [upper] = bound.replicas
    stall = sum(e.detail_or("stall_s") for e in costed.events if str(e.kind) == "on_demand_read")
    assert stall > 0
    assert not [e for e in bound.events if str(e.kind) == "on_demand_read"]
    # the same init draw; the costed init also waits for its reads
    assert replica.init_s == pytest.approx(upper.init_s + stall)
    assert costed.summary["bytes_before_start"] < bound.summary["bytes_before_start"]
    assert replica.startup_s > upper.startup_s - (upper.pull_download_s - replica.pull_download_s)
