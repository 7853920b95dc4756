"""Target tracking: keep a metric near a target value, like a thermostat.

The policy sets the desired capacity to ``capacity × metric / target``, rounded
conservatively: always up, so 1.5 instances to add adds 2 and 1.5 to remove removes 1.
Like the alarms AWS creates for a target tracking policy, it scales out only when the
last 3 datapoints are all above the target, and in only when the last 15 are all below
90 % of it (one-minute periods by default); both counts and the fraction are parameters
because AWS documents them only by example. The metric value used is the newest
datapoint.

Capacity follows the EC2 warm-up rules (see `ec2`): a scale-out starts from the
instances neither warming nor terminating and only raises the desired capacity; a
scale-in starts from every instance, waits while any warms, and only lowers it.
Cooldowns follow Application Auto Scaling: after a scale-out no further scale-out for
`scale_out_cooldown_s`, after a scale-in no further scale-in for `scale_in_cooldown_s`,
and a scale-out during a scale-in cooldown happens at once. Both count from the
decision (the desired capacity is updated at once, which ends the activity there).
Set a cooldown to 0 to leave warm-up alone in charge, as in EC2 Auto Scaling.

Several target tracking policies on one group are a `Composite`: it scales out if any
says so and in only if all do; a policy with scale-in disabled does not vote on scale-in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from sim.core.errors import ConfigError
from sim.core.settings import Kind, setting
from sim.policies.autoscaling.composite import GROUP_SIZE_KEYS, in_group
from sim.policies.autoscaling.ec2 import (
    DEFAULT_COOLDOWN_S,
    DEFAULT_INTERVAL_S,
    STATISTICS,
    TRIGGER_METRICS,
    check_choice,
    check_not_negative,
    check_positive,
    scale_in_capacity,
    scale_out_capacity,
    warming_count,
)
from sim.policies.autoscaling.protocol import (
    Decision,
    Observation,
    Series,
    check_capacity_range,
    clamp,
    format_number,
    out_of_range,
    unchanged,
)


@dataclass(frozen=True, slots=True)
class TargetTrackingRules:
    """One target tracking policy, but for its group's size (which a `Composite` sets
    once for all its members).

    Raises:
        ConfigError: for values AWS rejects; keys are the config names.
    """

    REFUSED_KEYS: ClassVar[Mapping[str, str]] = GROUP_SIZE_KEYS

    metric: str = setting(
        choices=TRIGGER_METRICS,
        doc="the tracked metric; it must fall as capacity grows (a utilization, a rate)",
    )
    target_value: float = setting(doc="the value to keep the metric at (above 0)")
    statistic: str = setting("Average", choices=STATISTICS, doc="the metric's statistic")
    period_s: float = setting(60.0, unit="duration", doc="the length of one datapoint (above 0)")
    scale_out_cooldown_s: float = setting(
        DEFAULT_COOLDOWN_S,
        unit="duration",
        minimum=0,
        doc="after a scale-out, no further scale-out for this long",
    )
    scale_in_cooldown_s: float = setting(
        DEFAULT_COOLDOWN_S,
        unit="duration",
        minimum=0,
        doc="after a scale-in, no further scale-in for this long",
    )
    estimated_instance_warmup_s: float = setting(
        DEFAULT_COOLDOWN_S,
        unit="duration",
        minimum=0,
        doc="how long an instance in service warms up",
    )
    disable_scale_in: bool = setting(
        False, doc="never remove capacity (nor veto another policy's scale-in in a composite)"
    )
    scale_out_datapoints: int = setting(
        3, minimum=1, doc="datapoints that must all be above the target to scale out"
    )
    scale_in_datapoints: int = setting(
        15, minimum=1, doc="datapoints that must all be below the scale-in threshold"
    )
    scale_in_fraction: float = setting(
        0.9, maximum=1, doc="the scale-in threshold as a fraction of the target (above 0)"
    )
    interval_s: float = setting(
        DEFAULT_INTERVAL_S, unit="duration", doc="how often the policy is evaluated (above 0)"
    )

    def __post_init__(self) -> None:
        check_choice("metric", self.metric, TRIGGER_METRICS)
        check_choice("statistic", self.statistic, STATISTICS)
        if not (math.isfinite(self.target_value) and self.target_value > 0):
            raise ConfigError("target_value", self.target_value, "a number above 0")
        check_positive("period", self.period_s)
        check_not_negative("scale_out_cooldown", self.scale_out_cooldown_s)
        check_not_negative("scale_in_cooldown", self.scale_in_cooldown_s)
        check_not_negative("estimated_instance_warmup", self.estimated_instance_warmup_s)
        for name, count in (
            ("scale_out_datapoints", self.scale_out_datapoints),
            ("scale_in_datapoints", self.scale_in_datapoints),
        ):
            if count < 1:
                raise ConfigError(name, count, "at least 1")
        if not 0 < self.scale_in_fraction <= 1:
            raise ConfigError("scale_in_fraction", self.scale_in_fraction, "above 0, at most 1")
        check_positive("interval", self.interval_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetTrackingParams(TargetTrackingRules):
    """One target tracking policy and its group's size.

    Raises:
        ConfigError: as `TargetTrackingRules`, and for a bad capacity range.
    """

    max_capacity: int = setting(minimum=0, doc="the group's maximum")
    min_capacity: int = setting(1, minimum=0, doc="the group's minimum")

    def __post_init__(self) -> None:
        TargetTrackingRules.__post_init__(self)
        check_capacity_range(self.min_capacity, self.max_capacity)


def conservative_capacity(capacity_times_ratio: float) -> int:
    """``capacity × metric / target`` rounded up, the conservative way in both directions.

    Rounding to 9 decimals first keeps float noise from adding an instance (one instance
    at a latency of 2.1 s against a 0.7 s target is 3.0000000000000004 in binary floating
    point, and needs 3).
    """
    return math.ceil(round(capacity_times_ratio, 9))


def _all_recent(
    datapoints: Sequence[float | None], count: int, test: Callable[[float], bool]
) -> bool:
    """Whether the last `count` datapoints are all present and pass `test`."""
    recent = datapoints[len(datapoints) - count :]
    return len(recent) == count and all(value is not None and test(value) for value in recent)


class TargetTracking:
    """One target tracking policy.

    Args:
        params: the policy.
        name: the name the policy goes by.
    """

    def __init__(self, params: TargetTrackingParams, name: str = "target_tracking") -> None:
        self.params = params
        self.name = name
        self.metric = params.metric
        self.statistic = params.statistic
        self.period_s = params.period_s
        self.datapoints_needed = max(params.scale_out_datapoints, params.scale_in_datapoints)
        self.interval_s = params.interval_s
        self.extra_series: tuple[tuple[Series, int], ...] = ()
        self.min_capacity = params.min_capacity
        self.max_capacity = params.max_capacity
        self.vetoes_scale_in = not params.disable_scale_in
        self._last_scale_out_s: float | None = None
        self._last_scale_in_s: float | None = None

    def decide(self, observation: Observation) -> Decision:
        """Move the desired capacity toward ``capacity × metric / target``."""
        decision = self.propose(observation)
        self.record(observation, decision)
        return decision

    def _cooling(self, last_s: float | None, cooldown_s: float, now_s: float) -> bool:
        return last_s is not None and now_s < last_s + cooldown_s

    def propose(self, observation: Observation) -> Decision:
        """The decision, without starting a cooldown."""
        params = self.params
        bounded = out_of_range(observation, params.min_capacity, params.max_capacity)
        if bounded is not None:
            return bounded
        datapoints = observation.datapoints
        newest = datapoints[-1] if datapoints else None
        if newest is None:
            return unchanged(observation)
        target = params.target_value
        current = observation.desired
        now_s = observation.now_s
        if _all_recent(datapoints, params.scale_out_datapoints, lambda value: value > target):
            if self._cooling(self._last_scale_out_s, params.scale_out_cooldown_s, now_s):
                return unchanged(observation)
            capacity = scale_out_capacity(observation, params.estimated_instance_warmup_s)
            desired = clamp(
                conservative_capacity(capacity * newest / target),
                params.min_capacity,
                params.max_capacity,
            )
            if desired > current:
                return Decision(desired, self._reason(newest, capacity, desired))
            return unchanged(observation)
        low = target * params.scale_in_fraction
        if params.disable_scale_in or not _all_recent(
            datapoints, params.scale_in_datapoints, lambda value: value < low
        ):
            return unchanged(observation)
        if self._cooling(self._last_scale_in_s, params.scale_in_cooldown_s, now_s):
            return unchanged(observation)
        if warming_count(observation, params.estimated_instance_warmup_s) > 0:
            return unchanged(observation)
        capacity = scale_in_capacity(observation)
        desired = clamp(
            conservative_capacity(capacity * newest / target),
            params.min_capacity,
            params.max_capacity,
        )
        if desired < current:
            return Decision(desired, self._reason(newest, capacity, desired))
        return unchanged(observation)

    def _reason(self, value: float, capacity: int, desired: int) -> str:
        target = self.params.target_value
        exact = capacity * value / target
        return (
            f"{self.metric} {format_number(value)} vs target {format_number(target)}: "
            f"{capacity} x {format_number(value)}/{format_number(target)} = "
            f"{format_number(exact)} -> {desired}"
        )

    def record(self, observation: Observation, decision: Decision) -> None:
        """Start the cooldown of the group's scaling direction, if it scaled."""
        if decision.desired > observation.desired:
            self._last_scale_out_s = observation.now_s
        elif decision.desired < observation.desired:
            self._last_scale_in_s = observation.now_s


def build_member(
    rules: TargetTrackingRules, min_capacity: int, max_capacity: int
) -> TargetTracking:
    """Target tracking as a member of a `Composite`, which sets the group's size."""
    return TargetTracking(in_group(TargetTrackingParams, rules, min_capacity, max_capacity))


KIND = Kind(
    "target_tracking",
    TargetTrackingParams,
    TargetTracking,
    "target tracking: keep a metric near a target value, like a thermostat",
)
MEMBER = Kind("target_tracking", TargetTrackingRules, build_member, "target tracking")
