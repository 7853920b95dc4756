"""``trace``: a recorded workload replayed: request times, or a rate per interval.

The file is read while the config is read (`sim.config.traces`): the model opens no files, and
a bad row is a config error before anything runs. Its ``path`` is looked up in the
working folder, then beside the workload presets.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.core.settings import Kind, setting
from sim.model.service.arrivals._streams import ThinnedPoisson, check_rate


class TraceRates(ThinnedPoisson):
    """Poisson arrivals at a recorded rate that is constant within each interval.

    Interval ``i`` covers ``[start_s + i × interval_s, start_s + (i + 1) × interval_s)``
    at ``rates_per_s[i]``; the rate is 0 before the first interval and after the last,
    so the stream ends there.

    Args:
        interval_s: the length of every interval.
        rates_per_s: the rate in each interval.
        rng: the generator the gaps are drawn from; None for a trace that is only
            inspected (`rate_at`), whose `next_after` then raises RuntimeError.
        start_s: when the first interval begins.
    """

    __slots__ = ("interval_s", "rates_per_s", "start_s", "_end_s")

    def __init__(
        self,
        interval_s: float,
        rates_per_s: Sequence[float],
        rng: np.random.Generator | None,
        start_s: float = 0.0,
    ) -> None:
        if not (interval_s > 0 and math.isfinite(interval_s)):
            raise ValueError(f"interval_s must be positive and finite, not {interval_s}")
        for rate_per_s in rates_per_s:
            check_rate("every rate", rate_per_s)
        super().__init__(rng)
        self.interval_s = interval_s
        self.rates_per_s = tuple(float(rate) for rate in rates_per_s)
        self.start_s = start_s
        self._end_s = start_s + interval_s * len(self.rates_per_s)

    def _interval_index(self, t_s: float) -> int:
        """The interval `t_s` lies in, robust to rounding at the boundaries."""
        index = math.floor((t_s - self.start_s) / self.interval_s)
        if self.start_s + (index + 1) * self.interval_s <= t_s:
            index += 1
        elif index > 0 and self.start_s + index * self.interval_s > t_s:
            index -= 1
        return index

    def rate_at(self, t_s: float) -> float:
        if not self.start_s <= t_s < self._end_s:
            return 0.0
        index = self._interval_index(t_s)
        return self.rates_per_s[index] if 0 <= index < len(self.rates_per_s) else 0.0

    def next_change_after(self, t_s: float) -> float:
        """The end of the interval `t_s` lies in (the first one's start before it)."""
        end_s = self._segment(t_s)[1]
        return end_s if end_s > t_s else math.nextafter(t_s, math.inf)

    def _segment(self, t_s: float) -> tuple[float, float, bool]:
        if t_s < self.start_s:
            return 0.0, self.start_s, True
        index = self._interval_index(t_s)
        if index >= len(self.rates_per_s) or t_s >= self._end_s:
            return 0.0, math.inf, True
        end_s = min(self.start_s + (index + 1) * self.interval_s, self._end_s)
        return self.rates_per_s[index], end_s, True


class TraceTimestamps:
    """A recorded list of arrival times, replayed exactly, in order.

    The object keeps its place in the trace, so one replay needs one object.
    `next_after` (t) returns the next timestamp not yet replayed that is not before
    `t_s`: equal timestamps come out one per call, as several requests at one instant.

    Args:
        times_s: arrival times in seconds from the start of the run, non-decreasing.
        rate_window_s: the width of the window `rate_at` counts arrivals in.
    """

    __slots__ = ("times_s", "rate_window_s", "_next_index")

    def __init__(self, times_s: Sequence[float], rate_window_s: float = 1.0) -> None:
        times = tuple(float(time_s) for time_s in times_s)
        for earlier_s, later_s in zip(times, times[1:], strict=False):
            if later_s < earlier_s:
                raise ValueError(f"trace times must not decrease: {later_s} after {earlier_s}")
        if times and not (times[0] >= 0 and math.isfinite(times[-1])):
            raise ValueError("trace times must be finite and not negative")
        if not rate_window_s > 0:
            raise ValueError(f"rate_window_s must be positive, not {rate_window_s}")
        self.times_s = times
        self.rate_window_s = rate_window_s
        self._next_index = 0

    def next_after(self, t_s: float) -> float:
        times, index = self.times_s, self._next_index
        if index < len(times) and times[index] < t_s:
            index = bisect_left(times, t_s, lo=index)
        if index >= len(times):
            self._next_index = index
            return math.inf
        self._next_index = index + 1
        return times[index]

    def times_before(self, t_s: float) -> Sequence[float]:
        """The recorded times strictly before `t_s` (requests before traffic starts)."""
        return self.times_s[: bisect_left(self.times_s, t_s)]

    def next_change_after(self, t_s: float) -> float:
        """The next multiple of `rate_window_s`: the rate is read per window, so a burst
        of requests is a piece of its own in the fluid mode (none after the last one)."""
        if not self.times_s or t_s >= self.times_s[-1]:
            return math.inf
        following_s = (math.floor(t_s / self.rate_window_s) + 1) * self.rate_window_s
        return following_s if following_s > t_s else math.nextafter(t_s, math.inf)

    def rate_at(self, t_s: float) -> float:
        """Arrivals in the window of width `rate_window_s` centred on `t_s`, per second."""
        half_s = self.rate_window_s / 2
        count = bisect_left(self.times_s, t_s + half_s) - bisect_left(self.times_s, t_s - half_s)
        return count / self.rate_window_s


@dataclass(frozen=True, slots=True)
class TraceParams:
    path: str = setting(doc="a CSV file: timestamp_s, or interval_start_s,rate_per_s")
    loaded: TraceTimestamps | TraceRates | None = setting(
        None, derived=True, doc="the file's contents, read with the config"
    )


def build(params: TraceParams, rng: np.random.Generator) -> TraceTimestamps | TraceRates:
    """A fresh replay of the trace read with the config."""
    loaded = params.loaded
    if isinstance(loaded, TraceTimestamps):
        return TraceTimestamps(loaded.times_s, loaded.rate_window_s)
    if isinstance(loaded, TraceRates):
        return TraceRates(loaded.interval_s, loaded.rates_per_s, rng, start_s=loaded.start_s)
    raise ValueError(f"the trace {params.path} was not read with the config")


KIND = Kind("trace", TraceParams, build, "a recorded trace replayed")
