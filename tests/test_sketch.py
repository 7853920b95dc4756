"""The quantile sketch: within its stated relative error of numpy's order statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.sketch import QuantileSketch

ACCURACY = 0.01

values_in_range = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False)


def _sketch_of(values: list[float], accuracy: float = ACCURACY) -> QuantileSketch:
    sketch = QuantileSketch(accuracy)
    for value in values:
        sketch.add(value)
    return sketch


def _assert_within(estimate: float, exact: float, accuracy: float) -> None:
    assert abs(estimate - exact) <= accuracy * exact, (estimate, exact)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(values_in_range, min_size=1, max_size=300),
    q=st.floats(min_value=0.0, max_value=1.0),
)
def test_quantile_within_relative_accuracy_of_lower_order_statistic(
    values: list[float], q: float
) -> None:
    # The documented rank, floor(q * (n - 1)). numpy's "lower" method is the same rule but
    # goes through 100 * q, which can round one rank lower (q = 1/3, n = 4 gives 0.999...).
    exact = sorted(values)[math.floor(q * (len(values) - 1))]
    _assert_within(_sketch_of(values).quantile(q), exact, ACCURACY)


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(values_in_range, min_size=1, max_size=200),
    accuracy=st.floats(min_value=0.001, max_value=0.2),
)
def test_any_accuracy_is_honoured(values: list[float], accuracy: float) -> None:
    sketch = _sketch_of(values, accuracy)
    for q in (0.0, 0.5, 0.95, 0.99, 1.0):
        exact = sorted(values)[math.floor(q * (len(values) - 1))]
        _assert_within(sketch.quantile(q), exact, accuracy)


@settings(max_examples=30, deadline=None)
@given(exponent=st.integers(min_value=-8, max_value=8), offset=st.integers(-3, 3))
def test_bucket_boundaries_are_within_accuracy(exponent: int, offset: int) -> None:
    """Values on and next to a bucket edge, where rounding of the logarithm could bite."""
    sketch = QuantileSketch(ACCURACY)
    gamma = (1 + ACCURACY) / (1 - ACCURACY)
    edge = gamma ** (round(exponent * math.log(10) / math.log(gamma)) + offset)
    for value in (math.nextafter(edge, 0.0), edge, math.nextafter(edge, math.inf)):
        single = QuantileSketch(ACCURACY)
        single.add(value)
        sketch.add(value)
        _assert_within(single.quantile(0.5), value, ACCURACY)


def test_large_sample_percentiles() -> None:
    values = np.random.default_rng(7).lognormal(mean=-2.0, sigma=1.5, size=50_000)
    sketch = _sketch_of(values.tolist())
    for q in (0.5, 0.95, 0.99):
        _assert_within(
            sketch.quantile(q), float(np.percentile(values, 100 * q, method="lower")), ACCURACY
        )


def test_memory_is_fixed_by_construction() -> None:
    sketch = QuantileSketch()
    buckets = sketch.buckets
    for value in np.random.default_rng(3).exponential(2.0, size=20_000).tolist():
        sketch.add(value)
    assert sketch.buckets == buckets
    assert sketch.count == 20_000


def test_out_of_range_values() -> None:
    sketch = QuantileSketch(ACCURACY, min_value=1e-3, max_value=1e3)
    for value in (0.0, 0.0, 5.0, 1e6):
        sketch.add(value)
    assert sketch.quantile(0.0) == 0.0
    assert sketch.quantile(0.5) == 0.0
    _assert_within(sketch.quantile(2 / 3), 5.0, ACCURACY)
    assert sketch.quantile(1.0) == 1e6


def test_empty_and_invalid() -> None:
    sketch = QuantileSketch()
    assert math.isnan(sketch.quantile(0.5))
    with pytest.raises(ValueError):
        sketch.add(-1.0)
    with pytest.raises(ValueError):
        sketch.add(math.nan)
    with pytest.raises(ValueError):
        sketch.quantile(1.5)
    with pytest.raises(ValueError):
        QuantileSketch(relative_accuracy=0.0)
    with pytest.raises(ValueError):
        QuantileSketch(min_value=2.0, max_value=1.0)


@given(
    st.lists(values_in_range, min_size=32, max_size=80),
    st.data(),
)
def test_removing_values_added_in_a_batch_leaves_the_sketch_of_the_rest(
    values: list[float], data: st.DataObject
) -> None:
    # A batch of 32 or more is held as pending counts; a removal must find it there.
    gone = data.draw(st.lists(st.sampled_from(range(len(values))), unique=True, max_size=10))
    batched = QuantileSketch(ACCURACY)
    batched.add_many(values)
    for index in gone:
        batched.remove(values[index])
    rest = _sketch_of([v for i, v in enumerate(values) if i not in set(gone)])
    assert batched.count == rest.count
    # The same buckets; only the clamp to the largest value seen may differ (a removed
    # value stays seen), within the sketch's accuracy.
    for q in (0.0, 0.25, 0.5, 0.95, 1.0):
        assert batched.quantile(q) == pytest.approx(rest.quantile(q), rel=2 * ACCURACY)
    with pytest.raises(ValueError, match="never added"):
        QuantileSketch(ACCURACY).remove(values[0])
