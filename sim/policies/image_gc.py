"""Kubelet image garbage collection: when to delete unused images, and which.

After the kubelet's ``images/image_gc_manager.go``. The kubelet keeps a record of each
image: when it was first detected, and when it was last seen in use. Images are detected
every 5 minutes from the kubelet's start and at each collection (``detectImages``): an
image is first detected at the first detection after it appears, and its last-used time
is the last detection at which a container (running or exited, not yet removed) used
it — never-used images keep the zero time, so they go first. A collection runs every
period: first, with ``imageMaximumGCAge`` set and that long since the kubelet started,
it deletes every unused image last used more than that long ago; then, when disk usage
reaches the high threshold (85 % by default), it frees space down to the low threshold
(80 %) by deleting unused images, least recently used first (ties: first detected first),
skipping images used at the collection instant and images detected less than the
minimum age ago (2 min), which were probably pulled for a container about to start. The
host also runs the same choice before a pull that would not fit.

The kubelet counts each deleted image as freeing its whole size and stops once that
count reaches the target. Images that share layers free less disk than that, so the
count here is the kubelet's, and the real disk is left to the layer store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.core.errors import ConfigError
from sim.core.settings import setting


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """What the kubelet knows about one image on the host.

    Attributes:
        name: the image reference, returned when it is to be deleted.
        size_bytes: the image's whole size, as the runtime reports it.
        in_use: whether a container (running or not) uses the image.
        last_used_s: the last detection that found a container using it (-inf: never).
        first_detected_s: the detection that first saw it on the host.
    """

    name: str
    size_bytes: int
    in_use: bool
    last_used_s: float
    first_detected_s: float


@dataclass(frozen=True, slots=True)
class GcThresholds:
    """The kubelet's image GC settings.

    Attributes:
        high_percent: ``imageGCHighThresholdPercent``: disk usage that starts a collection.
        low_percent: ``imageGCLowThresholdPercent``: disk usage a collection aims for.
        min_age_s: ``imageMinimumGCAge``: images detected more recently are kept.
        period_s: how often the kubelet checks (its image GC period, 5 min).

    Raises:
        ConfigError: unless 0 <= low < high <= 100 and the minimum age is not negative,
            as the kubelet validates its config; keys are the attribute names, to be
            placed under the config group with `ConfigError.under`.
    """

    high_percent: int = setting(85, doc="imageGCHighThresholdPercent: usage that starts GC")
    low_percent: int = setting(80, doc="imageGCLowThresholdPercent: usage GC aims for")
    min_age_s: float = setting(120.0, unit="duration", doc="imageMinimumGCAge")
    period_s: float = setting(
        300.0, unit="duration", above=0, doc="how often it checks and detects images"
    )
    max_age_s: float = setting(
        0.0, unit="duration", doc="imageMaximumGCAge: unused this long, deleted; 0: off"
    )

    def __post_init__(self) -> None:
        if not 0 < self.high_percent <= 100:
            raise ConfigError("high_percent", self.high_percent, "a percent from 1 to 100")
        if not 0 <= self.low_percent < self.high_percent:
            raise ConfigError(
                "low_percent",
                self.low_percent,
                f"a percent from 0 to below high_percent ({self.high_percent})",
            )
        if not self.min_age_s >= 0:
            raise ConfigError("min_age_s", self.min_age_s, "a duration, not negative")
        if not self.max_age_s >= 0:
            raise ConfigError("max_age_s", self.max_age_s, "a duration, not negative")


def usage_percent(capacity_bytes: int, available_bytes: int) -> int:
    """Disk usage as the kubelet computes it: ``100 - int(available * 100 / capacity)``.

    The kubelet divides 64-bit integers, so the free percentage is truncated and usage
    rounds up: 15.9 % free is 85 % used.

    Raises:
        ValueError: when the capacity is not positive (the kubelet reports an error).
    """
    if capacity_bytes <= 0:
        raise ValueError(f"invalid image filesystem capacity {capacity_bytes}")
    return 100 - available_bytes * 100 // capacity_bytes


def bytes_to_free(capacity_bytes: int, available_bytes: int, thresholds: GcThresholds) -> int:
    """What a periodic collection must free: 0 below the high threshold, otherwise
    enough to bring usage down to the low one, ``capacity * (100 - low) / 100 - available``
    in the kubelet's integer arithmetic."""
    if usage_percent(capacity_bytes, available_bytes) < thresholds.high_percent:
        return 0
    return capacity_bytes * (100 - thresholds.low_percent) // 100 - available_bytes


def choose_images_to_delete(
    images: Sequence[ImageRecord], bytes_needed: int, now_s: float, min_age_s: float
) -> list[str]:
    """The images to delete, in deletion order, to free `bytes_needed` by whole sizes.

    Candidates are the images no container uses, ordered by last use (oldest first; a
    never-used image first of all), then by first detection, then by name (the kubelet
    leaves that last tie to its sort; a name keeps runs reproducible). In that order,
    images used at `now_s` or first detected less than `min_age_s` before it are
    skipped, and the rest are taken until their sizes add up to `bytes_needed`; when all
    of them do not, all are returned.

    Args:
        images: every image on the host; names must be unique.
        bytes_needed: what to free; nothing is chosen when it is 0 or less.
        now_s: the time of the collection.
        min_age_s: the minimum age since first detection.

    Raises:
        ValueError: when two records share a name.
    """
    names = [image.name for image in images]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate image names in {sorted(names)}")
    if bytes_needed <= 0:
        return []
    chosen: list[str] = []
    freed_bytes = 0
    for image in eviction_order(images):
        if image.last_used_s >= now_s or now_s - image.first_detected_s < min_age_s:
            continue
        chosen.append(image.name)
        freed_bytes += image.size_bytes
        if freed_bytes >= bytes_needed:
            break
    return chosen


def eviction_order(images: Sequence[ImageRecord]) -> list[ImageRecord]:
    """The unused images, least recently used first, then first detected, then by name
    (``imagesInEvictionOrder``)."""
    return sorted(
        (image for image in images if not image.in_use),
        key=lambda image: (image.last_used_s, image.first_detected_s, image.name),
    )


def images_too_old(
    images: Sequence[ImageRecord], now_s: float, began_s: float, max_age_s: float
) -> list[str]:
    """The images ``imageMaximumGCAge`` deletes now (``freeOldImages``): with a maximum age
    set and more than that since the kubelet began collecting (`began_s`), every unused
    image last used more than `max_age_s` ago (a never-used one included), in eviction
    order; the minimum age does not protect them."""
    if max_age_s <= 0 or now_s - began_s <= max_age_s:
        return []
    return [image.name for image in eviction_order(images) if now_s - image.last_used_s > max_age_s]
