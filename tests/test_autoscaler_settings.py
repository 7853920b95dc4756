"""The tuning grids of sim.batch.autoscaler_settings: every value of every setting a
grid varies reaches the policy the run builds."""

from __future__ import annotations

import re

import pytest

from sim.api import load_config, to_plain
from sim.batch.autoscaler_settings import BASE, MAX_CAPACITY, grid
from sim.batch.tune import Tuning
from sim.config import scenario_params


def _built(policy: str, point: tuple[int, ...]) -> str:
    tuning = Tuning(tuple(grid(policy)))
    overrides = ["+experiment=autoscalers", *BASE[policy], *tuning.overrides(point)]
    return repr(scenario_params(to_plain(load_config(overrides))).autoscaler)


@pytest.mark.parametrize("policy", list(BASE))
def test_the_lowest_and_highest_corner_of_each_grid_reach_the_policy(policy: str) -> None:
    settings = grid(policy)
    assert [s.direction for s in settings] == ["down", "none", "up"]
    low = _built(policy, (0, 0, 0))
    high = _built(policy, tuple(len(s.labels) - 1 for s in settings))
    assert f"max_capacity={MAX_CAPACITY}" in low and f"max_capacity={MAX_CAPACITY}" in high
    assert re.search(r"min_capacity=1[,)]", low) and re.search(r"min_capacity=2[,)]", high)
    assert re.search(r"=30(\.0)?,", low) and re.search(r"=80(\.0)?,", high)
    assert "=60.0," in low and "=300.0," in high


def test_an_unknown_policy_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="allowed: hpa, target_tracking, simple, step, beanstalk"):
        grid("none")
