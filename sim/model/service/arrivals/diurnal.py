"""``diurnal``: a daily cycle, a sinusoidal rate between a trough and a peak."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.core.errors import ConfigError
from sim.core.settings import Kind, setting
from sim.model.service.arrivals._streams import ThinnedPoisson, check_rate


@dataclass(frozen=True, slots=True)
class DiurnalParams:
    peak_per_s: float = setting(minimum=0, doc="the highest rate, at peak_at")
    trough_per_s: float = setting(minimum=0, doc="the lowest rate, half a period away")
    period_s: float = setting(unit="duration", doc="one cycle (1d for a day)")
    peak_at_s: float = setting(unit="duration", doc="a time at which the rate peaks")

    def __post_init__(self) -> None:
        if self.trough_per_s > self.peak_per_s:
            raise ConfigError("trough_per_s", self.trough_per_s, "at most peak_per_s")
        if self.period_s == 0:
            raise ConfigError("period", 0, "a duration above 0")


class DiurnalArrivals(ThinnedPoisson):
    """A daily cycle: a sinusoidal rate between a trough and a peak.

    ``rate(t) = trough + (peak − trough) × (1 + cos(2π (t − peak_at_s) / period_s)) / 2``,
    so the rate is `peak_per_s` at `peak_at_s` (and every period after) and
    `trough_per_s` half a period away. Thinned against the peak rate, so about
    ``2 × peak / (peak + trough)`` candidates are drawn per arrival.

    Args:
        peak_per_s: the highest rate.
        trough_per_s: the lowest rate, at most the peak.
        period_s: the length of one cycle (86,400 s for a day).
        peak_at_s: a time at which the rate peaks.
        rng: the generator candidates and acceptances are drawn from.
    """

    __slots__ = ("peak_per_s", "trough_per_s", "period_s", "peak_at_s")

    def __init__(
        self,
        peak_per_s: float,
        trough_per_s: float,
        period_s: float,
        peak_at_s: float,
        rng: np.random.Generator,
    ) -> None:
        check_rate("peak_per_s", peak_per_s)
        check_rate("trough_per_s", trough_per_s)
        if trough_per_s > peak_per_s:
            raise ValueError(f"trough {trough_per_s}/s is above peak {peak_per_s}/s")
        if not (period_s > 0 and math.isfinite(period_s)):
            raise ValueError(f"period_s must be positive and finite, not {period_s}")
        super().__init__(rng)
        self.peak_per_s = peak_per_s
        self.trough_per_s = trough_per_s
        self.period_s = period_s
        self.peak_at_s = peak_at_s

    def rate_at(self, t_s: float) -> float:
        phase = 2 * math.pi * (t_s - self.peak_at_s) / self.period_s
        swing = self.peak_per_s - self.trough_per_s
        return self.trough_per_s + swing * (1 + math.cos(phase)) / 2

    def _segment(self, t_s: float) -> tuple[float, float, bool]:
        return self.peak_per_s, math.inf, self.peak_per_s == self.trough_per_s


def build(params: DiurnalParams, rng: np.random.Generator) -> DiurnalArrivals:
    return DiurnalArrivals(
        params.peak_per_s, params.trough_per_s, params.period_s, params.peak_at_s, rng
    )


KIND = Kind("diurnal", DiurnalParams, build, "a sinusoidal daily cycle of Poisson arrivals")
