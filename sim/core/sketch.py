"""Quantiles of a long stream in constant memory: a logarithmic-bucket sketch.

Latency percentiles over millions of requests cannot keep every sample. The sketch
keeps one counter per logarithmic bucket instead, in the manner of DDSketch (Masson,
Rim and Lee, VLDB 2019): with ``gamma = (1 + a) / (1 - a)``, bucket ``i`` holds the
values in ``(gamma**(i - 1), gamma**i]`` and answers with ``2 gamma**i / (gamma + 1)``,
which is within a relative error ``a`` of every value in the bucket.

Guarantee: for a sample of ``n`` values, `QuantileSketch.quantile` (q) is within a
relative error of `relative_accuracy` (1 % by default) of the sample's order statistic
of 0-based rank ``floor(q * (n - 1))`` — numpy's ``percentile(..., method="lower")`` —
whenever that value lies in ``[min_value, max_value]``. Values below `min_value` (zero
included) are counted in one bucket reported as 0; values above `max_value` in one
bucket reported as the largest value seen. The buckets are fixed at construction (2,076
counters for the default 1 ns to 10⁹ s at 1 %), so memory does not depend on how many
values are added.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ROUNDING_MARGIN = 1e-9
"""Relative amount by which the bucket width is narrowed below the stated accuracy, so a
value that floating-point rounding puts in the neighbouring bucket is still within it."""


class QuantileSketch:
    """Counts of values in logarithmic buckets, for quantiles with bounded relative error.

    Args:
        relative_accuracy: the largest relative error of a quantile, in (0, 1).
        min_value: the smallest value answered to that accuracy; smaller ones read as 0.
        max_value: the largest value answered to that accuracy.
    """

    def __init__(
        self, relative_accuracy: float = 0.01, min_value: float = 1e-9, max_value: float = 1e9
    ) -> None:
        if not 0 < relative_accuracy < 1:
            raise ValueError(f"relative accuracy must be in (0, 1), not {relative_accuracy}")
        if not 0 < min_value < max_value < math.inf:
            raise ValueError(f"need 0 < min_value < max_value < inf, not {min_value}, {max_value}")
        self.relative_accuracy = relative_accuracy
        self.min_value = min_value
        self.max_value = max_value
        accuracy = relative_accuracy * (1 - ROUNDING_MARGIN)
        self._gamma = (1 + accuracy) / (1 - accuracy)
        self._inverse_log_gamma = 1 / math.log(self._gamma)
        self._offset = self._bucket_key(min_value)
        # Bucket 0 is for values below min_value, the last one for those above max_value.
        self._counts: list[float] = [0] * (self._bucket_key(max_value) - self._offset + 3)
        self._overflow_index = len(self._counts) - 1
        self.count: float = 0
        self.min_seen = math.inf
        self.max_seen = -math.inf

    def _bucket_key(self, value: float) -> int:
        return math.ceil(math.log(value) * self._inverse_log_gamma)

    @property
    def buckets(self) -> int:
        """How many counters the sketch keeps (fixed at construction)."""
        return len(self._counts)

    def add(self, value: float) -> None:
        """Count one value (non-negative; NaN is rejected)."""
        if value < self.min_value:
            if not value >= 0:
                raise ValueError(f"the sketch takes non-negative values, not {value}")
            index = 0
        elif value > self.max_value:
            index = self._overflow_index
        else:
            index = math.ceil(math.log(value) * self._inverse_log_gamma) - self._offset + 1
        self._counts[index] += 1
        self.count += 1
        if value < self.min_seen:
            self.min_seen = value
        if value > self.max_seen:
            self.max_seen = value

    def add_many(
        self,
        values: Sequence[float] | np.ndarray,
        weights: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        """Count several values at once, as `add` one by one would (vectorised).

        With `weights`, value ``i`` counts ``weights[i]`` times, a fraction included (the
        fluid traffic mode adds expected numbers of requests); `count` is then their sum.
        """
        if weights is None and len(values) < 32:
            for value in values:
                self.add(value)
            return
        array = np.asarray(values, dtype=float)
        if weights is not None:
            weight_array = np.asarray(weights, dtype=float)
            if not (weight_array >= 0).all():
                raise ValueError("the sketch takes non-negative weights")
            array, weight_array = array[weight_array > 0], weight_array[weight_array > 0]
        if not len(array):
            return
        if not (array >= 0).all():
            bad = array[~(array >= 0)][0]
            raise ValueError(f"the sketch takes non-negative values, not {bad}")
        indices = np.zeros(len(array), dtype=np.int64)
        above = array > self.max_value
        inside = (array >= self.min_value) & ~above
        indices[above] = self._overflow_index
        indices[inside] = (
            np.ceil(np.log(array[inside]) * self._inverse_log_gamma).astype(np.int64)
            - self._offset
            + 1
        )
        if weights is None:
            buckets, counts = np.unique(indices, return_counts=True)
            for bucket, count in zip(buckets.tolist(), counts.tolist(), strict=True):
                self._counts[bucket] += count
            self.count += len(array)
        else:
            sums = np.bincount(indices, weights=weight_array)
            for bucket in np.flatnonzero(sums).tolist():
                self._counts[bucket] += float(sums[bucket])
            self.count += float(weight_array.sum())
        self.min_seen = min(self.min_seen, float(array.min()))
        self.max_seen = max(self.max_seen, float(array.max()))

    def merge(self, other: QuantileSketch) -> None:
        """Count the values `other` counted too (a sketch of the same buckets)."""
        if (other.relative_accuracy, other.min_value, other.max_value) != (
            self.relative_accuracy,
            self.min_value,
            self.max_value,
        ):
            raise ValueError("only sketches of the same buckets merge")
        self._counts = [a + b for a, b in zip(self._counts, other._counts, strict=True)]
        self.count += other.count
        self.min_seen = min(self.min_seen, other.min_seen)
        self.max_seen = max(self.max_seen, other.max_seen)

    def copy(self) -> QuantileSketch:
        """An independent sketch with the same counts."""
        twin = QuantileSketch(self.relative_accuracy, self.min_value, self.max_value)
        twin.merge(self)
        return twin

    def quantile(self, q: float) -> float:
        """The `q`-quantile (0 ≤ q ≤ 1) of the values added; NaN when there are none.

        Within `relative_accuracy` of the value of rank ``floor(q × (count − 1))``,
        clamped to the smallest and largest values seen.
        """
        if not 0 <= q <= 1:
            raise ValueError(f"quantile must be in [0, 1], not {q}")
        if self.count == 0:
            return math.nan
        rank = math.floor(q * (self.count - 1))
        index = 0
        seen = self._counts[0]
        while seen <= rank:
            index += 1
            seen += self._counts[index]
        if index == 0:
            estimate = 0.0
        elif index == self._overflow_index:
            estimate = self.max_seen
        else:
            key = index - 1 + self._offset
            estimate = 2 * self._gamma**key / (self._gamma + 1)
        return min(max(estimate, self.min_seen), self.max_seen)
