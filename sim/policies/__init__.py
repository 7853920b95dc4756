"""Pure deciders behind small protocols: plain inputs in, a decision out, no SimPy.

The public policy API: `build` makes any policy from a mapping written as a config
writes it (its names and human units), and the values an autoscaling policy sees and
answers with are exported here, so a policy is scored on a hand-made observation
without a simulation:

    from sim.policies import Instance, Observation, build

    policy = build("autoscaler", {"policy": "target_tracking", "metric": "CPUUtilization",
                                  "target_value": 50, "max_capacity": 10})
    decision = policy.decide(Observation(now_s=600.0, desired=2,
                                         instances=(Instance(0.0, 60.0), Instance(0.0, 60.0)),
                                         datapoints=(80.0, 80.0, 80.0)))
    decision.desired  # 4: 2 × 80 / 50 = 3.2, rounded up

`FAMILIES` names the families `build` knows: ``autoscaler``, ``placement``, ``balancer``.
Names a module here imports lazily, so importing one policy does not load the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.core.settings import Family
    from sim.policies.autoscaling.protocol import (
        Decision,
        Instance,
        Observation,
        ScalingPolicy,
        Series,
    )

FAMILIES: Mapping[str, tuple[str, str]] = {
    "autoscaler": ("sim.policies.autoscaling", "AUTOSCALING"),
    "placement": ("sim.policies.placement", "PLACEMENT"),
    "balancer": ("sim.policies.balancing", "BALANCING"),
}
"""The families of policies `build` makes, by name: where each family is declared."""

_EXPORTED = {
    name: "sim.policies.autoscaling.protocol"
    for name in ("Decision", "Instance", "Observation", "ScalingPolicy", "Series")
}


def family(name: str) -> Family:
    """The family of policies called `name` (one of `FAMILIES`).

    Raises:
        ConfigError: an unknown family, naming the known ones.
    """
    from sim.core.errors import ConfigError

    if name not in FAMILIES:
        raise ConfigError("family", name, "one of " + ", ".join(FAMILIES))
    module, attribute = FAMILIES[name]
    found: Family = getattr(importlib.import_module(module), attribute)
    return found


def build(family_name: str, mapping: Mapping[str, Any]) -> Any:
    """A policy of the family `family_name`, made from `mapping` as a config writes it.

    The mapping chooses the kind with the family's selector (``policy`` for an autoscaler,
    ``kind`` for the others) and sets its settings by their config names in human units
    (``{"policy": "hpa", "target_utilization": 60, "interval": "15s"}``); what it leaves
    out takes the kind's default. It is read by the same reader as a run's config, so it
    is refused, in one line, wherever a config would be.

    Raises:
        ConfigError: an unknown family or kind, a misspelt key, a value out of range.
    """
    from sim.core.schema import read_kind

    chosen = family(family_name)
    params = read_kind(chosen, dict(mapping), family_name)
    return chosen.kind_of(params).build(params)


def __getattr__(name: str) -> Any:
    if name in _EXPORTED:
        return getattr(importlib.import_module(_EXPORTED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FAMILIES",
    "Decision",
    "Instance",
    "Observation",
    "ScalingPolicy",
    "Series",
    "build",
    "family",
]
