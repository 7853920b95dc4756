"""``poisson``: independent exponential gaps, the open-system default."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.core.settings import Kind, setting
from sim.core.uniforms import BlockUniforms
from sim.model.service.arrivals._streams import check_rate


@dataclass(frozen=True, slots=True)
class PoissonParams:
    rate_per_s: float = setting(minimum=0, doc="mean requests per second")


class PoissonArrivals:
    """Independent exponential gaps with mean ``1 / rate_per_s``.

    Args:
        rate_per_s: the arrival rate.
        rng: the generator the gaps are drawn from, one uniform per arrival; it
            belongs to this process from now on.
    """

    __slots__ = ("rate_per_s", "_mean_gap_s", "_random")

    def __init__(self, rate_per_s: float, rng: np.random.Generator) -> None:
        check_rate("rate_per_s", rate_per_s)
        self.rate_per_s = rate_per_s
        self._mean_gap_s = 1 / rate_per_s if rate_per_s > 0 else math.inf
        self._random = BlockUniforms(rng).random

    def next_after(self, t_s: float) -> float:
        if self._mean_gap_s == math.inf:
            return math.inf
        # 1 - u lies in (0, 1], so the logarithm is finite.
        candidate_s = t_s - self._mean_gap_s * math.log1p(-self._random())
        return candidate_s if candidate_s > t_s else math.nextafter(t_s, math.inf)

    def rate_at(self, t_s: float) -> float:
        return self.rate_per_s


def build(params: PoissonParams, rng: np.random.Generator) -> PoissonArrivals:
    return PoissonArrivals(params.rate_per_s, rng)


KIND = Kind("poisson", PoissonParams, build, "Poisson arrivals at a steady rate")
