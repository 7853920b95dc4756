"""Human units in configs, turned into SI base units: bytes, bytes per second, seconds.

Configs say ``45MB``, ``100 Mbps`` or ``0.57s``; the model works in bytes, bytes per
second and seconds. This module is the one place that converts between the two, and
the one place that says which spellings are accepted.

A small hand parser rather than a units library: pint is a heavy dependency, knows
``Mbps`` only as an alias that is easy to confuse with ``MB/s``, and accepts far more
than a config should (any case, any prefix, arithmetic). Here the tables below are
the whole grammar, and case matters: ``MB`` is megabytes, ``Mb`` is rejected.

Grammar: a decimal number (``45``, ``1.5``, ``.5``; no sign, no exponent: ``1e3MB``
reads like a typo and a config never needs it), optional spaces, a unit. Durations may
also be a sum of parts in decreasing units, ``5min 3s`` or ``1h 2min``, which is what
`format_duration` writes. Numbers are converted exactly (decimal fractions, not binary
floats), so ``0.1 kB`` is exactly 100 bytes.

A bare YAML number (int or float, never bool) is taken in the base unit: bytes, bytes
per second or seconds. A numeric string without a unit (``"45"``) is rejected because
it is ambiguous: it usually means the writer forgot the unit. Zero is allowed; callers
check positivity where they need it.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from fractions import Fraction

from sim.core.errors import ConfigError

SIZE_UNITS: Mapping[str, int] = {
    "B": 1,
    "kB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "TiB": 1024**4,
}
"""Bytes per unit of size."""

BANDWIDTH_UNITS: Mapping[str, Fraction] = {
    "bps": Fraction(1, 8),
    "kbps": Fraction(1000, 8),
    "Mbps": Fraction(1000**2, 8),
    "Gbps": Fraction(1000**3, 8),
    "Tbps": Fraction(1000**4, 8),
    "B/s": Fraction(1),
    "kB/s": Fraction(1000),
    "MB/s": Fraction(1000**2),
    "GB/s": Fraction(1000**3),
    "TB/s": Fraction(1000**4),
    "KiB/s": Fraction(1024),
    "MiB/s": Fraction(1024**2),
    "GiB/s": Fraction(1024**3),
    "TiB/s": Fraction(1024**4),
}
"""Bytes per second per unit of bandwidth; the ``bps`` family counts bits."""

DURATION_UNITS: Mapping[str, Fraction] = {
    "d": Fraction(86400),
    "h": Fraction(3600),
    "min": Fraction(60),
    "s": Fraction(1),
    "ms": Fraction(1, 1000),
    "us": Fraction(1, 1000**2),
}
"""Seconds per unit of duration, largest first."""

SIZE_ALLOWED = (
    "a size: a decimal number without sign or exponent and a unit (B, kB, MB, GB, TB, "
    "KiB, MiB, GiB, TiB), such as 45MB or 1.5GiB; or a plain number of bytes, not negative"
)
BANDWIDTH_ALLOWED = (
    "a bandwidth: a decimal number without sign or exponent and a unit (bits: bps, kbps, "
    "Mbps, Gbps, Tbps; bytes: B/s, kB/s, MB/s, GB/s, TB/s, KiB/s, MiB/s, GiB/s, TiB/s), "
    "such as 100Mbps or 12.5MB/s; or a plain number of bytes per second, not negative"
)
DURATION_ALLOWED = (
    "a duration: a decimal number without sign or exponent and a unit (us, ms, s, min, h, "
    "d; several parts largest first), such as 0.57s, 30s or 5min 3s; or a plain number of "
    "seconds, not negative"
)

# One part of a quantity: an unsigned decimal number, optional spaces, a unit. The unit
# is any run of characters that are not digits, dots or spaces, so that a wrong unit is
# reported as such by the table lookup instead of failing the pattern.
_PART = re.compile(r"\s*(?P<number>[0-9]*\.?[0-9]+)\s*(?P<unit>[^0-9.\s]+)\s*", re.ASCII)


def _quantity_parts(text: str) -> list[tuple[Fraction, str]] | None:
    """Split ``"5min 3s"`` into exact ``(number, unit)`` pairs; None when malformed."""
    parts: list[tuple[Fraction, str]] = []
    position = 0
    while position < len(text):
        match = _PART.match(text, position)
        if match is None:
            return None
        parts.append((Fraction(match["number"]), match["unit"]))
        position = match.end()
    return parts or None


def _plain_number(value: object) -> Fraction | None:
    """The exact value of a bare, finite, non-negative YAML number; None otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        as_int = int(value)
        return Fraction(as_int) if as_int >= 0 else None
    as_float = float(value)
    if not math.isfinite(as_float) or as_float < 0:
        return None
    return Fraction(as_float)


def _single_unit_quantity(
    value: object, key: str, units: Mapping[str, Fraction] | Mapping[str, int], allowed: str
) -> Fraction:
    """The exact value of a bare number or a one-part ``number unit`` string."""
    plain = _plain_number(value)
    if plain is not None:
        return plain
    if not isinstance(value, str):
        raise ConfigError(key, value, allowed)
    parts = _quantity_parts(value)
    if parts is None or len(parts) != 1 or parts[0][1] not in units:
        raise ConfigError(key, value, allowed)
    number, unit = parts[0]
    return number * units[unit]


def _finite_float(exact: Fraction, value: object, key: str, allowed: str) -> float:
    """`exact` as a float, rejecting values too large for one."""
    try:
        result = float(exact)
    except OverflowError:
        raise ConfigError(key, value, allowed) from None
    if not math.isfinite(result):
        raise ConfigError(key, value, allowed)
    return result


def parse_size(value: object, key: str) -> int:
    """A size in bytes, rounded to the nearest byte (halves round up).

    Args:
        value: ``"45MB"``, ``"1.5 GiB"``, or a bare number of bytes.
        key: the config key, named in the error.

    Raises:
        ConfigError: for anything but a non-negative size with a known unit.
    """
    exact = _single_unit_quantity(value, key, SIZE_UNITS, SIZE_ALLOWED)
    return math.floor(exact + Fraction(1, 2))


def parse_bandwidth(value: object, key: str) -> float:
    """A bandwidth in bytes per second; ``Mbps`` and friends count bits.

    Args:
        value: ``"100Mbps"``, ``"12.5 MB/s"``, or a bare number of bytes per second.
        key: the config key, named in the error.

    Raises:
        ConfigError: for anything but a non-negative bandwidth with a known unit.
    """
    exact = _single_unit_quantity(value, key, BANDWIDTH_UNITS, BANDWIDTH_ALLOWED)
    return _finite_float(exact, value, key, BANDWIDTH_ALLOWED)


def parse_duration(value: object, key: str) -> float:
    """A duration in seconds.

    Args:
        value: ``"0.57s"``, ``"250 ms"``, a sum in decreasing units such as
            ``"1h 2min"``, or a bare number of seconds.
        key: the config key, named in the error.

    Raises:
        ConfigError: for anything but a non-negative duration with known units.
    """
    plain = _plain_number(value)
    if plain is not None:
        return float(plain)
    if not isinstance(value, str):
        raise ConfigError(key, value, DURATION_ALLOWED)
    parts = _quantity_parts(value)
    if parts is None:
        raise ConfigError(key, value, DURATION_ALLOWED)
    total = Fraction(0)
    previous_unit_s: Fraction | None = None
    for number, unit in parts:
        unit_s = DURATION_UNITS.get(unit)
        # Strictly decreasing units keep "1s 2h" and "3s 4s" out: both are typos.
        if unit_s is None or (previous_unit_s is not None and unit_s >= previous_unit_s):
            raise ConfigError(key, value, DURATION_ALLOWED)
        total += number * unit_s
        previous_unit_s = unit_s
    return _finite_float(total, value, key, DURATION_ALLOWED)


def _three_significant(value: float) -> str:
    """`value` rounded to three significant digits, without trailing zeros.

    Values of 1000 and more keep all their integer digits rather than switching to an
    exponent: only the largest unit of a scale ever shows them.
    """
    if value == 0:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{round(value, decimals):.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _rounded_three_significant(value: float) -> float:
    """The number `_three_significant` shows, as a float."""
    return float(_three_significant(value))


def _format_scaled(amount: float, scale: tuple[tuple[str, float], ...]) -> str:
    """`amount` in the largest unit of `scale` that shows at least 1, three digits."""
    if not math.isfinite(amount):
        return f"{amount} {scale[0][0]}"
    sign = "-" if amount < 0 else ""
    magnitude = abs(amount)
    unit, per_unit = scale[0]
    for candidate, candidate_per_unit in reversed(scale):
        # Compare after rounding so 999,999 B reads "1 MB", not "1000 kB".
        if _rounded_three_significant(magnitude / candidate_per_unit) >= 1:
            unit, per_unit = candidate, candidate_per_unit
            break
    return f"{sign}{_three_significant(magnitude / per_unit)} {unit}"


_SIZE_SCALE: tuple[tuple[str, float], ...] = (
    ("B", 1.0),
    ("kB", 1e3),
    ("MB", 1e6),
    ("GB", 1e9),
    ("TB", 1e12),
)
_BIT_RATE_SCALE: tuple[tuple[str, float], ...] = (
    ("bps", 1.0),
    ("kbps", 1e3),
    ("Mbps", 1e6),
    ("Gbps", 1e9),
    ("Tbps", 1e12),
)


def format_size(size_bytes: float) -> str:
    """A size for people: decimal SI units, three significant digits (``"1.23 GB"``).

    `parse_size` reads the result back within 0.5 % (plus half a byte).
    """
    return _format_scaled(size_bytes, _SIZE_SCALE)


def format_bandwidth(bytes_per_s: float) -> str:
    """A bandwidth for people, in bits per second as links are sold (``"1 Gbps"``).

    Three significant digits; `parse_bandwidth` reads the result back within 0.5 %.
    """
    return _format_scaled(bytes_per_s * 8, _BIT_RATE_SCALE)


def format_duration(seconds: float) -> str:
    """A duration for people: ``"0.57 s"``, ``"12.3 s"``, ``"5 min 3 s"``, ``"1 h 2 min"``.

    Below a minute: three significant digits, in us below 1 ms and in ms below 10 ms.
    From a minute on, two units: minutes and whole seconds, hours and whole minutes,
    days and whole hours. `parse_duration` reads the result back within 0.5 % below a
    minute, 0.9 % below a day (half a second in a minute, half a minute in an hour) and
    2.1 % from a day on (half an hour in a day).
    """
    if not math.isfinite(seconds):
        return f"{seconds} s"
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds == 0:
        return "0 s"
    # Each test compares the rounded number, so 59.97 s reads "1 min", not "60 s".
    if _rounded_three_significant(seconds * 1e3) < 1:
        return f"{_three_significant(seconds * 1e6)} us"
    if _rounded_three_significant(seconds * 1e2) < 1:
        return f"{_three_significant(seconds * 1e3)} ms"
    if _rounded_three_significant(seconds) < 60:
        return f"{_three_significant(seconds)} s"
    whole_s = round(seconds)
    if whole_s < 3600:
        return _two_units(*divmod(whole_s, 60), "min", "s")
    whole_min = round(seconds / 60)
    if whole_min < 24 * 60:
        return _two_units(*divmod(whole_min, 60), "h", "min")
    return _two_units(*divmod(round(seconds / 3600), 24), "d", "h")


def _two_units(big_count: int, small_count: int, big_unit: str, small_unit: str) -> str:
    """``"5 min 3 s"``, or ``"5 min"`` when the smaller unit has nothing to add."""
    if small_count == 0:
        return f"{big_count} {big_unit}"
    return f"{big_count} {big_unit} {small_count} {small_unit}"


_MILLI_CPU = re.compile(r"(\d+(?:\.\d*)?|\.\d+)m")
CPU_ALLOWED = "a vCPU count: a number (0.07) or millicores (70m)"


def parse_cpu(value: object, key: str) -> float:
    """A CPU quantity in vCPUs, written as Kubernetes does: a bare number of vCPUs
    (``0.5``) or millicores (``"70m"`` is 0.07 vCPU).

    Raises:
        ConfigError: for anything but a non-negative number or millicores.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and (match := _MILLI_CPU.fullmatch(value.strip())):
        number = float(Fraction(match.group(1)) / 1000)
    else:
        raise ConfigError(key, value, CPU_ALLOWED)
    if not math.isfinite(number) or number < 0:
        raise ConfigError(key, value, CPU_ALLOWED)
    return number
