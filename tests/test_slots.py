"""Slots: SimPy's Resource semantics, event for event."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.primitives.slots import Slots

Client = tuple[float, float, int]


def trace(capacity: int, clients: list[Client], lean: bool) -> list[tuple[float, str]]:
    """Each client asks for a slot at its time, holds it for its hold time (perhaps 0)
    and gives it back; markers note the instants' other events. Returns what happened,
    in the order it happened."""
    env = simpy.Environment()
    slots: Any = Slots(env, capacity) if lean else simpy.Resource(env, capacity)
    happened: list[tuple[float, str]] = []

    def client(name: str, at_s: float, hold_s: float, then: int) -> Generator[Any, Any, None]:
        yield env.timeout(at_s)
        grant = slots.request()
        yield grant
        happened.append((env.now, f"{name} holds"))
        yield env.timeout(hold_s)
        if lean:
            slots.release()
        else:
            slots.release(grant)
        happened.append((env.now, f"{name} gives back"))
        for step in range(then):
            yield env.timeout(0)
            happened.append((env.now, f"{name} after {step}"))

    for index, (at_s, hold_s, then) in enumerate(clients):
        env.process(client(f"c{index}", at_s, hold_s, then))
    env.run()
    return happened


clients = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.5, 1.0, 2.0]),
        st.sampled_from([0.0, 0.0, 0.5, 1.0, 1.5]),
        st.integers(0, 2),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3), clients)
def test_slots_grant_as_simpy_resource_does(capacity: int, clients: list[Client]) -> None:
    assert trace(capacity, clients, lean=True) == trace(capacity, clients, lean=False)


def test_a_released_slot_goes_to_the_first_waiting_request() -> None:
    happened = trace(1, [(0.0, 1.0, 0), (0.0, 1.0, 0), (0.5, 0.0, 0)], lean=True)

    assert happened == [
        (0.0, "c0 holds"),
        (1.0, "c0 gives back"),
        (1.0, "c1 holds"),
        (2.0, "c1 gives back"),
        (2.0, "c2 holds"),
        (2.0, "c2 gives back"),
    ]


def test_slots_need_a_capacity() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Slots(simpy.Environment(), 0)


def test_a_free_slot_is_taken_at_once_but_never_ahead_of_a_waiting_request() -> None:
    env = simpy.Environment()
    slots = Slots(env, 1)
    assert slots.take() and slots.in_use == 1
    assert not slots.take()
    waiting = slots.request()
    slots.release()
    # The slot is free now, but the request made before goes first (later in the instant).
    assert slots.in_use == 0 and not slots.take()
    env.run()
    assert waiting.processed and slots.in_use == 1
