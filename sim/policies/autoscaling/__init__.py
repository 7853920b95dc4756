"""Autoscaling policies: how many instances or pods a group should have.

Each policy is a pure decider behind the `ScalingPolicy` protocol: the control loop
(`sim.model.service.autoscaler`) shows it an `Observation` of the group and the recent
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
``policy: <name>`` beside its settings (``configs/autoscaler/``). Import a policy from its
module (`sim.policies.autoscaling.hpa`, ...): the package itself loads none of them, so
reading a config loads only the policy it chooses.
"""

from sim.core.settings import Family

AUTOSCALING = Family(
    "autoscaler",
    __name__,
    selector="policy",
    summary="how many replicas the served app should have (autoscaler)",
    homes={"none": "fixed", "beanstalk": "simple"},
)

__all__ = ["AUTOSCALING"]
