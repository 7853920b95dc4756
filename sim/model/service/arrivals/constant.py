"""``constant``: one request every ``1 / rate_per_s`` seconds; for exact tests."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.core.settings import Kind, setting
from sim.model.service.arrivals._streams import check_rate, later


@dataclass(frozen=True, slots=True)
class ConstantParams:
    rate_per_s: float = setting(minimum=0, doc="requests per second, evenly spaced")


@dataclass(frozen=True, slots=True)
class ConstantArrivals:
    """One request every ``1 / rate_per_s`` seconds, the first one spacing after the start."""

    rate_per_s: float

    def __post_init__(self) -> None:
        check_rate("rate_per_s", self.rate_per_s)

    def next_after(self, t_s: float) -> float:
        if self.rate_per_s == 0:
            return math.inf
        return later(t_s + 1 / self.rate_per_s, t_s)

    def rate_at(self, t_s: float) -> float:
        return self.rate_per_s


def build(params: ConstantParams, rng: np.random.Generator) -> ConstantArrivals:
    return ConstantArrivals(params.rate_per_s)


KIND = Kind("constant", ConstantParams, build, "evenly spaced requests")
