"""Estimates over replications: a mean and its 95 % confidence interval.

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
