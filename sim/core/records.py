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
