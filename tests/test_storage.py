"""The disk account and the layer store: a shared layer is stored once, freed last."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.model.images.image import BuildStep, ImageSpec, build_catalog
from sim.model.images.store import DiskAccount, DiskFull, DiskTotals, LayerStore

CATALOG = build_catalog(
    {
        "base": ImageSpec("base", "base", "1", "hub", (BuildStep("ADD", "root", 100, 40),)),
        "a": ImageSpec(
            "a", "a", "1", "hub", (BuildStep("FROM", "base"), BuildStep("RUN", "a", 30, 10))
        ),
        "b": ImageSpec(
            "b", "b", "1", "hub", (BuildStep("FROM", "base"), BuildStep("RUN", "b", 50, 20))
        ),
    }
)


def store_image(store: LayerStore, name: str, now_s: float = 0.0) -> None:
    image = CATALOG[name]
    for index, chain_id in enumerate(image.chain_ids):
        if store.has_layer(chain_id):
            store.hold(chain_id)
        else:
            store.disk.allocate(image.layers[index].size_bytes)
            store.add_layer(
                chain_id, image.layers[index], image.chain_ids[index - 1] if index else None
            )
    store.tag_image(image, now_s)
    for chain_id in image.chain_ids:
        store.release(chain_id)


def test_disk_refuses_what_does_not_fit_and_keeps_the_peak() -> None:
    totals = DiskTotals()
    disk = DiskAccount(100, totals)
    disk.allocate(60)
    with pytest.raises(DiskFull):
        disk.allocate(41)
    assert disk.used_bytes == 60 and totals.used_bytes == 60
    disk.free(50)
    disk.allocate(30)
    assert (disk.used_bytes, disk.peak_bytes, totals.used_bytes) == (40, 60, 40)


def test_watched_disks_are_counted_while_at_or_above_their_level() -> None:
    totals = DiskTotals()
    first, second = DiskAccount(100, totals), DiskAccount(200, totals)
    first.watch(84.0)
    second.watch(84.0)
    first.allocate(83)
    assert (first.at_watch_level, totals.disks_at_watch_level) == (False, 0)
    first.allocate(1)
    second.allocate(168)
    assert (first.at_watch_level, second.at_watch_level, totals.disks_at_watch_level) == (
        True,
        True,
        2,
    )
    first.free(1)
    assert (first.at_watch_level, totals.disks_at_watch_level) == (False, 1)


def test_shared_base_layer_is_stored_once_and_freed_with_its_last_image() -> None:
    store = LayerStore(DiskAccount(10_000))
    store_image(store, "a")
    store_image(store, "b")
    assert store.disk.used_bytes == 100 + 30 + 50
    assert store.remove_image("a") == 30
    assert store.present_prefix(CATALOG["b"]) == 2
    assert store.remove_image("b") == 150
    assert store.disk.used_bytes == 0 and not store.layers


@given(order=st.permutations(["base", "a", "b"]), removals=st.permutations(["base", "a", "b"]))
def test_disk_always_equals_the_stored_layers(order: list[str], removals: list[str]) -> None:
    store = LayerStore(DiskAccount(10_000))
    for name in order:
        store_image(store, name)
        assert store.disk.used_bytes == store.layer_bytes()
    for name in removals:
        store.remove_image(name)
        assert store.disk.used_bytes == store.layer_bytes()
    assert store.disk.used_bytes == 0


def test_a_detached_disk_leaves_the_totals_and_keeps_its_own_account() -> None:
    totals = DiskTotals()
    kept, gone = DiskAccount(100, totals), DiskAccount(100, totals)
    for disk in (kept, gone):
        disk.watch(50)
    kept.allocate(30)
    gone.allocate(70)
    assert (totals.used_bytes, totals.disks_at_watch_level) == (100, 1)
    gone.detach()
    assert (totals.used_bytes, totals.disks_at_watch_level) == (30, 0)
    gone.free(70)
    assert (gone.used_bytes, gone.peak_bytes, totals.used_bytes) == (0, 70, 30)
