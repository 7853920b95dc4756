"""Random quantities from config specs: parsing, sampling, analytical means."""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.distributions import (
    Constant,
    Distribution,
    Exponential,
    LogNormal,
    Normal,
    Uniform,
    parse_distribution,
)
from sim.core.errors import ConfigError

DRAWS = 20_000
SEED = 20240611


def _samples(distribution: Distribution, seed: int = SEED) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([distribution.sample(rng) for _ in range(DRAWS)])


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("30s", Constant(30.0)),
        (30, Constant(30.0)),
        (0.5, Constant(0.5)),
        ({"dist": "constant", "value": "2min"}, Constant(120.0)),
        ({"dist": "uniform", "low": "1s", "high": "3s"}, Uniform(1.0, 3.0)),
        ({"dist": "uniform", "low": "2s", "high": "2s"}, Uniform(2.0, 2.0)),
        ({"dist": "exponential", "mean": "2s"}, Exponential(2.0)),
        ({"dist": "normal", "mean": "40s", "sd": "5s"}, Normal(40.0, 5.0, 0.0, None)),
        (
            {"dist": "normal", "mean": "40s", "sd": "5s", "min": "20s", "max": "1min"},
            Normal(40.0, 5.0, 20.0, 60.0),
        ),
        ({"dist": "lognormal", "median": "0.57s", "sigma": 0.25}, LogNormal(0.57, 0.25)),
        (
            {"dist": "lognormal", "median": "570ms", "sigma": 0.25, "min": "0.1s"},
            LogNormal(0.57, 0.25, 0.1, None),
        ),
        (MappingProxyType({"dist": "exponential", "mean": 4}), Exponential(4.0)),
    ],
)
def test_parse_durations(spec: object, expected: Distribution) -> None:
    assert parse_distribution(spec, "runtime.start") == expected


def test_parse_numbers() -> None:
    spec = {"dist": "normal", "mean": 3, "sd": 0.5, "max": 4}
    assert parse_distribution(spec, "k", unit="number") == Normal(3.0, 0.5, 0.0, 4.0, "number")
    assert parse_distribution(7, "k", unit="number") == Constant(7.0, "number")


@pytest.mark.parametrize(
    ("spec", "error_key"),
    [
        (None, "d"),
        (True, "d"),
        ("fast", "d"),
        ("30", "d"),
        (-1, "d"),
        ([1, 2], "d"),
        ({}, "d.dist"),
        ({"value": "3s"}, "d.dist"),
        ({"dist": "gamma", "shape": 2}, "d.dist"),
        ({"dist": "Normal", "mean": "1s", "sd": "1s"}, "d.dist"),
        ({"dist": 3}, "d.dist"),
        ({"dist": "constant"}, "d.value"),
        ({"dist": "constant", "value": "3s", "sd": "1s"}, "d.sd"),
        ({"dist": "uniform", "low": "1s"}, "d.high"),
        ({"dist": "uniform", "low": "3s", "high": "1s"}, "d.high"),
        ({"dist": "uniform", "low": "-1s", "high": "1s"}, "d.low"),
        ({"dist": "exponential", "mean": "-2s"}, "d.mean"),
        ({"dist": "exponential", "rate": 2}, "d.rate"),
        ({"dist": "normal", "mean": "40s"}, "d.sd"),
        ({"dist": "normal", "mean": "40s", "sd": -5}, "d.sd"),
        ({"dist": "normal", "mean": "40s", "sd": "5s", "min": "3 parsecs"}, "d.min"),
        ({"dist": "normal", "mean": "40s", "sd": "5s", "min": "30s", "max": "20s"}, "d.max"),
        ({"dist": "lognormal", "median": "1s"}, "d.sigma"),
        ({"dist": "lognormal", "median": "1s", "sigma": "0.25"}, "d.sigma"),
        ({"dist": "lognormal", "median": "1s", "sigma": -0.25}, "d.sigma"),
        ({"dist": "lognormal", "median": "1s", "sigma": True}, "d.sigma"),
        ({"dist": "lognormal", "median": "0s", "sigma": 0.25}, "d.median"),
        ({"dist": "lognormal", "median": "1s", "sigma": 0.2, "mean": "1s"}, "d.mean"),
        ({"dist": "lognormal", "median": "1s", "sigma": 0.2, "max": "0.5s", "min": "1s"}, "d.max"),
    ],
)  # fmt: skip
def test_bad_duration_specs(spec: object, error_key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_distribution(spec, "d")
    assert caught.value.key == error_key


@pytest.mark.parametrize(
    ("spec", "error_key"),
    [
        ("30s", "d"),
        (math.nan, "d"),
        ({"dist": "uniform", "low": 1, "high": "3"}, "d.high"),
    ],
)  # fmt: skip
def test_bad_number_specs(spec: object, error_key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_distribution(spec, "d", unit="number")
    assert caught.value.key == error_key


def test_unknown_unit_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unit"):
        parse_distribution("1s", "d", unit="bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("distribution", "text"),
    [
        (Constant(30.0), "constant(30 s)"),
        (Uniform(1.0, 3.0), "uniform(low=1 s, high=3 s)"),
        (Exponential(2.0), "exponential(mean=2 s)"),
        (Normal(40.0, 5.0, 20.0), "normal(mean=40 s, sd=5 s, min=20 s)"),
        (Normal(3.0, 0.5, 0.0, 4.0, "number"), "normal(mean=3, sd=0.5, min=0, max=4)"),
        (LogNormal(0.57, 0.25), "lognormal(median=0.57 s, sigma=0.25)"),
        (LogNormal(0.57, 0.25, None, 2.0), "lognormal(median=0.57 s, sigma=0.25, max=2 s)"),
    ],
)
def test_describe(distribution: Distribution, text: str) -> None:
    assert distribution.describe() == text


def test_constant_is_exact() -> None:
    assert set(_samples(Constant(0.57))[:100]) == {0.57}


@pytest.mark.parametrize(
    "distribution",
    [
        Uniform(1.0, 3.0),
        Exponential(2.0),
        Normal(40.0, 5.0),
        Normal(40.0, 5.0, 37.0, 45.0),
        Normal(1.0, 2.0),
        LogNormal(0.57, 0.25),
        LogNormal(0.57, 1.0, 0.3, 2.0),
        LogNormal(2.0, 0.8, None, 3.0),
    ],
    ids=lambda distribution: distribution.describe(),
)
def test_sample_mean_matches_analytical_mean(distribution: Distribution) -> None:
    """Four standard errors: a false failure has probability about 6e-5 per case."""
    samples = _samples(distribution)
    standard_error = samples.std(ddof=1) / math.sqrt(DRAWS)
    assert abs(samples.mean() - distribution.mean()) < 4 * standard_error


def test_clipped_means_differ_from_unclipped() -> None:
    """The clipped means above are not trivially the unclipped ones."""
    assert Normal(1.0, 2.0).mean() == pytest.approx(1.3955931, abs=1e-6)
    assert Normal(40.0, 5.0, 37.0, 45.0).mean() != pytest.approx(40.0, abs=0.1)
    assert LogNormal(2.0, 0.8, None, 3.0).mean() < 2.0 * math.exp(0.8**2 / 2) - 0.3


def test_lognormal_median() -> None:
    """The sample median's standard error is about sigma * median * sqrt(pi / 2n)."""
    samples = _samples(LogNormal(0.57, 0.25))
    standard_error = 0.25 * 0.57 * math.sqrt(math.pi / (2 * DRAWS))
    assert abs(float(np.median(samples)) - 0.57) < 4 * standard_error


def test_uniform_stays_in_range() -> None:
    samples = _samples(Uniform(1.0, 3.0))
    assert samples.min() >= 1.0
    assert samples.max() < 3.0


@pytest.mark.parametrize(
    ("distribution", "minimum", "maximum"),
    [
        (Normal(40.0, 5.0, 37.0, 45.0), 37.0, 45.0),
        (Normal(1.0, 2.0), 0.0, math.inf),
        (LogNormal(0.57, 1.0, 0.3, 2.0), 0.3, 2.0),
    ],
)
def test_clipping_respected_and_carries_mass(
    distribution: Distribution, minimum: float, maximum: float
) -> None:
    samples = _samples(distribution)
    assert samples.min() == minimum
    assert samples.max() <= maximum
    assert (samples == minimum).sum() > 100


def test_samples_are_never_negative() -> None:
    for distribution in (Normal(0.0, 10.0), Exponential(1.0), LogNormal(1.0, 3.0)):
        assert _samples(distribution).min() >= 0


def test_zero_spread_is_the_center() -> None:
    rng = np.random.default_rng(SEED)
    assert Normal(3.0, 0.0).sample(rng) == 3.0
    assert LogNormal(3.0, 0.0).sample(rng) == 3.0
    assert Normal(3.0, 0.0, 4.0).mean() == 4.0
    assert LogNormal(3.0, 0.0, None, 2.0).mean() == 2.0


def test_same_seed_same_samples() -> None:
    distribution = LogNormal(0.57, 0.25)
    assert list(_samples(distribution, seed=7)[:50]) == list(_samples(distribution, seed=7)[:50])


ANY_DISTRIBUTION = [
    Constant(1.0),
    Uniform(1.0, 3.0),
    Exponential(2.0),
    Normal(40.0, 5.0, 20.0),
    LogNormal(0.57, 0.25, 0.1, 5.0),
]


@given(st.sampled_from(ANY_DISTRIBUTION), st.integers(0, 50), st.integers(0, 2**32))
def test_each_sample_consumes_exactly_one_draw(
    distribution: Distribution, count: int, seed: int
) -> None:
    """After `count` samples of any kind the generator is where `count` random() calls
    leave it, so changing a distribution never shifts the rest of its stream."""
    sampled, reference = np.random.default_rng(seed), np.random.default_rng(seed)
    for _ in range(count):
        distribution.sample(sampled)
        reference.random()
    assert sampled.random() == reference.random()


@given(st.integers(0, 2**32))
def test_kinds_are_coupled_through_one_uniform(seed: int) -> None:
    """Common random numbers: normal and lognormal samples from the same seed are the
    same standard normal quantile."""
    normal = Normal(0.0, 1.0, minimum=-math.inf).sample(np.random.default_rng(seed))
    lognormal = LogNormal(1.0, 1.0).sample(np.random.default_rng(seed))
    assert math.log(lognormal) == pytest.approx(normal, abs=1e-9)


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "lognormal", "median": "20s", "sigma": 1e18},
        {"dist": "lognormal", "median": "20s", "sigma": 40},  # the mean overflows
        {"dist": "normal", "mean": "1s", "sd": 1e308},
    ],
)
def test_parameters_that_overflow_are_refused_with_the_key(spec: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_distribution(spec, "platform.vm.provision")
    assert raised.value.key == "platform.vm.provision"
    assert raised.value.allowed == "parameters whose samples and mean are finite numbers"


@given(st.floats(0, 30), st.floats(1e-3, 1e6))
def test_accepted_lognormals_give_finite_samples_and_means(sigma: float, median: float) -> None:
    distribution = parse_distribution({"dist": "lognormal", "median": median, "sigma": sigma}, "x")
    assert math.isfinite(distribution.mean())
    rng = np.random.default_rng(1)
    assert all(math.isfinite(distribution.sample(rng)) for _ in range(50))
