"""Estimates over replications, and intervals that stay within what a metric can be.

A metric has a documented range (`Bounds`: a drop ratio or an availability lies in
[0, 1], a time or a count in [0, ∞)). Mean ± a Student-t half width ignores it, and over
a few seeds puts an availability above 1 or a duration below 0. So `mean_interval`
chooses the interval from the range: Student's t only for a metric unbounded on both
sides; for any other, the bootstrap of the mean (BCa: bias-corrected and accelerated,
Efron 1987; the percentile interval where BCa is undefined), whose ends are means of
resampled seeds and so lie within the seeds' own values, hence within the range. Its
resamples come from a generator the caller names (`sim.core.streams`), so an interval is
the same in any process. A share of counts pooled over runs (requests dropped of
requests) takes Wilson's interval (`wilson_interval`).

The bootstrap is not magic at a handful of seeds: with 3 values its interval is about
their range and covers the mean less often than 95 % (the percentile bootstrap's known
undercoverage for small n; Davison & Hinkley, "Bootstrap Methods and their Application",
1997, §5.3). Noisy metrics need 20-30 seeds, which the studies say where they use them.

`paired_interval` compares two configurations seed by seed (common random numbers: the
same seed gives both the same arrivals and draws), and `verdict` says whether a claim
about their difference holds, flips, or is a tie against the seeds' noise.

Every table of means over seeds in the studies uses these, so an interval means the same
wherever it is shown.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

# Two-sided 95 % quantiles of Student's t by degrees of freedom (1-30); beyond, normal.
_T_975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


def t_975(degrees_of_freedom: int) -> float:
    """The 97.5 % quantile of Student's t (the factor of a two-sided 95 % interval)."""
    if degrees_of_freedom < 1:
        return math.nan
    if degrees_of_freedom <= len(_T_975):
        return _T_975[degrees_of_freedom - 1]
    return 1.960 + 2.4 / degrees_of_freedom


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """The mean of `values` and the half width of its two-sided 95 % confidence interval
    (Student's t, the sample standard deviation); the half width is NaN for one value.

    Raises:
        statistics.StatisticsError: `values` is empty.
    """
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, math.nan
    return mean, t_975(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))


Z_975 = 1.959963984540054
"""The 97.5 % quantile of the standard normal (the factor of a two-sided 95 % interval)."""


def wilson_interval(successes: float, trials: float, z: float = Z_975) -> tuple[float, float]:
    """The Wilson score interval of a proportion `successes / trials` (95 % by default).

    Unlike the normal ("Wald") interval p ± z·sqrt(p(1-p)/n), it stays within [0, 1] and
    does not collapse to a point at p = 0 or p = 1: with no drops in 10,000 requests it
    still says the drop ratio may be up to about 3.8e-4 (E. B. Wilson, "Probable
    inference, the law of succession, and statistical inference", JASA 22, 1927;
    Agresti & Coull, "Approximate is better than 'exact' for interval estimation of
    binomial proportions", The American Statistician 52, 1998).

    It treats every trial as independent. Drops come in bursts (a full queue drops every
    request for a while), so over requests the interval is a lower bound on the
    uncertainty; over runs (a proportion of replications) it is exact in that sense.

    Returns:
        (low, high); (nan, nan) when there are no trials.

    Raises:
        ValueError: successes outside [0, trials].
    """
    if trials <= 0:
        return math.nan, math.nan
    if not 0 <= successes <= trials:
        raise ValueError(f"successes: {successes}: must be within [0, {trials}]")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    # At p = 0 (or 1) the bound is 0 (or 1) exactly; rounding would leave a few ulps.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True, slots=True)
class Bounds:
    """The values a metric can take, ``[low, high]``; either end may be infinite."""

    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"bounds: [{self.low}, {self.high}]: low must not exceed high")

    @property
    def unbounded(self) -> bool:
        """No finite end: Student's t applies."""
        return self.low == -math.inf and self.high == math.inf

    def contains(self, value: float) -> bool:
        """Whether `value` is within the range (NaN is not)."""
        return self.low <= value <= self.high

    def difference(self) -> Bounds:
        """The range of one such metric minus another."""
        return Bounds(self.low - self.high, self.high - self.low)


UNBOUNDED = Bounds()
NON_NEGATIVE = Bounds(0.0)
SHARE = Bounds(0.0, 1.0)

Method = Literal["t", "bca", "percentile", "exact", "none"]


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate and its two-sided 95 % interval, and how the interval was made
    (``exact``: every value equal; ``none``: fewer than two values, NaN ends)."""

    estimate: float
    low: float
    high: float
    method: Method


BOOTSTRAP_RESAMPLES = 4000
"""Resamples of a bootstrap interval: its ends move by well under 1 % of the spread
between two generators at this size (Efron & Tibshirani 1993, §19.3: 1000-2000 for
percentile ends; BCa needs more)."""


def mean_interval(
    values: Sequence[float],
    bounds: Bounds,
    rng: np.random.Generator,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Interval:
    """The mean of `values` and its 95 % interval, chosen by the metric's `bounds`:
    Student's t when unbounded, else the BCa bootstrap (percentile where BCa is
    undefined). Both ends lie within `bounds` whenever the values do.

    Raises:
        ValueError: no values, or a value outside `bounds`.
    """
    if not values:
        raise ValueError("mean_interval: no values")
    outside = [value for value in values if not bounds.contains(value)]
    if outside:
        raise ValueError(f"mean_interval: {outside[0]} is outside [{bounds.low}, {bounds.high}]")
    smallest, largest = min(values), max(values)
    # The mean of values lies within them; clamping only removes the division's rounding.
    mean = min(max(statistics.fmean(values), smallest), largest)
    if len(values) < 2:
        return Interval(mean, math.nan, math.nan, "none")
    if smallest == largest:
        return Interval(smallest, smallest, smallest, "exact")
    if bounds.unbounded:
        _, half = mean_ci(values)
        return Interval(mean, mean - half, mean + half, "t")
    low, high, method = bootstrap_mean_interval(values, rng, resamples)
    return Interval(mean, max(low, smallest), min(high, largest), method)


def bootstrap_mean_interval(
    values: Sequence[float], rng: np.random.Generator, resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, float, Literal["bca", "percentile"]]:
    """The 95 % BCa bootstrap interval of the mean (Efron, "Better bootstrap confidence
    intervals", JASA 82, 1987): the 2.5 % and 97.5 % points of the resampled means,
    moved by the bias correction z0 (the share of resampled means below the mean) and
    the acceleration a (the jackknife means' skewness). Where BCa is undefined (every
    resampled mean on one side, or an acceleration that folds the levels over) it is
    the percentile interval."""
    data = np.asarray(values, dtype=float)
    n = len(data)
    means = data[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    mean = float(data.mean())
    below = (np.count_nonzero(means < mean) + 0.5 * np.count_nonzero(means == mean)) / resamples
    normal = statistics.NormalDist()
    if 0.0 < below < 1.0:
        z0 = normal.inv_cdf(below)
        jackknife = (data.sum() - data) / (n - 1)
        deviations = jackknife.mean() - jackknife
        spread = float(np.sum(deviations**2))
        acceleration = float(np.sum(deviations**3)) / (6.0 * spread**1.5) if spread > 0 else 0.0
        denominators = [1.0 - acceleration * (z0 + z) for z in (-Z_975, Z_975)]
        if all(denominator > 0 for denominator in denominators):
            levels = [
                normal.cdf(z0 + (z0 + z) / denominator)
                for z, denominator in zip((-Z_975, Z_975), denominators, strict=True)
            ]
            low, high = np.quantile(means, levels)
            return float(low), float(high), "bca"
    low, high = np.quantile(means, (0.025, 0.975))
    return float(low), float(high), "percentile"


def paired_interval(
    first: Sequence[float],
    second: Sequence[float],
    bounds: Bounds,
    rng: np.random.Generator,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Interval:
    """The mean of ``first[i] - second[i]`` over seeds and its 95 % interval: a paired
    comparison, which with common random numbers cancels the noise both share.
    `bounds` is the range of one metric; the difference's is derived from it.

    Raises:
        ValueError: the sequences differ in length or are empty.
    """
    if len(first) != len(second):
        raise ValueError(f"paired_interval: {len(first)} values against {len(second)}")
    differences = [a - b for a, b in zip(first, second, strict=True)]
    return mean_interval(differences, bounds.difference(), rng, resamples)


def ratio_interval(
    first: Sequence[float],
    second: Sequence[float],
    rng: np.random.Generator,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Interval:
    """The geometric mean of ``first[i] / second[i]`` over seeds (positive values) and
    its 95 % interval: Student's t on the logs of the ratios (unbounded), taken back.

    Raises:
        ValueError: a value is not positive, or the sequences differ in length.
    """
    if any(value <= 0 for value in (*first, *second)):
        raise ValueError("ratio_interval: the values must be positive")
    logs = paired_interval(
        [math.log(a) for a in first], [math.log(b) for b in second], UNBOUNDED, rng, resamples
    )
    return Interval(
        math.exp(logs.estimate),
        math.exp(logs.low) if not math.isnan(logs.low) else math.nan,
        math.exp(logs.high) if not math.isnan(logs.high) else math.nan,
        logs.method,
    )


Verdict = Literal["holds", "flips", "tie"]


def verdict(interval: Interval, line: float, above: bool) -> Verdict:
    """Whether a claim that a quantity is above (or below) `line` holds against seed
    noise: ``holds`` when its whole 95 % interval is on the claimed side, ``flips`` when
    it is wholly on the other side, else ``tie`` (the seeds cannot tell). A single seed
    has no interval: its estimate alone decides, and a value on the line is a tie."""
    low, high = interval.low, interval.high
    if math.isnan(low) or math.isnan(high):
        low = high = interval.estimate
    if low > line:
        return "holds" if above else "flips"
    if high < line:
        return "flips" if above else "holds"
    return "tie"
