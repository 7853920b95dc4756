"""Image pulls as the Docker daemon does them (SEMANTICS.md, moby download.go)."""

from __future__ import annotations

import math
from collections.abc import Generator
from types import SimpleNamespace
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from worlds import MB, layered_image, pull_world

from sim.model.hosts.engine import EngineParams, run_image_gc
from sim.model.images.registries import PullRateLimit
from sim.model.images.registries.mirror import MirrorParams
from sim.model.images.registries.private import PrivateParams
from sim.model.images.registries.public import PublicParams
from sim.model.images.store import DiskTotals
from sim.policies.image_gc import GcThresholds

APP = layered_image("app", [(200 * MB, 100 * MB), (100 * MB, 50 * MB), (20 * MB, 10 * MB)])


def test_cold_pull_timeline_is_exact() -> None:
    """Three layers share 100 MB/s, then extract serially at 50 MB/s in layer order.

    Downloads: all three at 1/3 each until the 10 MB blob is done (0.3 s); the other two
    at 1/2 each until the 50 MB blob is done (1.1 s); the 100 MB blob alone (1.6 s).
    Extraction: 200 MB (4 s) from 1.6, then 100 MB (2 s), then 20 MB (0.4 s): done at 8.0 s.
    """
    world = pull_world([APP], extraction_bytes_s=50 * MB)
    world.pull("host-1", "app")
    world.env.run()
    assert world.times("layer_downloaded") == pytest.approx([0.3, 1.1, 1.6])
    downloaded = [e.detail("bytes") for e in world.log.of_kind("layer_downloaded")]
    assert downloaded == [10 * MB, 50 * MB, 100 * MB]
    assert world.times("layer_extracted") == pytest.approx([5.6, 7.6, 8.0])
    [record] = world.results
    assert record.ok and record.finished_s == pytest.approx(8.0)
    assert record.download_s == pytest.approx(1.6)
    assert record.extract_s == pytest.approx(6.4)
    assert record.bytes_downloaded == 160 * MB
    assert (record.layers_downloaded, record.layers_already_exists) == (3, 0)


def test_second_pull_is_warm_and_moves_no_bytes() -> None:
    world = pull_world([APP])
    world.pull("host-1", "app")
    world.pull("host-1", "app", at=10.0)
    world.env.run()
    first, second = world.results
    assert second.ok and second.bytes_downloaded == 0
    assert (second.layers_already_exists, second.layers_downloaded) == (3, 0)
    assert world.registries["hub"].manifests_served == 2
    assert world.registries["hub"].blobs_served == 3


def test_shared_base_layers_already_exist() -> None:
    base = layered_image("base", [(50 * MB, 20 * MB), (30 * MB, 10 * MB)])
    app = layered_image("app", [(8 * MB, 4 * MB)], parent="base")
    world = pull_world([base, app])
    world.pull("host-1", "base")
    world.pull("host-1", "app", at=5.0)
    world.env.run()
    assert world.results[1].layers_already_exists == 2
    assert world.results[1].bytes_downloaded == 4 * MB


def test_same_digest_under_another_parent_is_downloaded_again() -> None:
    """Already exists goes by ChainID and stops at the first miss."""
    shared = (40 * MB, 20 * MB)
    first = layered_image("first", [(10 * MB, 5 * MB)])
    second = layered_image("second", [(12 * MB, 6 * MB)])
    on_first = layered_image("tool", [shared], parent="first")
    on_second = layered_image("tool", [shared], parent="second")
    on_second = on_second.__class__(
        "tool2", on_second.repository + "2", "1", "hub", on_second.steps
    )
    world = pull_world([first, second, on_first, on_second])
    assert world.images["tool"].layers[1] == world.images["tool2"].layers[1]
    world.pull("host-1", "tool")
    world.pull("host-1", "tool2", at=10.0)
    world.env.run()
    assert world.results[1].layers_downloaded == 2
    assert world.results[1].bytes_downloaded == 26 * MB


def test_concurrent_pulls_of_one_image_download_each_layer_once() -> None:
    world = pull_world([APP])
    world.pull("host-1", "app")
    world.pull("host-1", "app")
    world.env.run()
    first, second = world.results
    assert first.ok and second.ok
    assert first.layers_downloaded + second.layers_downloaded == 3
    assert second.layers_shared == 3
    assert world.registries["hub"].blobs_served == 3
    assert first.finished_s == second.finished_s


@pytest.mark.parametrize("cap", [1, 2, 3, 5])
def test_download_concurrency_never_exceeds_the_cap(cap: int) -> None:
    many = layered_image("many", [(10 * MB, (i + 1) * MB) for i in range(7)])
    other = layered_image("other", [(10 * MB, 3 * MB)] * 1 + [(11 * MB, 4 * MB)])
    world = pull_world(
        [many, other],
        engine=EngineParams(max_concurrent_downloads=cap, serialize_image_pulls=False),
    )
    world.pull("host-1", "many")
    world.pull("host-1", "other")
    world.env.run()
    assert world.engines["host-1"].downloads_active_max == min(cap, 9)
    assert all(record.ok for record in world.results)


def test_extraction_is_serial_in_layer_order() -> None:
    """The top layer downloads first (smallest) but is extracted last."""
    world = pull_world([APP], extraction_bytes_s=1000 * MB)
    world.pull("host-1", "app")
    world.env.run()
    downloaded = [e.detail("layer") for e in world.log.of_kind("layer_downloaded")]
    extracted = [e.detail("layer") for e in world.log.of_kind("layer_extracted")]
    order = [layer.short_id for layer in world.images["app"].layers]
    assert extracted == order
    assert downloaded == order[::-1]


def test_failed_downloads_are_retried_with_linear_backoff_then_fail() -> None:
    registry = PublicParams(
        name="hub", bandwidth_bytes_s=100 * MB, request_time_s=0.0, failure_probability=1.0
    )
    single = layered_image("single", [(10 * MB, 5 * MB)])
    world = pull_world([single], registry=registry)
    world.pull("host-1", "single")
    world.env.run()
    [record] = world.results
    assert not record.ok and "503" in record.reason
    assert record.retries == 4
    assert record.finished_s == pytest.approx(5 + 10 + 15 + 20)
    assert world.engines["host-1"].disk.used_bytes == 0


def test_pull_rate_limit_rejects_over_the_window() -> None:
    registry = PublicParams(
        name="hub",
        bandwidth_bytes_s=100 * MB,
        request_time_s=0.0,
        pull_limit=PullRateLimit(count=2, window_s=3600.0),
    )
    world = pull_world([APP], registry=registry)
    for at in (0.0, 10.0, 20.0, 3601.0):
        world.pull("host-1", "app", at=at)
    world.env.run()
    assert [record.ok for record in world.results] == [True, True, False, True]
    assert world.results[2].reason.startswith("toomanyrequests")
    assert world.results[2].retries == 0


def test_private_registry_denies_unknown_principals() -> None:
    registry = PrivateParams(name="hub", bandwidth_bytes_s=100 * MB, allowed_principals=("node",))
    world = pull_world([APP], registry=registry, principal="intruder")
    world.pull("host-1", "app")
    world.env.run()
    assert not world.results[0].ok and world.results[0].reason.startswith("denied")
    assert world.results[0].bytes_downloaded == 0


def test_mirror_fetches_each_blob_from_upstream_once() -> None:
    mirror = MirrorParams(
        name="mirror", bandwidth_bytes_s=1000 * MB, request_time_s=0.0, upstream="hub"
    )
    world = pull_world([APP], hosts=("host-1", "host-2", "host-3"), mirror=mirror)
    for host in ("host-1", "host-2", "host-3"):
        world.pull(host, "app", registry="mirror")
    world.env.run()
    assert all(record.ok for record in world.results)
    assert world.registries["mirror"].bytes_from_upstream == APP_COMPRESSED
    assert world.registries["hub"].bytes_served == APP_COMPRESSED
    assert world.registries["mirror"].bytes_served == 3 * APP_COMPRESSED
    assert world.registries["hub"].manifests_served == 1


APP_COMPRESSED = 160 * MB


@pytest.mark.parametrize("hosts", [1, 2, 5])
@pytest.mark.parametrize("coalesce", [True, False])
def test_concurrent_cold_pulls_through_a_mirror_go_upstream_once_or_each(
    hosts: int, coalesce: bool
) -> None:
    """N hosts miss every blob at once: a coalescing mirror fetches each blob (and the
    manifest) from the hub once; one that does not, once per host. Either way each host
    gets the whole image from the mirror, and later pulls are served from what it stored."""
    mirror = MirrorParams(
        name="mirror",
        bandwidth_bytes_s=1000 * MB,
        request_time_s=0.0,
        upstream="hub",
        coalesce_misses=coalesce,
    )
    names = [f"host-{i}" for i in range(1, hosts + 2)]
    world = pull_world([APP], hosts=names, mirror=mirror)
    for host in names[:-1]:
        world.pull(host, "app", registry="mirror")
    world.pull(names[-1], "app", registry="mirror", at=100.0)
    world.env.run()
    fetches = 1 if coalesce else hosts
    assert all(record.ok for record in world.results)
    assert world.registries["mirror"].bytes_from_upstream == fetches * APP_COMPRESSED
    assert world.registries["hub"].bytes_served == fetches * APP_COMPRESSED
    assert world.registries["hub"].manifests_served == fetches
    assert len(world.log.of_kind("upstream_fetch")) == fetches * 3
    assert world.registries["mirror"].bytes_served == (hosts + 1) * APP_COMPRESSED


def test_pull_that_cannot_fit_fails_with_disk_full() -> None:
    world = pull_world([APP], disk_bytes=300 * MB)
    world.pull("host-1", "app")
    world.env.run()
    [record] = world.results
    assert not record.ok and record.reason.startswith("no space left on device")
    assert world.engines["host-1"].disk.used_bytes == 0


def test_gc_before_a_pull_removes_the_least_recently_used_image() -> None:
    old = layered_image("old", [(300 * MB, 100 * MB)])
    older = layered_image("older", [(300 * MB, 100 * MB)])
    new = layered_image("new", [(300 * MB, 100 * MB)])
    # Images are detected every 50 s: a container uses "older" from 20 s to 60 s (seen in
    # use at 50 s) and "old" from 70 s to 160 s (seen at 100 s and 150 s).
    gc = GcThresholds(min_age_s=60.0, period_s=50.0)
    world = pull_world(
        [old, older, new],
        disk_bytes=800 * MB,
        engine=EngineParams(serialize_image_pulls=False, image_gc=gc),
    )
    store = world.engines["host-1"].store

    def containers() -> Generator[simpy.Event, Any, None]:
        for name, start_s, end_s in (("older", 20.0, 60.0), ("old", 70.0, 160.0)):
            yield world.env.timeout(start_s - world.env.now)
            store.use(name, world.env.now)
            yield world.env.timeout(end_s - world.env.now)
            store.unuse(name, world.env.now)

    world.env.process(containers())
    world.pull("host-1", "older")
    world.pull("host-1", "old", at=10.0)
    world.pull("host-1", "new", at=200.0)
    world.env.run(until=250.0)
    assert (store.images["old"].last_used_s, store.images["old"].first_detected_s) == (150, 50)
    assert all(record.ok for record in world.results)
    removed = world.log.of_kind("image_removed")
    assert [e.detail("image") for e in removed] == ["older"]
    assert set(world.engines["host-1"].store.images) == {"old", "new"}


def test_periodic_gc_brings_usage_below_the_low_threshold() -> None:
    images = [layered_image(f"i{n}", [(100 * MB, 40 * MB)]) for n in range(9)]
    world = pull_world(images, disk_bytes=1000 * MB)
    for n in range(9):
        world.pull("host-1", f"i{n}", at=float(n))
    host = SimpleNamespace(engine=world.engines["host-1"])
    world.env.process(run_image_gc(world.env, [host], 300.0))
    # First detected at 300 s, the images are younger than the minimum age (2 min) then.
    world.env.run(until=301.0)
    assert world.log.of_kind("image_removed") == []
    world.env.run(until=601.0)
    disk = world.engines["host-1"].disk
    assert disk.used_bytes == 800 * MB  # 900 MB used (90 %) >= 85 %: free down to 80 %
    assert [e.detail("image") for e in world.log.of_kind("image_removed")] == ["i0"]


def test_periodic_gc_visits_no_host_while_every_disk_is_below_its_threshold() -> None:
    visits: list[float] = []
    env = simpy.Environment()
    disks = DiskTotals()
    host = SimpleNamespace(engine=SimpleNamespace(check_image_gc=lambda: visits.append(env.now)))
    env.process(run_image_gc(env, [host], 300.0, disks))
    env.run(until=700.0)
    disks.disks_at_watch_level = 1
    env.run(until=1000.0)
    assert visits == [900.0]


@settings(max_examples=40, deadline=None)
@given(
    sequence=st.lists(st.sampled_from(["base", "a", "b", "c"]), min_size=1, max_size=8),
    disk_mb=st.integers(min_value=30, max_value=400),
)
def test_bytes_and_disk_add_up(sequence: list[str], disk_mb: int) -> None:
    """Serial pulls: each pull downloads exactly the layers above its first miss;
    the disk never exceeds its capacity and holds exactly the stored layers at the end."""
    specs = [
        layered_image("base", [(40 * MB, 15 * MB), (20 * MB, 8 * MB)]),
        layered_image("a", [(30 * MB, 10 * MB)], parent="base"),
        layered_image("b", [(50 * MB, 20 * MB), (5 * MB, 2 * MB)], parent="base"),
        layered_image("c", [(70 * MB, 30 * MB)]),
    ]
    world = pull_world(
        specs, disk_bytes=disk_mb * MB, engine=EngineParams(image_gc=GcThresholds(min_age_s=0.0))
    )
    engine = world.engines["host-1"]
    expected: list[int] = []

    def driver():
        for name in sequence:
            image = world.images[name]
            present = engine.store.present_prefix(image)
            record = yield from engine.pull(image, world.registries["hub"])
            if record.ok:
                expected.append(sum(layer.compressed_bytes for layer in image.layers[present:]))
                assert record.bytes_downloaded == expected[-1]
            assert engine.disk.used_bytes <= engine.disk.capacity_bytes

    world.env.process(driver())
    world.env.run()
    assert engine.disk.peak_bytes <= engine.disk.capacity_bytes
    assert engine.disk.used_bytes == engine.store.layer_bytes()


def test_kubelet_pull_qps_rejects_pulls_over_the_burst() -> None:
    world = pull_world(
        [APP],
        engine=EngineParams(registry_pull_qps=1.0, registry_burst=2, serialize_image_pulls=False),
    )
    for at in (0.0, 0.0, 0.0, 1.0):
        world.pull("host-1", "app", at=at)
    world.env.run()
    reasons = sorted(record.reason for record in world.results)
    assert reasons == ["", "", "", "pull QPS exceeded"]


@settings(max_examples=60, deadline=None)
@given(
    hosts=st.integers(2, 9),
    waves=st.lists(
        st.tuples(st.sampled_from([0.0, 0.0, 1.0, 2.5]), st.sampled_from(["app", "base", "many"])),
        min_size=1,
        max_size=4,
    ),
    latency_s=st.sampled_from([0.0, 1e-3]),
    extraction_bytes_s=st.sampled_from([math.inf, 200 * MB]),
    serialize=st.booleans(),
    failure_probability=st.sampled_from([0.0, 0.3]),
    slots=st.sampled_from([1, 3]),
)
def test_storms_run_the_same_with_waits_and_blobs_together_or_apart(
    hosts: int,
    waves: list[tuple[float, str]],
    latency_s: float,
    extraction_bytes_s: float,
    serialize: bool,
    failure_probability: float,
    slots: int,
) -> None:
    """Hosts pull images in waves (all of them at once, or every other one), with retried
    failures, download-slot queues, parallel pulls sharing layers: run on the model's own
    environment — waits that end together on one event, blobs that reach the registry
    together sent as twins — every event, record and byte is what SimPy's environment,
    every wait and blob on its own, gives."""
    base = layered_image("base", [(40 * MB, 20 * MB), (30 * MB, 10 * MB)])
    app = layered_image("app", [(60 * MB, 30 * MB), (6 * MB, 2 * MB)], parent="base")
    many = layered_image("many", [(10 * MB, (i + 1) * MB) for i in range(5)])
    names = [f"host-{i}" for i in range(hosts)]

    def run(together: bool) -> tuple[list, list, tuple[int, ...]]:
        world = pull_world(
            [base, app, many],
            hosts=names,
            latency_s=latency_s,
            extraction_bytes_s=extraction_bytes_s,
            engine=EngineParams(
                max_concurrent_downloads=slots,
                serialize_image_pulls=serialize,
                extraction_bytes_s=extraction_bytes_s,
            ),
            registry=PublicParams(
                name="hub",
                bandwidth_bytes_s=100 * MB,
                request_time_s=0.0,
                failure_probability=failure_probability,
            ),
            together=together,
        )
        for wave, (at_s, image) in enumerate(waves):
            for index, host in enumerate(names):
                if wave % 2 == 0 or index % 2 == 0:
                    world.pull(host, image, at=at_s)
        world.env.run()
        hub = world.registries["hub"]
        served = (hub.manifests_served, hub.blobs_served, hub.bytes_served)
        return list(world.log), world.results, served

    assert run(together=True) == run(together=False)


def test_hosts_pulling_in_step_go_on_as_one_cohort_and_end_as_their_own_pulls_would() -> None:
    """Eight hosts pull the same image at once: one cohort of eight, one flow per layer;
    every record, byte and time as eight pulls on their own."""
    hosts = [f"host-{i}" for i in range(8)]

    def run(together: bool):
        world = pull_world(
            [APP],
            hosts=hosts,
            latency_s=1e-3,
            extraction_bytes_s=500 * MB,
            engine=EngineParams(extraction_bytes_s=500 * MB),
            together=together,
        )
        for host in hosts:
            world.pull(host, "app")
        world.env.run()
        return world

    together, apart = run(True), run(False)
    cohorts = together.engines["host-0"].pull_cohorts
    assert cohorts is not None and (cohorts.formed, cohorts.joined) == (1, 8)
    assert list(together.log) == list(apart.log)
    assert together.results == apart.results
    # The manifest's and the blobs' round trips and the blobs' latency (2 ms each way),
    # every host's 160 MB through the hub's 100 MB/s (the base layer's blob last), then
    # the 320 MB of the three layers extracted at 500 MB/s.
    assert together.results[-1].finished_s == pytest.approx(
        10e-3 + 8 * 160 * MB / (100 * MB) + 320 * MB / (500 * MB), rel=1e-12
    )
    # Once every member's pull has ended, the cohort (still the open one) holds none.
    assert cohorts._open is not None and cohorts._open.pulls == []
