"""The HPA's replica calculator: from the pods' CPU samples to a replica count.

This is the half of the Kubernetes HorizontalPodAutoscaler that reads metrics
(``GetResourceReplicas`` and ``groupPods`` in ``pkg/controller/podautoscaler/
replica_calculator.go``, Kubernetes 1.33 and later); the controller around it
(stabilization, rate limits) is `sim.policies.autoscaling.hpa`.

The pods are sorted first. Terminating pods are ignored. A pod that is not ready is
*unready*: Pending (unscheduled, pulling its image, starting) or running but not yet
ready. A ready pod without a CPU sample is *missing*. A ready pod is also unready while
its sample may include time from before it became ready: within the CPU initialization
period after its start, until one metric window has passed since it became ready. The
rest are *ready* and carry a sample.

Utilization is ``(100 × Σ usage) // Σ request`` over the ready pods, in whole milli-CPUs
(the controller reads both as milli-values, rounding up), truncated to a whole percent:
pods may request different amounts of CPU, and a pod's weight is its request. The ratio
is ``utilization / target``. When no pod is unready on a scale-up and none is missing,
the count is ``ceil(ratio × ready pods)``, unless the ratio is inside the tolerance band
``1 − scale_down ≤ ratio ≤ 1 + scale_up`` (Kubernetes 1.33's ``Tolerances.isWithin``;
before 1.33 the test was ``|1 − ratio| ≤ 0.1``, which differs only when the ratio lands
exactly on an edge of the band).

Otherwise the set-aside pods are filled in and the ratio computed again. On a scale-down
(ratio < 1) missing pods count as using ``max(100, target)`` % of their request and
unready pods are left out, so that they neither speed up nor hold back the scale-down;
on a scale-up (ratio > 1) missing and unready pods count as using nothing. If the new
ratio is inside the band or on the other side of 1, or ``ceil(new ratio × pods counted)``
would move the count against the direction of the new ratio, the count stays.

The model's `Instance` has no readiness history: a replica never becomes unready after
it was ready, so upstream's rule for such pods (counted as ready once the CPU
initialization period is over) has nothing to apply to, and the initial readiness delay
that recognises them is not a parameter. A replica that is not yet ready never has a
sample here, which upstream would call missing only for a running pod the metrics server
has not scraped yet; the model counts it as unready, as upstream does for a pending pod
and for a running one with a sample.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sim.policies.autoscaling.protocol import Observation

NANO_PER_MILLI = 1_000_000


def milli_cpu(vcpu: float) -> int:
    """A CPU amount as the controller reads it: whole milli-CPUs, rounded up.

    The metrics server reports nano-CPUs and the controller takes each value's
    milli-value, which rounds up; requests are read the same way.
    """
    nano = round(vcpu * 1e9)
    return -(-nano // NANO_PER_MILLI)


@dataclass(frozen=True, slots=True)
class Tolerances:
    """The band around a ratio of 1 inside which the HPA keeps the replica count.

    Attributes:
        scale_up: how far above 1 the ratio may be (``behavior.scaleUp.tolerance``).
        scale_down: how far below 1 it may be (``behavior.scaleDown.tolerance``).
    """

    scale_up: float = 0.1
    scale_down: float = 0.1

    def within(self, ratio: float) -> bool:
        """Whether `ratio` is close enough to 1 to change nothing (edges included)."""
        return 1.0 - self.scale_down <= ratio <= 1.0 + self.scale_up


@dataclass(frozen=True, slots=True)
class PodSample:
    """A ready pod's CPU sample and request, in milli-CPUs."""

    usage_milli: int
    request_milli: int


@dataclass(frozen=True, slots=True)
class PodGroups:
    """The pods of one sync, as the replica calculator sorts them.

    Attributes:
        ready: the ready pods with a CPU sample.
        unready: the CPU requests (milli-CPUs) of the pods not counted as ready.
        missing: the CPU requests of the ready pods without a sample.
    """

    ready: tuple[PodSample, ...]
    unready: tuple[int, ...]
    missing: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The replica count the metrics call for.

    Attributes:
        replicas: the recommended count.
        utilization: the ready pods' CPU utilization, in whole percent of their requests.
        reason: how it was reached, with the numbers.
    """

    replicas: int
    utilization: int
    reason: str


def _utilization(samples: Sequence[PodSample]) -> int:
    """Whole percent of the summed requests that the summed usage is."""
    usage = sum(sample.usage_milli for sample in samples)
    request = sum(sample.request_milli for sample in samples)
    return usage * 100 // request


@dataclass(frozen=True, slots=True)
class ReplicaCalculator:
    """Recommends a replica count from the pods' CPU samples (the HPA's first half).

    Attributes:
        target_utilization: the target, in whole percent of the pods' CPU requests.
        tolerances: the band in which nothing changes.
        cpu_initialization_period_s: how long after a pod starts its samples may still
            mix in its start-up (``--horizontal-pod-autoscaler-cpu-initialization-period``).
        metric_window_s: how long one CPU sample covers.
    """

    target_utilization: int
    tolerances: Tolerances = Tolerances()
    cpu_initialization_period_s: float = 300.0
    metric_window_s: float = 30.0

    def group_pods(self, observation: Observation) -> PodGroups:
        """Sort the pods into ready (with a sample), unready and missing."""
        ready: list[PodSample] = []
        unready: list[int] = []
        missing: list[int] = []
        now_s = observation.now_s
        for pod in observation.instances:
            if pod.terminating:
                continue
            request = milli_cpu(pod.cpu_request_vcpu)
            if pod.ready_s is None:
                unready.append(request)
            elif pod.cpu_usage_vcpu is None:
                missing.append(request)
            elif (
                now_s < pod.launched_s + self.cpu_initialization_period_s
                and now_s < pod.ready_s + self.metric_window_s
            ):
                unready.append(request)
            else:
                ready.append(PodSample(milli_cpu(pod.cpu_usage_vcpu), request))
        return PodGroups(tuple(ready), tuple(unready), tuple(missing))

    def recommend(self, observation: Observation) -> Recommendation | None:
        """The replica count for `observation`; None when the controller would fail.

        The controller cannot compute a count (and leaves the target alone) when no pod
        is ready with a sample or when some pod requests no CPU.
        """
        if any(milli_cpu(pod.cpu_request_vcpu) <= 0 for pod in observation.instances):
            return None
        groups = self.group_pods(observation)
        if not groups.ready:
            return None
        current = observation.desired
        target = self.target_utilization
        utilization = _utilization(groups.ready)
        ratio = utilization / target
        ready = len(groups.ready)
        seen = f"CPU {utilization}% of request vs target {target}% on {ready} ready pods"
        scale_up_with_unready = bool(groups.unready) and ratio > 1.0
        if not scale_up_with_unready and not groups.missing:
            if self.tolerances.within(ratio):
                return Recommendation(current, utilization, f"{seen}: within tolerance")
            replicas = math.ceil(ratio * ready)
            return Recommendation(replicas, utilization, f"{seen} -> {replicas}")
        counted = list(groups.ready)
        assumed = 0
        if groups.missing and ratio < 1.0:
            assumed = max(100, target)
            counted += [PodSample(r * assumed // 100, r) for r in groups.missing]
        elif groups.missing and ratio > 1.0:
            counted += [PodSample(0, r) for r in groups.missing]
        if scale_up_with_unready:
            counted += [PodSample(0, r) for r in groups.unready]
        new_ratio = _utilization(counted) / target
        missing = f"{len(groups.missing)} missing at {assumed}%"
        unready = f"{len(groups.unready)} unready " + (
            "at 0%" if scale_up_with_unready else "left out"
        )
        filled = f"{seen}; {missing}, {unready}: ratio {new_ratio:.4g}"
        if (
            self.tolerances.within(new_ratio)
            or (ratio < 1.0 < new_ratio)
            or (ratio > 1.0 > new_ratio)
        ):
            return Recommendation(current, utilization, f"{filled}: no change")
        replicas = math.ceil(new_ratio * len(counted))
        if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
            return Recommendation(current, utilization, f"{filled}: no change")
        return Recommendation(replicas, utilization, f"{filled} -> {replicas}")
