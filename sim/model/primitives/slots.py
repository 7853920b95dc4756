"""Slots taken first come, first served: a daemon's download slots, the kubelet's lock.

The semantics of SimPy's ``Resource``, event for event, in a few bytes and calls: a
request is granted by an event that succeeds when a slot is free (at once, or later);
giving a slot back is an event too, and the first waiting request gets the slot when
that event fires. Only the head of the queue is ever granted, so requests are served in
the order they were made. A cluster of thousands of hosts has two of these per host.
"""

from __future__ import annotations

import simpy

from sim.model.primitives.instant import Soon


class Slots:
    """`capacity` interchangeable slots.

    Args:
        env: the simulation environment.
        capacity: how many may be held at once (at least 1).
    """

    __slots__ = ("_env", "capacity", "in_use", "_waiting")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self._env = env
        self.capacity = capacity
        self.in_use = 0
        self._waiting: list[simpy.Event] = []

    def request(self) -> simpy.Event:
        """An event that succeeds when a slot is the caller's."""
        grant = simpy.Event(self._env)
        self._waiting.append(grant)
        self._grant_first()
        return grant

    def take(self) -> bool:
        """Take a slot at once if one is free and no request waits for one (what
        `request` would grant, without an event to wait on); False otherwise."""
        if self.in_use < self.capacity and not self._waiting:
            self.in_use += 1
            return True
        return False

    def release(self) -> None:
        """Give a held slot back; the first waiting request gets it later in the instant."""
        self.in_use -= 1
        if self._waiting:
            Soon(self._env, self._grant_first)

    def _grant_first(self, _: simpy.Event | None = None) -> None:
        if self._waiting and self.in_use < self.capacity:
            self.in_use += 1
            self._waiting.pop(0).succeed()
