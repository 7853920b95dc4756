"""Estimates over replications: a mean and its 95 % confidence interval, and the Wilson
interval of a proportion (which, unlike mean ± half width, stays within [0, 1]).

Every table of means over seeds (sweeps, studies, sim-plan, the experiments) uses these,
so an interval means the same wherever it is shown.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

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
