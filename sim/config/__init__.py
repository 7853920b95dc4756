"""From a composed configuration to validated, typed scenario parameters.

The command line (Hydra) composes ``configs/`` into a plain nested mapping; this package
is the schema. Every section is read by one reader (`sim.core.schema`) into a
dataclass whose fields say their units, ranges and defaults (`sim.config.sections`, and
the kinds' own parameter classes); `sim.config.build` checks the references between
sections and builds the model's parameters. Any problem raises a `ConfigError` naming
the full key, the value and what is allowed, before anything is simulated. The model
receives only frozen parameter objects, never a mapping of strings.
"""

from __future__ import annotations

from sim.config.build import replication_seed, scenario_params
from sim.config.params import Deployment, PlatformParams, Pricing, ScenarioParams
from sim.core.errors import ConfigError

__all__ = [
    "ConfigError",
    "Deployment",
    "PlatformParams",
    "Pricing",
    "ScenarioParams",
    "replication_seed",
    "scenario_params",
]
