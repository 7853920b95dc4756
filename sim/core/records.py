"""The event log: what happened, when, where.

The model appends one small record per step (a layer downloaded, a replica ready); the
results module writes them out as ``events.csv``. Records keep their details as an
ordered tuple of ``(name, value)`` pairs so that the file is the same byte for byte in
every process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

DetailValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Event:
    """One step of the simulation.

    Attributes:
        time_s: simulated time of the step, in seconds.
        source: what did it (a host, a registry, a replica, the network).
        kind: what happened, as a short snake_case verb phrase (``layer_downloaded``).
        details: ordered ``(name, value)`` pairs with the particulars.
    """

    time_s: float
    source: str
    kind: str
    details: tuple[tuple[str, DetailValue], ...] = ()

    def detail(self, name: str) -> DetailValue:
        """The value of one detail; KeyError when the event has no such detail."""
        for key, value in self.details:
            if key == name:
                return value
        raise KeyError(name)

    def detail_or(self, name: str, default: DetailValue = None) -> DetailValue:
        """The value of one detail, or `default` when the event has no such detail."""
        for key, value in self.details:
            if key == name:
                return value
        return default


class EventLog:
    """An append-only list of `Event` records, in the order they happened."""

    def __init__(self) -> None:
        self._events: list[Event] = []

    def record(self, time_s: float, source: str, kind: str, **details: DetailValue) -> None:
        """Append one event; details keep the order they were given in."""
        self._events.append(Event(time_s, source, kind, tuple(details.items())))

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index: int) -> Event:
        return self._events[index]

    def of_kind(self, kind: str) -> list[Event]:
        """Every event of one kind, in order."""
        return [event for event in self._events if event.kind == kind]


@dataclass(frozen=True, slots=True)
class PullRecord:
    """How one image pull on one host ended.

    ``skipped`` pulls found the image already present and did not contact the registry
    (the kubelet's ``IfNotPresent`` policy). Layer counts split the image's layers into
    those that already existed, those this pull downloaded, and those another pull in
    progress on the same host was already downloading (shared, not downloaded twice).
    """

    host: str
    image: str
    registry: str
    started_s: float
    finished_s: float
    ok: bool
    reason: str
    skipped: bool
    queued_s: float
    layers_already_exists: int
    layers_downloaded: int
    layers_shared: int
    bytes_downloaded: int
    download_s: float
    extract_s: float
    retries: int


@dataclass(frozen=True, slots=True)
class ReplicaRecord:
    """One replica's start-up, phase by phase (seconds), and how it ended.

    Phases that do not apply to the platform are zero. ``startup_s`` runs from the
    deployment's request to the replica being ready (``None`` if it never was).
    """

    replica: str
    app: str
    platform: str
    host: str
    requested_s: float
    ready_s: float | None
    state: str
    reason: str
    wait_s: float = 0.0
    provision_s: float = 0.0
    boot_s: float = 0.0
    pull_download_s: float = 0.0
    pull_extract_s: float = 0.0
    create_s: float = 0.0
    start_s: float = 0.0
    init_s: float = 0.0

    @property
    def startup_s(self) -> float | None:
        return None if self.ready_s is None else self.ready_s - self.requested_s
