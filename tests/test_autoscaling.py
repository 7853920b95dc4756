"""Autoscaling policies on plain observations: AWS and Kubernetes examples, exact numbers."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.errors import ConfigError
from sim.core.schema import read, read_kind
from sim.core.settings import setting_of
from sim.policies.autoscaling import AUTOSCALING
from sim.policies.autoscaling.composite import COMPOSABLE, Composite
from sim.policies.autoscaling.ec2 import Adjustment, Alarm, percent_change
from sim.policies.autoscaling.fixed import FixedCapacity
from sim.policies.autoscaling.hpa import (
    DEFAULT_SCALE_UP,
    Hpa,
    HpaParams,
    HpaScaleUp,
    HpaScalingPolicy,
    HpaTolerances,
    default_scale_down,
)
from sim.policies.autoscaling.hpa_calculator import ReplicaCalculator, Tolerances
from sim.policies.autoscaling.protocol import Decision, Instance, Observation, ScalingPolicy, Series
from sim.policies.autoscaling.simple import (
    BeanstalkTriggerParams,
    SimpleAlarm,
    SimpleScaling,
    SimpleScalingParams,
    beanstalk,
)
from sim.policies.autoscaling.step import StepAdjustment, StepScaling, StepScalingParams
from sim.policies.autoscaling.target_tracking import TargetTracking, TargetTrackingParams

KEY = "autoscaling"


def make_policy(name: str, config: Mapping[str, Any], key: str) -> ScalingPolicy:
    """The policy `name` of `AUTOSCALING` with the settings of `config` (read as a
    config under `key` is)."""
    if name not in AUTOSCALING:
        raise ConfigError(key, name, "one of " + ", ".join(AUTOSCALING.names()))
    kind = AUTOSCALING[name]
    policy: ScalingPolicy = kind.build(read(kind.params, config, key))
    return policy


def in_service(count: int, ready_s: float = 0.0) -> list[Instance]:
    """`count` instances launched before `ready_s` and in service since then."""
    return [Instance(launched_s=ready_s - 100.0, ready_s=ready_s)] * count


def observe(
    now_s: float,
    desired: int,
    instances: list[Instance],
    datapoints: tuple[float | None, ...] = (),
    series: Mapping[Series, tuple[float | None, ...]] | None = None,
) -> Observation:
    return Observation(now_s, desired, tuple(instances), datapoints, dict(series or {}))


# --- EC2 step scaling -------------------------------------------------------------------

WORKED_EXAMPLE = {
    "policies": [
        {
            "name": "step",
            "alarm": {
                "metric": "CPUUtilization",
                "period": "1min",
                "threshold": 50,
                "comparison": "GreaterThanOrEqualToThreshold",
            },
            "adjustment_type": "PercentChangeInCapacity",
            "steps": [
                {"lower_bound": 0, "upper_bound": 10, "adjustment": 0},
                {"lower_bound": 10, "upper_bound": 20, "adjustment": 10},
                {"lower_bound": 20, "adjustment": 30},
            ],
        },
        {
            "name": "step",
            "alarm": {
                "metric": "CPUUtilization",
                "period": "1min",
                "threshold": 50,
                "comparison": "LessThanOrEqualToThreshold",
            },
            "adjustment_type": "PercentChangeInCapacity",
            "steps": [
                {"upper_bound": -20, "adjustment": -30},
                {"lower_bound": -20, "upper_bound": -10, "adjustment": -10},
                {"lower_bound": -10, "upper_bound": 0, "adjustment": 0},
            ],
        },
    ],
    "max_capacity": 20,
}


def test_step_scaling_worked_example_from_the_guide() -> None:
    policy = make_policy("composite", WORKED_EXAMPLE, KEY)
    capacity = 10
    steps = []
    for now_s, metric in ((1000.0, 60.0), (2000.0, 70.0), (3000.0, 40.0), (4000.0, 30.0)):
        decision = policy.decide(observe(now_s, capacity, in_service(capacity), (metric,)))
        capacity = decision.desired
        steps.append(capacity)
    assert steps == [11, 14, 13, 10]


def test_step_scaling_reason_names_alarm_step_and_adjustment() -> None:
    policy = make_policy("composite", WORKED_EXAMPLE, KEY)
    decision = policy.decide(observe(1000.0, 11, in_service(11), (70.0,)))
    assert decision == Decision(
        14, "CPUUtilization 70 >= 50 for 1 period, step [20, inf): +30% of 11 = +3 from 11"
    )


def scale_out_policy(warmup_s: float = 300.0) -> StepScaling:
    """The guide's scale-out policy: +10 % at [60, 70), +30 % at 70 and above."""
    return StepScaling(
        StepScalingParams(
            alarm=Alarm("CPUUtilization", 50.0, "GreaterThanOrEqualToThreshold", period_s=60.0),
            steps=(
                StepAdjustment(0, 0.0, 10.0),
                StepAdjustment(10, 10.0, 20.0),
                StepAdjustment(30, 20.0, None),
            ),
            max_capacity=20,
            adjustment_type="PercentChangeInCapacity",
            estimated_instance_warmup_s=warmup_s,
        )
    )


def test_step_scaling_warm_up_example() -> None:
    policy = scale_out_policy(warmup_s=300.0)
    first = policy.decide(observe(1000.0, 10, in_service(10), (60.0,)))
    assert first.desired == 11
    launching = Instance(launched_s=1000.0, ready_s=None)
    assert policy.decide(observe(1060.0, 11, [*in_service(10), launching], (62.0,))) == Decision(
        11, ""
    )
    warming = Instance(launched_s=1000.0, ready_s=1100.0)
    assert policy.decide(observe(1120.0, 11, [*in_service(10), warming], (70.0,))).desired == 13
    # Warmed up (1100 + 300 s): the eleventh instance counts again.
    assert policy.decide(observe(1400.0, 11, [*in_service(10), warming], (70.0,))).desired == 14


def test_step_scaling_no_scale_in_while_an_instance_warms() -> None:
    policy = make_policy("composite", WORKED_EXAMPLE, KEY)
    warming = Instance(launched_s=1000.0, ready_s=1100.0)
    instances = [*in_service(13), warming]
    assert policy.decide(observe(1200.0, 14, instances, (30.0,))) == Decision(14, "")
    assert policy.decide(observe(1400.0, 14, instances, (30.0,))).desired == 10


def test_step_scaling_terminating_instances_count_when_scaling_in() -> None:
    policy = make_policy("composite", WORKED_EXAMPLE, KEY)
    first = policy.decide(observe(1000.0, 14, in_service(14), (40.0,)))
    assert first.desired == 13
    leaving = Instance(launched_s=0.0, ready_s=10.0, terminating=True)
    instances = [*in_service(13), leaving]
    assert policy.decide(observe(1060.0, 13, instances, (40.0,))) == Decision(13, "")
    assert policy.decide(observe(1120.0, 13, in_service(13), (40.0,))).desired == 12


def bound_policies() -> Composite:
    """Steps with distinct whole-instance adjustments, to tell bounds apart."""
    out = StepScaling(
        StepScalingParams(
            alarm=Alarm("CPUUtilization", 50.0, "GreaterThanOrEqualToThreshold"),
            steps=(
                StepAdjustment(1, 0.0, 10.0),
                StepAdjustment(2, 10.0, 20.0),
                StepAdjustment(3, 20.0, None),
            ),
            max_capacity=100,
        )
    )
    inward = StepScaling(
        StepScalingParams(
            alarm=Alarm("CPUUtilization", 50.0, "LessThanOrEqualToThreshold"),
            steps=(
                StepAdjustment(-3, None, -20.0),
                StepAdjustment(-2, -20.0, -10.0),
                StepAdjustment(-1, -10.0, 0.0),
            ),
            max_capacity=100,
        )
    )
    return Composite([out, inward])


@pytest.mark.parametrize(
    ("metric", "desired"),
    [(50.0, 11), (59.9, 11), (60.0, 12), (69.9, 12), (70.0, 13), (40.0, 8), (30.0, 7)],
)
def test_step_bounds_inclusive_below_when_above_and_above_when_below(
    metric: float, desired: int
) -> None:
    decision = bound_policies().decide(observe(1000.0, 10, in_service(10), (metric,)))
    assert decision.desired == desired


@pytest.mark.parametrize(
    ("capacity", "percent", "change"),
    [
        (5, 10, 1),  # 0.5 becomes 1
        (5, -10, -1),  # -0.5 becomes -1
        (27, 10, 2),  # 2.7 rounds down
        (27, -10, -2),  # -2.7 rounds toward zero
        (10, 10, 1),
        (10, -10, -1),
        (30, 10, 3),
        (0, 50, 0),
    ],
)
def test_percent_change_rounding(capacity: int, percent: int, change: int) -> None:
    assert percent_change(capacity, percent) == change


def test_min_adjustment_magnitude() -> None:
    up = Adjustment("PercentChangeInCapacity", 10, min_adjustment_magnitude=2)
    down = Adjustment("PercentChangeInCapacity", -10, min_adjustment_magnitude=2)
    assert [up.change(5), up.change(27), up.change(40)] == [2, 2, 4]
    assert [down.change(5), down.change(40)] == [-2, -4]
    with pytest.raises(ConfigError) as error:
        Adjustment("ChangeInCapacity", 1, min_adjustment_magnitude=2)
    assert error.value.key == "min_adjustment_magnitude"


# --- EC2 simple scaling and Elastic Beanstalk -------------------------------------------


def simple_policy() -> SimpleScaling:
    return SimpleScaling(
        SimpleScalingParams(
            alarms=(
                SimpleAlarm(
                    "CPUUtilization", 70.0, "GreaterThanThreshold", period_s=60.0, adjustment=1
                ),
                SimpleAlarm(
                    "CPUUtilization", 20.0, "LessThanThreshold", period_s=60.0, adjustment=-1
                ),
            ),
            max_capacity=10,
            cooldown_s=300.0,
        )
    )


def test_simple_scaling_cooldown_counts_from_the_end_of_the_activity() -> None:
    policy = simple_policy()
    assert policy.decide(observe(600.0, 2, in_service(2), (80.0,))) == Decision(
        3, "CPUUtilization 80 > 70 for 1 period: +1"
    )
    booting = Instance(launched_s=600.0, ready_s=None)
    booted = Instance(launched_s=600.0, ready_s=700.0)
    decisions = [
        policy.decide(observe(660.0, 3, [*in_service(2), booting], (80.0,))).desired,
        policy.decide(observe(720.0, 3, [*in_service(2), booted], (80.0,))).desired,
        # 300 s after the decision, but only 260 s after the activity ended.
        policy.decide(observe(960.0, 3, [*in_service(2), booted], (80.0,))).desired,
        policy.decide(observe(1000.0, 3, [*in_service(2), booted], (80.0,))).desired,
    ]
    assert decisions == [3, 3, 3, 4]


def test_simple_scaling_scale_in_ends_when_no_instance_terminates() -> None:
    policy = simple_policy()
    assert policy.decide(observe(600.0, 3, in_service(3), (10.0,))).desired == 2
    leaving = Instance(launched_s=0.0, ready_s=10.0, terminating=True)
    assert policy.decide(observe(660.0, 2, [*in_service(2), leaving], (10.0,))).desired == 2
    assert policy.decide(observe(720.0, 2, in_service(2), (10.0,))).desired == 2
    assert policy.decide(observe(960.0, 2, in_service(2), (10.0,))).desired == 2
    assert policy.decide(observe(1020.0, 2, in_service(2), (10.0,))).desired == 1


def test_simple_alarm_needs_every_evaluation_period_and_treats_missing_as_not_breaching() -> None:
    alarm = Alarm("CPUUtilization", 70.0, "GreaterThanThreshold", evaluation_periods=2)
    assert alarm.in_alarm((80.0, 75.0))
    assert not alarm.in_alarm((75.0,))
    assert not alarm.in_alarm((None, 80.0))
    assert not alarm.in_alarm((80.0, 70.0))


def test_beanstalk_defaults() -> None:
    policy = make_policy("beanstalk", {}, KEY)
    assert (policy.metric, policy.statistic, policy.period_s) == ("NetworkOut", "Average", 300.0)
    assert (policy.datapoints_needed, policy.interval_s) == (1, 60.0)
    params = BeanstalkTriggerParams()
    assert (params.min_capacity, params.max_capacity, params.cooldown_s) == (1, 4, 360.0)
    assert policy.decide(observe(600.0, 1, in_service(1), (7e6,))) == Decision(
        2, "NetworkOut 7e6 > 6e6 for 1 period: +1"
    )
    at_max = make_policy("beanstalk", {}, KEY)
    assert at_max.decide(observe(600.0, 4, in_service(4), (7e6,))) == Decision(4, "")
    inward = make_policy("beanstalk", {}, KEY)
    assert inward.decide(observe(600.0, 3, in_service(3), (1e6,))) == Decision(
        2, "NetworkOut 1e6 < 2e6 for 1 period: -1"
    )
    at_min = make_policy("beanstalk", {}, KEY)
    assert at_min.decide(observe(600.0, 1, in_service(1), (1e6,))) == Decision(1, "")
    between = make_policy("beanstalk", {}, KEY)
    assert between.decide(observe(600.0, 2, in_service(2), (4e6,))) == Decision(2, "")


def test_beanstalk_breach_duration_of_two_periods() -> None:
    policy = make_policy("beanstalk", {"breach_duration": "10min"}, KEY)
    assert policy.datapoints_needed == 2
    assert policy.decide(observe(600.0, 1, in_service(1), (5e6, 7e6))).desired == 1
    assert policy.decide(observe(900.0, 1, in_service(1), (7e6, 7e6))) == Decision(
        2, "NetworkOut 7e6 > 6e6 for 2 periods: +1"
    )


def test_beanstalk_cooldown_of_360_s() -> None:
    policy = beanstalk(BeanstalkTriggerParams())
    assert policy.decide(observe(600.0, 1, in_service(1), (7e6,))).desired == 2
    booted = Instance(launched_s=600.0, ready_s=700.0)
    group = [*in_service(1), booted]
    assert policy.decide(observe(1020.0, 2, group, (7e6,))).desired == 2
    assert policy.decide(observe(1059.0, 2, group, (7e6,))).desired == 2
    assert policy.decide(observe(1060.0, 2, group, (7e6,))).desired == 3


def test_beanstalk_breach_duration_must_be_whole_periods() -> None:
    with pytest.raises(ConfigError) as error:
        make_policy("beanstalk", {"breach_duration": "7min"}, KEY)
    assert error.value.key == "autoscaling.breach_duration"


# --- Target tracking --------------------------------------------------------------------


def tracking(metric: str = "CPUUtilization", target: float = 50.0, **extra: Any) -> TargetTracking:
    return TargetTracking(
        TargetTrackingParams(metric=metric, target_value=target, max_capacity=10, **extra)
    )


def test_target_tracking_rounds_conservatively_both_ways() -> None:
    assert tracking().decide(observe(1000.0, 3, in_service(3), (75.0,) * 3)) == Decision(
        5, "CPUUtilization 75 vs target 50: 3 x 75/50 = 4.5 -> 5"
    )
    assert tracking().decide(observe(1000.0, 3, in_service(3), (25.0,) * 15)).desired == 2
    latency = tracking(metric="Latency", target=0.7)
    assert latency.decide(observe(1000.0, 1, in_service(1), (2.1,) * 3)).desired == 3


def test_target_tracking_scales_in_only_after_15_low_datapoints() -> None:
    low_but_one = (46.0,) + (25.0,) * 14
    assert tracking().decide(observe(1000.0, 3, in_service(3), low_but_one)).desired == 3
    assert tracking().decide(observe(1000.0, 3, in_service(3), (25.0,) * 15)).desired == 2


def test_target_tracking_cooldowns() -> None:
    policy = tracking()
    assert policy.decide(observe(1000.0, 6, in_service(6), (25.0,) * 15)).desired == 3
    assert policy.decide(observe(1100.0, 3, in_service(3), (10.0,) * 15)).desired == 3
    # A scale-out during the scale-in cooldown happens at once.
    assert policy.decide(observe(1160.0, 3, in_service(3), (100.0,) * 15)).desired == 6
    assert policy.decide(observe(1400.0, 6, in_service(6), (100.0,) * 15)).desired == 6
    assert policy.decide(observe(1460.0, 6, in_service(6), (100.0,) * 15)).desired == 10


def test_target_tracking_disable_scale_in() -> None:
    policy = tracking(disable_scale_in=True)
    assert policy.decide(observe(1000.0, 3, in_service(3), (25.0,) * 15)) == Decision(3, "")
    assert policy.decide(observe(1000.0, 3, in_service(3), (75.0,) * 15)).desired == 5


REQUESTS = Series("RequestCount", "Sum", 60.0)


def two_targets(disable_scale_in: bool = False) -> Composite:
    return Composite(
        [
            tracking(),
            tracking(
                metric="RequestCount",
                target=1000.0,
                statistic="Sum",
                disable_scale_in=disable_scale_in,
            ),
        ]
    )


@pytest.mark.parametrize(
    ("cpu", "requests", "disable_scale_in", "desired"),
    [
        (75.0, 250.0, False, 5),  # out if any says so
        (25.0, 1000.0, False, 3),  # in only if all do
        (25.0, 100.0, False, 2),  # both in: the largest capacity, 2 rather than 1
        (25.0, 1000.0, True, 2),  # a policy with scale-in disabled does not vote
    ],
)
def test_composite_out_if_any_in_only_if_all(
    cpu: float, requests: float, disable_scale_in: bool, desired: int
) -> None:
    policy = two_targets(disable_scale_in)
    assert policy.extra_series == ((REQUESTS, 15),)
    observation = observe(1000.0, 3, in_service(3), (cpu,) * 15, {REQUESTS: (requests,) * 15})
    assert policy.decide(observation).desired == desired


def test_composite_needs_the_datapoints_of_every_series() -> None:
    with pytest.raises(ValueError, match="RequestCount"):
        two_targets().decide(observe(1000.0, 3, in_service(3), (50.0,) * 15))


def test_composite_cooldown_belongs_to_the_group() -> None:
    cpu, requests = tracking(), tracking(metric="RequestCount", target=1000.0, statistic="Sum")
    policy = Composite([cpu, requests])
    outward = observe(1000.0, 3, in_service(3), (75.0,) * 15, {REQUESTS: (1000.0,) * 15})
    assert policy.decide(outward).desired == 5
    # The scale-out came from the CPU policy; the request policy is cooling down too.
    alone = observe(1100.0, 5, in_service(5), (2000.0,) * 15)
    assert requests.decide(alone) == Decision(5, "")


# --- Kubernetes HPA ---------------------------------------------------------------------
# Upstream's own test tables are in test_hpa_upstream.py; these are the model's examples.


def hpa(target: int = 50, max_capacity: int = 100, **settings: Any) -> Hpa:
    return Hpa(HpaParams(target_utilization=target, max_capacity=max_capacity, **settings))


def pods(count: int, percent: float | None, request_vcpu: float = 1.0) -> list[Instance]:
    """`count` pods ready since long before the first sync, past CPU initialization,
    each using `percent` of its CPU request (None: no sample yet)."""
    usage = None if percent is None else percent / 100 * request_vcpu
    pod = Instance(-1100.0, -1000.0, cpu_request_vcpu=request_vcpu, cpu_usage_vcpu=usage)
    return [pod] * count


LAUNCHING = Instance(launched_s=990.0, ready_s=None, cpu_request_vcpu=1.0)
BEHAVIOR = {"scale_up": HpaScaleUp()}


def test_hpa_docs_example() -> None:
    decision = hpa(target=75).decide(observe(1000.0, 50, pods(50, 90.0)))
    assert decision.desired == 60


def test_hpa_tolerance() -> None:
    assert hpa(target=75).decide(observe(1000.0, 10, pods(10, 81.75))) == Decision(10, "")
    assert hpa(target=75).decide(observe(1000.0, 10, pods(10, 83.25))).desired == 12


def test_hpa_tolerance_band_includes_its_edges() -> None:
    """10 pods at 110 % of a 100 % target: Kubernetes 1.33's band keeps 10. (Before 1.33,
    |1 − 1.1| = 0.10000000000000009 in float64 exceeded 0.1 and the count became 11, as
    it does here with a band just below 1.1.)"""
    assert hpa(target=100).decide(observe(1000.0, 10, pods(10, 110.0))) == Decision(10, "")
    tighter = {"tolerance": HpaTolerances(scale_up=0.09)}
    assert hpa(target=100, **tighter).decide(observe(1000.0, 10, pods(10, 110.0))).desired == 11


def test_hpa_utilization_is_weighted_by_requests() -> None:
    """A pod requesting 3 vCPUs at 20 % and one requesting 1 vCPU at 100 %: 1.6 of
    4 vCPUs is 40 % (the mean of the percentages would be 60 %), half the target."""
    mixed = pods(1, 20.0, request_vcpu=3.0) + pods(1, 100.0)
    recommendation = ReplicaCalculator(80).recommend(observe(1000.0, 2, mixed))
    assert recommendation is not None
    assert (recommendation.utilization, recommendation.replicas) == (40, 1)


def test_hpa_reads_cpu_in_whole_milli_cpus_rounded_up() -> None:
    """0.8175 vCPU is read as 818 m: 10 such pods of 1 vCPU are at 81 % (whole percent)."""
    recommendation = ReplicaCalculator(75).recommend(observe(1000.0, 10, pods(10, 81.75)))
    assert recommendation is not None and recommendation.utilization == 81
    tiny = [Instance(-1100.0, -1000.0, cpu_request_vcpu=0.1, cpu_usage_vcpu=0.0000001)]
    recommendation = ReplicaCalculator(1).recommend(observe(1000.0, 1, tiny))
    assert recommendation is not None and recommendation.utilization == 1


@pytest.mark.parametrize(
    ("desired", "instances", "replicas"),
    [
        # Scale-up: 3 ready at 70 % (ratio 1.4), 3 unready at 0 %: ratio 0.7 reverses.
        (6, pods(3, 70.0) + [LAUNCHING] * 3, 6),
        # Scale-up dampened: 4 at 100 % and one unready at 0 %: 80 % / 50 % x 5 = 8.
        (5, pods(4, 100.0) + [LAUNCHING], 8),
        # Scale-up: one at 60 %, two missing at 0 %: 20 % reverses.
        (3, pods(1, 60.0) + pods(2, None), 3),
        # Scale-down: two at 20 %, two missing at 100 % of their request: 60 %, the
        # direction reverses, no change.
        (4, pods(2, 20.0) + pods(2, None), 4),
        # Scale-down: two at 20 %, two unready left out: 0.4 x 2 -> 1.
        (4, pods(2, 20.0) + [LAUNCHING] * 2, 1),
        # Scale-down without set-aside pods: 0.4 x 2 -> 1.
        (2, pods(2, 20.0), 1),
        # Terminating pods are ignored.
        (2, pods(2, 20.0) + [Instance(0.0, 1.0, terminating=True, cpu_request_vcpu=1.0)], 1),
    ],
)
def test_hpa_unready_and_missing_pods(
    desired: int, instances: list[Instance], replicas: int
) -> None:
    recommendation = ReplicaCalculator(50).recommend(observe(1000.0, desired, instances))
    assert recommendation is not None
    assert recommendation.replicas == replicas


def test_hpa_cpu_initialization_period() -> None:
    calculator = ReplicaCalculator(50)
    sample = {"cpu_request_vcpu": 1.0, "cpu_usage_vcpu": 0.8}
    fresh = Instance(launched_s=940.0, ready_s=990.0, **sample)  # sample mixes start-up
    settled = Instance(launched_s=940.0, ready_s=960.0, **sample)
    old = Instance(launched_s=0.0, ready_s=990.0, **sample)  # past the 5 min period
    groups = calculator.group_pods(observe(1000.0, 3, [fresh, settled, old]))
    assert (len(groups.ready), len(groups.unready), len(groups.missing)) == (2, 1, 0)


def test_hpa_without_ready_metrics_does_nothing() -> None:
    assert hpa().decide(observe(1000.0, 3, [LAUNCHING] * 3)) == Decision(3, "")


def test_hpa_without_behavior_scales_down_after_its_window_edge() -> None:
    """Without ``behavior`` the highest recommendation of the last 300 s wins, the one
    exactly 300 s old included, starting with the 10 replicas found at the first sync."""
    policy = hpa()
    for now_s in range(0, 315, 15):
        assert policy.decide(observe(float(now_s), 10, pods(10, 25.0))).desired == 10
    assert policy.decide(observe(315.0, 10, pods(10, 25.0))).desired == 5


def test_hpa_with_behavior_scales_down_at_its_window_edge() -> None:
    """With ``behavior`` a recommendation exactly as old as the window no longer counts."""
    policy = hpa(**BEHAVIOR)
    for now_s in range(0, 300, 15):
        assert policy.decide(observe(float(now_s), 10, pods(10, 25.0))).desired == 10
    assert policy.decide(observe(300.0, 10, pods(10, 25.0))).desired == 5


def test_hpa_dip_then_recovery_does_not_scale_down() -> None:
    for policy in (hpa(), hpa(**BEHAVIOR)):
        loads = [50.0] * 20 + [25.0] * 4 + [50.0] * 30
        desired = [
            policy.decide(observe(15.0 * index, 10, pods(10, load))).desired
            for index, load in enumerate(loads)
        ]
        assert desired == [10] * len(loads)


@pytest.mark.parametrize(("current", "wanted", "limited"), [(2, 20, 6), (10, 40, 20)])
def test_hpa_behavior_scale_up_rate_limit(current: int, wanted: int, limited: int) -> None:
    policy = hpa(**BEHAVIOR)
    load = 50.0 * wanted / current
    assert policy.decide(observe(1000.0, current, pods(current, load))).desired == limited
    # Within the same 15 s the replicas added already count against the limit.
    still = policy.decide(observe(1014.0, limited, pods(limited, load * current / limited)))
    assert still.desired == limited
    after = policy.decide(observe(1015.0, limited, pods(limited, load * current / limited)))
    assert after.desired > limited


@pytest.mark.parametrize(("current", "wanted", "limited"), [(1, 20, 4), (2, 20, 4), (10, 40, 20)])
def test_hpa_without_behavior_scale_up_limit(current: int, wanted: int, limited: int) -> None:
    """Without ``behavior`` one sync raises the count to at most max(2 × current, 4),
    whatever the last sync did."""
    policy = hpa()
    load = 50.0 * wanted / current
    assert policy.decide(observe(1000.0, current, pods(current, load))).desired == limited
    again = policy.decide(observe(1001.0, limited, pods(limited, load * current / limited)))
    assert again.desired == min(wanted, max(2 * limited, 4))


def test_hpa_percent_limits_round_as_float64() -> None:
    """50 replicas + 10 % is 55.00000000000001 in float64, rounded up to 56."""
    up = HpaScaleUp(policies=(HpaScalingPolicy("Percent", 10, 60.0),))
    decision = hpa(target=50, scale_up=up).decide(observe(1000.0, 50, pods(50, 100.0)))
    assert decision.desired == 56


def test_hpa_zero_replicas_disables_autoscaling_and_bounds_apply_at_once() -> None:
    assert hpa().decide(observe(0.0, 0, [])) == Decision(0, "")
    assert hpa(max_capacity=5).decide(observe(0.0, 8, pods(8, 50.0))).desired == 5


def test_hpa_bound_applied_at_the_first_sync_is_remembered() -> None:
    """The first sync records the 8 replicas it found although it brings them to 5 at
    once; with the default behaviour that recommendation holds a scale-down for 300 s."""
    policy = hpa(max_capacity=5, **BEHAVIOR)
    assert policy.decide(observe(0.0, 8, pods(8, 10.0))).desired == 5
    assert policy.decide(observe(15.0, 5, pods(5, 10.0))).desired == 5
    assert policy.decide(observe(300.0, 5, pods(5, 10.0))).desired == 1


# --- Invariants -------------------------------------------------------------------------

INVARIANT_CONFIGS: dict[str, dict[str, Any]] = {
    "simple": {
        "alarms": [
            {
                "metric": "CPUUtilization",
                "period": "1min",
                "threshold": 70,
                "comparison": "GreaterThanThreshold",
                "adjustment_type": "PercentChangeInCapacity",
                "adjustment": 50,
            },
            {
                "metric": "CPUUtilization",
                "period": "1min",
                "threshold": 30,
                "comparison": "LessThanOrEqualToThreshold",
                "adjustment_type": "ExactCapacity",
                "adjustment": 0,
            },
        ],
        "min_capacity": 2,
        "max_capacity": 9,
        "cooldown": 0,
    },
    "beanstalk": {"upper_threshold": 60, "lower_threshold": 30, "cooldown": 0},
    "step": {
        "alarm": {
            "metric": "CPUUtilization",
            "threshold": 50,
            "comparison": "GreaterThanThreshold",
        },
        "steps": [{"lower_bound": 0, "adjustment": 7}],
        "min_capacity": 2,
        "max_capacity": 9,
        "estimated_instance_warmup": 0,
    },
    "target_tracking": {
        "metric": "CPUUtilization",
        "target_value": 50,
        "min_capacity": 2,
        "max_capacity": 9,
        "scale_in_cooldown": 0,
        "scale_out_cooldown": 0,
        "estimated_instance_warmup": 0,
    },
    "hpa": {"target_utilization": 50, "min_capacity": 2, "max_capacity": 9},
    "keda": {"target_utilization": 50, "min_capacity": 2, "max_capacity": 9},
    "composite": {
        "min_capacity": 2,
        "max_capacity": 9,
        "policies": [
            {"name": "target_tracking", "metric": "CPUUtilization", "target_value": 50},
            {
                "name": "step",
                "alarm": {
                    "metric": "CPUUtilization",
                    "period": "1min",
                    "threshold": 20,
                    "comparison": "LessThanThreshold",
                },
                "steps": [{"upper_bound": 0, "adjustment": -5}],
            },
        ],
    },
}

BOUNDS = {"beanstalk": (1, 4)}

instances_strategy = st.lists(
    st.builds(
        Instance,
        launched_s=st.floats(0.0, 1000.0),
        ready_s=st.none() | st.floats(0.0, 2000.0),
        terminating=st.booleans(),
        cpu_request_vcpu=st.sampled_from([0.0, 0.25, 1.0, 2.0]),
        cpu_usage_vcpu=st.none() | st.floats(0.0, 8.0),
    ),
    max_size=12,
)
observations_strategy = st.lists(
    st.tuples(
        st.integers(0, 15),
        instances_strategy,
        st.lists(st.none() | st.floats(0.0, 200.0), max_size=16),
    ),
    min_size=1,
    max_size=8,
)


def test_every_policy_is_covered_by_the_invariant() -> None:
    assert set(AUTOSCALING) == set(INVARIANT_CONFIGS) | {"none"}


@settings(max_examples=60, deadline=None)
@given(observations_strategy)
def test_decisions_stay_within_the_capacity_range(
    steps: list[tuple[int, list[Instance], list[float | None]]],
) -> None:
    policies: dict[str, ScalingPolicy] = {
        name: make_policy(name, config, KEY) for name, config in INVARIANT_CONFIGS.items()
    }
    fixed = make_policy("none", {}, KEY)
    for index, (desired, instances, datapoints) in enumerate(steps):
        observation = observe(1000.0 + 60.0 * index, desired, instances, tuple(datapoints), {})
        assert fixed.decide(observation) == Decision(desired, "")
        for name, policy in policies.items():
            decision = policy.decide(observation)
            if name == "hpa" and desired == 0:
                assert decision.desired == 0
                continue
            if name == "keda" and desired == 0:
                # Its HPA leaves zero alone; a poll takes it to min_capacity.
                assert decision.desired in (0, 2)
                continue
            low, high = BOUNDS.get(name, (2, 9))
            assert low <= decision.desired <= high, (name, decision)
            assert (decision.reason == "") == (decision.desired == desired), (name, decision)


def test_none_reads_no_metric() -> None:
    policy = FixedCapacity()
    assert policy.datapoints_needed == 0
    assert policy.decide(observe(0.0, 3, [], (1e9,))) == Decision(3, "")


# --- Configuration ----------------------------------------------------------------------


def simple_config(**changes: Any) -> dict[str, Any]:
    alarm = {
        "metric": "CPUUtilization",
        "threshold": 70,
        "comparison": "GreaterThanThreshold",
        "adjustment": 1,
    }
    return {"alarms": [alarm | changes.pop("alarm", {})], "max_capacity": 4} | changes


@pytest.mark.parametrize(
    ("name", "config", "key"),
    [
        ("simple", simple_config(cooldwn="5min"), "autoscaling.cooldwn"),
        (
            "simple",
            simple_config(alarm={"comparison": "GreaterThan"}),
            "autoscaling.alarms[0].comparison",
        ),
        ("simple", simple_config(cooldown=-5), "autoscaling.cooldown"),
        ("simple", simple_config(cooldown="-5s"), "autoscaling.cooldown"),
        ("simple", simple_config(alarm={"adjustment": 1.5}), "autoscaling.alarms[0].adjustment"),
        ("simple", simple_config(alarm={"metric": "Cpu"}), "autoscaling.alarms[0].metric"),
        ("simple", simple_config(min_capacity=5), "autoscaling.max_capacity"),
        ("simple", {"max_capacity": 4}, "autoscaling.alarms"),
        ("stepp", {}, "autoscaling"),
        ("beanstalk", {"cooldown": "6 minutes"}, "autoscaling.cooldown"),
        (
            "target_tracking",
            {"metric": "CPUUtilization", "max_capacity": 4},
            "autoscaling.target_value",
        ),
        (
            "target_tracking",
            {"metric": "CPUUtilization", "target_value": 0, "max_capacity": 4},
            "autoscaling.target_value",
        ),
        (
            "hpa",
            {
                "target_utilization": 50,
                "max_capacity": 4,
                "scale_up": {"policies": [{"type": "Pod", "value": 4, "period": "15s"}]},
            },
            "autoscaling.scale_up.policies[0].type",
        ),
        (
            "step",
            {
                "alarm": {
                    "metric": "CPUUtilization",
                    "threshold": 50,
                    "comparison": "GreaterThanThreshold",
                },
                "steps": [
                    {"lower_bound": 0, "upper_bound": 10, "adjustment": 1},
                    {"lower_bound": 15, "adjustment": 2},
                ],
                "max_capacity": 4,
            },
            "autoscaling.steps[0].upper_bound",
        ),
        (
            "composite",
            {
                "max_capacity": 4,
                "policies": [{"name": "simple", "min_capacity": 1} | simple_config()],
            },
            "autoscaling.policies[0].min_capacity",
        ),
        (
            "composite",
            {"max_capacity": 4, "policies": [{"name": "hpa"}]},
            "autoscaling.policies[0].name",
        ),
    ],
)
def test_config_errors_name_the_key(name: str, config: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        make_policy(name, config, KEY)
    assert error.value.key == key


HPA = {"target_utilization": 50, "max_capacity": 4}


@pytest.mark.parametrize(
    ("changes", "key", "allowed"),
    [
        ({"tolerance": -0.1}, "autoscaling.tolerance", "not negative"),
        ({"tolerance": "10%"}, "autoscaling.tolerance", "scale_up"),
        ({"tolerance": {"scale_up": -1}}, "autoscaling.tolerance.scale_up", "not negative"),
        ({"tolerance": {"scale_down": "x"}}, "autoscaling.tolerance.scale_down", "number"),
        ({"tolerance": {"up": 0.1}}, "autoscaling.tolerance.up", "known: scale_down, scale_up"),
        ({"tolerance": {}}, "autoscaling.tolerance", "scale_up, scale_down or both"),
        ({"target_utilization": 62.5}, "autoscaling.target_utilization", "integer"),
        ({"target_utilization": 0}, "autoscaling.target_utilization", "whole percent"),
        ({"downscale_stabilization": "2h"}, "autoscaling.downscale_stabilization", "3600"),
    ],
)
def test_hpa_config_errors_are_one_line_naming_the_key(
    changes: dict[str, Any], key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as error:
        make_policy("hpa", HPA | changes, KEY)
    assert error.value.key == key
    assert allowed in error.value.allowed
    assert "\n" not in error.value.line()


def test_hpa_config_tolerance_forms() -> None:
    """One number is the controller's tolerance (no ``behavior``); a mapping sets the
    HPA's own per-direction tolerances, which gives it a ``behavior``."""
    flag = make_policy("hpa", HPA | {"tolerance": 0.05}, KEY)
    assert isinstance(flag, Hpa) and flag.behavior is None
    assert flag.calculator.tolerances == Tolerances(0.05, 0.05)
    own = make_policy("hpa", HPA | {"tolerance": {"scale_down": 0.05}}, KEY)
    assert isinstance(own, Hpa) and own.behavior is not None
    assert own.calculator.tolerances == Tolerances(scale_up=0.1, scale_down=0.05)
    assert own.behavior.scale_up.policies == DEFAULT_SCALE_UP.policies
    both = make_policy(
        "hpa",
        HPA
        | {
            "tolerance": {"scale_up": 0.02, "scale_down": 0.2},
            "downscale_stabilization": "10min",
            "scale_up": {"stabilization_window": "1min"},
        },
        KEY,
    )
    assert isinstance(both, Hpa) and both.behavior is not None
    assert both.calculator.tolerances == Tolerances(scale_up=0.02, scale_down=0.2)
    assert both.behavior.scale_up.stabilization_window_s == 60.0
    assert both.behavior.scale_down.stabilization_window_s == 600.0


def test_config_reads_human_durations_and_keeps_defaults() -> None:
    policy = make_policy(
        "hpa",
        {
            "target_utilization": 60,
            "max_capacity": 10,
            "scale_down": {"stabilization_window": "1min"},
        },
        KEY,
    )
    assert isinstance(policy, Hpa)
    assert policy.behavior is not None
    assert policy.behavior.scale_down.stabilization_window_s == 60.0
    assert policy.behavior.scale_down.policies == default_scale_down(300.0).policies
    assert policy.behavior.scale_up == DEFAULT_SCALE_UP
    assert policy.interval_s == 15.0 and policy.datapoints_needed == 0
    step = make_policy("composite", WORKED_EXAMPLE, KEY)
    assert (step.metric, step.period_s, step.interval_s) == ("CPUUtilization", 60.0, 60.0)


# --- The family ---------------------------------------------------------------------------


def test_every_policy_is_a_kind_and_builds_under_its_name() -> None:
    assert AUTOSCALING.names() == (
        "beanstalk",
        "composite",
        "hpa",
        "keda",
        "none",
        "simple",
        "step",
        "target_tracking",
    )
    assert COMPOSABLE.names() == ("simple", "step", "target_tracking")
    for name, config in {**INVARIANT_CONFIGS, "none": {}}.items():
        params = read_kind(AUTOSCALING, {"policy": name, **config}, KEY)
        assert AUTOSCALING.kind_of(params).build(params).name == name


def test_a_composite_gives_its_members_the_group_size() -> None:
    policy = make_policy("composite", INVARIANT_CONFIGS["composite"], KEY)
    assert isinstance(policy, Composite)
    sizes = {(member.min_capacity, member.max_capacity) for member in policy.members}
    assert sizes == {(2, 9)}
    with pytest.raises(ConfigError) as error:
        make_policy("composite", {"max_capacity": 4, "policies": []}, KEY)
    assert (error.value.key, error.value.allowed) == ("autoscaling.policies", "at least one policy")
    member = {"name": "target_tracking", "metric": "CPUUtilization", "target_value": 50}
    with pytest.raises(ConfigError) as error:
        make_policy(
            "composite", {"max_capacity": 4, "policies": [member | {"max_capacity": 8}]}, KEY
        )
    assert error.value.line() == (
        "config error: autoscaling.policies[0].max_capacity: 8: set once, on the composite"
    )


def _parameter_classes() -> set[type]:
    """Every parameter dataclass a policy's config is read into, nested ones included."""
    found: set[type] = set()
    pending = [
        kind.params for family in (AUTOSCALING, COMPOSABLE) for kind in family.kinds.values()
    ]
    while pending:
        params = pending.pop()
        if params in found:
            continue
        found.add(params)
        for hint in typing.get_type_hints(params).values():
            for arm in (hint, *typing.get_args(hint)):
                for inner in (arm, *typing.get_args(arm)):
                    if dataclasses.is_dataclass(inner) and isinstance(inner, type):
                        pending.append(inner)
    return found


def test_every_setting_has_a_doc_and_durations_a_unit() -> None:
    classes = _parameter_classes()
    assert {SimpleAlarm, Alarm, StepAdjustment, HpaScalingPolicy, HpaTolerances} <= classes
    for params in classes:
        for field in dataclasses.fields(params):
            meta = setting_of(field)
            assert meta.doc, (params.__name__, field.name)
            if field.name.endswith("_s"):
                assert meta.unit == "duration", (params.__name__, field.name)
