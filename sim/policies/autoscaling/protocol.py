"""What an autoscaling policy sees and what it answers.

The control loop around a policy observes the scaled group (its desired capacity, every
member with its launch and ready times, and the recent datapoints of the policy's
CloudWatch-style metric) and asks the policy for a `Decision`: the new desired capacity
and, when it changes, why. Policies see plain values only, so they are tested without a
simulation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sim.core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Instance:
    """One member of the scaled group (a VM instance or a pod/replica).

    Attributes:
        launched_s: when the scaling activity that created it launched it.
        ready_s: when it went in service / became ready; None while still launching.
        terminating: being drained or terminated. AWS still counts it toward capacity
            when scaling in, so that one breach does not remove instances twice.
        cpu_request_vcpu: the CPU it requests (a Kubernetes pod's CPU request); 0 for
            none. The HPA measures utilization against it.
        cpu_usage_vcpu: the CPU it used over its latest metric sample, in vCPUs; None
            when it has no sample yet (the HPA calls such a pod "missing").
    """

    launched_s: float
    ready_s: float | None
    terminating: bool = False
    cpu_request_vcpu: float = 0.0
    cpu_usage_vcpu: float | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """One metric time series as CloudWatch names it: metric, statistic, period."""

    metric: str
    statistic: str
    period_s: float


@dataclass(frozen=True, slots=True)
class Observation:
    """What the control loop shows a policy at one decision time.

    Attributes:
        now_s: the decision time.
        desired: the group's current desired capacity.
        instances: every member: launching, in service, terminating (terminated ones
            are gone).
        datapoints: the policy's metric at its statistic, one per completed period of
            length ``policy.period_s``, oldest first; None for a period without data.
            At least ``policy.datapoints_needed`` of them once the run is long enough.
        series: datapoints of the further series a policy lists in its
            ``extra_series`` (a `Composite` whose members watch different metrics),
            in the same layout as `datapoints`. Empty for every other policy.
        request_rate: the requests per second that arrived over the window a policy
            that scales to zero watches (its `Hold`); 0 for every other policy.
    """

    now_s: float
    desired: int
    instances: tuple[Instance, ...]
    datapoints: tuple[float | None, ...]
    series: Mapping[Series, tuple[float | None, ...]] = field(default_factory=dict)
    request_rate: float = 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    """A policy's answer.

    Attributes:
        desired: the new desired capacity; the observed one for no change.
        reason: why, in a few words with the numbers; empty when unchanged.
    """

    desired: int
    reason: str


class ScalingPolicy(Protocol):
    """Decides the desired capacity of one group from what the control loop observes.

    Attributes:
        name: the policy's name, as configs spell it.
        metric: the CloudWatch-style metric whose datapoints `decide` reads.
        statistic: its statistic: Average, Sum, Minimum or Maximum.
        period_s: the length of one datapoint period.
        datapoints_needed: how many recent datapoints `decide` looks at (0: none).
        interval_s: how often the loop calls `decide`.
        extra_series: further series `decide` reads from `Observation.series`, each
            with how many datapoints it needs; empty except for a `Composite` whose
            members watch different series.
    """

    name: str
    metric: str
    statistic: str
    period_s: float
    datapoints_needed: int
    interval_s: float
    extra_series: tuple[tuple[Series, int], ...]

    def decide(self, observation: Observation) -> Decision:
        """The new desired capacity (and why) for this observation."""
        ...


@dataclass(frozen=True, slots=True)
class Hold:
    """What a policy that scales to zero asks of its service: an interceptor in front of
    the replicas that holds requests while none is ready, and counts arrivals.

    Attributes:
        timeout_s: the longest a request waits for a ready replica.
        capacity: the most requests held at once.
        window_s: the window of `Observation.request_rate`.
    """

    timeout_s: float
    capacity: int
    window_s: float


def hold_of(policy: object) -> Hold | None:
    """The interceptor `policy` asks for (its ``hold`` attribute); None for a policy
    that never scales to zero."""
    hold = getattr(policy, "hold", None)
    return hold if isinstance(hold, Hold) else None


def unchanged(observation: Observation) -> Decision:
    """The decision that keeps the observed desired capacity."""
    return Decision(observation.desired, "")


def clamp(capacity: int, min_capacity: int, max_capacity: int) -> int:
    """`capacity` brought within the group's [min_capacity, max_capacity]."""
    return max(min_capacity, min(max_capacity, capacity))


def out_of_range(observation: Observation, min_capacity: int, max_capacity: int) -> Decision | None:
    """The decision that brings a desired capacity outside the group's range back in.

    An Auto Scaling group or a HorizontalPodAutoscaler never lets the desired capacity
    leave [min, max]; when the observed one is outside (a group created with more
    instances than the policy's maximum), every policy first moves it to the nearest
    bound, before looking at any metric. None when it is inside.
    """
    bounded = clamp(observation.desired, min_capacity, max_capacity)
    if bounded == observation.desired:
        return None
    side = "above max_capacity" if bounded < observation.desired else "below min_capacity"
    return Decision(bounded, f"desired {observation.desired} {side} {bounded}")


def check_capacity_range(min_capacity: int, max_capacity: int) -> None:
    """Reject a capacity range AWS or Kubernetes would reject.

    Raises:
        ConfigError: when the minimum is negative or above the maximum.
    """
    if min_capacity < 0:
        raise ConfigError("min_capacity", min_capacity, "an integer, not negative")
    if max_capacity < min_capacity:
        raise ConfigError(
            "max_capacity", max_capacity, f"an integer at least min_capacity ({min_capacity})"
        )


def format_number(value: float) -> str:
    """A metric value or threshold in a reason: four significant digits, ``7.1e6``."""
    text = f"{value:.4g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"
