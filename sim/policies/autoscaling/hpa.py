"""The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) on CPU utilization.

Every sync period (15 s) the controller averages the CPU utilization (in percent of the
request) of the ready pods, compares it with the target and recommends
``ceil(ratio × ready pods)`` replicas, or no change while ``|1 − ratio|`` is within the
tolerance (0.1, compared in float64 as the controller does). Pods without a metric
(missing) and pods not yet ready are set aside at first; if there are any, the ratio is
computed again with them counted as using 100 % of the target on a scale-down and 0 %
on a scale-up, and if that falls within the tolerance or reverses the direction, nothing
changes. This follows SEMANTICS.md; ``replica_calculator.go`` fills in unready pods on a
scale-up only and leaves them out of a scale-down.

A pod is not yet ready while it launches (``ready_s`` None: Pending, or never ready
since it started, which the controller recognises by a readiness change within the
initial readiness delay of 30 s after start). During the CPU initialization period
(5 min from launch) a ready pod is also set aside while its CPU sample may include time
before it became ready: until one metric window after ``ready_s``. The sample is taken
as of the decision time. An `Instance` has no readiness history, so a pod that was
ready and failed its probes later cannot be expressed, and the initial readiness delay,
which tells such pods apart, is not a parameter.

The recommendation then goes through the default behaviour: scale-down stabilization
(the highest recommendation of the last 300 s wins, the first one being the replica
count the autoscaler found, so it never scales down in its first 300 s), and rate
limits per direction (scale-up at most max(+100 %, +4 pods) per 15 s, scale-down at most
−100 % per 15 s), counted from the replica count at the start of each policy's period.
A target with 0 replicas has autoscaling disabled; one outside [min, max] is brought to
the nearest bound at once, before any metric is read.

Assumptions: every pod requests the same CPU, so utilization is the plain mean of the
pods' percentages (the controller sums milli-CPU and truncates to a whole percent; here
the percentage stays a float). Percent rate limits are computed exactly (the controller
uses float64, where 10 % of 10 can round to 12 instead of 11).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from sim.core.errors import ConfigError
from sim.policies.autoscaling.ec2 import check_choice, check_not_negative, check_positive
from sim.policies.autoscaling.protocol import (
    Decision,
    Observation,
    Series,
    check_capacity_range,
    format_number,
    out_of_range,
    unchanged,
)

PODS = "Pods"
PERCENT = "Percent"
SELECT_POLICIES = ("Max", "Min", "Disabled")
MAX_POLICY_PERIOD_S = 1800.0
MAX_STABILIZATION_WINDOW_S = 3600.0


@dataclass(frozen=True, slots=True)
class HpaScalingPolicy:
    """One rate limit (``HPAScalingPolicy``): at most `value` pods or percent per period.

    Raises:
        ConfigError: for values the API server rejects; keys are the config names.
    """

    kind: str
    value: int
    period_s: float

    def __post_init__(self) -> None:
        check_choice("type", self.kind, (PODS, PERCENT))
        if self.value < 1:
            raise ConfigError("value", self.value, "at least 1")
        if not 0 < self.period_s <= MAX_POLICY_PERIOD_S:
            raise ConfigError("period", self.period_s, "above 0 s, at most 1800 s")


@dataclass(frozen=True, slots=True)
class HpaScalingRules:
    """The behaviour in one direction (``HPAScalingRules``).

    Attributes:
        stabilization_window_s: recommendations this recent bound the result (the
            lowest for a scale-up, the highest for a scale-down).
        policies: the rate limits.
        select_policy: Max (the policy allowing the largest change), Min (the
            smallest), or Disabled (no scaling in this direction).

    Raises:
        ConfigError: for values the API server rejects; keys are the config names.
    """

    stabilization_window_s: float
    policies: tuple[HpaScalingPolicy, ...]
    select_policy: str = "Max"

    def __post_init__(self) -> None:
        if not 0 <= self.stabilization_window_s <= MAX_STABILIZATION_WINDOW_S:
            raise ConfigError("stabilization_window", self.stabilization_window_s, "0 s to 3600 s")
        if not self.policies:
            raise ConfigError("policies", "[]", "at least one policy")
        check_choice("select_policy", self.select_policy, SELECT_POLICIES)


DEFAULT_SCALE_UP = HpaScalingRules(
    stabilization_window_s=0.0,
    policies=(HpaScalingPolicy(PERCENT, 100, 15.0), HpaScalingPolicy(PODS, 4, 15.0)),
)
DEFAULT_SCALE_DOWN = HpaScalingRules(
    stabilization_window_s=300.0, policies=(HpaScalingPolicy(PERCENT, 100, 15.0),)
)


@dataclass(frozen=True, slots=True)
class HpaParams:
    """A HorizontalPodAutoscaler on CPU utilization and the controller's settings.

    Attributes:
        target_utilization: averageUtilization: percent of the CPU request; above 0.
        max_capacity: maxReplicas.
        min_capacity: minReplicas; at least 1.
        tolerance: ``--horizontal-pod-autoscaler-tolerance``.
        interval_s: ``--horizontal-pod-autoscaler-sync-period``.
        cpu_initialization_period_s: ``--horizontal-pod-autoscaler-cpu-initialization-period``.
        metric_window_s: the window of one pod CPU sample (metrics-server reports 15 s
            to 30 s).
        scale_up: behavior.scaleUp.
        scale_down: behavior.scaleDown.

    Raises:
        ConfigError: for values the API server rejects; keys are the config names.
    """

    target_utilization: float
    max_capacity: int
    min_capacity: int = 1
    tolerance: float = 0.1
    interval_s: float = 15.0
    cpu_initialization_period_s: float = 300.0
    metric_window_s: float = 30.0
    scale_up: HpaScalingRules = DEFAULT_SCALE_UP
    scale_down: HpaScalingRules = DEFAULT_SCALE_DOWN

    def __post_init__(self) -> None:
        if not (math.isfinite(self.target_utilization) and self.target_utilization > 0):
            raise ConfigError("target_utilization", self.target_utilization, "a percent above 0")
        if self.min_capacity < 1:
            raise ConfigError("min_capacity", self.min_capacity, "at least 1")
        check_capacity_range(self.min_capacity, self.max_capacity)
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ConfigError("tolerance", self.tolerance, "a number, not negative")
        check_positive("interval", self.interval_s)
        check_not_negative("cpu_initialization_period", self.cpu_initialization_period_s)
        check_not_negative("metric_window", self.metric_window_s)


@dataclass(frozen=True, slots=True)
class PodGroups:
    """The pods of one sync, as the replica calculator sorts them.

    Attributes:
        ready_metrics: the CPU utilization of each ready pod with a metric.
        unready: pods not yet ready (set aside).
        missing: ready pods without a metric.
    """

    ready_metrics: tuple[float, ...]
    unready: int
    missing: int


def group_pods(observation: Observation, params: HpaParams) -> PodGroups:
    """Sort the pods: terminating ones are ignored, then unready, missing, ready."""
    ready_metrics: list[float] = []
    unready = 0
    missing = 0
    now_s = observation.now_s
    for pod in observation.instances:
        if pod.terminating:
            continue
        if pod.ready_s is None:
            unready += 1
        elif pod.metric is None:
            missing += 1
        elif (
            now_s < pod.launched_s + params.cpu_initialization_period_s
            and now_s < pod.ready_s + params.metric_window_s
        ):
            unready += 1
        else:
            ready_metrics.append(pod.metric)
    return PodGroups(tuple(ready_metrics), unready, missing)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def replica_recommendation(observation: Observation, params: HpaParams) -> tuple[int, str] | None:
    """The replica count the metrics call for, and why; None without any ready metric.

    This is the replica calculator alone, before stabilization and rate limits.
    """
    current = observation.desired
    target = params.target_utilization
    groups = group_pods(observation, params)
    if not groups.ready_metrics:
        return None
    utilization = _mean(groups.ready_metrics)
    ratio = utilization / target
    ready = len(groups.ready_metrics)
    seen = (
        f"CPU {format_number(utilization)}% vs target {format_number(target)}% "
        f"on {ready} ready pods"
    )
    if groups.unready == 0 and groups.missing == 0:
        if abs(1.0 - ratio) <= params.tolerance:
            return current, f"{seen}: ratio {format_number(ratio)} within tolerance"
        replicas = math.ceil(ratio * ready)
        return replicas, f"{seen}: ratio {format_number(ratio)} -> {replicas}"
    set_aside = groups.unready + groups.missing
    if ratio < 1.0:
        fill, assumed = target, "100% of target"
    elif ratio > 1.0:
        fill, assumed = 0.0, "0%"
    else:
        return current, f"{seen}: ratio 1"
    values = groups.ready_metrics + (fill,) * set_aside
    new_ratio = _mean(values) / target
    counted = (
        f"{seen}, {groups.unready} unready and {groups.missing} missing at {assumed}: "
        f"ratio {format_number(new_ratio)}"
    )
    if (
        abs(1.0 - new_ratio) <= params.tolerance
        or (ratio < 1.0 < new_ratio)
        or (ratio > 1.0 > new_ratio)
    ):
        return current, f"{counted}: no change"
    replicas = math.ceil(new_ratio * len(values))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, f"{counted}: no change"
    return replicas, f"{counted} -> {replicas}"


@dataclass(slots=True)
class _Timed:
    """A value noted at a time: a recommendation, or the size of a scaling event."""

    time_s: float
    value: int


@dataclass(slots=True)
class _History:
    """What the controller remembers about its target between syncs."""

    recommendations: list[_Timed] = field(default_factory=list)
    scale_ups: list[_Timed] = field(default_factory=list)
    scale_downs: list[_Timed] = field(default_factory=list)


def _changed_since(events: Sequence[_Timed], cutoff_s: float) -> int:
    """Replicas added (or removed) by events strictly after `cutoff_s`."""
    return sum(event.value for event in events if event.time_s > cutoff_s)


class Hpa:
    """A HorizontalPodAutoscaler with its controller's memory.

    Args:
        params: the autoscaler and controller settings.
        name: the name the policy goes by.
    """

    metric = "CPUUtilization"
    statistic = "Average"
    datapoints_needed = 0

    def __init__(self, params: HpaParams, name: str = "hpa") -> None:
        self.params = params
        self.name = name
        self.period_s = params.interval_s
        self.interval_s = params.interval_s
        self.extra_series: tuple[tuple[Series, int], ...] = ()
        self.min_capacity = params.min_capacity
        self.max_capacity = params.max_capacity
        self._history = _History()

    def decide(self, observation: Observation) -> Decision:
        """One sync of the controller: recommend, stabilize, limit the rate."""
        params = self.params
        current = observation.desired
        if current == 0:
            return unchanged(observation)
        decision = out_of_range(observation, params.min_capacity, params.max_capacity)
        if decision is None:
            recommendation = replica_recommendation(observation, params)
            if recommendation is None:
                return unchanged(observation)
            wanted, reason = recommendation
            stabilized = self._stabilize(observation.now_s, current, wanted)
            if stabilized != wanted:
                reason += f", stabilized to {stabilized}"
            desired = self._limit_rate(observation.now_s, current, stabilized)
            if desired != stabilized:
                reason += f", rate-limited to {desired}"
            decision = Decision(desired, reason if desired != current else "")
        self._note_scaling(observation.now_s, current, decision.desired)
        return decision

    def _stabilize(self, now_s: float, current: int, wanted: int) -> int:
        """Bound `wanted` by the recommendations inside the stabilization windows."""
        history = self._history
        if not history.recommendations:
            history.recommendations.append(_Timed(now_s, current))
        up_cutoff_s = now_s - self.params.scale_up.stabilization_window_s
        down_cutoff_s = now_s - self.params.scale_down.stabilization_window_s
        up_bound = wanted
        down_bound = wanted
        for past in history.recommendations:
            if past.time_s > up_cutoff_s:
                up_bound = min(up_bound, past.value)
            if past.time_s > down_cutoff_s:
                down_bound = max(down_bound, past.value)
        oldest_kept_s = min(up_cutoff_s, down_cutoff_s)
        history.recommendations = [
            past for past in history.recommendations if past.time_s > oldest_kept_s
        ]
        history.recommendations.append(_Timed(now_s, wanted))
        return min(max(current, up_bound), down_bound)

    def _limit_rate(self, now_s: float, current: int, desired: int) -> int:
        """Bound the change by the behaviour's policies and the replica range."""
        params = self.params
        if desired > current:
            limit = max(self._scale_up_limit(now_s, current), current)
            return min(desired, limit, params.max_capacity)
        if desired < current:
            limit = min(self._scale_down_limit(now_s, current), current)
            return max(desired, limit, params.min_capacity)
        return desired

    def _period_start(self, now_s: float, current: int, policy: HpaScalingPolicy) -> int:
        """The replica count at the start of the policy's period."""
        cutoff_s = now_s - policy.period_s
        history = self._history
        return (
            current
            - _changed_since(history.scale_ups, cutoff_s)
            + _changed_since(history.scale_downs, cutoff_s)
        )

    def _scale_up_limit(self, now_s: float, current: int) -> int:
        rules = self.params.scale_up
        if rules.select_policy == "Disabled":
            return current
        proposals = []
        for policy in rules.policies:
            start = self._period_start(now_s, current, policy)
            if policy.kind == PODS:
                proposals.append(start + policy.value)
            else:
                proposals.append(math.ceil(Fraction(start * (100 + policy.value), 100)))
        return max(proposals) if rules.select_policy == "Max" else min(proposals)

    def _scale_down_limit(self, now_s: float, current: int) -> int:
        rules = self.params.scale_down
        if rules.select_policy == "Disabled":
            return current
        proposals = []
        for policy in rules.policies:
            start = self._period_start(now_s, current, policy)
            if policy.kind == PODS:
                proposals.append(start - policy.value)
            else:
                proposals.append(int(Fraction(start * (100 - policy.value), 100)))
        return min(proposals) if rules.select_policy == "Max" else max(proposals)

    def _note_scaling(self, now_s: float, previous: int, desired: int) -> None:
        """Remember a scaling event for the rate limits; forget expired ones."""
        history = self._history
        longest_s = max(
            policy.period_s
            for policy in self.params.scale_up.policies + self.params.scale_down.policies
        )
        cutoff_s = now_s - longest_s
        history.scale_ups = [event for event in history.scale_ups if event.time_s > cutoff_s]
        history.scale_downs = [event for event in history.scale_downs if event.time_s > cutoff_s]
        if desired > previous:
            history.scale_ups.append(_Timed(now_s, desired - previous))
        elif desired < previous:
            history.scale_downs.append(_Timed(now_s, previous - desired))
