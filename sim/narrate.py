"""Narration: what a run did, told in the words Docker itself prints.

A pull on a host becomes the lines ``docker pull`` shows — ``Pulling from``, ``Already
exists``, ``Pulling fs layer``, ``Downloading``, ``Download complete``, ``Extracting``,
``Pull complete``, ``Digest:``, ``Status: Downloaded newer image for`` — each stamped
with its simulated time, then a plain summary of what moved and where the time went.
Built from the event log only, so it tells any run, with the same words every time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.core.records import Event, PullRecord, ReplicaRecord
from sim.core.units import format_duration, format_size

_LAYER_WORDS = {
    "layer_already_exists": "Already exists",
    "layer_queued": "Pulling fs layer",
    "layer_downloading": "Downloading",
    "layer_downloaded": "Download complete",
    "layer_extracting": "Extracting",
    "layer_extracted": "Pull complete",
}
_REPLICA_WORDS = {
    "scheduled": "scheduled on {host}",
    "creating": "docker create: a thin writable layer over the image's read-only layers",
    "starting": "docker start",
    "initializing": "the app initialises",
    "ready": "ready",
    "provisioning": "VM provisioning (disk image: {disk_mode})",
    "booting": "guest OS booting",
    "failed": "failed: {reason}",
}


def _stamp(time_s: float) -> str:
    return f"[{time_s:9.3f} s] "


def narrate(events: Sequence[Event], host: str) -> list[str]:
    """The story of one host's pulls and of the replicas placed on it, line by line."""
    on_host = {
        event.source
        for event in events
        if event.kind == "replica_state" and event.detail_or("host") == host
    }
    lines: list[str] = []
    for event in events:
        if event.source == host:
            lines.extend(_stamp(event.time_s) + line for line in docker_lines(event))
        elif event.kind == "replica_state" and event.source in on_host:
            state = str(event.detail_or("state"))
            if state in _REPLICA_WORDS:
                text = _REPLICA_WORDS[state].format(
                    host=host,
                    disk_mode=event.detail_or("disk_mode"),
                    reason=event.detail_or("reason"),
                )
                lines.append(f"{_stamp(event.time_s)}{event.source}: {text}")
    return lines


def docker_lines(event: Event) -> list[str]:
    """What the Docker CLI prints for one of a host's events (none for most events)."""
    reference = str(event.detail_or("image", ""))
    repository, _, tag = reference.rpartition(":")
    if event.kind == "pull_requested":
        return [f"$ docker pull {reference}", f"{tag}: Pulling from {repository}"]
    if event.kind in _LAYER_WORDS:
        words = _LAYER_WORDS[event.kind]
        if event.kind == "layer_downloading":
            words += f" {format_size(float(str(event.detail('bytes'))))}"
        return [f"{event.detail('layer')}: {words}"]
    if event.kind == "pull_completed":
        return [
            f"Digest: {event.detail('digest')}",
            f"Status: Downloaded newer image for {reference}",
        ]
    if event.kind == "pull_failed":
        return [f"Error response from daemon: {event.detail('reason')}"]
    if event.kind == "image_present":
        return [f'Container image "{reference}" already present on machine']
    if event.kind == "image_removed":
        freed = format_size(float(str(event.detail("disk_bytes_freed"))))
        return [f"image GC removed {event.detail('image')} (freed {freed} of disk)"]
    return []


_PHASES = ("wait", "provision", "boot", "pull_download", "pull_extract", "create", "start", "init")


def what_happened(pulls: Sequence[PullRecord], replicas: Sequence[ReplicaRecord]) -> list[str]:
    """Underneath the narration: bytes moved and where the time went, per replica."""
    lines = [
        f"pull of {pull.image} on {pull.host}: {pull.layers_already_exists} layers already "
        f"there, {pull.layers_downloaded} downloaded ({format_size(pull.bytes_downloaded)}); "
        f"download {format_duration(pull.download_s)}, extract {format_duration(pull.extract_s)}"
        for pull in pulls
    ]
    for replica in replicas:
        if replica.startup_s is None:
            continue
        spent = ", ".join(
            f"{name.replace('_', ' ')} {format_duration(seconds)}"
            for name in _PHASES
            if (seconds := getattr(replica, f"{name}_s")) > 0
        )
        lines.append(f"{replica.replica} ready in {format_duration(replica.startup_s)}: {spent}")
    return lines
