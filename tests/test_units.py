"""Parsing and formatting of sizes, bandwidths and durations."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.errors import ConfigError
from sim.core.units import (
    BANDWIDTH_UNITS,
    DURATION_UNITS,
    SIZE_UNITS,
    format_bandwidth,
    format_duration,
    format_size,
    parse_bandwidth,
    parse_duration,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "size_bytes"),
    [
        ("512B", 512),
        ("1 B", 1),
        ("3kB", 3_000),
        ("45MB", 45_000_000),
        ("45 MB", 45_000_000),
        ("2GB", 2_000_000_000),
        ("1TB", 1_000_000_000_000),
        ("1KiB", 1024),
        ("3 MiB", 3 * 1024**2),
        ("1.5GiB", 1_610_612_736),
        ("2TiB", 2 * 1024**4),
        ("0.1 kB", 100),
        (".5kB", 500),
        ("0MB", 0),
        ("1.0005kB", 1001),
        ("0.4B", 0),
        ("0.5B", 1),
        ("  7 kB  ", 7_000),
    ],
)
def test_parse_size_exact(text: str, size_bytes: int) -> None:
    parsed = parse_size(text, "disk")
    assert parsed == size_bytes
    assert type(parsed) is int


@pytest.mark.parametrize(
    ("text", "bytes_per_s"),
    [
        ("8bps", 1.0),
        ("1 kbps", 125.0),
        ("100Mbps", 12_500_000.0),
        ("1Gbps", 125_000_000.0),
        ("1Tbps", 125_000_000_000.0),
        ("1B/s", 1.0),
        ("2kB/s", 2_000.0),
        ("12.5 MB/s", 12_500_000.0),
        ("1GB/s", 1e9),
        ("1TB/s", 1e12),
        ("1KiB/s", 1024.0),
        ("1MiB/s", 1024.0**2),
        ("1GiB/s", 1024.0**3),
        ("1TiB/s", 1024.0**4),
        ("0.3 B/s", 0.3),
    ],
)
def test_parse_bandwidth_exact(text: str, bytes_per_s: float) -> None:
    assert parse_bandwidth(text, "link") == bytes_per_s


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250us", 0.00025),
        ("100 ms", 0.1),
        ("0.57s", 0.57),
        ("0.3 s", 0.3),
        ("5min", 300.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("5 min 3 s", 303.0),
        ("1h 2min", 3720.0),
        ("1h30min", 5400.0),
        ("1d 1h 1min 1s 1ms 1us", 90061.001001),
    ],
)
def test_parse_duration_exact(text: str, seconds: float) -> None:
    assert parse_duration(text, "boot") == seconds


def test_every_unit_is_in_an_exact_table() -> None:
    """The tables above name every unit the parser knows, so none goes untested."""
    assert set(SIZE_UNITS) == {"B", "kB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"}
    assert set(DURATION_UNITS) == {"us", "ms", "s", "min", "h", "d"}
    assert set(BANDWIDTH_UNITS) == {
        "bps", "kbps", "Mbps", "Gbps", "Tbps",
        "B/s", "kB/s", "MB/s", "GB/s", "TB/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (45_000_000, 45_000_000), (1.4, 1), (1.5, 2), (np.int64(7), 7), (2.0**40, 2**40)],
)
def test_bare_number_is_bytes(value: object, expected: int) -> None:
    assert parse_size(value, "disk") == expected


@pytest.mark.parametrize("parse", [parse_bandwidth, parse_duration])
@pytest.mark.parametrize("value", [0, 3, 2.5, np.float64(0.25)])
def test_bare_number_is_base_unit(parse: Callable[[object, str], float], value: float) -> None:
    parsed = parse(value, "key")
    assert parsed == float(value)
    assert type(parsed) is float


BAD_COMMON = [
    None,
    True,
    False,
    np.bool_(True),
    [],
    ["45MB"],
    {"size": "45MB"},
    b"45MB",
    "",
    "   ",
    "45",
    "4.5",
    -1,
    -0.5,
    math.nan,
    math.inf,
    -math.inf,
    "-5MB",
    "+5MB",
    "-5s",
    "MB",
    "s",
    "1..2MB",
    "1.MB",
    "1e3MB",
    "1E3 s",
    "1_000MB",
    "12 parsecs",
    "5 5MB",
    "\u0665MB",
    "1/2 MB",
]


@pytest.mark.parametrize("value", [*BAD_COMMON, "Mb", "mb", "KB", "kb", "5 MB 3 B", "1 MB/s", "3s"])
def test_parse_size_rejects(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_size(value, "host.disk")
    assert caught.value.key == "host.disk"
    assert caught.value.value is value
    assert "KiB, MiB, GiB, TiB" in caught.value.allowed


@pytest.mark.parametrize("value", [*BAD_COMMON, "5MBps", "5 Mb/s", "5mbps", "5 MB", "5 s"])
def test_parse_bandwidth_rejects(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_bandwidth(value, "link.bandwidth")
    assert caught.value.key == "link.bandwidth"
    assert "Mbps" in caught.value.allowed


@pytest.mark.parametrize(
    "value",
    [*BAD_COMMON, "5 sec", "5m", "5S", "1s 2h", "3s 4s", "1 h 2", "5MB", "5 µs", "1h, 2min"],
)
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_duration(value, "vm.boot")
    assert caught.value.key == "vm.boot"
    assert "min, h, d" in caught.value.allowed


def test_values_too_large_for_a_float_are_rejected() -> None:
    with pytest.raises(ConfigError):
        parse_duration("9" * 400 + "d", "k")
    with pytest.raises(ConfigError):
        parse_bandwidth("9" * 400 + "Tbps", "k")


@pytest.mark.parametrize(
    ("size_bytes", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (999, "999 B"),
        (1000, "1 kB"),
        (999_400, "999 kB"),
        (999_999, "1 MB"),
        (350_000_000, "350 MB"),
        (1_234_567_890, "1.23 GB"),
        (1_500_000_000, "1.5 GB"),
        (2e12, "2 TB"),
        (5e15, "5000 TB"),
        (-2048, "-2.05 kB"),
    ],
)
def test_format_size(size_bytes: float, text: str) -> None:
    assert format_size(size_bytes) == text


@pytest.mark.parametrize(
    ("bytes_per_s", "text"),
    [
        (0, "0 bps"),
        (12.5, "100 bps"),
        (125_000, "1 Mbps"),
        (12_500_000, "100 Mbps"),
        (125_000_000, "1 Gbps"),
        (1.25e9, "10 Gbps"),
        (1e12, "8 Tbps"),
    ],
)
def test_format_bandwidth(bytes_per_s: float, text: str) -> None:
    assert format_bandwidth(bytes_per_s) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (2.5e-7, "0.25 us"),
        (0.00025, "250 us"),
        (0.0052, "5.2 ms"),
        (0.0999, "0.0999 s"),
        (0.57, "0.57 s"),
        (12.34, "12.3 s"),
        (59.9, "59.9 s"),
        (59.97, "1 min"),
        (303, "5 min 3 s"),
        (3599.6, "1 h"),
        (3720, "1 h 2 min"),
        (86399.9, "1 d"),
        (90000, "1 d 1 h"),
        (-1.5, "-1.5 s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


thousandths = st.integers(min_value=0, max_value=10**9)
"""A decimal number with three places, as its count of thousandths."""


def _decimal_text(count_thousandths: int) -> str:
    return f"{count_thousandths // 1000}.{count_thousandths % 1000:03d}"


@given(thousandths, st.sampled_from(sorted(SIZE_UNITS)), st.sampled_from(["", " "]))
def test_parse_size_is_number_times_factor(count: int, unit: str, space: str) -> None:
    exact = Fraction(count, 1000) * SIZE_UNITS[unit]
    parsed = parse_size(f"{_decimal_text(count)}{space}{unit}", "k")
    assert parsed == math.floor(exact + Fraction(1, 2))


@given(thousandths, st.sampled_from(sorted(BANDWIDTH_UNITS)), st.sampled_from(["", " "]))
def test_parse_bandwidth_is_number_times_factor(count: int, unit: str, space: str) -> None:
    expected = float(Fraction(count, 1000) * BANDWIDTH_UNITS[unit])
    assert parse_bandwidth(f"{_decimal_text(count)}{space}{unit}", "k") == expected


@given(thousandths, st.sampled_from(sorted(DURATION_UNITS)), st.sampled_from(["", " "]))
def test_parse_duration_is_number_times_factor(count: int, unit: str, space: str) -> None:
    expected = float(Fraction(count, 1000) * DURATION_UNITS[unit])
    assert parse_duration(f"{_decimal_text(count)}{space}{unit}", "k") == expected


@given(st.floats(min_value=0, max_value=1e18))
def test_size_round_trip_within_half_percent(size_bytes: float) -> None:
    assert abs(parse_size(format_size(size_bytes), "k") - size_bytes) <= 0.005 * size_bytes + 0.5


@given(st.floats(min_value=0, max_value=1e15))
def test_bandwidth_round_trip_within_half_percent(bytes_per_s: float) -> None:
    parsed = parse_bandwidth(format_bandwidth(bytes_per_s), "k")
    assert abs(parsed - bytes_per_s) <= 0.005 * bytes_per_s


@given(st.floats(min_value=0, max_value=1e9))
def test_duration_round_trip_within_stated_rounding(seconds: float) -> None:
    parsed = parse_duration(format_duration(seconds), "k")
    if seconds < 59.95:
        tolerance = 0.005
    elif seconds < 86_400:
        tolerance = 0.009
    else:
        tolerance = 0.021
    assert abs(parsed - seconds) <= tolerance * seconds
