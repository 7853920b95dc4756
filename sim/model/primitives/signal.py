"""Signals: events that happen at once, not at a later step of SimPy's event queue; and
tasks, process bodies that run from now and end with a signal.

A layer's fetch ends once; the fetch of the layer above it, the pull that needs it and
other pulls on the host wait for that, and a start-up waits for its pull. Had they waited
on plain SimPy events, each would resume at a later step of the instant, one event each.
A `Signal` is an event processed as it succeeds or fails: its callbacks run then, in the
order they were added — a process that waits on it resumes there and then — and one
added afterwards runs at once, as SimPy does for a process that yields an event already
processed. A pull storm has thousands of layers ending at one instant; this spares each
an event.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy


class Signal(simpy.Event):
    """An event processed the moment it succeeds or fails.

    A failure is handed to whoever waits (a process has it thrown in); unlike a SimPy
    event's, it does not stop the simulation when no one waits for it.
    """

    def add(self, callback: Callable[[Signal], None]) -> None:
        """Call `callback` with the signal once it has happened, or now if it has."""
        if self.callbacks is None:
            callback(self)
        else:
            self.callbacks.append(callback)

    def succeed(self, value: Any = None) -> Signal:
        """Happen successfully with `value`: every callback runs now."""
        self._ok = True
        self._value = value
        self._process()
        return self

    def fail(self, exception: BaseException) -> Signal:
        """Fail with `exception`: every callback runs now."""
        self._ok = False
        self._value = exception
        self._defused = True
        self._process()
        return self

    @property
    def error(self) -> BaseException | None:
        """Why it failed; None while pending or once it succeeded."""
        return None if self.callbacks is not None or self._ok else self._value

    def _process(self) -> None:
        callbacks = self.callbacks
        if callbacks is None:
            raise RuntimeError(f"{self} has already happened")
        self.callbacks = None  # type: ignore[assignment]
        for callback in callbacks:
            callback(self)


class Task:
    """A process body (a generator of SimPy events) run from now on: as ``env.process``
    would run it, but its first step runs at once rather than later in the instant, and
    its end is `ended`, a signal, rather than an event of the queue. Each event it
    yields resumes it when processed (a failed one has its exception thrown in, as into
    a process); an exception it raises stops the simulation.

    Args:
        env: the simulation environment.
        body: the generator to run.
    """

    __slots__ = ("_body", "ended")

    def __init__(self, env: simpy.Environment, body: Generator[simpy.Event, Any, Any]) -> None:
        self._body = body
        self.ended = Signal(env)
        self._run(True, None)

    def _resume(self, event: simpy.Event) -> None:
        if not event._ok:
            event._defused = True
        self._run(event._ok, event._value)

    def _run(self, ok: bool, value: Any) -> None:
        body = self._body
        while True:
            try:
                # A failure is thrown in as a copy of its own, as into a process.
                event = body.send(value) if ok else body.throw(type(value)(*value.args))
            except StopIteration as stop:
                self.ended.succeed(stop.value)
                return
            if event.callbacks is not None:
                event.callbacks.append(self._resume)
                return
            ok, value = event._ok, event._value
            if not ok:
                event._defused = True
