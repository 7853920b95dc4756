"""Whole runs for the node scaler tests: a scenario from overrides, run to its end, its
events of one kind, or the config error it is refused with."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.core.errors import ConfigError
from sim.core.records import Event
from sim.scenario import Scenario


def deployments(*entries: str) -> str:
    """The override that sets the workload's deployments to `entries`."""
    return "workload.deployments=[" + ", ".join(entries) + "]"


def run_world(base: Sequence[str], *overrides: str) -> Scenario:
    """The scenario of `base` then `overrides`, run; it stays inspectable."""
    world = Scenario(scenario_params(to_plain(sim.load_config([*base, *overrides]))))
    world.run()
    return world


def of_kind(world: Scenario, kind: str) -> list[Event]:
    """The run's events of `kind`, in order."""
    return [event for event in world.log if event.kind == kind]


def refused(overrides: Sequence[str]) -> ConfigError:
    """The one-line error that building the scenario of `overrides` raises."""
    with pytest.raises(ConfigError) as raised:
        scenario_params(to_plain(sim.load_config(list(overrides))))
    return raised.value
