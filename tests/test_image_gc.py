"""Kubelet image garbage collection: thresholds on exact numbers and the LRU choice."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.errors import ConfigError
from sim.policies.image_gc import (
    GcThresholds,
    ImageRecord,
    bytes_to_free,
    choose_images_to_delete,
    usage_percent,
)

GB = 10**9
CAPACITY = 100 * GB


@pytest.mark.parametrize(
    ("available_bytes", "percent"),
    [
        (CAPACITY, 0),
        (0, 100),
        (15 * GB, 85),
        (15 * GB + 1, 85),
        (16 * GB - 1, 85),
        (16 * GB, 84),
        (20 * GB, 80),
        (19 * GB + 999_999_999, 81),
    ],
)
def test_usage_percent_truncates_the_free_percentage(available_bytes: int, percent: int) -> None:
    assert usage_percent(CAPACITY, available_bytes) == percent


def test_usage_percent_small_capacity() -> None:
    # 2 of 3 bytes free: int(66.67) = 66 free, so 34 % used.
    assert usage_percent(3, 2) == 34
    with pytest.raises(ValueError, match="capacity"):
        usage_percent(0, 0)


@pytest.mark.parametrize(
    ("available_bytes", "needed_bytes"),
    [
        (16 * GB, 0),
        (16 * GB - 1, 4 * GB + 1),
        (15 * GB, 5 * GB),
        (10 * GB, 10 * GB),
        (0, 20 * GB),
    ],
)
def test_bytes_to_free_default_thresholds(available_bytes: int, needed_bytes: int) -> None:
    assert bytes_to_free(CAPACITY, available_bytes, GcThresholds()) == needed_bytes


def test_bytes_to_free_integer_arithmetic() -> None:
    # capacity 999 at 80 % low: 999 * 20 // 100 = 199, not 199.8.
    assert bytes_to_free(999, 100, GcThresholds()) == 99
    assert bytes_to_free(999, 100, GcThresholds(high_percent=95, low_percent=50)) == 0
    assert bytes_to_free(999, 49, GcThresholds(high_percent=95, low_percent=50)) == 450


def test_default_thresholds() -> None:
    assert GcThresholds() == GcThresholds(high_percent=85, low_percent=80, min_age_s=120.0)


@pytest.mark.parametrize(
    ("arguments", "key"),
    [
        ({"high_percent": 0, "low_percent": 0}, "high_percent"),
        ({"high_percent": 101}, "high_percent"),
        ({"low_percent": 85}, "low_percent"),
        ({"low_percent": 90}, "low_percent"),
        ({"low_percent": -1}, "low_percent"),
        ({"min_age_s": -1.0}, "min_age_s"),
        ({"min_age_s": float("nan")}, "min_age_s"),
    ],
)
def test_thresholds_validated(arguments: dict[str, float], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        GcThresholds(**arguments)  # type: ignore[arg-type]
    assert caught.value.key == key
    assert caught.value.under("kubelet.image_gc").key == f"kubelet.image_gc.{key}"


def _image(
    name: str, size_gb: int, last_used_s: float, first_detected_s: float = 0.0, in_use: bool = False
) -> ImageRecord:
    return ImageRecord(name, size_gb * GB, in_use, last_used_s, first_detected_s)


NOW_S = 1000.0
MIN_AGE_S = 120.0


def _choose(images: list[ImageRecord], needed_gb: float) -> list[str]:
    return choose_images_to_delete(images, int(needed_gb * GB), NOW_S, MIN_AGE_S)


def test_least_recently_used_first_and_stops_once_enough() -> None:
    images = [_image("new", 1, 900), _image("old", 1, 100), _image("mid", 1, 500)]
    assert _choose(images, 1) == ["old"]
    assert _choose(images, 1.5) == ["old", "mid"]
    assert _choose(images, 3) == ["old", "mid", "new"]


def test_whole_sizes_count_and_one_large_image_may_overshoot() -> None:
    images = [_image("big", 10, 100), _image("small", 1, 200)]
    assert _choose(images, 2) == ["big"]


def test_all_eligible_when_not_enough() -> None:
    images = [_image("a", 1, 100), _image("b", 1, 200), _image("busy", 50, 0, in_use=True)]
    assert _choose(images, 10) == ["a", "b"]


def test_ties_by_first_detected_then_name() -> None:
    images = [
        _image("late", 1, 100, first_detected_s=50),
        _image("zeta", 1, 100, first_detected_s=10),
        _image("alpha", 1, 100, first_detected_s=10),
    ]
    assert _choose(images, 3) == ["alpha", "zeta", "late"]
    assert _choose(images[::-1], 3) == ["alpha", "zeta", "late"]


def test_minimum_age_counts_from_first_detection() -> None:
    images = [
        _image("young", 1, last_used_s=0, first_detected_s=NOW_S - MIN_AGE_S + 1),
        _image("exactly-old-enough", 1, last_used_s=10, first_detected_s=NOW_S - MIN_AGE_S),
    ]
    assert _choose(images, 5) == ["exactly-old-enough"]


def test_an_image_used_at_the_collection_instant_is_skipped() -> None:
    """image_gc_manager.go freeSpace: lastUsed at or after freeTime is not eligible."""
    images = [_image("just-used", 1, last_used_s=NOW_S), _image("earlier", 1, last_used_s=900)]
    assert _choose(images, 5) == ["earlier"]


def test_a_never_used_image_goes_first() -> None:
    """TestFreeSpaceTiesBrokenByDetectedTime: an image no detection saw in use keeps the
    zero last-used time, so it goes before an image used long ago."""
    images = [_image("used-once", 1, last_used_s=0), _image("never-used", 2, last_used_s=-math.inf)]
    assert _choose(images, 1) == ["never-used"]


def test_in_use_images_are_never_chosen() -> None:
    images = [_image("running", 5, 0, in_use=True), _image("idle", 1, 500)]
    assert _choose(images, 5) == ["idle"]


@pytest.mark.parametrize("needed_bytes", [0, -5])
def test_nothing_needed_nothing_chosen(needed_bytes: int) -> None:
    assert choose_images_to_delete([_image("a", 1, 0)], needed_bytes, NOW_S, MIN_AGE_S) == []


def test_duplicate_names_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        _choose([_image("a", 1, 0), _image("a", 2, 5)], 1)


image_lists = st.lists(
    st.builds(
        ImageRecord,
        name=st.text("abcdef", min_size=1, max_size=4),
        size_bytes=st.integers(0, 10 * GB),
        in_use=st.booleans(),
        last_used_s=st.integers(0, 2000).map(float),
        first_detected_s=st.integers(0, 2000).map(float),
    ),
    max_size=12,
    unique_by=lambda image: image.name,
)


@given(image_lists, st.integers(-GB, 60 * GB), st.integers(0, 300).map(float))
def test_choice_invariants(images: list[ImageRecord], bytes_needed: int, min_age_s: float) -> None:
    chosen = choose_images_to_delete(images, bytes_needed, NOW_S, min_age_s)
    by_name = {image.name: image for image in images}
    eligible = [
        image
        for image in images
        if not image.in_use
        and NOW_S - image.first_detected_s >= min_age_s
        and image.last_used_s < NOW_S
    ]
    assert len(set(chosen)) == len(chosen)
    for name in chosen:
        assert not by_name[name].in_use
        assert NOW_S - by_name[name].first_detected_s >= min_age_s
    freed_bytes = sum(by_name[name].size_bytes for name in chosen)
    if bytes_needed > 0 and sum(image.size_bytes for image in eligible) >= bytes_needed:
        assert freed_bytes >= bytes_needed
        # Minimal in order: without the last image it would not have been enough.
        assert freed_bytes - by_name[chosen[-1]].size_bytes < bytes_needed
    elif bytes_needed > 0:
        assert sorted(chosen) == sorted(image.name for image in eligible)
    else:
        assert chosen == []
    keys = [(by_name[n].last_used_s, by_name[n].first_detected_s, n) for n in chosen]
    assert keys == sorted(keys)
