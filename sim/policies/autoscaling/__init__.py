"""Autoscaling policies: how many instances or pods a group should have.

Each policy is a pure decider behind the `ScalingPolicy` protocol: the control loop
(`sim.model.autoscaler`) shows it an `Observation` of the group and the recent
datapoints of its metric, and the policy answers with a `Decision`. The policies follow
the published behaviour (and, for Kubernetes, the code) of the services they model:

* ``none`` (`FixedCapacity`): the group keeps its size.
* ``simple`` (`SimpleScaling`): EC2 simple scaling: alarms, adjustments, a cooldown
  counted from the end of the scaling activity.
* ``beanstalk``: the Elastic Beanstalk trigger, two simple scaling alarms with
  Beanstalk's defaults (NetworkOut above 6 MB or below 2 MB per 5 minutes).
* ``step`` (`StepScaling`): EC2 step scaling with instance warm-up.
* ``target_tracking`` (`TargetTracking`): keep a metric at a target value.
* ``hpa`` (`Hpa`): the Kubernetes HorizontalPodAutoscaler on CPU utilization, its
  replica calculator in `ReplicaCalculator`.
* ``composite`` (`Composite`): several EC2 policies on one group, combined as AWS
  combines them.

They are the kinds of the family `AUTOSCALING`: each module that holds a policy
declares it (``KIND``, or ``KINDS`` for simple scaling and its Beanstalk form) with its
parameter dataclass, and ``build(params)`` returns the policy. A config chooses one with
``policy: <name>`` beside its settings (``configs/autoscaler/``).
"""

from sim.core.settings import Family
from sim.policies.autoscaling.composite import (
    COMPOSABLE,
    ComposablePolicy,
    Composite,
    CompositeParams,
)
from sim.policies.autoscaling.ec2 import Adjustment, Alarm, percent_change
from sim.policies.autoscaling.fixed import FixedCapacity, FixedCapacityParams
from sim.policies.autoscaling.hpa import (
    Hpa,
    HpaBehavior,
    HpaHistory,
    HpaParams,
    HpaScaleDown,
    HpaScaleUp,
    HpaScalingPolicy,
    HpaScalingRules,
    HpaTolerances,
)
from sim.policies.autoscaling.hpa_calculator import ReplicaCalculator, Tolerances
from sim.policies.autoscaling.protocol import (
    Decision,
    Instance,
    Observation,
    ScalingPolicy,
    Series,
)
from sim.policies.autoscaling.simple import (
    BeanstalkTriggerParams,
    SimpleAlarm,
    SimpleScaling,
    SimpleScalingParams,
    SimpleScalingRules,
    beanstalk,
)
from sim.policies.autoscaling.step import (
    StepAdjustment,
    StepScaling,
    StepScalingParams,
    StepScalingRules,
)
from sim.policies.autoscaling.target_tracking import (
    TargetTracking,
    TargetTrackingParams,
    TargetTrackingRules,
)

AUTOSCALING = Family(
    "autoscaler",
    __name__,
    selector="policy",
    summary="how many replicas the served app should have (autoscaler)",
)

__all__ = [
    "AUTOSCALING",
    "COMPOSABLE",
    "Adjustment",
    "Alarm",
    "BeanstalkTriggerParams",
    "ComposablePolicy",
    "Composite",
    "CompositeParams",
    "Decision",
    "FixedCapacity",
    "FixedCapacityParams",
    "Hpa",
    "HpaBehavior",
    "HpaHistory",
    "HpaParams",
    "HpaScaleDown",
    "HpaScaleUp",
    "HpaScalingPolicy",
    "HpaScalingRules",
    "HpaTolerances",
    "Instance",
    "Observation",
    "ReplicaCalculator",
    "ScalingPolicy",
    "Series",
    "SimpleAlarm",
    "SimpleScaling",
    "SimpleScalingParams",
    "SimpleScalingRules",
    "StepAdjustment",
    "StepScaling",
    "StepScalingParams",
    "StepScalingRules",
    "TargetTracking",
    "TargetTrackingParams",
    "TargetTrackingRules",
    "Tolerances",
    "beanstalk",
    "percent_change",
]
