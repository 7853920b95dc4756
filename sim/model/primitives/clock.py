"""The simulation's environment, and waits that end together on one event.

In a pull storm thousands of hosts ask the registry for a blob in the same instant, and
every request takes the same round trip: thousands of timeouts end at one time, one
after another in SimPy's order. `after` folds such waits into one event with a callback
each, in the order they began, when nothing else was scheduled between them — which is
exactly when SimPy would have processed their timeouts one right after the other. So the
simulation is the same, step for step, for the price of one event.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.core import SimTime
from simpy.events import NORMAL, EventPriority


class Environment(simpy.Environment):
    """SimPy's environment, which also remembers the last event it scheduled (what
    `after` needs to know that a new wait may join an existing one)."""

    def __init__(self, initial_time: SimTime = 0) -> None:
        super().__init__(initial_time)
        self.last_scheduled: simpy.Event | None = None

    def schedule(
        self, event: simpy.Event, priority: EventPriority = NORMAL, delay: SimTime = 0
    ) -> None:
        heappush(self._queue, (self._now + delay, priority, next(self._eid), event))
        self.last_scheduled = event


class _Waits(simpy.Event):
    """Waits that end at `at_s`: one event, born triggered (as a timeout is), with the
    callback of each wait."""

    __slots__ = ("at_s",)

    def __init__(self, env: simpy.Environment, delay_s: float, callback: Any, at_s: float) -> None:
        # `simpy.Event.__init__`'s fields, set here: a storm makes one of these per host.
        self.env = env
        self.callbacks = [callback]
        self._ok = True
        self._value = None
        self.at_s = at_s
        env.schedule(self, NORMAL, delay_s)


def after(env: simpy.Environment, delay_s: float, callback: Callable[[Any], None]) -> None:
    """Call `callback` (with an event) `delay_s` from now, as
    ``env.timeout(delay_s).callbacks.append(callback)`` would — on the event of the
    previous such wait if it ends at the same time and was the last event scheduled.

    Raises:
        ValueError: for a negative delay.
    """
    wait(env, delay_s, callback)


def wait(env: simpy.Environment, delay_s: float, callback: Callable[[Any], None]) -> simpy.Event:
    """`after`, returning the event `callback` is on.

    Raises:
        ValueError: for a negative delay.
    """
    if delay_s < 0:
        raise ValueError(f"negative delay {delay_s}")
    at_s = env.now + delay_s
    last = getattr(env, "last_scheduled", None)
    if type(last) is _Waits and last.at_s == at_s and last.callbacks is not None:
        last.callbacks.append(callback)
        return last
    return _Waits(env, delay_s, callback, at_s)


def still_last(
    env: simpy.Environment, event: simpy.Event | None, at_s: float, callback: object
) -> bool:
    """Whether `callback` is the last callback of `event`, a wait due at `at_s`, pending
    and the last event scheduled: then a wait for `at_s` that would begin now would end
    right after it, and may join it there."""
    last: simpy.Event | None = getattr(env, "last_scheduled", None)
    if event is None or event is not last:
        return False
    callbacks = event.callbacks
    return (
        callbacks is not None
        and getattr(event, "at_s", None) == at_s
        and bool(callbacks)
        and callbacks[-1] is callback
    )
