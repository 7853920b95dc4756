"""What the arrival kinds share: rate checks and drawing by thinning."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from sim.core.uniforms import BlockUniforms


def check_rate(name: str, rate_per_s: float) -> None:
    """Refuse a rate that is negative or not finite (a programming error: configs are
    checked by the parameter classes).

    Raises:
        ValueError: naming the argument.
    """
    if not (rate_per_s >= 0 and math.isfinite(rate_per_s)):
        raise ValueError(f"{name} must be a finite rate of at least 0 per s, not {rate_per_s}")


def later(candidate_s: float, t_s: float) -> float:
    """`candidate_s`, or the next float after `t_s` when rounding made them equal.

    An exponential gap is 0 with probability 2**-53 and vanishes when added to a large
    time; the stream must still move forward.
    """
    return candidate_s if candidate_s > t_s else math.nextafter(t_s, math.inf)


def _no_generator() -> float:
    raise RuntimeError("this process was built without a generator: it cannot draw arrivals")


class ThinnedPoisson(ABC):
    """A non-homogeneous Poisson process drawn segment by segment, by thinning.

    Thinning (Lewis and Shedler, 1979): candidates come from a Poisson process whose
    rate bounds the true one on a time segment, and a candidate at ``t`` is kept with
    probability ``rate_at(t) / bound``. Where the bound equals the rate (a step) every
    candidate is kept and no acceptance draw is taken. A candidate past the end of its
    segment is discarded and drawing restarts at the boundary with the next bound, which
    is exact because Poisson gaps are memoryless.

    Subclasses give `rate_at` and `_segment`: a rate bound valid from a time to the end
    of its segment, and whether the bound is the rate itself there.
    """

    __slots__ = ("_random",)

    def __init__(self, rng: np.random.Generator | None) -> None:
        self._random = _no_generator if rng is None else BlockUniforms(rng).random

    @abstractmethod
    def rate_at(self, t_s: float) -> float:
        """The arrival rate at `t_s`, per second."""

    @abstractmethod
    def _segment(self, t_s: float) -> tuple[float, float, bool]:
        """``(bound_per_s, end_s, exact)``: ``rate_at <= bound_per_s`` on ``[t_s, end_s)``,
        with equality everywhere on it when `exact`; ``end_s > t_s``."""

    def next_after(self, t_s: float) -> float:
        random = self._random
        now_s = t_s
        while True:
            bound_per_s, end_s, exact = self._segment(now_s)
            if bound_per_s <= 0:
                if end_s == math.inf:
                    return math.inf
                now_s = end_s
                continue
            candidate_s = later(now_s - math.log1p(-random()) / bound_per_s, now_s)
            if candidate_s >= end_s:
                now_s = end_s
                continue
            if exact or random() * bound_per_s < self.rate_at(candidate_s):
                return candidate_s
            now_s = candidate_s
