"""EC2 simple scaling, and the Elastic Beanstalk trigger built from it.

A simple scaling policy acts when its alarm is in ALARM, then waits: while the scaling
activity it started is in progress, and for a cooldown after it ends, no simple scaling
action starts. The cooldown counts from the end of the activity: a scale-out ends when
every instance it launched is in service (with several instances, when the last launch
finishes), so a slow boot or image pull lengthens the pause.

Here one `SimpleScaling` holds all of a group's simple scaling alarms (Beanstalk's
upper and lower trigger are two), because AWS's cooldown belongs to the group: an
activity started by one alarm's policy pauses the others too. The alarms must watch one
series (metric, statistic, period), the one the control loop reads for the policy.

Assumptions where AWS says nothing precise:

* The loop launches instances at the instant of the decision, so the instances of a
  scale-out are those launched at or after it.
* A scale-in ends, as far as the policy can see, at the first evaluation at which no
  instance is terminating any more; the real end lies within one evaluation interval
  before, so the cooldown is never shorter than configured.
* When several alarms are in ALARM at once, the one giving the largest capacity wins,
  as AWS chooses between policies triggered together.
"""

from __future__ import annotations

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
    STATISTICS,
    TRIGGER_METRICS,
    Adjustment,
    Alarm,
    check_choice,
    check_not_negative,
    check_positive,
)
from sim.policies.autoscaling.protocol import (
    Decision,
    Observation,
    Series,
    check_capacity_range,
    clamp,
    out_of_range,
    unchanged,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimpleAlarm(Alarm):
    """One simple scaling policy: an alarm and the adjustment it triggers, written as
    one mapping (the alarm's keys and the adjustment's).

    Raises:
        ConfigError: for an alarm CloudWatch or an adjustment AWS would reject; keys
            are the config names.
    """

    adjustment: int = setting(
        doc="ScalingAdjustment: instances to add (negative: remove), the capacity or percent"
    )
    adjustment_type: str = setting(
        CHANGE_IN_CAPACITY, choices=ADJUSTMENT_TYPES, doc="how the adjustment counts"
    )
    min_adjustment_magnitude: int | None = setting(
        None, minimum=1, doc="with PercentChangeInCapacity: the least change, in instances"
    )

    def __post_init__(self) -> None:
        Alarm.__post_init__(self)
        _ = self.action  # an Adjustment refuses what AWS refuses

    @property
    def action(self) -> Adjustment:
        """The adjustment the alarm triggers."""
        return Adjustment(self.adjustment_type, self.adjustment, self.min_adjustment_magnitude)


@dataclass(frozen=True, slots=True)
class SimpleScalingRules:
    """A group's simple scaling policies and what they share, but for the group's size
    (which a `Composite` sets once for all its members).

    Raises:
        ConfigError: for an empty list, alarms on different series, or a negative
            cooldown; keys are the config names.
    """

    REFUSED_KEYS: ClassVar[Mapping[str, str]] = GROUP_SIZE_KEYS

    alarms: tuple[SimpleAlarm, ...] = setting(doc="the policies; their alarms watch one series")
    cooldown_s: float = setting(
        DEFAULT_COOLDOWN_S,
        unit="duration",
        minimum=0,
        doc="the group's default cooldown, counted from the end of an activity",
    )
    interval_s: float = setting(
        DEFAULT_INTERVAL_S, unit="duration", doc="how often alarms are evaluated (above 0)"
    )

    def __post_init__(self) -> None:
        if not self.alarms:
            raise ConfigError("alarms", "[]", "at least one alarm")
        first = self.alarms[0].series
        for index, simple_alarm in enumerate(self.alarms):
            if simple_alarm.series != first:
                raise ConfigError(
                    f"alarms[{index}]",
                    simple_alarm.series,
                    f"the series of alarms[0] ({first.metric}, {first.statistic}, "
                    f"{first.period_s:g} s): one simple policy reads one series",
                )
        check_not_negative("cooldown", self.cooldown_s)
        check_positive("interval", self.interval_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimpleScalingParams(SimpleScalingRules):
    """A group's simple scaling policies, what they share, and the group's size.

    Raises:
        ConfigError: as `SimpleScalingRules`, and for a bad capacity range.
    """

    max_capacity: int = setting(minimum=0, doc="the group's MaxSize")
    min_capacity: int = setting(1, minimum=0, doc="the group's MinSize")

    def __post_init__(self) -> None:
        SimpleScalingRules.__post_init__(self)
        check_capacity_range(self.min_capacity, self.max_capacity)


@dataclass(slots=True)
class ScalingActivity:
    """The last scaling activity of the group, as far as its simple policies track it.

    Attributes:
        started_s: when the desired capacity changed.
        scale_out: whether it raised the desired capacity.
        ended_s: when it ended; None while in progress.
    """

    started_s: float
    scale_out: bool
    ended_s: float | None = None

    def follow(self, observation: Observation) -> None:
        """Note the end of the activity once the observation shows it."""
        if self.ended_s is not None:
            return
        if self.scale_out:
            launched = [
                instance
                for instance in observation.instances
                if instance.launched_s >= self.started_s and not instance.terminating
            ]
            ready_times = [instance.ready_s for instance in launched]
            if any(ready_s is None for ready_s in ready_times):
                return
            self.ended_s = max(
                (ready_s for ready_s in ready_times if ready_s is not None),
                default=self.started_s,
            )
        elif not any(instance.terminating for instance in observation.instances):
            self.ended_s = max(observation.now_s, self.started_s)


class SimpleScaling:
    """EC2 simple scaling: alarm in ALARM, adjust, wait for the activity and a cooldown.

    Args:
        params: the policies and the group's settings.
        name: the name the policy goes by (``simple``, or ``beanstalk``).
    """

    vetoes_scale_in = False
    """A simple policy that is not in ALARM has nothing to say against another's
    scale-in (see `Composite`)."""

    def __init__(self, params: SimpleScalingParams, name: str = "simple") -> None:
        self.params = params
        self.name = name
        series = params.alarms[0].series
        self.metric = series.metric
        self.statistic = series.statistic
        self.period_s = series.period_s
        self.datapoints_needed = max(alarm.evaluation_periods for alarm in params.alarms)
        self.interval_s = params.interval_s
        self.extra_series: tuple[tuple[Series, int], ...] = ()
        self.min_capacity = params.min_capacity
        self.max_capacity = params.max_capacity
        self._activity: ScalingActivity | None = None

    def decide(self, observation: Observation) -> Decision:
        """Act on the alarms unless an activity or its cooldown is in the way."""
        decision = self.propose(observation)
        self.record(observation, decision)
        return decision

    def propose(self, observation: Observation) -> Decision:
        """The decision, without noting it as the group's last activity."""
        params = self.params
        bounded = out_of_range(observation, params.min_capacity, params.max_capacity)
        if bounded is not None:
            return bounded
        activity = self._activity
        if activity is not None:
            activity.follow(observation)
            if activity.ended_s is None:
                return unchanged(observation)
            if observation.now_s < activity.ended_s + params.cooldown_s:
                return unchanged(observation)
        current = observation.desired
        best: Decision | None = None
        for alarm in params.alarms:
            if not alarm.in_alarm(observation.datapoints):
                continue
            action = alarm.action
            wanted = action.new_capacity(current)
            desired = clamp(wanted, params.min_capacity, params.max_capacity)
            if desired == current or (best is not None and desired <= best.desired):
                continue
            newest = observation.datapoints[-1]
            assert newest is not None, "a datapoint in ALARM is present"
            reason = f"{alarm.describe(newest)}: {action.describe(current)}"
            if desired != wanted:
                bound = "max" if desired < wanted else "min"
                reason += f", capped at {bound} {desired}"
            best = Decision(desired, reason)
        return best if best is not None else unchanged(observation)

    def record(self, observation: Observation, decision: Decision) -> None:
        """Note the group's decision: a change of desired capacity starts an activity."""
        if decision.desired != observation.desired:
            self._activity = ScalingActivity(
                observation.now_s, scale_out=decision.desired > observation.desired
            )


BEANSTALK_UNITS = (
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
)
"""CloudWatch units a Beanstalk trigger may name."""


@dataclass(frozen=True, slots=True)
class BeanstalkTriggerParams:
    """An Elastic Beanstalk environment's trigger (``aws:autoscaling:trigger``) and
    group size (``aws:autoscaling:asg``), with Beanstalk's defaults.

    Beanstalk makes two simple scaling policies from it: one adds
    `upper_breach_scale_increment` instances when the metric is above the upper
    threshold for the whole breach duration, the other adds
    `lower_breach_scale_increment` (negative: removes) when it is below the lower one.

    Thresholds are compared with the datapoints as the monitoring gives them (NetworkOut
    in bytes), so `unit` only labels them; it must name a CloudWatch unit.

    Raises:
        ConfigError: for values Beanstalk rejects; keys are the config names.
    """

    metric: str = setting("NetworkOut", choices=TRIGGER_METRICS, doc="MeasureName")
    statistic: str = setting("Average", choices=STATISTICS, doc="Statistic")
    unit: str = setting("Bytes", choices=BEANSTALK_UNITS, doc="Unit (a label only)")
    period_s: float = setting(300.0, unit="duration", doc="Period (above 0)")
    breach_duration_s: float = setting(
        300.0, unit="duration", doc="BreachDuration: a whole number of periods"
    )
    upper_threshold: float = setting(6_000_000.0, doc="UpperThreshold")
    upper_breach_scale_increment: int = setting(1, doc="UpperBreachScaleIncrement")
    lower_threshold: float = setting(2_000_000.0, doc="LowerThreshold: below the upper one")
    lower_breach_scale_increment: int = setting(-1, doc="LowerBreachScaleIncrement")
    min_capacity: int = setting(1, minimum=0, doc="MinSize")
    max_capacity: int = setting(4, minimum=0, doc="MaxSize")
    cooldown_s: float = setting(360.0, unit="duration", minimum=0, doc="Cooldown")
    interval_s: float = setting(
        DEFAULT_INTERVAL_S, unit="duration", doc="how often the alarms are evaluated (above 0)"
    )

    def __post_init__(self) -> None:
        check_choice("metric", self.metric, TRIGGER_METRICS)
        check_choice("statistic", self.statistic, STATISTICS)
        check_choice("unit", self.unit, BEANSTALK_UNITS)
        check_positive("period", self.period_s)
        periods = round(self.breach_duration_s / self.period_s)
        if periods < 1 or abs(periods * self.period_s - self.breach_duration_s) > 1e-9 * max(
            1.0, self.breach_duration_s
        ):
            raise ConfigError(
                "breach_duration",
                self.breach_duration_s,
                f"a whole number of periods ({self.period_s:g} s), at least one",
            )
        if not self.lower_threshold < self.upper_threshold:
            raise ConfigError(
                "lower_threshold",
                self.lower_threshold,
                f"below upper_threshold ({self.upper_threshold:g})",
            )
        check_capacity_range(self.min_capacity, self.max_capacity)
        check_not_negative("cooldown", self.cooldown_s)
        check_positive("interval", self.interval_s)

    @property
    def evaluation_periods(self) -> int:
        """Periods that must all breach: breach duration over period."""
        return round(self.breach_duration_s / self.period_s)

    def simple_scaling(self) -> SimpleScalingParams:
        """The two simple scaling policies Beanstalk creates for this trigger."""

        def alarm(threshold: float, comparison: str, increment: int) -> SimpleAlarm:
            return SimpleAlarm(
                metric=self.metric,
                threshold=threshold,
                comparison=comparison,
                statistic=self.statistic,
                period_s=self.period_s,
                evaluation_periods=self.evaluation_periods,
                adjustment=increment,
            )

        return SimpleScalingParams(
            alarms=(
                alarm(
                    self.upper_threshold, "GreaterThanThreshold", self.upper_breach_scale_increment
                ),
                alarm(self.lower_threshold, "LessThanThreshold", self.lower_breach_scale_increment),
            ),
            max_capacity=self.max_capacity,
            min_capacity=self.min_capacity,
            cooldown_s=self.cooldown_s,
            interval_s=self.interval_s,
        )


def beanstalk(params: BeanstalkTriggerParams) -> SimpleScaling:
    """The simple scaling policy of an Elastic Beanstalk environment's trigger."""
    return SimpleScaling(params.simple_scaling(), name="beanstalk")


def build_member(rules: SimpleScalingRules, min_capacity: int, max_capacity: int) -> SimpleScaling:
    """Simple scaling as a member of a `Composite`, which sets the group's size."""
    return SimpleScaling(in_group(SimpleScalingParams, rules, min_capacity, max_capacity))


KINDS = (
    Kind(
        "simple",
        SimpleScalingParams,
        SimpleScaling,
        "EC2 simple scaling: alarms, adjustments, a cooldown from the end of the activity",
    ),
    Kind(
        "beanstalk",
        BeanstalkTriggerParams,
        beanstalk,
        "the Elastic Beanstalk trigger: two simple scaling alarms with Beanstalk's defaults",
    ),
)
MEMBER = Kind("simple", SimpleScalingRules, build_member, "EC2 simple scaling")
