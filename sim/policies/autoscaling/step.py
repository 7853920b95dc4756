"""EC2 step scaling: the size of the breach chooses the size of the adjustment.

A step scaling policy has one alarm and a list of steps, each a range of the metric
relative to the alarm threshold with its own adjustment. When the alarm is in ALARM,
the newest datapoint chooses the step: above the threshold a step's lower bound is
inclusive and its upper bound exclusive, below it the other way round, so with a
threshold of 50 the step [10, 20) takes 60 but not 70, and the step (-20, -10] takes 40
but not 30.

There is no cooldown. Instead, instances warm up (by default for the default cooldown,
300 s): a scale-out starts from the capacity that is neither warming nor terminating and
only raises the desired capacity if the result exceeds it, so breaches that fall in the
same step while the new instances warm add nothing, and a larger breach adds only the
difference (AWS's example: metric 60 at capacity 10 gives 11; 62 while the eleventh
warms gives 11 again; 70 gives 13). A scale-in starts from every instance, terminating
ones included, only lowers the desired capacity, and waits while any instance warms.

A group with a scale-out and a scale-in policy (the guide's worked example) is two
`StepScaling` policies in a `Composite`. The policy keeps no state: everything it needs
is in the observation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from sim.core.errors import ConfigError
from sim.core.settings import Kind, setting
from sim.policies.autoscaling.composite import GROUP_SIZE_KEYS, in_group
from sim.policies.autoscaling.ec2 import (
    ADJUSTMENT_TYPES,
    CHANGE_IN_CAPACITY,
    DEFAULT_COOLDOWN_S,
    DEFAULT_INTERVAL_S,
    EXACT_CAPACITY,
    Adjustment,
    Alarm,
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
class StepAdjustment:
    """One step: a range of (metric − threshold) and its adjustment.

    Raises:
        ConfigError: when both bounds are given and the lower is not below the upper.
    """

    adjustment: int = setting(
        doc="ScalingAdjustment of the step: instances, capacity or percent, as adjustment_type"
    )
    lower_bound: float | None = setting(
        None, doc="MetricIntervalLowerBound, from the threshold; none: minus infinity"
    )
    upper_bound: float | None = setting(
        None, doc="MetricIntervalUpperBound, from the threshold; none: plus infinity"
    )

    def __post_init__(self) -> None:
        if (
            self.lower_bound is not None
            and self.upper_bound is not None
            and not self.lower_bound < self.upper_bound
        ):
            raise ConfigError(
                "upper_bound", self.upper_bound, f"above lower_bound ({self.lower_bound:g})"
            )

    def contains(self, difference: float, above: bool) -> bool:
        """Whether `difference` (metric − threshold) falls in the step.

        Args:
            difference: the newest datapoint minus the alarm threshold.
            above: whether the alarm fires above its threshold: then the lower bound is
                inclusive and the upper exclusive; otherwise the reverse.
        """
        lower = -math.inf if self.lower_bound is None else self.lower_bound
        upper = math.inf if self.upper_bound is None else self.upper_bound
        if above:
            return lower <= difference < upper
        return lower < difference <= upper

    def describe(self, above: bool) -> str:
        """The step's range in a reason: ``"[10, 20)"``, ``"(-inf, -20]"``."""
        lower = "-inf" if self.lower_bound is None else format_number(self.lower_bound)
        upper = "inf" if self.upper_bound is None else format_number(self.upper_bound)
        if above:
            return f"[{lower}, {upper})"
        return f"({lower}, {upper}]"


@dataclass(frozen=True, slots=True)
class StepScalingRules:
    """One step scaling policy, but for its group's size (which a `Composite` sets once
    for all its members).

    Raises:
        ConfigError: for steps or values AWS rejects; keys are the config names.
    """

    REFUSED_KEYS: ClassVar[Mapping[str, str]] = GROUP_SIZE_KEYS

    alarm: Alarm = setting(doc="the policy's alarm")
    steps: tuple[StepAdjustment, ...] = setting(
        doc="in increasing order, without gaps or overlaps: only the first open below, "
        "only the last open above"
    )
    adjustment_type: str = setting(
        CHANGE_IN_CAPACITY, choices=ADJUSTMENT_TYPES, doc="how the steps' adjustments count"
    )
    min_adjustment_magnitude: int | None = setting(
        None, minimum=1, doc="with PercentChangeInCapacity: the least change, in instances"
    )
    estimated_instance_warmup_s: float = setting(
        DEFAULT_COOLDOWN_S,
        unit="duration",
        minimum=0,
        doc="how long an instance in service warms up",
    )
    interval_s: float = setting(
        DEFAULT_INTERVAL_S, unit="duration", doc="how often the alarm is evaluated (above 0)"
    )

    def __post_init__(self) -> None:
        if not self.steps:
            raise ConfigError("steps", "[]", "at least one step")
        for index, step in enumerate(self.steps):
            self.adjustment(step)
            if index > 0 and step.lower_bound is None:
                raise ConfigError(
                    f"steps[{index}].lower_bound", "none", "a bound: only steps[0] is open below"
                )
            if index < len(self.steps) - 1:
                following = self.steps[index + 1].lower_bound
                if step.upper_bound is None or step.upper_bound != following:
                    raise ConfigError(
                        f"steps[{index}].upper_bound",
                        "none" if step.upper_bound is None else step.upper_bound,
                        f"the lower bound of steps[{index + 1}] ({following}): steps are "
                        "in increasing order, without gaps or overlaps",
                    )
        check_not_negative("estimated_instance_warmup", self.estimated_instance_warmup_s)
        check_positive("interval", self.interval_s)

    def adjustment(self, step: StepAdjustment) -> Adjustment:
        """The adjustment of one step, with the policy's type and minimum magnitude."""
        return Adjustment(self.adjustment_type, step.adjustment, self.min_adjustment_magnitude)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepScalingParams(StepScalingRules):
    """One step scaling policy and its group's size.

    Raises:
        ConfigError: as `StepScalingRules`, and for a bad capacity range.
    """

    max_capacity: int = setting(minimum=0, doc="the group's MaxSize")
    min_capacity: int = setting(1, minimum=0, doc="the group's MinSize")

    def __post_init__(self) -> None:
        StepScalingRules.__post_init__(self)
        check_capacity_range(self.min_capacity, self.max_capacity)


class StepScaling:
    """EC2 step scaling with instance warm-up.

    Args:
        params: the policy.
        name: the name the policy goes by.
    """

    vetoes_scale_in = False
    """A step policy that is not in ALARM has nothing to say against another's
    scale-in (see `Composite`)."""

    def __init__(self, params: StepScalingParams, name: str = "step") -> None:
        self.params = params
        self.name = name
        self.metric = params.alarm.metric
        self.statistic = params.alarm.statistic
        self.period_s = params.alarm.period_s
        self.datapoints_needed = params.alarm.evaluation_periods
        self.interval_s = params.interval_s
        self.extra_series: tuple[tuple[Series, int], ...] = ()
        self.min_capacity = params.min_capacity
        self.max_capacity = params.max_capacity

    def decide(self, observation: Observation) -> Decision:
        """Apply the step the newest datapoint falls in, net of warming capacity."""
        return self.propose(observation)

    def propose(self, observation: Observation) -> Decision:
        """The decision (the policy keeps no state, so this is `decide`)."""
        params = self.params
        bounded = out_of_range(observation, params.min_capacity, params.max_capacity)
        if bounded is not None:
            return bounded
        alarm = params.alarm
        if not alarm.in_alarm(observation.datapoints):
            return unchanged(observation)
        newest = observation.datapoints[-1]
        assert newest is not None, "a datapoint in ALARM is present"
        step = next(
            (step for step in params.steps if step.contains(newest - alarm.threshold, alarm.above)),
            None,
        )
        if step is None or (step.adjustment == 0 and params.adjustment_type != EXACT_CAPACITY):
            return unchanged(observation)
        adjustment = params.adjustment(step)
        current = observation.desired
        scale_out = adjustment.adjustment > current if adjustment.exact else step.adjustment > 0
        if scale_out:
            capacity = scale_out_capacity(observation, params.estimated_instance_warmup_s)
            wanted = adjustment.new_capacity(capacity)
            desired = clamp(wanted, params.min_capacity, params.max_capacity)
            if desired <= current:
                return unchanged(observation)
        else:
            if warming_count(observation, params.estimated_instance_warmup_s) > 0:
                return unchanged(observation)
            capacity = scale_in_capacity(observation)
            wanted = adjustment.new_capacity(capacity)
            desired = clamp(wanted, params.min_capacity, params.max_capacity)
            if desired >= current:
                return unchanged(observation)
        reason = (
            f"{alarm.describe(newest)}, step {step.describe(alarm.above)}: "
            f"{adjustment.describe(capacity)} from {capacity}"
        )
        if desired != wanted:
            reason += f", capped at {'max' if desired < wanted else 'min'} {desired}"
        return Decision(desired, reason)

    def record(self, observation: Observation, decision: Decision) -> None:
        """Nothing to note: warm-up is read from the instances."""


def build_member(rules: StepScalingRules, min_capacity: int, max_capacity: int) -> StepScaling:
    """Step scaling as a member of a `Composite`, which sets the group's size."""
    return StepScaling(in_group(StepScalingParams, rules, min_capacity, max_capacity))


KIND = Kind(
    "step",
    StepScalingParams,
    StepScaling,
    "EC2 step scaling: the size of the breach chooses the adjustment; instance warm-up",
)
MEMBER = Kind("step", StepScalingRules, build_member, "EC2 step scaling")
