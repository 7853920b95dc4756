"""Signals and tasks: events that happen at once, and process bodies that start at once."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.primitives.signal import Signal, Task


def test_a_signal_calls_back_as_it_succeeds_in_order_and_late_listeners_at_once() -> None:
    env = simpy.Environment()
    signal = Signal(env)
    heard: list[str] = []
    signal.add(lambda s: heard.append(f"first {s.value}"))
    signal.add(lambda s: heard.append(f"second {s.value}"))
    assert heard == [] and not signal.triggered
    signal.succeed(7)
    assert heard == ["first 7", "second 7"]
    assert signal.processed and signal.ok and signal.error is None
    signal.add(lambda s: heard.append("late"))
    assert heard[-1] == "late"
    with pytest.raises(RuntimeError):
        signal.succeed()


def test_a_process_waiting_on_a_signal_resumes_within_the_step_that_fires_it() -> None:
    env = simpy.Environment()
    signal = Signal(env)
    trace: list[str] = []

    def waiter() -> Generator[simpy.Event, Any, None]:
        value = yield signal
        trace.append(f"waiter got {value}")

    def firer() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1)
        signal.succeed("go")
        trace.append("firer after")

    env.process(waiter())
    env.process(firer())
    env.run()
    assert trace == ["waiter got go", "firer after"]


def test_a_failure_is_thrown_into_its_waiters_and_alone_stops_nothing() -> None:
    env = simpy.Environment()
    watched, unwatched = Signal(env), Signal(env)
    caught: list[str] = []

    def waiter() -> Generator[simpy.Event, Any, None]:
        try:
            yield watched
        except ValueError as error:
            caught.append(str(error))

    def firer() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1)
        watched.fail(ValueError("broken"))
        unwatched.fail(ValueError("nobody listens"))

    env.process(waiter())
    env.process(firer())
    env.run()
    assert caught == ["broken"]
    assert isinstance(unwatched.error, ValueError) and not unwatched.ok


def test_a_task_runs_its_first_step_at_once_and_ends_with_its_value() -> None:
    env = simpy.Environment()
    trace: list[tuple[float, str]] = []

    def body() -> Generator[simpy.Event, Any, str]:
        trace.append((env.now, "begin"))
        yield env.timeout(2)
        trace.append((env.now, "end"))
        return "done"

    task = Task(env, body())
    assert trace == [(0, "begin")] and not task.ended.triggered
    env.run()
    assert trace == [(0, "begin"), (2, "end")]
    assert task.ended.value == "done"


def test_a_task_has_a_failed_event_thrown_in_and_the_event_defused() -> None:
    env = simpy.Environment()
    failing = env.event()
    caught: list[str] = []

    def body() -> Generator[simpy.Event, Any, None]:
        try:
            yield failing
        except KeyError as error:
            caught.append(error.args[0])

    Task(env, body())
    failing.fail(KeyError("gone"))
    env.run()
    assert caught == ["gone"] and failing.defused


Step = tuple[str, float]
Plan = list[list[Step]]

steps = st.lists(
    st.tuples(st.sampled_from(["wait", "fire", "await"]), st.sampled_from([0.0, 0.5, 1.0])),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(steps, min_size=1, max_size=5))
def test_tasks_do_what_processes_do_once_each_body_first_waits(plan: Plan) -> None:
    """Bodies that wait, fire a shared signal's successor or await it: run as tasks or
    as processes, they take the same steps at the same times in the same order, as long
    as each body's first step is a wait (a process starts later in the instant, a task
    at once)."""

    def trace(as_tasks: bool) -> list[tuple[float, int, int, str]]:
        env = simpy.Environment()
        signals = [Signal(env)]
        happened: list[tuple[float, int, int, str]] = []

        def body(index: int, body_steps: list[Step]) -> Generator[simpy.Event, Any, None]:
            yield env.timeout(1.0)
            for number, (what, delay_s) in enumerate(body_steps):
                if what == "wait":
                    yield env.timeout(delay_s)
                elif what == "fire":
                    signals.append(Signal(env))
                    signals[-2].succeed(index)
                else:
                    value = yield signals[-1]
                    happened.append((env.now, index, number, f"heard {value}"))
                happened.append((env.now, index, number, what))

        for index, body_steps in enumerate(plan):
            if as_tasks:
                Task(env, body(index, body_steps))
            else:
                env.process(body(index, body_steps))
        env.run(until=100)
        return happened

    assert trace(as_tasks=True) == trace(as_tasks=False)
