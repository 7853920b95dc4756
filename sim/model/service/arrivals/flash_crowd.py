"""``flash_crowd``: a base rate with a crowd that comes and goes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim.core.errors import ConfigError
from sim.core.settings import Kind, setting
from sim.model.service.arrivals._streams import ThinnedPoisson, check_rate

FlashCrowdShape = Literal["step", "spike", "ramp"]


@dataclass(frozen=True, slots=True)
class FlashCrowdParams:
    base_per_s: float = setting(minimum=0, doc="the rate outside the crowd")
    peak_per_s: float = setting(minimum=0, doc="the rate at the height of the crowd")
    start_s: float = setting(unit="duration", doc="when the crowd begins")
    duration_s: float = setting(unit="duration", doc="how long it lasts")
    shape: FlashCrowdShape = setting(
        doc="step: the peak throughout; spike: up and down; ramp: up, then off at the end"
    )

    def __post_init__(self) -> None:
        if self.duration_s == 0:
            raise ConfigError("duration", 0, "a duration above 0")


class FlashCrowdArrivals(ThinnedPoisson):
    """A base rate with a flash crowd from `start_s` for `duration_s`.

    With shape ``"step"`` the rate jumps to `peak_per_s` for the whole duration. With
    ``"spike"`` it rises linearly from the base to the peak over the first half of the
    duration and falls linearly back over the second half. Outside the crowd, and inside
    a step, the rate is constant and every candidate is kept; inside a spike candidates
    are thinned against the larger of base and peak.

    Args:
        base_per_s: the rate outside the crowd.
        peak_per_s: the rate at the height of the crowd.
        start_s: when the crowd begins.
        duration_s: how long it lasts (positive).
        shape: ``"step"``, ``"spike"`` or ``"ramp"``.
        rng: the generator candidates and acceptances are drawn from.
    """

    __slots__ = ("base_per_s", "peak_per_s", "start_s", "duration_s", "shape", "_end_s")

    def __init__(
        self,
        base_per_s: float,
        peak_per_s: float,
        start_s: float,
        duration_s: float,
        shape: FlashCrowdShape,
        rng: np.random.Generator,
    ) -> None:
        check_rate("base_per_s", base_per_s)
        check_rate("peak_per_s", peak_per_s)
        if not (duration_s > 0 and math.isfinite(duration_s)):
            raise ValueError(f"duration_s must be positive and finite, not {duration_s}")
        if not math.isfinite(start_s):
            raise ValueError(f"start_s must be finite, not {start_s}")
        if shape not in ("step", "spike", "ramp"):
            raise ValueError(f"shape must be 'step', 'spike' or 'ramp', not {shape!r}")
        super().__init__(rng)
        self.base_per_s = base_per_s
        self.peak_per_s = peak_per_s
        self.start_s = start_s
        self.duration_s = duration_s
        self.shape: FlashCrowdShape = shape
        self._end_s = start_s + duration_s

    def rate_at(self, t_s: float) -> float:
        if not self.start_s <= t_s < self._end_s:
            return self.base_per_s
        if self.shape == "step":
            return self.peak_per_s
        if self.shape == "ramp":
            rise = (t_s - self.start_s) / self.duration_s
            return self.base_per_s + (self.peak_per_s - self.base_per_s) * rise
        half_s = self.duration_s / 2
        from_edge_s = min(t_s - self.start_s, self._end_s - t_s)
        return self.base_per_s + (self.peak_per_s - self.base_per_s) * from_edge_s / half_s

    def next_change_after(self, t_s: float) -> float:
        """The crowd's start, its peak (a spike's middle; a ramp peaks at its end) or its
        end, whichever is next."""
        edges = [self.start_s, self._end_s]
        if self.shape == "spike":
            edges.insert(1, self.start_s + self.duration_s / 2)
        return next((edge_s for edge_s in edges if edge_s > t_s), math.inf)

    def _segment(self, t_s: float) -> tuple[float, float, bool]:
        if t_s < self.start_s:
            return self.base_per_s, self.start_s, True
        if t_s >= self._end_s:
            return self.base_per_s, math.inf, True
        if self.shape == "step":
            return self.peak_per_s, self._end_s, True
        return max(self.base_per_s, self.peak_per_s), self._end_s, False


def build(params: FlashCrowdParams, rng: np.random.Generator) -> FlashCrowdArrivals:
    return FlashCrowdArrivals(
        params.base_per_s,
        params.peak_per_s,
        params.start_s,
        params.duration_s,
        params.shape,
        rng,
    )


KIND = Kind(
    "flash_crowd", FlashCrowdParams, build, "a steady rate with a crowd (step, spike or ramp)"
)
