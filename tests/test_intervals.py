"""Intervals: the Wilson interval of a proportion against published values; intervals
chosen by a metric's range stay within it; paired comparisons and their verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.intervals import (
    NON_NEGATIVE,
    SHARE,
    UNBOUNDED,
    Z_975,
    Bounds,
    Interval,
    mean_ci,
    mean_interval,
    paired_interval,
    ratio_interval,
    verdict,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Newcombe, "Two-sided confidence intervals for the single proportion: comparison
        # of seven methods", Statistics in Medicine 17 (1998), Table II, method 3 (score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_the_wilson_interval_matches_newcombes_table(
    successes: int, trials: int, low: float, high: float
) -> None:
    assert wilson_interval(successes, trials) == pytest.approx((low, high), abs=5e-5)


@given(st.integers(1, 10**9).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_wilson_interval_holds_the_estimate_and_stays_within_0_and_1(
    counts: tuple[int, int],
) -> None:
    successes, trials = counts
    low, high = wilson_interval(successes, trials)
    assert 0.0 <= low <= successes / trials <= high <= 1.0


def test_no_trials_have_no_interval_and_impossible_counts_are_refused() -> None:
    assert all(math.isnan(bound) for bound in wilson_interval(0, 0))
    with pytest.raises(ValueError, match="successes: 5: must be within"):
        wilson_interval(5, 4)


# --- intervals chosen by a metric's range --------------------------------------------

BOUNDS = (
    Bounds(0.0, 1.0),
    Bounds(0.0),
    Bounds(-5.0, 3.0),
    Bounds(high=10.0),
)


@st.composite
def bounded_sample(draw: st.DrawFn) -> tuple[Bounds, list[float]]:
    bounds = draw(st.sampled_from(BOUNDS))
    low = bounds.low if math.isfinite(bounds.low) else -1e6
    high = bounds.high if math.isfinite(bounds.high) else 1e6
    values = draw(
        st.lists(st.floats(low, high, allow_nan=False), min_size=1, max_size=30)
        # Values piled at an end, as availability at 1 or SLO minutes at 0.
        | st.lists(st.sampled_from((low, high, (low + high) / 2)), min_size=1, max_size=30)
    )
    return bounds, values


@given(bounded_sample(), st.integers(0, 2**32 - 1))
def test_an_interval_never_leaves_its_metrics_range(
    sample: tuple[Bounds, list[float]], seed: int
) -> None:
    bounds, values = sample
    interval = mean_interval(values, bounds, np.random.default_rng(seed), resamples=400)
    assert bounds.contains(interval.estimate)
    if len(values) < 2:
        assert interval.method == "none" and math.isnan(interval.low)
        return
    assert bounds.contains(interval.low) and bounds.contains(interval.high)
    assert interval.low <= interval.high
    # A mean of resampled values lies within the values themselves.
    assert min(values) <= interval.low and interval.high <= max(values)


def test_student_t_only_for_a_metric_unbounded_on_both_sides() -> None:
    values = [1.0, 2.0, 4.0]
    rng = np.random.default_rng(0)
    unbounded = mean_interval(values, UNBOUNDED, rng)
    mean, half = mean_ci(values)
    assert unbounded.method == "t"
    assert (unbounded.low, unbounded.high) == pytest.approx((mean - half, mean + half))
    # t would say 2.33 ± 3.79: below 0 for a duration. The bootstrap stays in [1, 4].
    assert unbounded.low < 0
    bounded = mean_interval(values, NON_NEGATIVE, rng)
    assert bounded.method in ("bca", "percentile") and 1.0 <= bounded.low < bounded.high <= 4.0


def test_two_seeds_give_their_own_values_as_the_bootstrap_interval() -> None:
    # Resampling {a, b}: means a, (a+b)/2, b with chances 1/4, 1/2, 1/4; z0 = 0 and the
    # jackknife is symmetric (a = 0), so BCa is the percentile interval: [a, b].
    interval = mean_interval([0.93, 0.99], SHARE, np.random.default_rng(1))
    assert interval.method == "bca"
    assert (interval.low, interval.high) == (0.93, 0.99)
    assert interval.estimate == pytest.approx(0.96)


def test_the_bootstrap_of_a_large_normal_sample_approaches_the_normal_interval() -> None:
    # With n = 400 the sample mean is nearly normal: BCa ~ mean ± 1.96 s / sqrt(n).
    values = list(np.random.default_rng(7).normal(50.0, 10.0, 400))
    interval = mean_interval(values, NON_NEGATIVE, np.random.default_rng(8))
    half = Z_975 * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    assert interval.low == pytest.approx(interval.estimate - half, abs=0.1 * half)
    assert interval.high == pytest.approx(interval.estimate + half, abs=0.1 * half)


def test_the_same_stream_gives_the_same_interval() -> None:
    values = [0.1, 0.5, 0.2, 0.9, 0.3]
    first = mean_interval(values, SHARE, np.random.default_rng(3))
    assert mean_interval(values, SHARE, np.random.default_rng(3)) == first


def test_equal_values_give_an_exact_interval_and_a_value_outside_is_refused() -> None:
    assert mean_interval([2.0, 2.0], NON_NEGATIVE, np.random.default_rng(0)) == Interval(
        2.0, 2.0, 2.0, "exact"
    )
    with pytest.raises(ValueError, match="outside"):
        mean_interval([1.2, 0.5], SHARE, np.random.default_rng(0))
    with pytest.raises(ValueError, match="low must not exceed high"):
        Bounds(1.0, 0.0)


def test_a_paired_comparison_cancels_the_noise_both_points_share() -> None:
    # Common random numbers: each seed moves both points alike; the difference is 1/8.
    shared = [0.25, 0.75, 0.5, 0.875, 0.125]
    first = [value + 0.125 for value in shared]
    interval = paired_interval(first, shared, NON_NEGATIVE, np.random.default_rng(0))
    assert interval == Interval(0.125, 0.125, 0.125, "exact")
    assert verdict(interval, 0.0, above=True) == "holds"
    # Unpaired, the spread of either point (0.125-0.875) would hide the same 1/8.
    assert mean_interval(shared, NON_NEGATIVE, np.random.default_rng(0)).high > 0.5


def test_verdicts_against_seed_noise() -> None:
    assert verdict(Interval(0.3, 0.1, 0.5, "bca"), 0.0, above=True) == "holds"
    assert verdict(Interval(-0.3, -0.5, -0.1, "bca"), 0.0, above=True) == "flips"
    assert verdict(Interval(0.096, -0.02, 0.21, "t"), 0.0, above=True) == "tie"
    assert verdict(Interval(0.9, 0.8, 0.95, "t"), 1.0, above=False) == "holds"
    # One seed: the estimate decides; on the line it is a tie.
    assert verdict(Interval(0.2, math.nan, math.nan, "none"), 0.0, above=True) == "holds"
    assert verdict(Interval(0.0, math.nan, math.nan, "none"), 0.0, above=True) == "tie"


def test_a_ratio_interval_is_the_geometric_mean_of_the_seeds_ratios() -> None:
    interval = ratio_interval([8.0, 2.0], [1.0, 1.0], np.random.default_rng(0))
    assert interval.estimate == pytest.approx(4.0)
    assert interval.low < 4.0 < interval.high
    with pytest.raises(ValueError, match="positive"):
        ratio_interval([0.0], [1.0], np.random.default_rng(0))
