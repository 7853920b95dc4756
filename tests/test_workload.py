"""Arrival processes and request specs: exact replays, counts against the integrated rate.

Counts of a Poisson process in a window are Poisson with mean ∫rate over the window, so
each window's count is checked to lie within 4 standard deviations (√mean) of that
mean, and the total within 3. Seeds are fixed, so the checks are deterministic; with a
correct sampler a window fails with probability about 6e-5.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sim.config.traces import read_trace
from sim.core.distributions import Constant, Exponential, LogNormal
from sim.core.errors import ConfigError
from sim.model.service.arrivals import ArrivalProcess
from sim.model.service.arrivals.constant import ConstantArrivals
from sim.model.service.arrivals.diurnal import DiurnalArrivals
from sim.model.service.arrivals.flash_crowd import FlashCrowdArrivals
from sim.model.service.arrivals.poisson import PoissonArrivals
from sim.model.service.arrivals.trace import TraceRates, TraceTimestamps
from sim.model.service.workload import RequestSpec, parse_request_spec

SEED = 20240611


def _arrivals_until(process: ArrivalProcess, horizon_s: float, start_s: float = 0.0) -> np.ndarray:
    times: list[float] = []
    time_s = process.next_after(start_s)
    while time_s < horizon_s:
        times.append(time_s)
        time_s = process.next_after(time_s)
    return np.array(times)


def _integral(rate: Callable[[float], float], start_s: float, end_s: float) -> float:
    """∫ rate over [start_s, end_s] by the composite Simpson rule on 2,000 panels."""
    grid = np.linspace(start_s, end_s, 2001)
    values = np.array([rate(float(t)) for t in grid])
    step = (end_s - start_s) / 2000
    return float(
        step / 3 * (values[0] + values[-1] + 4 * values[1:-1:2].sum() + 2 * values[2:-1:2].sum())
    )


def _assert_counts_match_rate(process: ArrivalProcess, horizon_s: float, windows: int) -> None:
    times = _arrivals_until(process, horizon_s)
    assert np.all(np.diff(times) > 0)
    edges = np.linspace(0.0, horizon_s, windows + 1)
    counts, _ = np.histogram(times, bins=edges)
    expected = np.array(
        [
            _integral(process.rate_at, float(a), float(b))
            for a, b in zip(edges, edges[1:], strict=False)
        ]
    )
    for count, mean in zip(counts, expected, strict=True):
        assert abs(count - mean) <= 4 * math.sqrt(max(mean, 1.0)), (count, mean)
    assert abs(counts.sum() - expected.sum()) <= 3 * math.sqrt(expected.sum())


def test_constant_arrivals_are_evenly_spaced() -> None:
    process = ConstantArrivals(4.0)
    assert _arrivals_until(process, 2.01).tolist() == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    assert ConstantArrivals(0.0).next_after(3.0) == math.inf
    assert process.rate_at(123.0) == 4.0


def test_poisson_count_and_mean_gap() -> None:
    process = PoissonArrivals(50.0, np.random.default_rng(SEED))
    times = _arrivals_until(process, 200.0)
    assert abs(len(times) - 10_000) <= 3 * math.sqrt(10_000)
    gaps = np.diff(np.concatenate([[0.0], times]))
    assert abs(gaps.mean() - 0.02) <= 3 * 0.02 / math.sqrt(len(gaps))


def test_poisson_gaps_are_the_inverse_transform_of_successive_draws() -> None:
    """One uniform per arrival, in the generator's order, across block boundaries."""
    draws = np.random.default_rng(SEED).random(3000)
    process = PoissonArrivals(2.0, np.random.default_rng(SEED))
    time_s = 10.0
    for draw in draws:
        expected_s = time_s - 0.5 * math.log1p(-draw)
        time_s = process.next_after(time_s)
        assert time_s == expected_s
    assert PoissonArrivals(0.0, np.random.default_rng(1)).next_after(0.0) == math.inf


def test_diurnal_counts_match_integrated_rate() -> None:
    process = DiurnalArrivals(
        peak_per_s=40.0,
        trough_per_s=5.0,
        period_s=100.0,
        peak_at_s=30.0,
        rng=np.random.default_rng(SEED),
    )
    assert process.rate_at(30.0) == pytest.approx(40.0)
    assert process.rate_at(80.0) == pytest.approx(5.0)
    assert process.rate_at(130.0) == pytest.approx(40.0)
    _assert_counts_match_rate(process, horizon_s=400.0, windows=40)


@pytest.mark.parametrize("shape", ["step", "spike", "ramp"])
def test_flash_crowd_counts_match_integrated_rate(shape: str) -> None:
    process = FlashCrowdArrivals(
        base_per_s=10.0,
        peak_per_s=200.0,
        start_s=50.0,
        duration_s=40.0,
        shape=shape,  # type: ignore[arg-type]
        rng=np.random.default_rng(SEED),
    )
    _assert_counts_match_rate(process, horizon_s=150.0, windows=30)


def test_flash_crowd_rates() -> None:
    rng = np.random.default_rng(SEED)
    spike = FlashCrowdArrivals(10.0, 110.0, 50.0, 40.0, "spike", rng)
    assert spike.rate_at(49.9) == 10.0
    assert spike.rate_at(50.0) == 10.0
    assert spike.rate_at(60.0) == pytest.approx(60.0)
    assert spike.rate_at(70.0) == pytest.approx(110.0)
    assert spike.rate_at(80.0) == pytest.approx(60.0)
    assert spike.rate_at(90.0) == 10.0
    step = FlashCrowdArrivals(10.0, 110.0, 50.0, 40.0, "step", rng)
    assert [step.rate_at(t) for t in (49.0, 50.0, 89.9, 90.0)] == [10.0, 110.0, 110.0, 10.0]
    ramp = FlashCrowdArrivals(10.0, 110.0, 50.0, 40.0, "ramp", rng)
    assert [ramp.rate_at(t) for t in (49.9, 50.0, 90.0)] == [10.0, 10.0, 10.0]
    assert ramp.rate_at(60.0) == pytest.approx(35.0)
    assert ramp.rate_at(70.0) == pytest.approx(60.0)
    assert ramp.rate_at(89.9) == pytest.approx(109.75)


def test_trace_rates_counts_and_end() -> None:
    rates = [20.0, 0.0, 80.0, 5.0, 0.0, 40.0]
    process = TraceRates(10.0, rates, np.random.default_rng(SEED), start_s=5.0)
    times = _arrivals_until(process, math.inf)
    counts, _ = np.histogram(times, bins=np.arange(5.0, 66.0, 10.0))
    assert counts[1] == 0 and counts[4] == 0
    for count, rate in zip(counts, rates, strict=True):
        mean = rate * 10.0
        assert abs(count - mean) <= 4 * math.sqrt(max(mean, 1.0))
    assert times.min() >= 5.0 and times.max() < 65.0
    assert process.rate_at(4.0) == 0.0 and process.rate_at(25.0) == 80.0
    assert process.rate_at(65.0) == 0.0


def test_trace_rates_with_inexact_interval_boundaries_terminate() -> None:
    """Boundaries like 0.1 × i are not floats exactly; drawing must still move on."""
    process = TraceRates(0.1, [3.0] * 1000, np.random.default_rng(SEED))
    times = _arrivals_until(process, math.inf)
    assert abs(len(times) - 300) <= 4 * math.sqrt(300)
    assert all(process.rate_at(0.1 * i) == 3.0 for i in range(1000))


def test_trace_timestamps_replay_exactly_with_ties() -> None:
    recorded = [0.0, 0.5, 0.5, 0.5, 2.0, 7.25]
    assert _arrivals_until(TraceTimestamps(recorded), math.inf).tolist() == recorded
    later = TraceTimestamps(recorded)
    assert later.next_after(1.0) == 2.0
    assert later.next_after(2.0) == 7.25
    assert later.next_after(7.25) == math.inf
    assert TraceTimestamps(recorded, rate_window_s=1.0).rate_at(0.75) == 3.0
    with pytest.raises(ValueError):
        TraceTimestamps([1.0, 0.5])


def test_invalid_processes() -> None:
    rng = np.random.default_rng(SEED)
    with pytest.raises(ValueError):
        PoissonArrivals(-1.0, rng)
    with pytest.raises(ValueError):
        DiurnalArrivals(1.0, 2.0, 10.0, 0.0, rng)
    with pytest.raises(ValueError):
        FlashCrowdArrivals(1.0, 2.0, 0.0, 0.0, "step", rng)
    with pytest.raises(ValueError):
        FlashCrowdArrivals(1.0, 2.0, 0.0, 1.0, "wave", rng)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TraceRates(0.0, [1.0], rng)


def test_parse_request_spec() -> None:
    spec = parse_request_spec({"cpu": "50ms", "response_bytes": "20kB"}, "workload.request")
    assert spec == RequestSpec(Constant(0.05), Constant(20_000.0, "number"))
    spec = parse_request_spec(
        {
            "cpu": {"dist": "exponential", "mean": "100ms"},
            "response_bytes": {"dist": "lognormal", "median": "20kB", "sigma": 1.0},
        },
        "workload.request",
    )
    assert spec == RequestSpec(Exponential(0.1), LogNormal(20_000.0, 1.0, unit="number"))
    assert parse_request_spec({"cpu": 1, "response_bytes": 512}, "r").response_bytes == Constant(
        512.0, "number"
    )


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"cpu": "50ms"}, "w.response_bytes"),
        ({"cpu": "50ms", "response_bytes": "20kB", "extra": 1}, "w.extra"),
        ({"cpu": "fast", "response_bytes": "20kB"}, "w.cpu"),
        ({"cpu": "50ms", "response_bytes": "20 kb"}, "w.response_bytes"),
        (
            {"cpu": "50ms", "response_bytes": {"dist": "uniform", "low": "1kB", "high": "x"}},
            "w.response_bytes.high",
        ),
    ],
)
def test_parse_request_spec_errors(spec: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_request_spec(spec, "w")
    assert raised.value.key == key


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "trace.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_read_timestamp_trace(tmp_path: Path) -> None:
    path = _write(tmp_path, "timestamp_s\n0\n0.5\n 0.5 \n\n3\n")
    trace = read_trace(path, "workload.trace")
    assert isinstance(trace, TraceTimestamps)
    assert _arrivals_until(trace, math.inf).tolist() == [0.0, 0.5, 0.5, 3.0]


def test_read_rate_trace(tmp_path: Path) -> None:
    path = _write(tmp_path, "interval_start_s,rate_per_s\n60,10\n120,0\n180,2.5\n")
    trace = read_trace(path, "workload.trace", np.random.default_rng(SEED))
    assert isinstance(trace, TraceRates)
    assert (trace.interval_s, trace.start_s, trace.rates_per_s) == (60.0, 60.0, (10.0, 0.0, 2.5))
    inspected = read_trace(path, "workload.trace")
    assert inspected.rate_at(200.0) == 2.5
    with pytest.raises(RuntimeError):
        inspected.next_after(0.0)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("", 1),
        ("time\n1\n", 1),
        ("timestamp_s\n1\n0.5\n", 3),
        ("timestamp_s\n1\nabc\n", 3),
        ("timestamp_s\n1\n-2\n", 3),
        ("timestamp_s\n1\nnan\n", 3),
        ("timestamp_s\n1,2\n", 2),
        ("interval_start_s,rate_per_s\n0,1\n10,2\n25,3\n", 4),
        ("interval_start_s,rate_per_s\n0,1\n0,2\n", 3),
        ("interval_start_s,rate_per_s\n0,1\n10\n", 3),
        ("interval_start_s,rate_per_s\n0,1\n10,inf\n", 3),
        ("interval_start_s,rate_per_s\n0,1\n", 3),
    ],
)
def test_bad_trace_rows_name_the_line(tmp_path: Path, text: str, line: int) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        read_trace(path, "workload.trace", np.random.default_rng(SEED))
    assert raised.value.key == "workload.trace"
    assert raised.value.value == f"{path}:{line}"


def test_missing_trace_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        read_trace(str(tmp_path / "absent.csv"), "workload.trace")
    assert raised.value.key == "workload.trace"
