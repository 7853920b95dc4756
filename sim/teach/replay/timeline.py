"""A run as a replay timeline: the state the page draws, as changes aggregated per frame.

The page shows, at any time a scrubber points to, every host with what it holds (its
replicas' vCPU and memory, its layers, its containers' writable layers and VMs' disks),
every replica's state, the transfers in flight, the fleets' desired replicas. Rather
than every event, it gets the *changes* of that state, walked out of the event log here
once: each keyed by what changed (a replica, a layer on a host, a host), gathered into
frames of at most `FRAMES` per run, and within a frame only the last value of each key
is kept (a layer queued, downloading, downloaded and extracting in one frame arrives as
extracting). A frame is shown from the time of its first change: at any time the page
shows every event up to it, and those of the same frame a little later (less than a
frame's length). The page applies the frames in order to reach any time, so a 2,000-host
storm of 50,000 events becomes a few thousand frames.

Transfers are given whole (from the daemon's request for a layer to its last byte) with
their mean rate, bytes over that time: the event log records when each download began
and ended, not the max-min fair share it had at each instant. A mirror's fetch from its
upstream is drawn until the first host that waited for the layer got it (the log does
not record when the fill ended). What the page counts and tests check (replicas by
state, layers on a host, desired replicas) is exact at every frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.core.records import REGISTRY_BYTES_COLUMN as SERVED
from sim.core.records import DetailValue, Event, EventKind, ReplicaRecord, ReplicaState
from sim.core.world import World
from sim.model.hosts.billing import (
    InstanceUsage,
    RegistryUsage,
    instance_cost_usd,
    registry_cost_usd,
)
from sim.output.results import Result
from sim.teach.narrate import (
    cluster_words,
    fault_words,
    narrate,
    scaling_words,
    service_story,
    unstamped,
)

FRAMES = 20_000
"""At most this many frames per run: a frame lasts the run's length over this, or 1 ms."""

REPLICA_STATES: tuple[str, ...] = (
    *(state.value for state in ReplicaState),
    "extracting",
    "evicted",
)
"""A replica's state on the page: a `ReplicaState`, or ``extracting`` (pulling, with
its image's layers all downloaded and some still being extracted), or ``evicted``
(lost to disk pressure rather than with its host)."""
LAYER_STATUSES = (
    "absent",
    "queued",
    "downloading",
    "downloaded",
    "extracting",
    "present",
    "already exists",
)
"""A layer on a host: ``already exists`` while a pull finds it there (as ``docker pull``
prints), ``present`` otherwise once extracted."""
HOST_STATUSES = ("absent", "launching", "up", "down", "cordoned", "gone")

REPLICA, LAYER, HOST, USAGE, IMAGE, DESIRED = range(6)
"""The kinds of change, the first number of each in a frame: ``[REPLICA, replica,
state, host]``, ``[LAYER, host, layer, status]``, ``[HOST, host, status]``, ``[USAGE,
host, vCPU, memory bytes, other disk bytes]`` (what replicas requested, and the writable
layers and VM disks on its disk), ``[IMAGE, host, image, 1 or 0]`` (an image pulled or
removed), ``[DESIRED, fleet, replicas]``."""

_ENDS = {
    ReplicaState.REMOVED,
    ReplicaState.STOPPED,
    ReplicaState.TERMINATED,
    ReplicaState.FAILED,
    ReplicaState.LOST,
}
_STATE_INDEX = {state: index for index, state in enumerate(REPLICA_STATES)}
_LAYER_EVENTS = {
    EventKind.LAYER_QUEUED: 1,
    EventKind.LAYER_DOWNLOADING: 2,
    EventKind.LAYER_DOWNLOADED: 3,
    EventKind.LAYER_EXTRACTING: 4,
    EventKind.LAYER_EXTRACTED: 5,
}
_IN_TRANSIT = {1, 2}
_UNPACKING = {3, 4}
_FAULTS = {
    EventKind.HOST_FAILED,
    EventKind.SPOT_INTERRUPTION,
    EventKind.REGISTRY_DOWN,
    EventKind.LINK_DOWN,
    EventKind.DISK_PRESSURE,
}
_RECOVERIES = {
    EventKind.HOST_RECOVERED,
    EventKind.SERVICE_RECOVERED,
    EventKind.REGISTRY_UP,
    EventKind.LINK_UP,
}
_PHASES = ("wait", "provision", "boot", "pull_download", "pull_extract", "create", "start", "init")


class ReplayError(ValueError):
    """A run that cannot be replayed (it kept no events, or its facts are missing)."""


def _number(value: DetailValue) -> float:
    return float(str(value))


def _time(time_s: float) -> float:
    """A time as the page gets it: to the microsecond, never later than it was."""
    return math.floor(float(time_s) * 1e6) / 1e6


@dataclass
class _Holding:
    host: int
    vcpu: float
    memory_bytes: float
    disk_bytes: float = 0.0
    writable: bool = False


@dataclass
class _Frames:
    """Changes gathered into frames: the last value of each key in a frame wins, and a
    key that ends a frame as it began it is left out."""

    length_s: float
    times: list[float] = field(default_factory=list)
    changes: list[list[float]] = field(default_factory=list)
    _state: dict[tuple[int, ...], tuple[float, ...]] = field(default_factory=dict)
    _pending: dict[tuple[int, ...], tuple[float, ...]] = field(default_factory=dict)
    _bucket: int = -1
    _first_s: float = 0.0

    def at(self, time_s: float) -> None:
        """Move to `time_s`: a later frame's changes close the current one. A frame is
        shown from its first change's time on, with every change of its length."""
        bucket = math.floor(time_s / self.length_s)
        if bucket != self._bucket:
            self.close()
            self._bucket = bucket
            self._first_s = time_s

    def set(self, key: tuple[int, ...], value: tuple[float, ...]) -> None:
        self._pending[key] = value

    def get(self, key: tuple[int, ...], default: tuple[float, ...]) -> tuple[float, ...]:
        return self._pending.get(key, self._state.get(key, default))

    def close(self) -> None:
        flat: list[float] = []
        for key, value in self._pending.items():
            if self._state.get(key) != value:
                self._state[key] = value
                flat.extend((*key, *value))
        self._pending.clear()
        if flat:
            self.times.append(_time(self._first_s))
            self.changes.append(flat)


class _Walk:
    """One pass over a run's events, turning them into frames, transfers and marks."""

    def __init__(self, result: Result, world: World, events: Sequence[Event]) -> None:
        self.world = world
        self.end_s = float(result.summary.get("sim_time_s") or 0.0)
        if events:
            self.end_s = max(self.end_s, events[-1].time_s)
        self.frames = _Frames(max(self.end_s / FRAMES, 0.001))
        self.hosts = {host.name: index for index, host in enumerate(world.hosts)}
        self.layers = {layer.layer: index for index, layer in enumerate(world.layers)}
        self.images = {image.reference: index for index, image in enumerate(world.images)}
        self.image_layers = [
            tuple(self.layers[layer] for layer in image.layers) for image in world.images
        ]
        self.registries = {registry.name: index for index, registry in enumerate(world.registries)}
        self.apps = {app.name: app for app in world.apps}
        self.platforms = {platform.name: platform for platform in world.platforms}
        self.records = {record.replica: record for record in result.replicas}
        self.replicas: dict[str, int] = {}
        self.fleets: dict[str, int] = {}
        self.raw_state: dict[int, str] = {}
        self.pulling: dict[int, dict[int, int]] = {}
        """Replicas pulling now, by host: replica -> image."""
        self.holdings: dict[int, _Holding] = {}
        self.host_usage: dict[int, list[float]] = {}
        self.cloned: set[tuple[int, str]] = set()
        self.host_images: dict[int, set[int]] = {}
        self.found: dict[tuple[int, int], list[int]] = {}
        """Layers a pull in progress found already there, by (host, image)."""
        self.source: dict[tuple[int, int], int] = {}
        self.downloading: dict[tuple[int, int], tuple[float, int, float]] = {}
        self.downloads: list[list[float]] = []
        self.fills: list[list[float]] = []
        self.open_fills: dict[tuple[int, int], tuple[float, int, float]] = {}
        self.marks: list[list[Any]] = []
        joined = {event.source for event in events if event.kind == EventKind.HOST_JOINED}
        launched = {event.source for event in events if event.kind == EventKind.INSTANCE_LAUNCHED}
        self.joins = joined
        self.initial_hosts = [0 if name in launched else 2 for name in self.hosts]

    # -- the state, key by key -----------------------------------------------------------

    def layer(self, host: int, layer: int) -> int:
        return int(self.frames.get((LAYER, host, layer), (0,))[0])

    def set_layer(self, host: int, layer: int, status: int) -> None:
        self.frames.set((LAYER, host, layer), (status,))

    def set_host(self, host: int, status: int) -> None:
        self.frames.set((HOST, host), (status,))

    def replica(self, name: str) -> int:
        if name not in self.replicas:
            self.replicas[name] = len(self.replicas)
        return self.replicas[name]

    def set_replica(self, replica: int, state: str, host: int) -> None:
        self.frames.set((REPLICA, replica), (_STATE_INDEX[state], host))

    def replica_host(self, replica: int) -> int:
        return int(self.frames.get((REPLICA, replica), (0, -1))[1])

    def usage(self, host: int, vcpu: float = 0.0, memory: float = 0.0, disk: float = 0.0) -> None:
        """Add to what is held on a host (take away with negative amounts)."""
        held = self.host_usage.setdefault(host, [0.0, 0.0, 0.0])
        held[0] += vcpu
        held[1] += memory
        held[2] += disk
        self.frames.set((USAGE, host), (round(held[0], 6), round(held[1]), round(held[2])))

    def pull_state(self, host: int, image: int) -> str:
        statuses = {self.layer(host, layer) for layer in self.image_layers[image]}
        if statuses & _IN_TRANSIT:
            return ReplicaState.PULLING.value
        if statuses & _UNPACKING:
            return "extracting"
        return ReplicaState.PULLING.value

    def pulls_changed(self, host: int) -> None:
        for replica, image in self.pulling.get(host, {}).items():
            self.set_replica(replica, self.pull_state(host, image), host)

    # -- events --------------------------------------------------------------------------

    def walk(self, events: Iterable[Event]) -> None:
        for event in events:
            self.frames.at(event.time_s)
            kind = event.kind
            if kind == EventKind.REPLICA_STATE:
                self.replica_state(event)
            elif event.source in self.hosts:
                self.host_event(self.hosts[event.source], event)
            elif kind == EventKind.DESIRED_CAPACITY:
                fleet = self.fleets.setdefault(event.source, len(self.fleets))
                self.frames.set((DESIRED, fleet), (_number(event.detail("desired")),))
            elif kind == EventKind.UPSTREAM_FETCH and event.source in self.registries:
                layer = self.layers.get(str(event.detail("layer")))
                upstream = self.registries.get(str(event.detail("upstream")))
                if layer is not None and upstream is not None:
                    mirror = self.registries[event.source]
                    self.open_fills[(mirror, layer)] = (
                        event.time_s,
                        upstream,
                        _number(event.detail("bytes")),
                    )
            self.mark(event)
        self.frames.close()
        for (host, layer), (start_s, registry, size) in self.downloading.items():
            self.downloads.append([host, registry, layer, _time(start_s), _time(self.end_s), size])
        for (mirror, layer), (start_s, upstream, fill_bytes) in self.open_fills.items():
            self.fills.append(
                [mirror, upstream, layer, _time(start_s), _time(self.end_s), fill_bytes]
            )
        self._settle_fills()

    def _settle_fills(self) -> None:
        """When each mirror fill ended, and from when the downloads that waited for it
        moved bytes. A fill ends when its upstream's egress, shared equally by the fills
        in flight from it, has sent its bytes (processor sharing), and at the latest when
        the first host got the layer through the mirror; a host's download of a layer
        its mirror was still fetching moves bytes only from then on."""
        bandwidths = [registry.bandwidth_bytes_s for registry in self.world.registries]
        for upstream in sorted({fill[1] for fill in self.fills}):
            fills = [fill for fill in self.fills if fill[1] == upstream]
            ends = shared_ends([(fill[3], fill[5]) for fill in fills], bandwidths[int(upstream)])
            for fill, end_s in zip(fills, ends, strict=True):
                fill[4] = min(fill[4], _time(end_s))
        filled = {(fill[0], fill[2]): (fill[3], fill[4]) for fill in self.fills}
        for download in self.downloads:
            start_s, end_s = filled.get((download[1], download[2]), (math.inf, 0.0))
            if start_s <= download[3] < end_s:
                download[3] = min(end_s, download[4])

    def mark(self, event: Event) -> None:
        kind = event.kind
        if kind == EventKind.SCALING_ACTION:
            self.marks.append([_time(event.time_s), "scale", scaling_words(event)])
        elif kind in (EventKind.CLUSTER_SCALE_OUT, EventKind.CLUSTER_SCALE_IN):
            self.marks.append([_time(event.time_s), "cluster", cluster_words(event)])
        elif kind in _FAULTS or kind in _RECOVERIES:
            what = "fault" if kind in _FAULTS else "recovery"
            self.marks.append([_time(event.time_s), what, f"{event.source}: {fault_words(event)}"])

    def replica_state(self, event: Event) -> None:
        replica = self.replica(event.source)
        state = ReplicaState(str(event.detail("state")))
        self.raw_state[replica] = state
        host = self.replica_host(replica)
        named = event.detail_or("host")
        if named is not None and str(named) in self.hosts:
            host = self.hosts[str(named)]
        if host >= 0:
            self.pulling.get(host, {}).pop(replica, None)
        shown = state.value
        if state == ReplicaState.SCHEDULED and host >= 0:
            app = self.apps.get(
                self.records[event.source].app if event.source in self.records else ""
            )
            memory = event.detail_or("memory_bytes")
            held = _Holding(
                host,
                app.vcpu if app is not None else 0.0,
                _number(memory) if memory is not None else (app.memory_bytes if app else 0),
            )
            self.holdings[replica] = held
            self.usage(host, held.vcpu, held.memory_bytes)
        elif state == ReplicaState.PULLING and host >= 0:
            image = self.images.get(str(event.detail_or("image")))
            if image is not None:
                self.pulling.setdefault(host, {})[replica] = image
                shown = self.pull_state(host, image)
        elif state == ReplicaState.CREATING:
            self.add_writable_layer(replica, event.source)
        elif state == ReplicaState.PROVISIONING:
            self.add_vm_disk(replica, event)
        elif state in _ENDS:
            if state == ReplicaState.LOST and str(event.detail_or("reason")) == "evicted":
                shown = "evicted"
            released = self.holdings.pop(replica, None)
            if released is not None:
                self.usage(
                    released.host, -released.vcpu, -released.memory_bytes, -released.disk_bytes
                )
        if state in (ReplicaState.REMOVED, ReplicaState.STOPPED, ReplicaState.TERMINATED):
            previous = REPLICA_STATES[int(self.frames.get((REPLICA, replica), (0, -1))[0])]
            if previous in ("lost", "evicted", "failed"):
                return
        self.set_replica(replica, shown, host)

    def add_writable_layer(self, replica: int, name: str) -> None:
        held = self.holdings.get(replica)
        record = self.records.get(name)
        platform = self.platforms.get(record.platform) if record is not None else None
        if held is None or held.writable or platform is None:
            return
        held.writable = True
        held.disk_bytes += platform.writable_layer_bytes
        self.usage(held.host, disk=platform.writable_layer_bytes)

    def add_vm_disk(self, replica: int, event: Event) -> None:
        held = self.holdings.get(replica)
        record = self.records.get(event.source)
        if held is None or record is None:
            return
        disk = _number(event.detail_or("disk_bytes") or 0)
        held.disk_bytes += disk
        platform = self.platforms.get(record.platform)
        if (
            platform is not None
            and platform.vm_clone_base_bytes
            and (held.host, platform.name) not in self.cloned
        ):
            # A clone's base image is written once per host and stays there.
            self.cloned.add((held.host, platform.name))
            disk += platform.vm_clone_base_bytes
        self.usage(held.host, disk=disk)

    def host_event(self, host: int, event: Event) -> None:
        kind = event.kind
        image = self.images.get(str(event.detail_or("image")))
        if kind in _LAYER_EVENTS:
            layer = self.layers.get(str(event.detail("layer")))
            if layer is None:
                return
            self.set_layer(host, layer, _LAYER_EVENTS[kind])
            if kind == EventKind.LAYER_DOWNLOADING:
                registry = self.source.get((host, image if image is not None else -1), -1)
                self.downloading[(host, layer)] = (
                    event.time_s,
                    registry,
                    _number(event.detail("bytes")),
                )
            elif kind == EventKind.LAYER_DOWNLOADED:
                self.downloaded(host, layer, event)
            self.pulls_changed(host)
        elif kind == EventKind.LAYER_ALREADY_EXISTS:
            layer = self.layers.get(str(event.detail("layer")))
            if layer is not None and image is not None:
                self.set_layer(host, layer, 6)
                self.found.setdefault((host, image), []).append(layer)
        elif kind == EventKind.PULL_REQUESTED and image is not None:
            self.source[(host, image)] = self.registries.get(str(event.detail("registry")), -1)
        elif kind in (EventKind.PULL_COMPLETED, EventKind.PULL_FAILED) and image is not None:
            for layer in self.found.pop((host, image), []):
                self.set_layer(host, layer, 5)
            if kind == EventKind.PULL_COMPLETED:
                self.host_images.setdefault(host, set()).add(image)
                self.frames.set((IMAGE, host, image), (1,))
            else:
                self.pull_failed(host, image, event.time_s)
            self.pulls_changed(host)
        elif kind == EventKind.IMAGE_REMOVED:
            self.image_removed(host, str(event.detail("image")))
        elif kind == EventKind.INSTANCE_LAUNCHED:
            self.set_host(host, 1 if event.source in self.joins else 2)
        elif kind in (EventKind.HOST_JOINED, EventKind.HOST_RECOVERED):
            self.set_host(host, 2)
            replaced = event.detail_or("replaces")
            if replaced is not None and str(replaced) in self.hosts:
                self.set_host(self.hosts[str(replaced)], 5)
        elif kind == EventKind.HOST_FAILED:
            self.set_host(host, 3)
        elif kind == EventKind.SPOT_INTERRUPTION:
            self.set_host(host, 4)
        elif kind == EventKind.INSTANCE_TERMINATED:
            self.set_host(host, 5)

    def downloaded(self, host: int, layer: int, event: Event) -> None:
        started = self.downloading.pop((host, layer), None)
        if started is None:
            return
        start_s, registry, _ = started
        self.downloads.append(
            [
                host,
                registry,
                layer,
                _time(start_s),
                _time(event.time_s),
                _number(event.detail("bytes")),
            ]
        )
        fill = self.open_fills.pop((registry, layer), None)
        if fill is not None:
            # The fill ended before this host had the layer (when exactly, the log does
            # not say: `_settle_fills` estimates it).
            fill_start_s, upstream, size = fill
            self.fills.append(
                [registry, upstream, layer, _time(fill_start_s), _time(event.time_s), size]
            )

    def pull_failed(self, host: int, image: int, time_s: float) -> None:
        for layer in self.image_layers[image]:
            if self.layer(host, layer) in (_IN_TRANSIT | _UNPACKING):
                self.set_layer(host, layer, 0)
            started = self.downloading.pop((host, layer), None)
            if started is not None:
                start_s, registry, _ = started
                self.downloads.append([host, registry, layer, _time(start_s), _time(time_s), 0])

    def image_removed(self, host: int, name: str) -> None:
        removed = next(
            (index for index, image in enumerate(self.world.images) if image.name == name), None
        )
        present = self.host_images.get(host, set())
        if removed is None or removed not in present:
            return
        present.discard(removed)
        self.frames.set((IMAGE, host, removed), (0,))
        kept = {layer for image in present for layer in self.image_layers[image]}
        for layer in self.image_layers[removed]:
            if layer not in kept:
                self.set_layer(host, layer, 0)


def replay_data(
    result: Result, title: str = "", about: str = "", story: Sequence[str] | None = None
) -> dict[str, Any]:
    """Everything the replay page draws, as plain JSON-ready values.

    Args:
        result: a run with ``log: full`` (in memory, or read back by `sim.read_result`).
        title: the page's title (default: the run's seed and length).
        about: a paragraph under the title (what the run teaches).
        story: narrated lines, ``[  time s] words`` ones shown as captions in step with
            the scrubber and the others beside them (default: the run told by
            `sim.teach.narrate`: its service's story, or the first pulling host's).

    Raises:
        ReplayError: the run kept no events (``log: summary``) or has no world facts.
    """
    world = result.world
    if world is None or not result.events:
        raise ReplayError(
            "the run kept no events (log: summary) or its world.json is missing: "
            "run it with log=full"
        )
    events = list(result.events)
    walk = _Walk(result, world, events)
    walk.walk(events)
    if story is None:
        story = default_story(events, result.timeseries, list(walk.fleets))
    captions: list[list[Any]] = []
    notes: list[str] = []
    for line in story:
        told = unstamped(line)
        if told is None:
            notes.append(line)
        else:
            captions.append([told[0], told[1]])
    switches = {
        (link.v if link.role_u == "host" else link.u)
        for link in result.links
        if "host" in (link.role_u, link.role_v)
    }
    attached = {
        link.u if link.role_u == "host" else link.v: link.v if link.role_u == "host" else link.u
        for link in result.links
        if (link.role_u == "host") != (link.role_v == "host")
    }
    bases = list(dict.fromkeys(layer.image for layer in world.layers))
    return {
        "version": 1,
        "title": title or f"Replay of a run (seed {result.summary.get('seed')})",
        "about": about,
        "end_s": _time(walk.end_s),
        "frame_s": walk.frames.length_s,
        "states": list(REPLICA_STATES),
        "layer_statuses": list(LAYER_STATUSES),
        "host_statuses": list(HOST_STATUSES),
        "hosts": [
            [
                host.name,
                host.vcpu,
                host.memory_bytes,
                host.disk_bytes,
                host.instance_type,
                host.zone,
                attached.get(host.name, ""),
                walk.initial_hosts[index],
            ]
            for index, host in enumerate(world.hosts)
        ],
        "registries": [
            [registry.name, registry.kind, registry.upstream, registry.bandwidth_bytes_s]
            for registry in world.registries
        ],
        "switches": sorted(switches),
        "links": [
            [link.u, link.v, link.role_u, link.role_v, link.bandwidth_bytes_s]
            for link in result.links
        ],
        "bases": bases,
        "layers": [
            [layer.layer, layer.size_bytes, layer.compressed_bytes, bases.index(layer.image)]
            for layer in world.layers
        ],
        "images": [
            [image.name, image.reference, image.image_id, list(walk.image_layers[index])]
            for index, image in enumerate(world.images)
        ],
        "replicas": [_replica_row(name, walk.records.get(name), world) for name in walk.replicas],
        "fleets": list(walk.fleets),
        "times": walk.frames.times,
        "changes": walk.frames.changes,
        "downloads": walk.downloads,
        "fills": walk.fills,
        "marks": walk.marks,
        "captions": captions,
        "notes": notes,
        "series": series(result, world),
        "summary": {
            key: result.summary.get(key)
            for key in (
                "replicas_started",
                "replicas_failed",
                "pulls_completed",
                "bytes_from_registry",
                "requests_total",
                "requests_dropped",
                "cost_usd",
            )
        },
    }


def shared_ends(jobs: Sequence[tuple[float, float]], capacity_bytes_s: float) -> list[float]:
    """When each transfer ends if all in flight share one link equally (processor
    sharing): `jobs` are (start, bytes), the result their end times, in the same order."""
    order = sorted(range(len(jobs)), key=lambda index: jobs[index][0])
    ends = [0.0] * len(jobs)
    remaining: dict[int, float] = {}
    now_s = 0.0
    arrived = 0
    while arrived < len(order) or remaining:
        if not remaining:
            now_s = max(now_s, jobs[order[arrived]][0])
        while arrived < len(order) and jobs[order[arrived]][0] <= now_s:
            remaining[order[arrived]] = jobs[order[arrived]][1]
            arrived += 1
        rate = capacity_bytes_s / len(remaining)
        finish_s = now_s + min(remaining.values()) / rate
        next_s = jobs[order[arrived]][0] if arrived < len(order) else math.inf
        until_s = min(finish_s, next_s)
        for index in remaining:
            remaining[index] -= (until_s - now_s) * rate
        now_s = until_s
        for index in [index for index, left in remaining.items() if left <= 1e-6]:
            ends[index] = now_s
            del remaining[index]
    return ends


def _replica_row(name: str, record: ReplicaRecord | None, world: World) -> list[Any]:
    """A replica: name, app, platform, platform kind, then its start-up record."""
    kinds = {platform.name: platform.kind for platform in world.platforms}
    if record is None:
        return [name, "", "", "", None]
    started = [
        record.requested_s,
        record.ready_s,
        record.state,
        record.reason,
        [getattr(record, f"{phase}_s") for phase in _PHASES],
    ]
    return [name, record.app, record.platform, kinds.get(record.platform, ""), started]


def default_story(
    events: Sequence[Event],
    timeseries: Sequence[Mapping[str, float | int]],
    fleets: Sequence[str],
) -> list[str]:
    """A run told in the demos' words: its (first) service's story, or the story of the
    first host that pulled an image."""
    if fleets:
        return service_story(events, timeseries, fleets[0])
    host = next((event.source for event in events if event.kind == EventKind.PULL_REQUESTED), None)
    if host is None:
        return []
    return [f"-- on {host} --", *narrate(events, host)]


def series(result: Result, world: World) -> dict[str, list[float]]:
    """The monitored time series the timeline plots, one value per sample: requests per
    second, mean latency and the p95 wait for a worker, replicas desired and in service,
    hosts running, and the cost so far (instances billed per second with their minimum,
    registries' storage and egress; at the end, the summary's ``cost_usd``)."""
    rows = result.timeseries
    times = [float(row["time_s"]) for row in rows]
    previous = [0.0, *times[:-1]]
    columns: dict[str, list[float]] = {"time_s": times}
    if any(row.get("requests") for row in rows):
        columns["requests_per_s"] = [
            float(row["requests"]) / (end - start) if end > start else 0.0
            for row, start, end in zip(rows, previous, times, strict=True)
        ]
        columns["latency_s_avg"] = [float(row["latency_s_avg"]) for row in rows]
        columns["wait_s_p95"] = [float(row["wait_s_p95"]) for row in rows]
        columns["dropped"] = [float(row["dropped"]) for row in rows]
    for name in ("desired", "in_service", "replicas_ready", "hosts", "disk_bytes_used"):
        if rows and name in rows[0]:
            columns[name] = [float(row[name]) for row in rows]
    columns["cost_usd"] = [cost_so_far(world, row) for row in rows]
    return columns


def cost_so_far(world: World, row: Mapping[str, float | int]) -> float:
    """What the run had cost by a time-series row's time: its instances launched by then,
    billed per second with the minimum each, and its registries' storage and egress."""
    now_s = float(row["time_s"])
    instances = [
        InstanceUsage(
            host.usd_per_hour,
            host.launched_s,
            host.terminated_s
            if host.terminated_s is not None and host.terminated_s <= now_s
            else None,
        )
        for host in world.hosts
        if host.launched_s <= now_s
    ]
    registries = [
        RegistryUsage(
            registry.stored_bytes,
            int(row.get(f"{SERVED}{registry.name}", 0)),
            registry.storage_usd_per_gb_month,
            registry.egress_usd_per_gb,
        )
        for registry in world.registries
    ]
    return instance_cost_usd(instances, now_s, world.billing_minimum_s) + registry_cost_usd(
        registries, now_s
    )
