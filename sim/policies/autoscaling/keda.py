"""KEDA: a ScaledObject that takes a service to zero replicas and back, in front of an
HPA that scales it above one.

KEDA (kedacore/keda, v2.20) polls its triggers every ``pollingInterval`` and decides only
the step between zero (or ``idleReplicaCount``) and ``max(minReplicaCount, 1)``; above
that it hands the scaling to a HorizontalPodAutoscaler it creates with
``minReplicas = max(minReplicaCount, 1)`` and ``maxReplicas = maxReplicaCount``. Each
rule follows upstream, file by file:

* ``pkg/scaling/executor/scale_scaledobjects.go``, ``RequestScale``: a trigger is
  active when its metric is above ``activationThreshold`` (as every scaler compares,
  e.g. ``pkg/scalers/prometheus_scaler.go``). Active and at zero (or, with an idle
  count, below the minimum): scale to ``max(minReplicaCount, 1)``
  (``scaleFromZeroOrIdle``) and note the time as the last active one; active above zero:
  only note the time. Inactive with ``minReplicaCount: 0`` above zero (or, with an idle
  count, above it): once ``cooldownPeriod`` has passed since the last active poll —
  ``initialCooldownPeriod`` since creation when none was ever active — scale to the idle
  count or the minimum (``scaleToZeroOrIdle``). Inactive without an idle count and below
  the minimum: scale to the minimum.
* ``pkg/scaling/scale_handler.go``, ``startScaleLoop``: one poll every
  ``pollingInterval``, counted from the ScaledObject's creation.
* ``apis/keda/v1alpha1/scaledobject_types.go``: ``minReplicaCount`` 0,
  ``maxReplicaCount`` 100, ``pollingInterval`` 30 s (``withtriggers_types.go``);
  ``pkg/scaling/executor/scale_executor.go``: ``cooldownPeriod`` 300 s,
  ``initialCooldownPeriod`` 0 s; ``CheckReplicaCountBoundsAreValid``: the minimum at most
  the maximum, an idle count below ``max(minReplicaCount, 1)``.

The trigger is the KEDA HTTP add-on's (kedacore/http-add-on, v0.15): the interceptor in
front of the service counts requests, and the metric is their rate over a window
(``requestRate``: 1 min in 1 s buckets by default). While at zero it holds requests
(`sim.model.service.interceptor`); its readiness timeout and buffer are this policy's
`Hold`. The HPA part is this model's ``hpa`` policy on CPU utilization with its
defaults, where KEDA's HPA would scale on the trigger's external metric.

Two deviations, both about exact instants: the cooldown ends at the first poll at least
``cooldownPeriod`` after the last active one (upstream's ``Before`` is strict, but its
clock moves between the poll's start and the check, so a poll exactly a cooldown later
scales in about as often as not); and the add-on's scaler is a push scaler (it streams
activity every 200 ms, so KEDA activates within 0.2 s of the first request), while here
activation waits for the next poll, as for any pull trigger. A short
``polling_interval`` gives the push timing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sim.core.errors import ConfigError
from sim.core.settings import Kind, setting
from sim.policies.autoscaling.ec2 import check_not_negative, check_positive
from sim.policies.autoscaling.hpa import Hpa, HpaParams
from sim.policies.autoscaling.protocol import (
    Decision,
    Hold,
    Observation,
    Series,
    format_number,
    unchanged,
)

DEFAULT_HOLD_TIMEOUT_S = 20.0
"""The add-on's readiness wait in its releases 0.12.2 to 0.13 and its Helm chart
(``KEDA_CONDITION_WAIT_TIMEOUT``); from 0.14 ``KEDA_HTTP_READINESS_TIMEOUT`` defaults to 0,
no bound of its own, leaving the wait to the client's timeout."""
DEFAULT_HOLD_CAPACITY = 10000
"""Knative's activator holds this many requests per revision (``breakerQueueDepth``,
``pkg/activator/net/throttler.go``); the add-on sets no bound."""


@dataclass(frozen=True, slots=True)
class KedaParams:
    """A ScaledObject with the HTTP add-on's trigger, and the HPA it creates.

    Raises:
        ConfigError: for values KEDA's admission webhook or the add-on rejects; keys are
            the config names.
    """

    target_utilization: int = setting(
        doc="the HPA's averageUtilization above one replica: a whole percent, at least 1"
    )
    max_capacity: int = setting(100, minimum=1, doc="maxReplicaCount (and the HPA's maximum)")
    min_capacity: int = setting(0, minimum=0, doc="minReplicaCount: 0 scales to zero")
    idle_capacity: int | None = setting(
        None,
        minimum=0,
        doc="idleReplicaCount: the count while inactive, below max(min_capacity, 1); none: not set",
    )
    polling_interval_s: float = setting(
        30.0, unit="duration", doc="pollingInterval: how often the trigger is read"
    )
    cooldown_period_s: float = setting(
        300.0,
        unit="duration",
        minimum=0,
        doc="cooldownPeriod: from the last active poll to scaling to zero",
    )
    initial_cooldown_period_s: float = setting(
        0.0,
        unit="duration",
        minimum=0,
        doc="initialCooldownPeriod: from creation, while never active",
    )
    activation_threshold: float = setting(
        0.0,
        minimum=0,
        doc="activationThreshold: active while the request rate (per s) is above it",
    )
    request_window_s: float = setting(
        60.0, unit="duration", doc="the add-on's requestRate window (1 s buckets)"
    )
    hold_timeout_s: float = setting(
        DEFAULT_HOLD_TIMEOUT_S,
        unit="duration",
        doc="how long the interceptor holds a request for a ready replica",
    )
    hold_capacity: int = setting(
        DEFAULT_HOLD_CAPACITY, minimum=1, doc="the most requests the interceptor holds"
    )

    def __post_init__(self) -> None:
        if self.min_capacity < 0:
            raise ConfigError("min_capacity", self.min_capacity, "an integer, not negative")
        if self.max_capacity < max(self.min_capacity, 1):
            raise ConfigError(
                "max_capacity",
                self.max_capacity,
                f"an integer at least max(min_capacity, 1) ({max(self.min_capacity, 1)})",
            )
        idle = self.idle_capacity
        if idle is not None and not 0 <= idle < max(self.min_capacity, 1):
            raise ConfigError(
                "idle_capacity",
                idle,
                f"an integer from 0 to below max(min_capacity, 1) ({max(self.min_capacity, 1)})",
            )
        check_positive("polling_interval", self.polling_interval_s)
        check_not_negative("cooldown_period", self.cooldown_period_s)
        check_not_negative("initial_cooldown_period", self.initial_cooldown_period_s)
        if not (math.isfinite(self.activation_threshold) and self.activation_threshold >= 0):
            raise ConfigError(
                "activation_threshold", self.activation_threshold, "a rate, not negative"
            )
        check_positive("request_window", self.request_window_s)
        check_positive("hold_timeout", self.hold_timeout_s)
        if self.hold_capacity < 1:
            raise ConfigError("hold_capacity", self.hold_capacity, "an integer, at least 1")
        self.hpa_params()

    def hpa_params(self) -> HpaParams:
        """The HPA KEDA creates: this model's ``hpa`` with its defaults, within
        [max(min_capacity, 1), max_capacity]."""
        return HpaParams(
            target_utilization=self.target_utilization,
            max_capacity=self.max_capacity,
            min_capacity=max(self.min_capacity, 1),
        )


def _milliseconds(duration_s: float) -> int:
    return max(1, round(duration_s * 1000))


class Keda:
    """A ScaledObject: the step to and from zero at each poll, the HPA above one.

    The control loop calls it at the greatest common divisor of the polling interval and
    the HPA's sync period (whole milliseconds); each call runs whichever of the two is
    due, the poll first. A sync on the instant of a poll sees the count the poll chose.

    Args:
        params: the ScaledObject's settings.
        name: the name the policy goes by.
    """

    metric = "CPUUtilization"
    statistic = "Average"
    datapoints_needed = 0

    def __init__(self, params: KedaParams, name: str = "keda") -> None:
        self.params = params
        self.name = name
        self.hpa = Hpa(params.hpa_params())
        poll_ms = _milliseconds(params.polling_interval_s)
        sync_ms = _milliseconds(self.hpa.interval_s)
        tick_ms = math.gcd(poll_ms, sync_ms)
        self.interval_s = tick_ms / 1000
        self.period_s = self.interval_s
        self._poll_every = poll_ms // tick_ms
        self._sync_every = sync_ms // tick_ms
        self.extra_series: tuple[tuple[Series, int], ...] = ()
        self.min_capacity = params.min_capacity
        self.max_capacity = params.max_capacity
        self.hold = Hold(params.hold_timeout_s, params.hold_capacity, params.request_window_s)
        self.last_active_s: float | None = None
        """When a poll last found the trigger active; None before the first."""

    def decide(self, observation: Observation) -> Decision:
        """The poll (if due), then the HPA's sync (if due) on the count the poll left."""
        tick = round(observation.now_s / self.interval_s)
        decision = unchanged(observation)
        if tick % self._poll_every == 0:
            decision = self.poll(observation)
        if tick % self._sync_every == 0:
            seen = replace(observation, desired=decision.desired)
            synced = self.hpa.decide(seen)
            if synced.desired != seen.desired:
                decision = synced
        return decision

    def poll(self, observation: Observation) -> Decision:
        """One poll of the trigger (``RequestScale``): the step to or from zero."""
        params = self.params
        now_s = observation.now_s
        current = observation.desired
        idle = params.idle_capacity
        minimum = params.min_capacity
        rate = observation.request_rate
        if rate > params.activation_threshold:
            self.last_active_s = now_s
            if (idle is not None and current < minimum) or current == 0:
                return Decision(
                    max(minimum, 1),
                    f"activated: {format_number(rate)} requests/s above activation_threshold "
                    f"{format_number(params.activation_threshold)}",
                )
            return unchanged(observation)
        if (idle is not None and current > idle) or (current > 0 and minimum == 0):
            if not self._cooled_down(now_s):
                return unchanged(observation)
            target = idle if idle is not None else minimum
            return Decision(target, self._deactivation_reason())
        if idle is None and current < minimum:
            return Decision(minimum, f"desired {current} below min_capacity {minimum}")
        return unchanged(observation)

    def _cooled_down(self, now_s: float) -> bool:
        """Whether the cooldown since the last active poll (or the initial cooldown
        since creation, at 0 s) has passed."""
        if self.last_active_s is None:
            return now_s >= self.params.initial_cooldown_period_s
        return now_s - self.last_active_s >= self.params.cooldown_period_s

    def _deactivation_reason(self) -> str:
        params = self.params
        if self.last_active_s is None:
            return (
                "inactive since creation, initial_cooldown_period "
                f"{format_number(params.initial_cooldown_period_s)} s passed"
            )
        return (
            f"inactive since {format_number(self.last_active_s)} s, cooldown_period "
            f"{format_number(params.cooldown_period_s)} s passed"
        )


KIND = Kind(
    "keda",
    KedaParams,
    Keda,
    "KEDA: scale to zero and back on the request rate, the HPA above one replica",
)
