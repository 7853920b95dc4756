"""A host's disk and the layer store on it.

The disk is one account of bytes: extracted layers, compressed blobs still waiting to
be extracted, containers' writable layers, volumes and VM disk images all count against
the same capacity, and nothing is written that would not fit. The layer store keeps
each extracted layer once, by ChainID, however many images use it; an image is a tag
over a stack of stored layers. Removing an image frees the layers no other image (and
no pull in progress) still needs, so the disk really freed can differ from the image's
size, as with the kubelet's image accounting.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sim.model.images.image import Image, Layer
from sim.policies.image_gc import ImageRecord

NODE_STATUS_MAX_IMAGES = 50
"""Images a node reports in its status, the largest first (the kubelet's
``nodeStatusMaxImages``)."""


class DiskFull(Exception):
    """A write that does not fit on the disk."""


class DiskTotals:
    """Bytes used over many disks, kept as they change (cheap to sample), and how many of
    those disks are at or above the level they are watched at (`DiskAccount.watch`)."""

    __slots__ = ("used_bytes", "disks_at_watch_level")

    def __init__(self) -> None:
        self.used_bytes = 0
        self.disks_at_watch_level = 0


class DiskAccount:
    """Bytes used on one disk, with the peak reached.

    Args:
        capacity_bytes: the disk's size.
        totals: an aggregate over several disks to keep up to date, if any.
    """

    __slots__ = (
        "capacity_bytes",
        "used_bytes",
        "peak_bytes",
        "_totals",
        "_watch_percent",
        "at_watch_level",
    )

    def __init__(self, capacity_bytes: int, totals: DiskTotals | None = None) -> None:
        self.capacity_bytes = capacity_bytes
        self.used_bytes = 0
        self.peak_bytes = 0
        self._totals = totals
        self._watch_percent: float | None = None
        self.at_watch_level = False

    @property
    def available_bytes(self) -> int:
        return self.capacity_bytes - self.used_bytes

    def fits(self, size_bytes: int) -> bool:
        return size_bytes <= self.available_bytes

    def watch(self, percent: float) -> None:
        """Keep `at_watch_level` up to date: whether `percent` % or more of the disk is
        used. The totals count the disks at that level, so a periodic check (the
        kubelet's image GC) can skip a whole cluster whose disks are all below it."""
        self._watch_percent = percent
        self._update_watch()

    def allocate(self, size_bytes: int) -> None:
        """Take `size_bytes`; raises DiskFull (and takes nothing) when they do not fit."""
        if size_bytes < 0:
            raise ValueError(f"cannot allocate {size_bytes} bytes")
        if not self.fits(size_bytes):
            raise DiskFull(
                f"no space left on device: need {size_bytes} B, {self.available_bytes} B free"
            )
        self.used_bytes += size_bytes
        self.peak_bytes = max(self.peak_bytes, self.used_bytes)
        if self._totals is not None:
            self._totals.used_bytes += size_bytes
        if self._watch_percent is not None:
            self._update_watch()

    def free(self, size_bytes: int) -> None:
        if size_bytes < 0 or size_bytes > self.used_bytes:
            raise ValueError(f"cannot free {size_bytes} bytes of {self.used_bytes} used")
        self.used_bytes -= size_bytes
        if self._totals is not None:
            self._totals.used_bytes -= size_bytes
        if self._watch_percent is not None:
            self._update_watch()

    def detach(self) -> None:
        """Leave the totals: the disk is gone (its instance terminated), so its bytes no
        longer count in the cluster's disk in use; its own account and peak remain."""
        if self._totals is None:
            return
        self._totals.used_bytes -= self.used_bytes
        if self.at_watch_level:
            self._totals.disks_at_watch_level -= 1
        self._totals = None

    def _update_watch(self) -> None:
        assert self._watch_percent is not None
        at_level = self.used_bytes * 100 >= self._watch_percent * self.capacity_bytes
        if at_level != self.at_watch_level:
            self.at_watch_level = at_level
            if self._totals is not None:
                self._totals.disks_at_watch_level += 1 if at_level else -1


@dataclass(slots=True)
class StoredLayer:
    """An extracted layer on disk, identified by its ChainID."""

    chain_id: str
    layer: Layer
    parent_chain_id: str | None
    users: int = 0
    complete: bool = True
    """False while a lazy snapshotter still streams the layer: usable, not yet stored."""


@dataclass(slots=True)
class StoredImage:
    """An image tagged on the host, with what the kubelet's GC looks at.

    Attributes:
        image: the image.
        tagged_s: when it was tagged (its pull completed).
        first_detected_s: the kubelet's first detection of it (None until one ran).
        last_used_s: the kubelet's last detection that found a container using it
            (-inf: none has).
        containers: the containers (running or exited, not removed) using it.
    """

    image: Image
    tagged_s: float
    first_detected_s: float | None = None
    last_used_s: float = -math.inf
    containers: int = 0


@dataclass(slots=True)
class LayerStore:
    """Extracted layers by ChainID and the images tagged over them.

    A layer's `users` counts the images and the pulls in progress that need it; a layer
    with no users is removed (and its bytes freed) when an image is removed.

    The store also keeps the kubelet's detection of its images: the kubelet lists the
    images and the containers using them every `detection_period_s` from time 0 (and at
    each collection, `detect`), and an image's first detection and last use are the
    detections that saw it. Rather than a process visiting every host each period, the
    detections a host missed are applied when its images or containers next change
    (nothing about them changed in between), and before a collection reads them.
    """

    disk: DiskAccount
    layers: dict[str, StoredLayer] = field(default_factory=dict)
    images: dict[str, StoredImage] = field(default_factory=dict)
    detection_period_s: float = 300.0
    detected_through_s: float = -math.inf
    """The last periodic detection applied."""

    def has_layer(self, chain_id: str) -> bool:
        return chain_id in self.layers

    def present_prefix(self, image: Image) -> int:
        """How many of the image's layers, from the base up, already exist.

        Walks up from the base and stops at the first missing ChainID, as the daemon
        does: every layer above it is fetched. A layer a lazy snapshotter is still
        streaming does not exist yet.
        """
        count = 0
        layers = self.layers
        for chain_id in image.chain_ids:
            stored = layers.get(chain_id)
            if stored is None or not stored.complete:
                break
            count += 1
        return count

    def has_image(self, image: Image) -> bool:
        return image.name in self.images and self.present_prefix(image) == len(image.layers)

    def hold(self, chain_id: str) -> None:
        """Count one more user of a stored layer (a pull that relies on it)."""
        self.layers[chain_id].users += 1

    def release(self, chain_id: str) -> int:
        """Count one user less; remove the layer and free its bytes once none is left.

        Returns:
            the bytes freed (0 while the layer has users).
        """
        stored = self.layers[chain_id]
        stored.users -= 1
        if stored.users > 0:
            return 0
        del self.layers[chain_id]
        self.disk.free(stored.layer.size_bytes)
        return stored.layer.size_bytes

    def add_layer(
        self, chain_id: str, layer: Layer, parent_chain_id: str | None, complete: bool = True
    ) -> None:
        """Record an extracted layer (its bytes were allocated by the pull) with one user;
        a lazily pulled one is recorded `complete` = False until it has fully arrived."""
        if chain_id in self.layers:
            raise ValueError(f"layer {chain_id} is stored already")
        self.layers[chain_id] = StoredLayer(
            chain_id, layer, parent_chain_id, users=1, complete=complete
        )

    def complete_layer(self, chain_id: str) -> None:
        """A lazily pulled layer has fully arrived: from now on it exists for later pulls."""
        self.layers[chain_id].complete = True

    def catch_up(self, now_s: float) -> None:
        """Apply the periodic detections up to `now_s` that have not been (every image
        and container stayed as it is since the last change)."""
        period = self.detection_period_s
        last = math.floor(now_s / period) * period
        if last <= self.detected_through_s:
            return
        first = 0.0 if self.detected_through_s == -math.inf else self.detected_through_s + period
        for stored in self.images.values():
            if stored.first_detected_s is None:
                stored.first_detected_s = max(first, 0.0)
            if stored.containers:
                stored.last_used_s = last
        self.detected_through_s = last

    def detect(self, now_s: float) -> None:
        """A detection now (a collection's): images not seen yet are first detected, and
        images in use are used, now."""
        self.catch_up(now_s)
        for stored in self.images.values():
            if stored.first_detected_s is None:
                stored.first_detected_s = now_s
            if stored.containers:
                stored.last_used_s = now_s

    def kubelet_records(self, now_s: float) -> list[ImageRecord]:
        """The images as the kubelet's garbage collector sees them after detecting them
        now, in the order they were tagged."""
        self.detect(now_s)
        return [
            ImageRecord(
                name=name,
                size_bytes=stored.image.size_bytes,
                in_use=stored.containers > 0,
                last_used_s=stored.last_used_s,
                first_detected_s=(
                    now_s if stored.first_detected_s is None else stored.first_detected_s
                ),
            )
            for name, stored in self.images.items()
        ]

    def tag_image(self, image: Image, now_s: float) -> None:
        """Tag a fully extracted image; each of its layers gains the image as a user."""
        if image.name in self.images:
            return
        self.catch_up(now_s)
        for chain_id in image.chain_ids:
            self.hold(chain_id)
        self.images[image.name] = StoredImage(image, tagged_s=now_s)

    def use(self, name: str, now_s: float) -> None:
        """A container is created from the image: it is in use from now."""
        self.catch_up(now_s)
        self.images[name].containers += 1

    def unuse(self, name: str, now_s: float) -> None:
        """A container of the image is removed: one user less from now."""
        stored = self.images[name]
        if stored.containers <= 0:
            raise ValueError(f"image {name} has no container to remove")
        self.catch_up(now_s)
        stored.containers -= 1

    def remove_image(self, name: str) -> int:
        """Untag an image not used by any container; returns the disk bytes really freed."""
        stored = self.images.pop(name)
        if stored.containers:
            raise ValueError(f"image {name} is used by {stored.containers} containers")
        return sum(self.release(chain_id) for chain_id in reversed(stored.image.chain_ids))

    def layer_bytes(self) -> int:
        return sum(stored.layer.size_bytes for stored in self.layers.values())

    def reported_images(self) -> ReportedImages:
        """The images the node reports to the scheduler (a live view, see there)."""
        return ReportedImages(self)


class ReportedImages(Mapping[str, int]):
    """The images a node reports, by name, with their sizes: what ImageLocality sees.

    A node lists the images its runtime has whole: an image counts once it is tagged with
    every layer stored. An image still being pulled, or whose layers are only partly
    present (a base shared with another image), is not listed, as the runtime lists an
    image only when its pull completed. When a node holds more than
    `NODE_STATUS_MAX_IMAGES` images, only that many of the largest are reported.
    """

    def __init__(self, store: LayerStore) -> None:
        self._store = store

    def _whole(self) -> dict[str, int]:
        images = self._store.images
        whole = {
            name: stored.image.size_bytes
            for name, stored in images.items()
            if self._store.present_prefix(stored.image) == len(stored.image.layers)
        }
        if len(whole) <= NODE_STATUS_MAX_IMAGES:
            return whole
        largest = sorted(whole.items(), key=lambda item: (-item[1], item[0]))
        return dict(largest[:NODE_STATUS_MAX_IMAGES])

    def __getitem__(self, name: str) -> int:
        stored = self._store.images.get(name)
        if stored is None or self._store.present_prefix(stored.image) != len(stored.image.layers):
            raise KeyError(name)
        if len(self._store.images) > NODE_STATUS_MAX_IMAGES:
            return self._whole()[name]
        return stored.image.size_bytes

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())
