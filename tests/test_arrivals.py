"""The arrivals family: every kind is found and read from config; the Markov-modulated
Poisson process keeps its analytical mean rate and is burstier than Poisson."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.core.errors import ConfigError
from sim.core.schema import read_kind
from sim.model.service.arrivals import ARRIVALS, next_rate_change
from sim.model.service.arrivals.flash_crowd import FlashCrowdArrivals
from sim.model.service.arrivals.mmpp import MmppArrivals, MmppParams
from sim.model.service.arrivals.poisson import PoissonArrivals
from sim.model.service.arrivals.trace import TraceRates, TraceTimestamps

SEED = 7


def arrivals_until(process: MmppArrivals, horizon_s: float) -> np.ndarray:
    times = []
    time_s = process.next_after(0.0)
    while time_s < horizon_s:
        times.append(time_s)
        time_s = process.next_after(time_s)
    return np.array(times)


def test_every_kind_is_found_by_listing_the_package() -> None:
    assert ARRIVALS.names() == ("constant", "diurnal", "flash_crowd", "mmpp", "poisson", "trace")


def test_an_mmpp_reads_from_config_with_units() -> None:
    params = read_kind(
        ARRIVALS,
        {"kind": "mmpp", "rates_per_s": [5, 60], "mean_sojourn": ["10min", "2min"]},
        "workload.traffic.arrivals",
    )
    assert params == MmppParams((5.0, 60.0), (600.0, 120.0))
    assert params.stationary_mean_rate() == pytest.approx((5 * 600 + 60 * 120) / 720)


@pytest.mark.parametrize(
    ("settings", "key", "allowed"),
    [
        ({"rates_per_s": [], "mean_sojourn": []}, "rates_per_s", "at least one rate"),
        ({"rates_per_s": [1, 2], "mean_sojourn": ["1s"]}, "mean_sojourn", "one mean per state"),
        ({"rates_per_s": [1, 2], "mean_sojourn": ["1s", 0]}, "mean_sojourn", "durations above 0"),
        ({"rates_per_s": [1, -2], "mean_sojourn": ["1s", "1s"]}, "rates_per_s[1]", "at least 0"),
        (
            {"rates_per_s": [1, 2], "mean_sojourn": ["1s", "1s"], "initial_state": 2},
            "initial_state",
            "below 2",
        ),
        (
            {
                "rates_per_s": [1, 2, 3],
                "mean_sojourn": ["1s", "1s", "1s"],
                "transitions": [[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.6, 0]],
            },
            "transitions[2]",
            "chances summing to 1",
        ),
    ],
)
def test_bad_mmpp_settings_name_the_key(
    settings: dict[str, object], key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        read_kind(ARRIVALS, {"kind": "mmpp", **settings}, "a")
    assert raised.value.key == f"a.{key}"
    assert raised.value.allowed.startswith(allowed)


def test_the_long_run_rate_is_the_sojourn_weighted_mean_of_the_rates() -> None:
    params = MmppParams((2.0, 20.0), (60.0, 20.0))
    horizon_s = 200_000.0
    times = arrivals_until(MmppArrivals(params, np.random.default_rng(SEED)), horizon_s)
    expected = params.stationary_mean_rate()
    assert expected == pytest.approx(6.5)
    # The count's variance is that of the time spent in each state: with 2,500 cycles,
    # the relative standard error is about 1 %; 4 % is four of them.
    assert len(times) / horizon_s == pytest.approx(expected, rel=0.04)


def test_a_three_state_chain_follows_its_transition_matrix() -> None:
    params = MmppParams(
        (0.0, 10.0, 100.0),
        (30.0, 30.0, 30.0),
        ((0.0, 1.0, 0.0), (0.5, 0.0, 0.5), (0.0, 1.0, 0.0)),
    )
    # The moves visit state 1 half the time and 0 and 2 a quarter each.
    assert params.stationary_mean_rate() == pytest.approx(0.5 * 10 + 0.25 * 100)
    times = arrivals_until(MmppArrivals(params, np.random.default_rng(SEED)), 100_000.0)
    assert len(times) / 100_000.0 == pytest.approx(30.0, rel=0.05)


def test_counts_are_burstier_than_poisson() -> None:
    params = MmppParams((1.0, 30.0), (100.0, 10.0))
    times = arrivals_until(MmppArrivals(params, np.random.default_rng(SEED)), 100_000.0)
    counts = np.bincount((times // 10).astype(int))
    assert counts.var() / counts.mean() > 3.0  # 1 for Poisson


def test_the_rate_seen_is_the_state_the_arrivals_come_from() -> None:
    process = MmppArrivals(MmppParams((0.0, 50.0), (5.0, 5.0)), np.random.default_rng(SEED))
    times = arrivals_until(process, 2_000.0)
    assert len(times) > 1000
    assert all(process.rate_at(time_s) == 50.0 for time_s in times)


@given(st.integers(0, 2**32 - 1))
def test_the_path_of_states_does_not_depend_on_who_asks_first(seed: int) -> None:
    params = MmppParams((1.0, 5.0, 9.0), (3.0, 1.0, 2.0))
    first = MmppArrivals(params, np.random.default_rng(seed))
    second = MmppArrivals(params, np.random.default_rng(seed))
    rates_before = [first.rate_at(t) for t in range(0, 60, 3)]
    arrivals = [second.next_after(0.0)]
    for _ in range(50):
        arrivals.append(second.next_after(arrivals[-1]))
    assert [second.rate_at(t) for t in range(0, 60, 3)] == rates_before
    replay = [first.next_after(0.0)]
    for _ in range(50):
        replay.append(first.next_after(replay[-1]))
    assert replay == arrivals
    assert all(math.isfinite(t) for t in arrivals)


def test_the_bursty_preset_runs_and_loses_no_request() -> None:
    result = sim.simulate(
        sim.load_config(["workload=bursty", "platform=container", "horizon=20min"])
    )
    summary = result.summary
    assert summary["requests_total"] > 0
    assert summary["requests_total"] == (
        summary["requests_served"] + summary["requests_in_flight"] + summary["requests_dropped"]
    )


def test_an_mmpp_rate_changes_where_its_states_end() -> None:
    """The fluid mode cuts its pieces at `next_rate_change`: for an mmpp, the end of the
    state at each time, and the rate is constant between two changes."""
    process = MmppArrivals(MmppParams((10.0, 60.0), (10.0, 2.0)), np.random.default_rng(SEED))
    t_s, changes = 0.0, []
    while t_s < 300.0:
        change_s = next_rate_change(process, t_s)
        assert change_s > t_s
        assert process.rate_at(t_s) == process.rate_at(math.nextafter(change_s, 0.0))
        changes.append(change_s)
        t_s = change_s
    rates = [process.rate_at(change_s) for change_s in changes]
    assert all(a != b for a, b in itertools.pairwise(rates))  # two states, alternating


def test_rate_changes_of_the_deterministic_kinds() -> None:
    spike = FlashCrowdArrivals(8.0, 80.0, 1800.0, 1200.0, "spike", np.random.default_rng(0))
    assert [next_rate_change(spike, t) for t in (0.0, 1800.0, 2000.0, 2400.0, 3000.0)] == [
        1800.0,
        2400.0,
        2400.0,
        3000.0,
        math.inf,
    ]
    step = FlashCrowdArrivals(8.0, 80.0, 1800.0, 1200.0, "step", np.random.default_rng(0))
    assert next_rate_change(step, 1800.0) == 3000.0
    ramp = FlashCrowdArrivals(8.0, 80.0, 1800.0, 1200.0, "ramp", np.random.default_rng(0))
    # One slope from the start to the end, where the rate drops back: no bend between.
    assert [next_rate_change(ramp, t) for t in (0.0, 1800.0, 2400.0, 3000.0)] == [
        1800.0,
        3000.0,
        3000.0,
        math.inf,
    ]
    rates = TraceRates(60.0, [1.0, 2.0, 3.0], None, start_s=30.0)
    assert [next_rate_change(rates, t) for t in (0.0, 30.0, 100.0, 209.0, 210.0)] == [
        30.0,
        90.0,
        150.0,
        210.0,
        math.inf,
    ]
    times = TraceTimestamps([0.2, 0.4, 3.5])
    assert [next_rate_change(times, t) for t in (0.0, 0.4, 2.0, 3.5)] == [1.0, 1.0, 3.0, math.inf]
    assert next_rate_change(PoissonArrivals(5.0, np.random.default_rng(0)), 0.0) == math.inf
