"""Lazy pulling (``cluster.engine.snapshotter: lazy``): the container starts after the
manifest, each layer's table of contents and its start-up reads; the rest streams after.

On an idle star the times are closed forms: a request takes a round trip (twice the
path's one-way latency plus the registry's request time), a transfer the path's one-way
latency and then bytes / bandwidth; flows that share the registry's link keep it full.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from worlds import MB, layered_image, pull_world

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.model.hosts.engine import EngineParams
from sim.model.images.registries.public import PublicParams
from sim.model.images.snapshotters.lazy import LazyParams
from sim.model.images.snapshotters.overlayfs import OverlayfsParams
from sim.policies.image_gc import GcThresholds
from sim.scenario import Scenario

APP = layered_image("app", [(200 * MB, 100 * MB), (100 * MB, 50 * MB), (20 * MB, 10 * MB)])
SIZES = [100 * MB, 50 * MB, 10 * MB]
TOC = 64 * 1024
BANDWIDTH = 100 * MB


def startup_bytes(compressed: int, fraction: float = 0.064) -> int:
    return min(compressed, TOC + math.ceil(fraction * compressed))


def engine(snapshotter: object) -> EngineParams:
    return EngineParams(serialize_image_pulls=False, snapshotter=snapshotter)  # type: ignore[arg-type]


def test_a_cold_lazy_pull_fetches_tocs_and_start_up_reads_first_then_the_rest() -> None:
    world = pull_world([APP], engine=engine(LazyParams()))
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
    for name, snapshotter in (("overlayfs", OverlayfsParams()), ("lazy", LazyParams())):
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
    world = pull_world([APP], engine=engine(LazyParams()))
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
    world = run(*ONE_WEB, "cluster.engine.snapshotter=lazy", *override)
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
