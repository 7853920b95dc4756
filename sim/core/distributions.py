"""Random quantities in configs: a container runtime's start latency, a VM's boot time.

A config gives either a plain value (``30s``: always 30 seconds) or a mapping naming a
distribution and its parameters, e.g. ``{dist: lognormal, median: 0.57s, sigma: 0.25}``
or ``{dist: normal, mean: 40s, sd: 5s, min: 20s}``. `parse_distribution` turns that into
one of the small frozen records below; the model only calls `sample`.

Every sample is drawn by inverse transform from exactly one ``rng.random()`` call, for
every kind, constants included. So a generator stays aligned draw for draw when a config
changes a distribution's kind or parameters, and two runs that differ only there see the
same uniform numbers (common random numbers). numpy's own normal and exponential
samplers use rejection and consume a varying amount of the stream; they are not used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, Protocol

import numpy as np

from sim.core.errors import ConfigError
from sim.core.units import DURATION_ALLOWED, format_duration, parse_duration

Unit = Literal["duration", "number"]

_STANDARD_NORMAL = NormalDist()

KINDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "constant": (("value",), ()),
    "uniform": (("low", "high"), ()),
    "exponential": (("mean",), ()),
    "normal": (("mean", "sd"), ("min", "max")),
    "lognormal": (("median", "sigma"), ("min", "max")),
}
"""Each kind's required and optional config keys, besides ``dist``."""

_MAPPING_EXAMPLE = "a mapping such as {dist: lognormal, median: 0.57s, sigma: 0.25}"


class Distribution(Protocol):
    """A non-negative random quantity in seconds (or a plain number)."""

    def sample(self, rng: np.random.Generator) -> float:
        """One value, drawn from `rng` with exactly one ``rng.random()`` call."""
        ...

    def mean(self) -> float:
        """The analytical mean, clipping included."""
        ...

    def describe(self) -> str:
        """A one-line description for reports, e.g. ``lognormal(median=0.57 s, sigma=0.25)``."""
        ...


def _show(value: float, unit: Unit) -> str:
    """`value` as a report shows it: a duration with its unit, a number plainly."""
    return format_duration(value) if unit == "duration" else f"{value:g}"


def _clip(value: float, minimum: float | None, maximum: float | None) -> float:
    if minimum is not None and value < minimum:
        return minimum
    if maximum is not None and value > maximum:
        return maximum
    return value


def _open_unit_draw(rng: np.random.Generator) -> float:
    """One uniform draw in (0, 1) for an inverse CDF, which is infinite at 0.

    ``rng.random()`` returns exactly 0 with probability 2**-53; that draw is moved to
    2**-54, which keeps the one-draw-per-sample contract at a negligible bias.
    """
    draw = float(rng.random())
    return draw if draw > 0.0 else 2.0**-54


@dataclass(frozen=True, slots=True)
class Constant:
    """Always `value`; still consumes one draw so streams stay aligned."""

    value: float
    unit: Unit = "duration"

    def sample(self, rng: np.random.Generator) -> float:
        rng.random()
        return self.value

    def mean(self) -> float:
        return self.value

    def describe(self) -> str:
        return f"constant({_show(self.value, self.unit)})"


@dataclass(frozen=True, slots=True)
class Uniform:
    """Uniform on [`low`, `high`)."""

    low: float
    high: float
    unit: Unit = "duration"

    def sample(self, rng: np.random.Generator) -> float:
        return self.low + (self.high - self.low) * float(rng.random())

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def describe(self) -> str:
        return f"uniform(low={_show(self.low, self.unit)}, high={_show(self.high, self.unit)})"


@dataclass(frozen=True, slots=True)
class Exponential:
    """Exponential with mean `scale` (numpy's name for it): memoryless waits."""

    scale: float
    unit: Unit = "duration"

    def sample(self, rng: np.random.Generator) -> float:
        # 1 - u lies in (0, 1], so the logarithm is finite.
        return -self.scale * math.log1p(-float(rng.random()))

    def mean(self) -> float:
        return self.scale

    def describe(self) -> str:
        return f"exponential(mean={_show(self.scale, self.unit)})"


@dataclass(frozen=True, slots=True)
class Normal:
    """Normal with mean `mu` and standard deviation `sigma`, clipped to [min, max].

    Clipping, not rejection: a draw below `minimum` becomes `minimum`, so the bounds can
    carry probability mass. `minimum` defaults to 0 because no quantity here is
    negative.
    """

    mu: float
    sigma: float
    minimum: float = 0.0
    maximum: float | None = None
    unit: Unit = "duration"

    def sample(self, rng: np.random.Generator) -> float:
        z = _STANDARD_NORMAL.inv_cdf(_open_unit_draw(rng))
        return _clip(self.mu + self.sigma * z, self.minimum, self.maximum)

    def mean(self) -> float:
        if self.sigma == 0:
            return _clip(self.mu, self.minimum, self.maximum)
        alpha = (self.minimum - self.mu) / self.sigma
        beta = math.inf if self.maximum is None else (self.maximum - self.mu) / self.sigma
        cdf, pdf = _STANDARD_NORMAL.cdf, _STANDARD_NORMAL.pdf
        # E[clip(X)] = a P(X<a) + E[X; a<X<b] + b P(X>b), the middle term in closed form.
        below = self.minimum * cdf(alpha)
        above = 0.0 if self.maximum is None else self.maximum * (1 - cdf(beta))
        inside = self.mu * (cdf(beta) - cdf(alpha)) + self.sigma * (pdf(alpha) - pdf(beta))
        return below + inside + above

    def describe(self) -> str:
        parts = [f"mean={_show(self.mu, self.unit)}", f"sd={_show(self.sigma, self.unit)}"]
        parts.append(f"min={_show(self.minimum, self.unit)}")
        if self.maximum is not None:
            parts.append(f"max={_show(self.maximum, self.unit)}")
        return f"normal({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class LogNormal:
    """``median * exp(sigma * Z)``, Z standard normal, optionally clipped to [min, max].

    The usual model of start latencies: positive, right-skewed, and given by its
    median, which papers report. `sigma` is the shape (the standard deviation of the
    logarithm), dimensionless. Clipping as for `Normal`.
    """

    median: float
    sigma: float
    minimum: float | None = None
    maximum: float | None = None
    unit: Unit = "duration"

    def sample(self, rng: np.random.Generator) -> float:
        z = _STANDARD_NORMAL.inv_cdf(_open_unit_draw(rng))
        return _clip(self.median * math.exp(self.sigma * z), self.minimum, self.maximum)

    def mean(self) -> float:
        if self.sigma == 0:
            return _clip(self.median, self.minimum, self.maximum)
        mu, sigma, cdf = math.log(self.median), self.sigma, _STANDARD_NORMAL.cdf
        low = self.minimum if self.minimum is not None and self.minimum > 0 else None
        alpha = -math.inf if low is None else (math.log(low) - mu) / sigma
        beta = math.inf if self.maximum is None else (math.log(self.maximum) - mu) / sigma
        # E[Y; a<Y<b] = exp(mu + sigma^2/2) (Phi(beta - sigma) - Phi(alpha - sigma)).
        inside = math.exp(mu + sigma**2 / 2) * (cdf(beta - sigma) - cdf(alpha - sigma))
        below = 0.0 if low is None else low * cdf(alpha)
        above = 0.0 if self.maximum is None else self.maximum * (1 - cdf(beta))
        return below + inside + above

    def describe(self) -> str:
        parts = [f"median={_show(self.median, self.unit)}", f"sigma={self.sigma:g}"]
        if self.minimum is not None:
            parts.append(f"min={_show(self.minimum, self.unit)}")
        if self.maximum is not None:
            parts.append(f"max={_show(self.maximum, self.unit)}")
        return f"lognormal({', '.join(parts)})"


NUMBER_ALLOWED = "a plain number, not negative"


def _parse_number(value: object, key: str) -> float:
    """A finite, non-negative int or float (never a bool or a string)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, value, NUMBER_ALLOWED)
    if not math.isfinite(value) or value < 0:
        raise ConfigError(key, value, NUMBER_ALLOWED)
    return float(value)


def _parse_value(value: object, key: str, unit: Unit) -> float:
    return parse_duration(value, key) if unit == "duration" else _parse_number(value, key)


def _flow_mapping(text: str, key: str) -> dict[str, object]:
    """``"{dist: lognormal, median: 8s, sigma: 0.3}"`` as a mapping: a distribution
    written as one value (so a config replaces it whole instead of merging into it).

    Raises:
        ConfigError: text that is not such a flat mapping.
    """
    body = text.strip()
    if not body.endswith("}"):
        raise ConfigError(key, text, _MAPPING_EXAMPLE)
    mapping: dict[str, object] = {}
    for item in filter(None, (part.strip() for part in body[1:-1].split(","))):
        name, colon, raw = item.partition(":")
        if not colon or not name.strip():
            raise ConfigError(key, text, _MAPPING_EXAMPLE)
        word = raw.strip()
        value: object = word
        for number in (int, float):
            try:
                value = number(word)
                break
            except ValueError:
                continue
        mapping[name.strip()] = value
    return mapping


def parse_distribution(spec: object, key: str, unit: Unit = "duration") -> Distribution:
    """The distribution a config describes.

    Args:
        spec: a plain value (``30s``, or ``30`` meaning seconds) for a constant, or a
            mapping with ``dist`` (constant, uniform, exponential, normal, lognormal)
            and that kind's parameters: ``value``; ``low``, ``high``; ``mean``;
            ``mean``, ``sd`` and optional ``min``, ``max``; ``median``, ``sigma`` and
            optional ``min``, ``max``. The mapping may also be written as one string,
            ``"{dist: lognormal, median: 8s, sigma: 0.3}"``.
        key: the config key, prefixed to parameter names in errors (``boot.sigma``).
        unit: ``"duration"`` reads values with `parse_duration`; ``"number"`` takes
            plain non-negative numbers. ``sigma`` is always a plain number.

    Raises:
        ConfigError: unknown kind, missing or extra keys, negative or malformed
            values, low above high, min above max, a median of 0.
    """
    if unit not in ("duration", "number"):
        raise ValueError(f"unit must be 'duration' or 'number', not {unit!r}")
    if isinstance(spec, str) and spec.strip().startswith("{"):
        spec = _flow_mapping(spec, key)
    if not isinstance(spec, Mapping):
        try:
            return Constant(_parse_value(spec, key, unit), unit)
        except ConfigError as error:
            scalar = DURATION_ALLOWED if unit == "duration" else NUMBER_ALLOWED
            raise ConfigError(key, spec, f"{scalar}, or {_MAPPING_EXAMPLE}") from error

    kind = spec.get("dist")
    if not isinstance(kind, str) or kind not in KINDS:
        shown = "(missing)" if "dist" not in spec else kind
        raise ConfigError(f"{key}.dist", shown, f"one of {', '.join(KINDS)}")
    required, optional = KINDS[kind]
    allowed_keys = ("dist", *required, *optional)
    for name in spec:
        if name not in allowed_keys:
            raise ConfigError(
                f"{key}.{name}", spec[name], f"not a parameter of {kind}: {', '.join(allowed_keys)}"
            )
    for name in required:
        if name not in spec:
            raise ConfigError(f"{key}.{name}", "(missing)", f"required by {kind}")

    def value_of(name: str) -> float:
        return _parse_value(spec[name], f"{key}.{name}", unit)

    def optional_value(name: str) -> float | None:
        return value_of(name) if name in spec else None

    return _finite(_build(kind, spec, key, unit, value_of, optional_value), spec, key)


class _ExtremeDraw:
    """A stand-in generator that returns one fixed uniform, to probe a distribution's
    most extreme samples."""

    def __init__(self, draw: float) -> None:
        self._draw = draw

    def random(self) -> float:
        return self._draw


_EXTREME_DRAWS = (0.0, 2.0**-54, 0.5, 1.0 - 2.0**-53)


def _finite(distribution: Distribution, spec: Mapping[str, object], key: str) -> Distribution:
    """`distribution` if its mean and its most extreme samples are finite numbers.

    Raises:
        ConfigError: parameters so large that a sample or the mean overflows.
    """
    try:
        values = [distribution.mean()]
        values += [distribution.sample(_ExtremeDraw(d)) for d in _EXTREME_DRAWS]  # type: ignore[arg-type]
    except (OverflowError, ValueError):
        values = [math.inf]
    if not all(math.isfinite(value) for value in values):
        shown = ", ".join(f"{name}: {value}" for name, value in spec.items())
        raise ConfigError(
            key, "{" + shown + "}", "parameters whose samples and mean are finite numbers"
        )
    return distribution


def _build(
    kind: str,
    spec: Mapping[str, object],
    key: str,
    unit: Unit,
    value_of: Callable[[str], float],
    optional_value: Callable[[str], float | None],
) -> Distribution:
    if kind == "constant":
        return Constant(value_of("value"), unit)
    if kind == "uniform":
        low, high = value_of("low"), value_of("high")
        if high < low:
            raise ConfigError(f"{key}.high", spec["high"], f"at least low ({_show(low, unit)})")
        return Uniform(low, high, unit)
    if kind == "exponential":
        return Exponential(value_of("mean"), unit)

    minimum, maximum = optional_value("min"), optional_value("max")
    if minimum is not None and maximum is not None and maximum < minimum:
        raise ConfigError(f"{key}.max", spec["max"], f"at least min ({_show(minimum, unit)})")
    if kind == "normal":
        normal_minimum = 0.0 if minimum is None else minimum
        return Normal(value_of("mean"), value_of("sd"), normal_minimum, maximum, unit)
    median = value_of("median")
    if median == 0:
        raise ConfigError(f"{key}.median", spec["median"], "a median above 0")
    sigma = _parse_number(spec["sigma"], f"{key}.sigma")
    return LogNormal(median, sigma, minimum, maximum, unit)
