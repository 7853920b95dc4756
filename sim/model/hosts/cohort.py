"""Pull cohorts: hosts that pull the same image in the same state, in step, as one.

In a DaemonSet's roll-out every host asks for the same image at once, gets its manifest
at the same time and fetches the same layers: each host takes the same steps at the same
times. A host whose pull reaches its layers right after another's, in the same state,
joins that host's cohort, and the cohort takes the steps that follow for all of them at
once — one event for the blob requests, one `Network.send_together` for the blobs — and
keeps, per host, only what differs: its records, its disk and layer store, its pull's
record. Each host's steps are those its own pull would take, in the same order relative
to every other host's, so the run is the same, event for event, as with a pull per host
(`sim.model.hosts.pull` and `sim.model.images.download`).

A host joins only when nothing can set it apart from the others before its pull ends:
its daemon pulls one image at a time (``serialize_image_pulls``, so nothing else reaches
its disk, download slots or network link meanwhile), extracts layers (no lazy
snapshotter), has a free download slot for every layer it fetches, and the registry holds
every blob and takes every blob request (no quota, no transient failures) — and the run
has no faults, which alone could refuse some hosts' requests or cut their transfers.
Blobs may still end at different times on different hosts (hosts on different racks):
each host then goes on from its own blob's end, as its own pull would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Protocol

import simpy

from sim.core.records import EventKind
from sim.model.hosts.daemon import FetchingDaemon
from sim.model.images.download import LAYER_BYTES_DETAILS, LAYER_DETAILS, PullProgress
from sim.model.images.image import Image, Layer
from sim.model.images.registry import Registry
from sim.model.primitives.clock import after, still_last, wait

# Enum members as module constants (a lookup on the class takes ~0.1 µs; a cohort
# records nine steps per member).
_QUEUED = EventKind.LAYER_QUEUED
_DOWNLOADING = EventKind.LAYER_DOWNLOADING
_DOWNLOADED = EventKind.LAYER_DOWNLOADED
_EXTRACTING = EventKind.LAYER_EXTRACTING
_EXTRACTED = EventKind.LAYER_EXTRACTED


class Member(Protocol):
    """What a cohort uses of a member's pull (`sim.model.hosts.pull.Pull`)."""

    @property
    def engine(self) -> FetchingDaemon: ...

    @property
    def registry(self) -> Registry: ...

    @property
    def image(self) -> Image: ...

    @property
    def progress(self) -> PullProgress: ...

    def fetched(self, chain_ids: list[str]) -> None:
        """Every layer it lacked is in and extracted."""


class PullCohorts:
    """Where the pulls of a run's hosts meet to form cohorts: the one cohort that may
    still be joined (whose blob requests are the last event scheduled).

    Attributes:
        formed: cohorts formed so far.
        joined: pulls that went on in a cohort.
    """

    __slots__ = ("_open", "formed", "joined")

    def __init__(self) -> None:
        self._open: Cohort | None = None
        self.formed = 0
        self.joined = 0

    def join(self, pull: Member, own: list[int]) -> bool:
        """Let `pull`, whose layers at `own` (indices) are to be fetched, go on in a
        cohort — the open one if it can, else a new one — if nothing can set it apart;
        then record its layers queued and downloading, take its download slots and ask
        for its blobs as its own fetches would. False (nothing done) otherwise."""
        engine = pull.engine
        params = engine.params
        slots = engine.download_slots
        if (
            not params.serialize_image_pulls
            or params.snapshotter.lazy
            or not own
            or slots.in_use + len(own) > slots.capacity
            or engine.layers_in_flight
        ):
            return False
        registry = pull.registry
        image = pull.image
        env = engine.env
        at_s = env.now + registry.round_trip_s(engine)
        cohort = self._open
        if (
            cohort is None
            or not still_last(env, cohort.asked, at_s, cohort.ask)
            or cohort.registry is not registry
            or cohort.image is not image
            or cohort.own != own
        ):
            # What the registry does with blob requests is the same for every member
            # (it changes only with faults, and a run with faults has no cohorts).
            if not registry.takes_every_blob_request() or not all(
                registry.has_blob(image.layers[index]) for index in own
            ):
                return False
            cohort = Cohort(registry, image, own)
            cohort.asked = wait(env, at_s - env.now, cohort.ask)
            self._open = cohort
            self.formed += 1
        cohort.add(pull)
        self.joined += 1
        return True


class Cohort:
    """Pulls of `image` from `registry` that fetch the same layers (`own`, indices into
    the image's layers), in step.

    Per member: its pull, whether each layer's blob is in, and how many layers it has
    extracted (a layer is extracted after the one below it, as a daemon does).
    """

    __slots__ = (
        "registry",
        "image",
        "own",
        "layers",
        "chain_ids",
        "_parents",
        "_details",
        "ask",
        "asked",
        "pulls",
        "arrived",
        "extracted",
        "finished",
    )

    def __init__(self, registry: Registry, image: Image, own: list[int]) -> None:
        self.registry = registry
        self.image = image
        self.own = own
        self.layers: list[Layer] = [image.layers[index] for index in own]
        self.chain_ids = [image.chain_ids[index] for index in own]
        """The fetched layers' ChainIDs, from the base up."""
        self._parents = [image.chain_ids[index - 1] if index else None for index in own]
        reference = image.reference
        # Every member's events of a layer have the same details.
        self._details = [
            ((reference, layer.short_id), (reference, layer.short_id, layer.compressed_bytes))
            for layer in self.layers
        ]
        self.ask = self._requests_arrive
        """The members' blob requests reaching the registry, as one callback object."""
        self.asked: simpy.Event | None = None
        self.pulls: list[Member] = []
        self.arrived: list[list[bool]] = []
        self.extracted: list[int] = []
        self.finished = 0
        """Members whose pull has ended."""

    def add(self, pull: Member) -> None:
        """A member: its layers queued, then each downloading (a slot taken, its blob
        asked for), recorded as its own fetches would."""
        engine = pull.engine
        now_s = engine.env.now
        append = engine.log.append
        name = engine.name
        for layer_details, _ in self._details:
            append((now_s, name, _QUEUED, LAYER_DETAILS, layer_details))
        slots = engine.download_slots
        for _, bytes_details in self._details:
            slots.take()
            engine.downloads_active += 1
            engine.downloads_active_max = max(engine.downloads_active_max, engine.downloads_active)
            append((now_s, name, _DOWNLOADING, LAYER_BYTES_DETAILS, bytes_details))
        self.pulls.append(pull)
        self.arrived.append([False] * len(self.layers))
        self.extracted.append(0)

    def _requests_arrive(self, _: object = None) -> None:
        """The members' blob requests reach the registry, which takes them all: the blobs
        leave for every member together."""
        registry = self.registry
        registry.network.send_together(
            registry.node,
            [pull.engine.node for pull in self.pulls],
            [layer.compressed_bytes for layer in self.layers],
            self._arrived,
            _cannot_fail,
        )

    def _arrived(self, index: int, members: Sequence[int]) -> None:
        """Layer `index`'s blob is in at each of `members`, in their turn: each takes the
        steps its own fetch would."""
        registry = self.registry
        size_bytes = self.layers[index].compressed_bytes
        # The registry counts each blob served as it arrives; nothing reads the counts
        # before the members' turns are over.
        registry.blobs_served += len(members)
        registry.bytes_served += len(members) * size_bytes
        details = self._details[index][1]
        pulls, arrived, extracted = self.pulls, self.arrived, self.extracted
        now_s = registry.env.now
        for member in members:
            pull = pulls[member]
            engine = pull.engine
            engine.downloads_active -= 1
            engine.download_slots.release()
            progress = pull.progress
            progress.layers_downloaded += 1
            progress.bytes_downloaded += size_bytes
            progress.last_download_s = now_s
            engine.log.append((now_s, engine.name, _DOWNLOADED, LAYER_BYTES_DETAILS, details))
            arrived[member][index] = True
            if extracted[member] == index:
                self._extract(member, now_s)

    def _extract(self, member: int, now_s: float) -> None:
        """Extract the member's next layer, and the ones above it while their blobs are
        in and extracting takes no time (`now_s` is now)."""
        pull = self.pulls[member]
        engine = pull.engine
        append = engine.log.append
        name = engine.name
        extraction_bytes_s = engine.params.extraction_bytes_s
        timed = math.isfinite(extraction_bytes_s)
        layers, details = self.layers, self._details
        arrived = self.arrived[member]
        index = self.extracted[member]
        while True:
            layer = layers[index]
            layer_details = details[index][0]
            append((now_s, name, _EXTRACTING, LAYER_DETAILS, layer_details))
            if timed and layer.size_bytes:
                extracted = partial(self._extracted, member)
                after(engine.env, layer.size_bytes / extraction_bytes_s, extracted)
                return
            index = self._store(member, now_s)
            if index == len(layers) or not arrived[index]:
                return

    def _extracted(self, member: int, _: object) -> None:
        now_s = self.registry.env.now
        index = self._store(member, now_s)
        if index < len(self.layers) and self.arrived[member][index]:
            self._extract(member, now_s)

    def _store(self, member: int, now_s: float) -> int:
        """The member's layer is extracted (`now_s` is now): it is in its layer store.
        Returns the index of the next one (the pull ends after its top layer)."""
        pull = self.pulls[member]
        engine = pull.engine
        index = self.extracted[member]
        layer = self.layers[index]
        engine.disk.free(layer.compressed_bytes)
        engine.store.add_layer(self.chain_ids[index], layer, self._parents[index])
        engine.log.append((now_s, engine.name, _EXTRACTED, LAYER_DETAILS, self._details[index][0]))
        index += 1
        self.extracted[member] = index
        if index == len(self.layers):
            pull.fetched(self.chain_ids)
            self.finished += 1
            if self.finished == len(self.pulls):
                # The last member is done: what each kept is no longer needed (the open
                # cohort of `PullCohorts` would keep it to the end of the run).
                self.pulls.clear()
                self.arrived.clear()
                self.extracted.clear()
        return index


def _cannot_fail(index: int, members: list[int], error: Exception) -> None:
    """A cohort's transfers fail only if a link fails, and cohorts form only in runs
    without faults."""
    raise AssertionError(f"a cohort's transfer failed: {error}")
