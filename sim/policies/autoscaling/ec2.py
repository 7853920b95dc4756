"""EC2 Auto Scaling building blocks: CloudWatch alarms, capacity adjustments, warm-up.

An alarm watches one metric series and is in ALARM when its last ``evaluation_periods``
datapoints all breach the threshold; a period without data does not breach (as with
``TreatMissingData: notBreaching``). While it stays in ALARM it invokes its scaling
action on every evaluation, as CloudWatch does for Auto Scaling actions; cooldowns and
warm-up are what keep one breach from scaling twice.

An adjustment turns a current capacity into a new one, as a change in capacity, an
exact capacity or a percent change (rounded as EC2 Auto Scaling rounds it).

Warm-up: an instance warms up from when it goes in service until ``warmup_s`` later
(AWS's default instance warm-up counts from the InService state). Warming instances do
not count toward the capacity a scale-out starts from; terminating instances still
count toward the capacity a scale-in starts from; and while any instance warms, the
group is scaling out and no policy scales in.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from sim.core.errors import ConfigError
from sim.core.metrics import Metric, Statistic
from sim.core.settings import setting
from sim.policies.autoscaling.protocol import Observation, Series, format_number

TRIGGER_METRICS = tuple(Metric)
"""Metrics an Elastic Beanstalk trigger (and so any alarm here) may watch."""

STATISTICS = tuple(Statistic)

COMPARISONS: Mapping[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanThreshold": (">", operator.gt),
    "GreaterThanOrEqualToThreshold": (">=", operator.ge),
    "LessThanThreshold": ("<", operator.lt),
    "LessThanOrEqualToThreshold": ("<=", operator.le),
}
"""CloudWatch comparison operators: their symbol in reasons and their test."""

CHANGE_IN_CAPACITY = "ChangeInCapacity"
EXACT_CAPACITY = "ExactCapacity"
PERCENT_CHANGE_IN_CAPACITY = "PercentChangeInCapacity"
ADJUSTMENT_TYPES = (CHANGE_IN_CAPACITY, EXACT_CAPACITY, PERCENT_CHANGE_IN_CAPACITY)

DEFAULT_COOLDOWN_S = 300.0
"""EC2 Auto Scaling's default cooldown, also the default warm-up of step and target
tracking policies that configure none."""

DEFAULT_ALARM_PERIOD_S = 300.0
"""CloudWatch basic monitoring of EC2 instances: one datapoint per 5 minutes."""

DEFAULT_INTERVAL_S = 60.0
"""How often alarms are evaluated and re-invoke their action while in ALARM."""


def check_choice(key: str, value: str, allowed: Sequence[str]) -> None:
    """Reject a value outside a fixed list (metric names, statistics, comparisons).

    Raises:
        ConfigError: naming `key` and the allowed values.
    """
    if value not in allowed:
        raise ConfigError(key, value, "one of " + ", ".join(allowed))


def check_positive(key: str, value: float) -> None:
    """Reject a period or interval that is not above zero.

    Raises:
        ConfigError: naming `key`.
    """
    if not value > 0:
        raise ConfigError(key, value, "a duration above 0")


def check_not_negative(key: str, value: float) -> None:
    """Reject a cooldown or warm-up below zero.

    Raises:
        ConfigError: naming `key`.
    """
    if not value >= 0:
        raise ConfigError(key, value, "a duration, not negative")


@dataclass(frozen=True, slots=True)
class Alarm:
    """A CloudWatch metric alarm on one series.

    Raises:
        ConfigError: for a value CloudWatch would reject; keys are the config names
            (``period`` for `period_s`), to be placed under the alarm's key.
    """

    metric: str = setting(choices=TRIGGER_METRICS, doc="the metric the alarm watches")
    threshold: float = setting(doc="the value datapoints are compared with, in the metric's unit")
    comparison: str = setting(
        choices=tuple(COMPARISONS), doc="how a datapoint is compared with the threshold"
    )
    statistic: str = setting(
        "Average", choices=STATISTICS, doc="how the instances' values combine in a datapoint"
    )
    period_s: float = setting(
        DEFAULT_ALARM_PERIOD_S, unit="duration", doc="the length of one datapoint (above 0)"
    )
    evaluation_periods: int = setting(
        1, minimum=1, doc="consecutive datapoints that must breach to be in ALARM"
    )

    def __post_init__(self) -> None:
        check_choice("metric", self.metric, TRIGGER_METRICS)
        check_choice("comparison", self.comparison, tuple(COMPARISONS))
        check_choice("statistic", self.statistic, STATISTICS)
        check_positive("period", self.period_s)
        if self.evaluation_periods < 1:
            raise ConfigError("evaluation_periods", self.evaluation_periods, "at least 1")
        if not math.isfinite(self.threshold):
            raise ConfigError("threshold", self.threshold, "a finite number")

    @property
    def series(self) -> Series:
        """The series the alarm watches."""
        return Series(self.metric, self.statistic, self.period_s)

    @property
    def above(self) -> bool:
        """Whether the alarm fires above its threshold (a scale-out alarm, usually)."""
        return self.comparison.startswith("Greater")

    def breaches(self, value: float | None) -> bool:
        """Whether one datapoint breaches; a missing one never does."""
        return value is not None and COMPARISONS[self.comparison][1](value, self.threshold)

    def in_alarm(self, datapoints: Sequence[float | None]) -> bool:
        """Whether the last `evaluation_periods` datapoints all breach.

        Fewer datapoints than that (early in a run) leave the alarm out of ALARM.
        """
        recent = datapoints[len(datapoints) - self.evaluation_periods :]
        return len(recent) == self.evaluation_periods and all(map(self.breaches, recent))

    def describe(self, value: float) -> str:
        """The breach in a reason: ``"NetworkOut 7.1e6 > 6e6 for 1 period"``."""
        symbol = COMPARISONS[self.comparison][0]
        periods = "period" if self.evaluation_periods == 1 else "periods"
        return (
            f"{self.metric} {format_number(value)} {symbol} {format_number(self.threshold)}"
            f" for {self.evaluation_periods} {periods}"
        )


def percent_change(capacity: int, percent: int) -> int:
    """The change in instances that `percent` % of `capacity` means, rounded as AWS does.

    A result above 1 rounds down, one between 0 and 1 becomes 1, one between -1 and 0
    becomes -1, and one below -1 rounds up (toward zero). The product is exact, so 10 %
    of 30 is 3, not 3.0000000000000004.
    """
    exact = Fraction(capacity * percent, 100)
    if exact >= 1:
        return math.floor(exact)
    if exact > 0:
        return 1
    if exact == 0:
        return 0
    if exact > -1:
        return -1
    return math.ceil(exact)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A scaling adjustment: how a policy's action changes the capacity.

    Attributes:
        adjustment_type: one of `ADJUSTMENT_TYPES`.
        adjustment: instances to add (negative: remove), the exact capacity, or the
            percent change, as AWS's integer ``ScalingAdjustment``.
        min_adjustment_magnitude: with PercentChangeInCapacity only: a change of at
            least this many instances (AWS rejects it with the other types).

    Raises:
        ConfigError: for a combination AWS rejects; keys are the config names.
    """

    adjustment_type: str
    adjustment: int
    min_adjustment_magnitude: int | None = None

    def __post_init__(self) -> None:
        check_choice("adjustment_type", self.adjustment_type, ADJUSTMENT_TYPES)
        if self.adjustment_type == EXACT_CAPACITY and self.adjustment < 0:
            raise ConfigError("adjustment", self.adjustment, "a capacity, not negative")
        if self.min_adjustment_magnitude is not None:
            if self.adjustment_type != PERCENT_CHANGE_IN_CAPACITY:
                raise ConfigError(
                    "min_adjustment_magnitude",
                    self.min_adjustment_magnitude,
                    f"only with adjustment_type {PERCENT_CHANGE_IN_CAPACITY}",
                )
            if self.min_adjustment_magnitude < 1:
                raise ConfigError(
                    "min_adjustment_magnitude", self.min_adjustment_magnitude, "at least 1"
                )

    @property
    def exact(self) -> bool:
        """Whether the adjustment sets the capacity rather than changing it."""
        return self.adjustment_type == EXACT_CAPACITY

    def change(self, capacity: int) -> int:
        """The signed change in instances from `capacity` (not for ExactCapacity)."""
        if self.adjustment_type == CHANGE_IN_CAPACITY:
            return self.adjustment
        change = percent_change(capacity, self.adjustment)
        magnitude = self.min_adjustment_magnitude
        if magnitude is not None and change != 0 and abs(change) < magnitude:
            return magnitude if change > 0 else -magnitude
        return change

    def new_capacity(self, capacity: int) -> int:
        """The capacity the adjustment gives from `capacity`, before min/max."""
        if self.exact:
            return self.adjustment
        return capacity + self.change(capacity)

    def describe(self, capacity: int) -> str:
        """The adjustment in a reason: ``"+1"``, ``"+10% of 10 = +1"``, ``"exact 5"``."""
        if self.exact:
            return f"exact {self.adjustment}"
        change = f"{self.change(capacity):+d}"
        if self.adjustment_type == CHANGE_IN_CAPACITY:
            return change
        return f"{self.adjustment:+d}% of {capacity} = {change}"


def warming_count(observation: Observation, warmup_s: float) -> int:
    """Instances still warming up: launching, or in service for less than `warmup_s`.

    Terminating instances are leaving, not warming.
    """
    now_s = observation.now_s
    return sum(
        1
        for instance in observation.instances
        if not instance.terminating
        and (instance.ready_s is None or now_s < instance.ready_s + warmup_s)
    )


def scale_out_capacity(observation: Observation, warmup_s: float) -> int:
    """The capacity a scale-out starts from: instances neither warming nor terminating.

    Counting what is actually there, rather than the desired capacity minus the
    warming instances, also keeps a group whose launches cannot be placed from adding
    instances on every evaluation.
    """
    serving = sum(1 for instance in observation.instances if not instance.terminating)
    return serving - warming_count(observation, warmup_s)


def scale_in_capacity(observation: Observation) -> int:
    """The capacity a scale-in starts from: every instance, terminating ones included."""
    return len(observation.instances)
