"""Request workloads: when requests arrive, and what each one asks of a replica.

An arrival process is a stream of arrival times. `ArrivalProcess.next_after` gives the
arrival that follows one at ``t_s`` (or the start of the run), ``math.inf`` when the
stream has ended; the traffic driver calls it once per request, so a process never holds
more than its own parameters. Random processes draw from the generator they were given
and own it: they use its uniforms in order, one per draw, exactly as successive
``rng.random()`` calls would return them, but fetched in blocks for speed
(`sim.core.uniforms`); so the arrivals are a pure function of the seed.

* `ConstantArrivals`: evenly spaced, for exact tests.
* `PoissonArrivals`: exponential gaps, the open-system default.
* `DiurnalArrivals`, `FlashCrowdArrivals`: non-homogeneous Poisson processes, drawn by
  thinning (Lewis and Shedler, 1979): candidates come from a Poisson process whose rate
  bounds the true one on a time segment, and a candidate at ``t`` is kept with
  probability ``rate_at(t) / bound``. Where the bound equals the rate (a step) every
  candidate is kept and no acceptance draw is taken. A candidate past the end of its
  segment is discarded and drawing restarts at the boundary with the next bound, which
  is exact because Poisson gaps are memoryless.
* `TraceRates`: a piecewise-constant rate from a trace, drawn the same way.
* `TraceTimestamps`: a recorded trace replayed as is, ties included.

`rate_at` gives each process's intensity in requests per second, for plots and tests.

A `RequestSpec` says what one request costs: the CPU seconds it keeps one worker busy
and the bytes of its response.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from sim.core.distributions import Constant, Distribution, parse_distribution
from sim.core.errors import ConfigError
from sim.core.uniforms import BlockUniforms
from sim.core.units import parse_size


class ArrivalProcess(Protocol):
    """A stream of request arrival times, in simulated seconds."""

    def next_after(self, t_s: float) -> float:
        """The arrival following one at `t_s` (or the start at `t_s`); ``math.inf`` at the end.

        Later than `t_s` for generated processes; a replayed trace may repeat `t_s` when
        it recorded several requests at one instant.
        """
        ...

    def rate_at(self, t_s: float) -> float:
        """The arrival intensity at `t_s`, in requests per second."""
        ...


def _check_rate(name: str, rate_per_s: float) -> None:
    if not (rate_per_s >= 0 and math.isfinite(rate_per_s)):
        raise ValueError(f"{name} must be a finite rate of at least 0 per s, not {rate_per_s}")


def _later(candidate_s: float, t_s: float) -> float:
    """`candidate_s`, or the next float after `t_s` when rounding made them equal.

    An exponential gap is 0 with probability 2**-53 and vanishes when added to a large
    time; the stream must still move forward.
    """
    return candidate_s if candidate_s > t_s else math.nextafter(t_s, math.inf)


@dataclass(frozen=True, slots=True)
class ConstantArrivals:
    """One request every ``1 / rate_per_s`` seconds, the first one spacing after the start."""

    rate_per_s: float

    def __post_init__(self) -> None:
        _check_rate("rate_per_s", self.rate_per_s)

    def next_after(self, t_s: float) -> float:
        if self.rate_per_s == 0:
            return math.inf
        return _later(t_s + 1 / self.rate_per_s, t_s)

    def rate_at(self, t_s: float) -> float:
        return self.rate_per_s


class PoissonArrivals:
    """Independent exponential gaps with mean ``1 / rate_per_s``.

    Args:
        rate_per_s: the arrival rate.
        rng: the generator the gaps are drawn from, one uniform per arrival; it
            belongs to this process from now on.
    """

    __slots__ = ("rate_per_s", "_mean_gap_s", "_random")

    def __init__(self, rate_per_s: float, rng: np.random.Generator) -> None:
        _check_rate("rate_per_s", rate_per_s)
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


def _no_generator() -> float:
    raise RuntimeError("this process was built without a generator: it cannot draw arrivals")


class _ThinnedPoisson(ABC):
    """A non-homogeneous Poisson process drawn segment by segment, by thinning.

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
            candidate_s = _later(now_s - math.log1p(-random()) / bound_per_s, now_s)
            if candidate_s >= end_s:
                now_s = end_s
                continue
            if exact or random() * bound_per_s < self.rate_at(candidate_s):
                return candidate_s
            now_s = candidate_s


class DiurnalArrivals(_ThinnedPoisson):
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
        _check_rate("peak_per_s", peak_per_s)
        _check_rate("trough_per_s", trough_per_s)
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


FlashCrowdShape = Literal["step", "spike"]


class FlashCrowdArrivals(_ThinnedPoisson):
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
        shape: ``"step"`` or ``"spike"``.
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
        _check_rate("base_per_s", base_per_s)
        _check_rate("peak_per_s", peak_per_s)
        if not (duration_s > 0 and math.isfinite(duration_s)):
            raise ValueError(f"duration_s must be positive and finite, not {duration_s}")
        if not math.isfinite(start_s):
            raise ValueError(f"start_s must be finite, not {start_s}")
        if shape not in ("step", "spike"):
            raise ValueError(f"shape must be 'step' or 'spike', not {shape!r}")
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
        half_s = self.duration_s / 2
        from_edge_s = min(t_s - self.start_s, self._end_s - t_s)
        return self.base_per_s + (self.peak_per_s - self.base_per_s) * from_edge_s / half_s

    def _segment(self, t_s: float) -> tuple[float, float, bool]:
        if t_s < self.start_s:
            return self.base_per_s, self.start_s, True
        if t_s >= self._end_s:
            return self.base_per_s, math.inf, True
        if self.shape == "step":
            return self.peak_per_s, self._end_s, True
        return max(self.base_per_s, self.peak_per_s), self._end_s, False


class TraceRates(_ThinnedPoisson):
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
            _check_rate("every rate", rate_per_s)
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

    def rate_at(self, t_s: float) -> float:
        """Arrivals in the window of width `rate_window_s` centred on `t_s`, per second."""
        half_s = self.rate_window_s / 2
        count = bisect_left(self.times_s, t_s + half_s) - bisect_left(self.times_s, t_s - half_s)
        return count / self.rate_window_s


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """What one request asks of the replica that serves it.

    Attributes:
        cpu_s: seconds of one worker (one vCPU) the request keeps busy: its service time.
        response_bytes: the size of its response (a distribution with unit
            ``"number"``: a plain count of bytes, not rounded to whole bytes).
    """

    cpu_s: Distribution
    response_bytes: Distribution


REQUEST_KEYS = ("cpu", "response_bytes")

_SIZE_PARAMETERS = ("value", "low", "high", "mean", "sd", "median", "min", "max")


def _sizes_as_bytes(spec: object, key: str) -> object:
    """`spec` with sizes (``20kB``) in place of byte counts: a constant as bytes, and in
    a distribution mapping every parameter but ``dist`` and ``sigma``."""
    if not isinstance(spec, Mapping):
        return parse_size(spec, key)
    return {
        name: parse_size(value, f"{key}.{name}") if name in _SIZE_PARAMETERS else value
        for name, value in spec.items()
    }


def parse_request_spec(spec: Mapping[str, object], key: str) -> RequestSpec:
    """The request a config section describes.

    Args:
        spec: a mapping with ``cpu``, a duration distribution (``50ms``, or
            ``{dist: exponential, mean: 50ms}``), and ``response_bytes``, a size
            (``20kB``, or a bare number of bytes) or a distribution whose parameters are
            sizes (``{dist: lognormal, median: 20kB, sigma: 1.0}``).
        key: the config key of the section, named in errors.

    Raises:
        ConfigError: a missing or unknown key, or a malformed duration, size or
            distribution.
    """
    for name in spec:
        if name not in REQUEST_KEYS:
            raise ConfigError(f"{key}.{name}", spec[name], f"one of {', '.join(REQUEST_KEYS)}")
    for name in REQUEST_KEYS:
        if name not in spec:
            raise ConfigError(f"{key}.{name}", "(missing)", "required")
    cpu_s = parse_distribution(spec["cpu"], f"{key}.cpu", "duration")
    size_key = f"{key}.response_bytes"
    size_spec = _sizes_as_bytes(spec["response_bytes"], size_key)
    if isinstance(size_spec, int):
        return RequestSpec(cpu_s, Constant(float(size_spec), "number"))
    return RequestSpec(cpu_s, parse_distribution(size_spec, size_key, "number"))
