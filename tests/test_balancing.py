"""Balancers as pure deciders: exact choices on plain load lists."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.policies.balancing import BALANCING, Balancer, make_balancer
from sim.policies.balancing.least_outstanding import LeastOutstanding
from sim.policies.balancing.random_choice import RandomChoice
from sim.policies.balancing.round_robin import RoundRobin

RNG = np.random.default_rng(0)


def test_round_robin_cycles_exactly() -> None:
    balancer = RoundRobin()
    assert [balancer.choose([5, 0, 9], RNG) for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]


def test_round_robin_continues_when_the_set_changes() -> None:
    balancer = RoundRobin()
    assert [balancer.choose([0, 0, 0], RNG) for _ in range(2)] == [0, 1]
    assert [balancer.choose([0, 0], RNG) for _ in range(3)] == [0, 1, 0]
    assert [balancer.choose([0, 0, 0, 0], RNG) for _ in range(4)] == [1, 2, 3, 0]


def test_round_robin_ignores_loads_and_rng() -> None:
    class Untouchable(list[int]):
        def __getitem__(self, index: object) -> int:  # type: ignore[override]
            raise AssertionError("round robin must not read loads")

    assert RoundRobin().choose(Untouchable([1, 2]), RNG) == 0


def test_least_outstanding_picks_the_minimum() -> None:
    balancer = LeastOutstanding()
    assert balancer.choose([3, 1, 2], RNG) == 1
    assert balancer.choose([3, 4, 0], RNG) == 2
    assert balancer.choose([7, 7, 7, 6], RNG) == 3


def test_least_outstanding_rotates_among_ties() -> None:
    balancer = LeastOutstanding()
    assert [balancer.choose([0, 0, 0], RNG) for _ in range(4)] == [0, 1, 2, 0]
    balancer = LeastOutstanding()
    assert [balancer.choose([1, 5, 1, 1], RNG) for _ in range(4)] == [0, 2, 3, 0]


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=30))
def test_least_outstanding_load_is_always_the_minimum(loads: list[int]) -> None:
    balancer = LeastOutstanding()
    for _ in range(3):
        assert loads[balancer.choose(loads, RNG)] == min(loads)


def test_random_choice_uses_one_draw_of_the_rng() -> None:
    balancer = RandomChoice()
    rng = np.random.default_rng(42)
    chosen = [balancer.choose([0] * 5, rng) for _ in range(1000)]
    draws = np.random.default_rng(42).random(1001)
    assert chosen == [int(u * 5) for u in draws[:1000]]
    assert rng.random() == draws[1000]


def test_random_choice_is_uniform() -> None:
    rng = np.random.default_rng(7)
    counts = Counter(RandomChoice().choose([0] * 4, rng) for _ in range(40_000))
    assert sorted(counts) == [0, 1, 2, 3]
    # Each count is binomial(40,000, 1/4): standard deviation about 87.
    assert all(abs(count - 10_000) < 4 * 87 for count in counts.values())


def test_same_seed_same_choices() -> None:
    first = [RandomChoice().choose([0] * 9, np.random.default_rng(3)) for _ in range(5)]
    second = [RandomChoice().choose([0] * 9, np.random.default_rng(3)) for _ in range(5)]
    assert first == second


@pytest.mark.parametrize("name", BALANCING.names())
def test_the_family_builds_every_balancer_fresh(name: str) -> None:
    balancer: Balancer = make_balancer(name)
    assert 0 <= balancer.choose([2, 1, 0], np.random.default_rng(1)) < 3
    assert make_balancer(name) is not balancer
    assert BALANCING.names() == ("least_outstanding", "random", "round_robin")
