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

from dataclasses import dataclass

from sim.core.errors import ConfigError
from sim.policies.autoscaling.ec2 import (
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


@dataclass(frozen=True, slots=True)
class SimpleAlarm:
    """One simple scaling policy: an alarm and the adjustment it triggers."""

    alarm: Alarm
    adjustment: Adjustment


@dataclass(frozen=True, slots=True)
class SimpleScalingParams:
    """A group's simple scaling policies and what they share.

    Attributes:
        alarms: the policies; their alarms watch one series.
        max_capacity: the group's MaxSize.
        min_capacity: the group's MinSize.
        cooldown_s: the group's default cooldown, counted from the end of an activity.
        interval_s: how often alarms are evaluated.

    Raises:
        ConfigError: for an empty list, alarms on different series, a negative cooldown
            or a bad capacity range; keys are the config names.
    """

    alarms: tuple[SimpleAlarm, ...]
    max_capacity: int
    min_capacity: int = 1
    cooldown_s: float = DEFAULT_COOLDOWN_S
    interval_s: float = DEFAULT_INTERVAL_S

    def __post_init__(self) -> None:
        if not self.alarms:
            raise ConfigError("alarms", "[]", "at least one alarm")
        first = self.alarms[0].alarm.series
        for index, simple_alarm in enumerate(self.alarms):
            if simple_alarm.alarm.series != first:
                raise ConfigError(
                    f"alarms[{index}]",
                    simple_alarm.alarm.series,
                    f"the series of alarms[0] ({first.metric}, {first.statistic}, "
                    f"{first.period_s:g} s): one simple policy reads one series",
                )
        check_capacity_range(self.min_capacity, self.max_capacity)
        check_not_negative("cooldown", self.cooldown_s)
        check_positive("interval", self.interval_s)


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
        series = params.alarms[0].alarm.series
        self.metric = series.metric
        self.statistic = series.statistic
        self.period_s = series.period_s
        self.datapoints_needed = max(entry.alarm.evaluation_periods for entry in params.alarms)
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
        for entry in params.alarms:
            if not entry.alarm.in_alarm(observation.datapoints):
                continue
            wanted = entry.adjustment.new_capacity(current)
            desired = clamp(wanted, params.min_capacity, params.max_capacity)
            if desired == current or (best is not None and desired <= best.desired):
                continue
            newest = observation.datapoints[-1]
            assert newest is not None, "a datapoint in ALARM is present"
            reason = f"{entry.alarm.describe(newest)}: {entry.adjustment.describe(current)}"
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

    Attributes:
        metric: MeasureName.
        statistic: Statistic.
        unit: Unit. Thresholds are compared with the datapoints as the monitoring gives
            them (NetworkOut in bytes), so the unit only labels them; it must name a
            CloudWatch unit.
        period_s: Period.
        breach_duration_s: BreachDuration; a whole number of periods.
        upper_threshold: UpperThreshold.
        upper_breach_scale_increment: UpperBreachScaleIncrement.
        lower_threshold: LowerThreshold; below the upper one.
        lower_breach_scale_increment: LowerBreachScaleIncrement.
        min_capacity: MinSize.
        max_capacity: MaxSize.
        cooldown_s: Cooldown.
        interval_s: how often the alarms are evaluated.

    Raises:
        ConfigError: for values Beanstalk rejects; keys are the config names.
    """

    metric: str = "NetworkOut"
    statistic: str = "Average"
    unit: str = "Bytes"
    period_s: float = 300.0
    breach_duration_s: float = 300.0
    upper_threshold: float = 6_000_000.0
    upper_breach_scale_increment: int = 1
    lower_threshold: float = 2_000_000.0
    lower_breach_scale_increment: int = -1
    min_capacity: int = 1
    max_capacity: int = 4
    cooldown_s: float = 360.0
    interval_s: float = DEFAULT_INTERVAL_S

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

        def alarm(threshold: float, comparison: str) -> Alarm:
            return Alarm(
                metric=self.metric,
                threshold=threshold,
                comparison=comparison,
                statistic=self.statistic,
                period_s=self.period_s,
                evaluation_periods=self.evaluation_periods,
            )

        return SimpleScalingParams(
            alarms=(
                SimpleAlarm(
                    alarm(self.upper_threshold, "GreaterThanThreshold"),
                    Adjustment("ChangeInCapacity", self.upper_breach_scale_increment),
                ),
                SimpleAlarm(
                    alarm(self.lower_threshold, "LessThanThreshold"),
                    Adjustment("ChangeInCapacity", self.lower_breach_scale_increment),
                ),
            ),
            max_capacity=self.max_capacity,
            min_capacity=self.min_capacity,
            cooldown_s=self.cooldown_s,
            interval_s=self.interval_s,
        )


def beanstalk(params: BeanstalkTriggerParams) -> SimpleScaling:
    """The simple scaling policy of an Elastic Beanstalk environment's trigger."""
    return SimpleScaling(params.simple_scaling(), name="beanstalk")
