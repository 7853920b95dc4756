"""Events that fire later in the current instant, at a chosen place in its order.

SimPy runs the events of one instant by priority (``URGENT`` before ``NORMAL``), each
priority in the order its events were scheduled: a new process starts at an ``URGENT``
event, a succeeded event fires at a ``NORMAL`` one. `Soon` is such an event, born
triggered with its callback, for code that must act at the very place a process or a
resource would have, without being one; with priority `AFTER_INSTANT` it fires after
every other event of the instant.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy
from simpy.events import NORMAL, URGENT, EventPriority

AFTER_INSTANT = EventPriority(2)
"""A priority after URGENT (0) and NORMAL (1): the last events of an instant."""

__all__ = ["AFTER_INSTANT", "NORMAL", "URGENT", "Soon"]


class Soon(simpy.Event):
    """Calls `callback` (with this event) later in the current instant, at `priority`.

    Born triggered, as SimPy's own ``Timeout`` and ``Initialize`` are, because
    ``succeed()`` cannot choose a priority.
    """

    def __init__(
        self,
        env: simpy.Environment,
        callback: Callable[[simpy.Event], None],
        priority: EventPriority = NORMAL,
    ) -> None:
        super().__init__(env)
        self.callbacks.append(callback)
        self._ok = True
        self._value = None
        env.schedule(self, priority)
