"""The kubelet's image GC records and choices against upstream's tests
(``pkg/kubelet/images/image_gc_manager_test.go``), restated over the layer store: images
detected every period (and at each collection), last used at the detections that saw a
container use them, never-used ones first, the minimum and the maximum age."""

from __future__ import annotations

import math

from worlds import layered_image

from sim.model.images.image import Image, build_catalog
from sim.model.images.store import DiskAccount, LayerStore
from sim.policies.image_gc import choose_images_to_delete, images_too_old

PERIOD_S = 300.0


def store_with(*sizes: int, period_s: float = PERIOD_S) -> tuple[LayerStore, list[Image]]:
    """A store and images image-0, image-1 ... of the given sizes (not yet tagged)."""
    catalog = build_catalog(
        {f"image-{i}": layered_image(f"image-{i}", [(size, size)]) for i, size in enumerate(sizes)}
    )
    return LayerStore(DiskAccount(10**12), detection_period_s=period_s), list(catalog.values())


def tag(store: LayerStore, image: Image, now_s: float) -> None:
    store.add_layer(image.chain_ids[0], image.layers[0], None)
    store.tag_image(image, now_s)


def free_space(store: LayerStore, needed: int, now_s: float, min_age_s: float = 0.0) -> list[str]:
    return choose_images_to_delete(store.kubelet_records(now_s), needed, now_s, min_age_s)


def test_detect_images_initial_detect() -> None:
    """TestDetectImagesInitialDetect: at the first detection, every image is first
    detected then; an image a container uses is last used then; one unused never is."""
    store, (unused, used) = store_with(1024, 2048)
    tag(store, unused, 0.0)
    tag(store, used, 0.0)
    store.use("image-1", 0.0)

    store.detect(0.0)

    assert store.images["image-0"].first_detected_s == 0.0
    assert store.images["image-0"].last_used_s == -math.inf
    assert store.images["image-1"].last_used_s == 0.0


def test_detect_images_with_new_image_and_stopped_container() -> None:
    """TestDetectImagesWithNewImage and TestDetectImagesContainerStopped: an image pulled
    between detections is first detected at the next one; a container removed between
    them leaves its image last used at the detection before."""
    store, (old, new) = store_with(1024, 2048)
    tag(store, old, 10.0)
    store.use("image-0", 10.0)
    store.catch_up(300.0)
    tag(store, new, 420.0)
    store.unuse("image-0", 500.0)

    store.catch_up(600.0)

    assert store.images["image-0"].first_detected_s == 300.0
    assert store.images["image-0"].last_used_s == 300.0
    assert store.images["image-1"].first_detected_s == 600.0
    assert store.images["image-1"].last_used_s == -math.inf


def test_free_space_images_in_use_containers_are_ignored() -> None:
    store, images = store_with(1024, 2048)
    for image in images:
        tag(store, image, 0.0)
    store.use("image-1", 0.0)

    assert free_space(store, 2048, 600.0) == ["image-0"]


def test_free_space_remove_by_least_recently_used() -> None:
    """Image 0 was last used at the first detection, image 1 at the second: freeing
    1024 bytes removes image 0."""
    store, images = store_with(1024, 2048)
    for image in images:
        tag(store, image, 0.0)
        store.use(image.name, 0.0)
    store.catch_up(0.0)
    store.unuse("image-0", 100.0)
    store.catch_up(300.0)
    store.unuse("image-1", 400.0)

    assert free_space(store, 1024, 600.0) == ["image-0"]


def test_free_space_ties_broken_by_detected_time() -> None:
    """Image 0 is used at the first detection; image 1 appears at the second, never used:
    its zero last-used time puts it first, so freeing 1024 bytes removes it (2048)."""
    store, (first, second) = store_with(1024, 2048)
    tag(store, first, 0.0)
    store.use("image-0", 0.0)
    store.catch_up(0.0)
    tag(store, second, 200.0)
    store.catch_up(300.0)
    store.unuse("image-0", 400.0)

    assert free_space(store, 1024, 600.0) == ["image-1"]


def test_garbage_collect_image_not_old_enough() -> None:
    """TestGarbageCollectImageNotOldEnough: with a 1 min minimum age, an image detected
    now is kept, and collected a minute later."""
    store, images = store_with(1024, 2048)
    for image in images:
        tag(store, image, 1000.0)
    store.use("image-1", 1000.0)

    assert free_space(store, 1024, 1000.0, min_age_s=60.0) == []
    assert free_space(store, 1024, 1060.0, min_age_s=60.0) == ["image-0"]


def test_garbage_collect_image_too_old() -> None:
    """TestGarbageCollectImageTooOld: with a 1 min maximum age, an image used now is kept
    by a collection now, and deleted once a minute and a bit has passed; no collection
    deletes anything for age until that long after the kubelet began."""
    store, images = store_with(1024, 2048)
    for image in images:
        tag(store, image, 0.0)
        store.use(image.name, 0.0)
    store.detect(1000.0)
    store.unuse("image-0", 1000.0)

    assert images_too_old(store.kubelet_records(1000.0), 1000.0, 0.0, 60.0) == []
    assert images_too_old(store.kubelet_records(1060.5), 1060.5, 0.0, 60.0) == ["image-0"]
    assert images_too_old(store.kubelet_records(1060.5), 1060.5, 1000.5, 60.0) == []


def test_garbage_collect_image_max_age_disabled() -> None:
    store, (image,) = store_with(1024)
    tag(store, image, 0.0)

    assert images_too_old(store.kubelet_records(1e9), 1e9, 0.0, 0.0) == []


def test_a_never_used_image_is_too_old_as_soon_as_the_maximum_age_allows() -> None:
    """freeOldImages compares now with the last use, the zero time for a never-used image,
    and the minimum age does not apply to it."""
    store, (image,) = store_with(1024)
    tag(store, image, 950.0)

    assert images_too_old(store.kubelet_records(1000.0), 1000.0, 0.0, 600.0) == ["image-0"]
