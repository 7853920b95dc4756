"""Bounded work, refused up front: predicted sizes over ``limits`` are one config error
each, before anything is built, naming the setting and how to raise the limit."""

from __future__ import annotations

import pytest

import sim
import sim.cli.main as cli
from sim.batch.runs import config_hash
from sim.config.limits import Limits, check_requests, peak_rate_per_s
from sim.core.errors import ConfigError
from sim.model.service.arrivals.flash_crowd import FlashCrowdParams
from sim.model.service.arrivals.mmpp import MmppParams


def refusal(*overrides: str) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        cli.validate_overrides(list(overrides))
    return raised.value


@pytest.mark.parametrize(
    ("overrides", "key", "value", "limit"),
    [
        (["cluster.pools.node.count=10000000"], "cluster.pools", "10000010 hosts", "hosts"),
        (["horizon=1e300"], "horizon", "1e+300s", "horizon"),
        (["horizon=400d"], "horizon", "3.456e+07s", "horizon"),
        (
            ["workload=poisson", "platform=container", "horizon=1h", "sample_period=1us"],
            "sample_period",
            "1e-06s",
            "timeseries_rows",
        ),
        (
            ["workload=poisson", "platform=container", "workload.traffic.arrivals.rate_per_s=1e9"],
            "workload.traffic.arrivals",
            "1e+09 per s",
            "requests",
        ),
        (
            ["workload.deployments.0.replicas=10000000"],
            "workload.deployments",
            "10000009 replicas",
            "replicas",
        ),
        (
            ["workload.deployments.0.replicas=150000"],
            "workload.deployments",
            "150009 replicas",
            "events",
        ),
    ],
)
def test_a_run_over_a_limit_is_refused_in_one_line_naming_it(
    overrides: list[str], key: str, value: str, limit: str
) -> None:
    error = refusal(*overrides)
    assert (error.key, error.value) == (key, value)
    assert error.allowed.startswith("at most ")
    assert f"(limits.{limit}; to allow it: limits.{limit}=" in error.allowed
    assert "\n" not in error.line()


def test_the_refusal_says_what_to_raise_the_limit_to() -> None:
    error = refusal("limits.hosts=5")
    assert error.line() == (
        "config error: cluster.pools: 13 hosts: at most 5 hosts, the scaler's max_hosts "
        "included (limits.hosts; to allow it: limits.hosts=13)"
    )
    cli.validate_overrides(["limits.hosts=13"])


def test_the_events_limit_binds_only_a_full_log() -> None:
    cli.validate_overrides(["workload.deployments.0.replicas=150000", "log=summary"])


def test_fluid_runs_and_traces_are_bounded_by_what_they_simulate() -> None:
    limits = Limits(requests=100)
    check_requests(FlashCrowdParams(1, 60, 0, 1, "step"), "fluid", 1e9, limits)
    with pytest.raises(ConfigError):
        check_requests(FlashCrowdParams(1, 60, 0, 1, "step"), "requests", 2, limits)
    assert peak_rate_per_s(MmppParams((1.0, 7.5), (1.0, 1.0))) == 7.5
    assert peak_rate_per_s(FlashCrowdParams(1, 60, 0, 1, "step")) == 60


def test_limits_do_not_change_what_a_run_simulates() -> None:
    plain = cli.to_plain(sim.load_config([]))
    raised = cli.to_plain(sim.load_config(["limits.hosts=1000000"]))
    assert config_hash(plain) == config_hash(raised)


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"),
    [
        (["progress=maybe"], "progress", "one of true, false, auto"),
        (["progress=7"], "progress", "one of true, false, auto"),
        (
            [
                "workload=poisson",
                "platform=container",
                "workload.traffic.mode=fluid",
                "workload.traffic.request.cpu=0s",
            ],
            "workload.traffic.request.cpu",
            "a positive, finite mean CPU time per request with workload.traffic.mode=fluid",
        ),
    ],
)
def test_a_refusal_lists_what_is_allowed(overrides: list[str], key: str, allowed: str) -> None:
    error = refusal(*overrides)
    assert (error.key, error.allowed) == (key, allowed)


@pytest.mark.parametrize("override", ["horizon=1e-9s", "cluster.pools.node.disk=1e3MB"])
def test_a_number_with_an_exponent_is_refused_by_the_grammar_it_breaks(override: str) -> None:
    error = refusal(override)
    assert "a decimal number without sign or exponent and a unit" in error.allowed
