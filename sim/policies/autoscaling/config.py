"""Autoscaling policies from plain config mappings, as YAML gives them.

`make_policy` reads one policy's parameters: durations in human units (``5min``, ``30s``
or a bare number of seconds), everything else as plain numbers, strings and booleans.
A key that is absent (or null) takes the default of the parameter dataclass; an unknown
key, a value of the wrong type or outside its range raises a `ConfigError` naming the
full key (``autoscaling.alarms[0].comparison``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from sim.core.errors import ConfigError
from sim.core.units import parse_duration
from sim.policies.autoscaling.composite import ComposablePolicy, Composite
from sim.policies.autoscaling.ec2 import Adjustment, Alarm
from sim.policies.autoscaling.fixed import FixedCapacity, FixedCapacityParams
from sim.policies.autoscaling.hpa import (
    DEFAULT_SCALE_UP,
    Hpa,
    HpaParams,
    HpaScalingPolicy,
    HpaScalingRules,
    check_tolerance,
    default_scale_down,
)
from sim.policies.autoscaling.protocol import ScalingPolicy
from sim.policies.autoscaling.simple import (
    BeanstalkTriggerParams,
    SimpleAlarm,
    SimpleScaling,
    SimpleScalingParams,
    beanstalk,
)
from sim.policies.autoscaling.step import StepAdjustment, StepScaling, StepScalingParams
from sim.policies.autoscaling.target_tracking import TargetTracking, TargetTrackingParams

T = TypeVar("T")


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


class _Fields:
    """One mapping of a policy's config, read key by key against a list of known keys.

    Args:
        data: the mapping.
        key: its full dotted key.
        known: the keys it may have.

    Raises:
        ConfigError: when `data` is not a mapping or has a key not in `known`.
    """

    def __init__(self, data: object, key: str, known: tuple[str, ...]) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(key, data, f"a mapping, not {_kind_of(data)}")
        for name in data:
            if name not in known:
                raise ConfigError(
                    f"{key}.{name}", data[name], f"not a known key here (known: {', '.join(known)})"
                )
        self.key = key
        self._data = data

    def path(self, name: str) -> str:
        """The full key of `name`."""
        return f"{self.key}.{name}"

    def has(self, name: str) -> bool:
        """Whether `name` is given (null counts as not given)."""
        return self._data.get(name) is not None

    def raw(self, name: str) -> object:
        """The value of `name` as given, whatever its type."""
        if not self.has(name):
            raise ConfigError(self.path(name), "missing", "a value is required")
        value: object = self._data[name]
        return value

    def section(self, name: str, known: tuple[str, ...]) -> _Fields:
        """The nested mapping `name`, with its own known keys."""
        return _Fields(self.raw(name), self.path(name), known)

    def integer(self, name: str) -> int:
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.path(name), value, f"an integer, not {_kind_of(value)}")
        return value

    def number(self, name: str) -> float:
        value = self.raw(name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(self.path(name), value, "a finite number")
        return float(value)

    def duration(self, name: str) -> float:
        return parse_duration(self.raw(name), self.path(name))

    def text(self, name: str) -> str:
        value = self.raw(name)
        if not isinstance(value, str):
            raise ConfigError(self.path(name), value, f"a string, not {_kind_of(value)}")
        return value

    def boolean(self, name: str) -> bool:
        value = self.raw(name)
        if not isinstance(value, bool):
            raise ConfigError(self.path(name), value, "true or false")
        return value

    def items(self, name: str) -> list[object]:
        value = self.raw(name)
        if not isinstance(value, list | tuple):
            raise ConfigError(self.path(name), value, f"a list, not {_kind_of(value)}")
        return list(value)

    def optional(
        self, into: dict[str, Any], names: Mapping[str, tuple[str, Callable[[str], object]]]
    ) -> dict[str, Any]:
        """Read the given ones of `names` (config key -> attribute, reader) into `into`."""
        for name, (attribute, read) in names.items():
            if self.has(name):
                into[attribute] = read(name)
        return into


def _build(key: str, build: Callable[[], T]) -> T:
    """Construct a parameter object; its validation errors get `key` as prefix."""
    try:
        return build()
    except ConfigError as error:
        raise error.under(key) from None


def _capacity_and_interval(fields: _Fields) -> dict[str, tuple[str, Callable[[str], object]]]:
    return {
        "min_capacity": ("min_capacity", fields.integer),
        "max_capacity": ("max_capacity", fields.integer),
        "interval": ("interval_s", fields.duration),
    }


def _alarm(fields: _Fields) -> Alarm:
    """The alarm keys of `fields`: metric, statistic, period, evaluation_periods,
    threshold, comparison."""
    arguments = fields.optional(
        {
            "metric": fields.text("metric"),
            "threshold": fields.number("threshold"),
            "comparison": fields.text("comparison"),
        },
        {
            "statistic": ("statistic", fields.text),
            "period": ("period_s", fields.duration),
            "evaluation_periods": ("evaluation_periods", fields.integer),
        },
    )
    return _build(fields.key, lambda: Alarm(**arguments))


ALARM_KEYS = ("metric", "statistic", "period", "evaluation_periods", "threshold", "comparison")


def _none(params: object, key: str) -> FixedCapacity:
    fields = _Fields(params, key, ("interval",))
    arguments = fields.optional({}, {"interval": ("interval_s", fields.duration)})
    return FixedCapacity(_build(key, lambda: FixedCapacityParams(**arguments)))


def _simple_alarm(entry: object, key: str) -> SimpleAlarm:
    fields = _Fields(
        entry, key, ALARM_KEYS + ("adjustment_type", "adjustment", "min_adjustment_magnitude")
    )
    alarm = _alarm(fields)
    arguments = fields.optional(
        {"adjustment_type": "ChangeInCapacity", "adjustment": fields.integer("adjustment")},
        {
            "adjustment_type": ("adjustment_type", fields.text),
            "min_adjustment_magnitude": ("min_adjustment_magnitude", fields.integer),
        },
    )
    adjustment = _build(key, lambda: Adjustment(**arguments))
    return SimpleAlarm(alarm, adjustment)


def _simple_params(params: object, key: str) -> SimpleScalingParams:
    fields = _Fields(
        params, key, ("alarms", "min_capacity", "max_capacity", "cooldown", "interval")
    )
    alarms = tuple(
        _simple_alarm(entry, f"{key}.alarms[{index}]")
        for index, entry in enumerate(fields.items("alarms"))
    )
    arguments = fields.optional(
        {"alarms": alarms, "max_capacity": fields.integer("max_capacity")},
        {"cooldown": ("cooldown_s", fields.duration), **_capacity_and_interval(fields)},
    )
    return _build(key, lambda: SimpleScalingParams(**arguments))


def _simple(params: object, key: str) -> SimpleScaling:
    return SimpleScaling(_simple_params(params, key))


def _beanstalk(params: object, key: str) -> SimpleScaling:
    fields = _Fields(
        params,
        key,
        (
            "metric",
            "statistic",
            "unit",
            "period",
            "breach_duration",
            "upper_threshold",
            "upper_breach_scale_increment",
            "lower_threshold",
            "lower_breach_scale_increment",
            "min_capacity",
            "max_capacity",
            "cooldown",
            "interval",
        ),
    )
    arguments = fields.optional(
        {},
        {
            "metric": ("metric", fields.text),
            "statistic": ("statistic", fields.text),
            "unit": ("unit", fields.text),
            "period": ("period_s", fields.duration),
            "breach_duration": ("breach_duration_s", fields.duration),
            "upper_threshold": ("upper_threshold", fields.number),
            "upper_breach_scale_increment": ("upper_breach_scale_increment", fields.integer),
            "lower_threshold": ("lower_threshold", fields.number),
            "lower_breach_scale_increment": ("lower_breach_scale_increment", fields.integer),
            "cooldown": ("cooldown_s", fields.duration),
            **_capacity_and_interval(fields),
        },
    )
    return beanstalk(_build(key, lambda: BeanstalkTriggerParams(**arguments)))


def _step_adjustment(entry: object, key: str) -> StepAdjustment:
    fields = _Fields(entry, key, ("lower_bound", "upper_bound", "adjustment"))
    arguments = fields.optional(
        {"adjustment": fields.integer("adjustment")},
        {
            "lower_bound": ("lower_bound", fields.number),
            "upper_bound": ("upper_bound", fields.number),
        },
    )
    return _build(key, lambda: StepAdjustment(**arguments))


def _step(params: object, key: str) -> StepScaling:
    fields = _Fields(
        params,
        key,
        (
            "alarm",
            "steps",
            "adjustment_type",
            "min_adjustment_magnitude",
            "estimated_instance_warmup",
            "min_capacity",
            "max_capacity",
            "interval",
        ),
    )
    alarm = _alarm(fields.section("alarm", ALARM_KEYS))
    steps = tuple(
        _step_adjustment(entry, f"{key}.steps[{index}]")
        for index, entry in enumerate(fields.items("steps"))
    )
    arguments = fields.optional(
        {"alarm": alarm, "steps": steps, "max_capacity": fields.integer("max_capacity")},
        {
            "adjustment_type": ("adjustment_type", fields.text),
            "min_adjustment_magnitude": ("min_adjustment_magnitude", fields.integer),
            "estimated_instance_warmup": ("estimated_instance_warmup_s", fields.duration),
            **_capacity_and_interval(fields),
        },
    )
    return StepScaling(_build(key, lambda: StepScalingParams(**arguments)))


def _target_tracking(params: object, key: str) -> TargetTracking:
    fields = _Fields(
        params,
        key,
        (
            "metric",
            "statistic",
            "target_value",
            "period",
            "scale_out_cooldown",
            "scale_in_cooldown",
            "estimated_instance_warmup",
            "disable_scale_in",
            "scale_out_datapoints",
            "scale_in_datapoints",
            "scale_in_fraction",
            "min_capacity",
            "max_capacity",
            "interval",
        ),
    )
    arguments = fields.optional(
        {
            "metric": fields.text("metric"),
            "target_value": fields.number("target_value"),
            "max_capacity": fields.integer("max_capacity"),
        },
        {
            "statistic": ("statistic", fields.text),
            "period": ("period_s", fields.duration),
            "scale_out_cooldown": ("scale_out_cooldown_s", fields.duration),
            "scale_in_cooldown": ("scale_in_cooldown_s", fields.duration),
            "estimated_instance_warmup": ("estimated_instance_warmup_s", fields.duration),
            "disable_scale_in": ("disable_scale_in", fields.boolean),
            "scale_out_datapoints": ("scale_out_datapoints", fields.integer),
            "scale_in_datapoints": ("scale_in_datapoints", fields.integer),
            "scale_in_fraction": ("scale_in_fraction", fields.number),
            **_capacity_and_interval(fields),
        },
    )
    return TargetTracking(_build(key, lambda: TargetTrackingParams(**arguments)))


def _hpa_policy(fields: _Fields) -> HpaScalingPolicy:
    kind = fields.text("type")
    value = fields.integer("value")
    period_s = fields.duration("period")
    return _build(fields.key, lambda: HpaScalingPolicy(kind, value, period_s))


HPA_RULES_KEYS = ("stabilization_window", "select_policy", "policies")
HPA_DIRECTIONS = ("scale_up", "scale_down")


def _hpa_rules(fields: _Fields, default: HpaScalingRules) -> HpaScalingRules:
    key = fields.key
    arguments = fields.optional(
        {},
        {
            "stabilization_window": ("stabilization_window_s", fields.duration),
            "select_policy": ("select_policy", fields.text),
        },
    )
    if fields.has("policies"):
        arguments["policies"] = tuple(
            _hpa_policy(_Fields(entry, f"{key}.policies[{index}]", ("type", "value", "period")))
            for index, entry in enumerate(fields.items("policies"))
        )
    return _build(key, lambda: replace(default, **arguments))


def _hpa_tolerance(fields: _Fields) -> float | dict[str, float] | None:
    """The ``tolerance`` key: one number for the controller's tolerance, or a mapping of
    per-direction tolerances (the HPA's own, which give it a ``behavior``)."""
    if not fields.has("tolerance"):
        return None
    key = fields.path("tolerance")
    raw = fields.raw("tolerance")
    if isinstance(raw, Mapping):
        section = fields.section("tolerance", HPA_DIRECTIONS)
        tolerances = {
            direction: section.number(direction)
            for direction in HPA_DIRECTIONS
            if section.has(direction)
        }
        if not tolerances:
            raise ConfigError(key, "{}", "scale_up, scale_down or both")
        for direction, value in tolerances.items():
            check_tolerance(section.path(direction), value)
        return tolerances
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ConfigError(
            key, raw, "a number such as 0.1, or a mapping {scale_up: 0.1, scale_down: 0.05}"
        )
    return fields.number("tolerance")


def _hpa(params: object, key: str) -> Hpa:
    fields = _Fields(
        params,
        key,
        (
            "target_utilization",
            "min_capacity",
            "max_capacity",
            "tolerance",
            "interval",
            "downscale_stabilization",
            "cpu_initialization_period",
            "metric_window",
            *HPA_DIRECTIONS,
        ),
    )
    arguments = fields.optional(
        {
            "target_utilization": fields.integer("target_utilization"),
            "max_capacity": fields.integer("max_capacity"),
        },
        {
            "downscale_stabilization": ("downscale_stabilization_s", fields.duration),
            "cpu_initialization_period": ("cpu_initialization_period_s", fields.duration),
            "metric_window": ("metric_window_s", fields.duration),
            **_capacity_and_interval(fields),
        },
    )
    tolerance = _hpa_tolerance(fields)
    if isinstance(tolerance, float):
        arguments["tolerance"] = tolerance
    params = _build(key, lambda: HpaParams(**arguments))
    defaults = {
        "scale_up": DEFAULT_SCALE_UP,
        "scale_down": default_scale_down(params.downscale_stabilization_s),
    }
    behavior: dict[str, HpaScalingRules | None] = {}
    for direction, default in defaults.items():
        rules = None
        if fields.has(direction):
            rules = _hpa_rules(fields.section(direction, HPA_RULES_KEYS), default)
        if isinstance(tolerance, dict):
            rules = replace(rules or default, tolerance=tolerance.get(direction))
        behavior[direction] = rules
    return Hpa(replace(params, scale_up=behavior["scale_up"], scale_down=behavior["scale_down"]))


COMPOSABLE: Mapping[str, Callable[[object, str], ComposablePolicy]] = {
    "simple": _simple,
    "step": _step,
    "target_tracking": _target_tracking,
}
"""Policies a composite may combine: those of one EC2 Auto Scaling group."""


def _composite(params: object, key: str) -> Composite:
    fields = _Fields(params, key, ("min_capacity", "max_capacity", "policies"))
    shared = {"max_capacity": fields.integer("max_capacity")}
    if fields.has("min_capacity"):
        shared["min_capacity"] = fields.integer("min_capacity")
    entries = fields.items("policies")
    if not entries:
        raise ConfigError(fields.path("policies"), "[]", "at least one policy")
    members = []
    for index, entry in enumerate(entries):
        entry_key = f"{key}.policies[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(entry_key, entry, f"a mapping, not {_kind_of(entry)}")
        name = entry.get("name")
        if not isinstance(name, str) or name not in COMPOSABLE:
            raise ConfigError(f"{entry_key}.name", name, "one of " + ", ".join(COMPOSABLE))
        for bound in ("min_capacity", "max_capacity"):
            if bound in entry:
                raise ConfigError(
                    f"{entry_key}.{bound}", entry[bound], "set once, on the composite"
                )
        member_params = {field: value for field, value in entry.items() if field != "name"} | shared
        members.append(COMPOSABLE[name](member_params, entry_key))
    return Composite(members)


POLICIES: Mapping[str, Callable[[object, str], ScalingPolicy]] = {
    "none": _none,
    "simple": _simple,
    "beanstalk": _beanstalk,
    "step": _step,
    "target_tracking": _target_tracking,
    "hpa": _hpa,
    "composite": _composite,
}
"""Every policy by name: a function from (config mapping, its key) to the policy."""


def make_policy(name: str, params: Mapping[str, object], key: str) -> ScalingPolicy:
    """Build the policy `name` from its raw config mapping.

    Args:
        name: one of `POLICIES`.
        params: the policy's keys (the name not among them), as YAML gives them.
        key: the full dotted key of `params`, for error messages.

    Raises:
        ConfigError: for an unknown name, an unknown key, a wrong type or a value out
            of range, naming the full key.
    """
    if name not in POLICIES:
        raise ConfigError(key, name, "one of " + ", ".join(POLICIES))
    return POLICIES[name](params, key)
