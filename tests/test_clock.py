"""The run's environment and `after`: waits that end together share one event, exactly
where SimPy would have processed a timeout of their own."""

from __future__ import annotations

from functools import partial

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.primitives.clock import Environment, after, still_last, wait


def test_waits_that_end_together_right_after_one_another_share_an_event() -> None:
    env = Environment()
    heard: list[str] = []
    first = wait(env, 1.0, lambda _: heard.append("a"))
    second = wait(env, 1.0, lambda _: heard.append("b"))
    other = wait(env, 2.0, lambda _: heard.append("c"))
    third = wait(env, 2.0, lambda _: heard.append("d"))
    assert first is second and other is third and first is not other
    env.run()
    assert heard == ["a", "b", "c", "d"]


def test_a_wait_does_not_join_one_another_event_came_after() -> None:
    env = Environment()
    first = wait(env, 1.0, print)
    env.timeout(1.0)
    assert wait(env, 1.0, print) is not first


def test_still_last_wants_the_callback_to_end_the_wait() -> None:
    env = Environment()

    def mine(_: object) -> None: ...

    event = wait(env, 1.0, mine)
    assert still_last(env, event, 1.0, mine)
    wait(env, 1.0, print)  # joins the same event, after mine
    assert not still_last(env, event, 1.0, mine)
    assert not still_last(env, event, 2.0, print)


Plan = list[tuple[float, float, int]]  # at, delay, how many waits


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.5, 1.0]),
            st.sampled_from([0.0, 0.5, 1.0, 1.5]),
            st.integers(1, 3),
        ),
        max_size=10,
    ),
    st.booleans(),
)
def test_after_runs_callbacks_where_separate_timeouts_would(
    plan: Plan, zero_timeouts: bool
) -> None:
    """Bursts of waits, some ending at the same times, mixed with plain timeouts (also of
    no delay): the callbacks run at the same times in the same order on the run's
    environment (sharing events) as on SimPy's (a timeout each)."""

    def trace(env: simpy.Environment) -> list[tuple[float, int, int]]:
        heard: list[tuple[float, int, int]] = []

        def begin(burst: int, delay_s: float, waits: int, _: object) -> None:
            for number in range(waits):
                after(env, delay_s, lambda _, number=number: heard.append((env.now, burst, number)))
                if zero_timeouts and number == 0:
                    env.timeout(0).callbacks.append(lambda _: heard.append((env.now, burst, -1)))

        for burst, (at_s, delay_s, waits) in enumerate(plan):
            env.timeout(at_s).callbacks.append(partial(begin, burst, delay_s, waits))
        env.run()
        return heard

    assert trace(Environment()) == trace(simpy.Environment())
