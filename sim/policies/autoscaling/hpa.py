"""The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) on CPU utilization.

Every sync period (15 s) the controller asks its replica calculator how many replicas
the pods' CPU calls for (`sim.policies.autoscaling.hpa_calculator`), then bounds that
recommendation by its memory of past recommendations and scaling events, and by the
replica range. Each rule follows upstream Kubernetes (1.33 and later), file by file:

* ``pkg/controller/podautoscaler/replica_calculator.go`` (``GetResourceReplicas``,
  ``groupPods``, ``Tolerances.isWithin``, 1.33): the recommendation, with utilization as
  a whole percent of summed requests, unready pods left out of a scale-down, missing
  pods at ``max(100, target)`` % of their request on a scale-down, and the band
  ``1 − scale_down ≤ ratio ≤ 1 + scale_up`` (see `hpa_calculator`).
* ``horizontal.go``, ``reconcileAutoscaler``: a target at 0 replicas is not autoscaled;
  one above maxReplicas or below minReplicas goes to that bound at once, before any
  metric is read; the first sync records the replica count found as a recommendation
  (``recordInitialRecommendation``), so a fresh HPA does not scale down within its
  stabilization window. When the metrics cannot be read, nothing changes.
* ``horizontal.go``, ``tolerancesForHpa`` (1.33, feature gate HPAConfigurableTolerance,
  beta and on by default since 1.35): a direction's ``behavior`` tolerance, when set,
  replaces the controller's ``--horizontal-pod-autoscaler-tolerance`` (0.1).
* Without ``behavior`` (``horizontal.go``, ``normalizeDesiredReplicas``,
  ``stabilizeRecommendation``, ``convertDesiredReplicasWithRules``,
  ``calculateScaleUpLimit``): the highest recommendation of the last
  ``--horizontal-pod-autoscaler-downscale-stabilization`` (5 min, its oldest instant
  included) wins, and one sync may raise the count to at most ``max(2 × current, 4)``.
* With ``behavior`` (``stabilizeRecommendationWithBehaviors``,
  ``convertDesiredReplicasWithBehaviorRate``, ``calculateScaleUpLimitWithScalingRules``,
  ``calculateScaleDownLimitWithBehaviors``, ``getReplicasChangePerPeriod``,
  ``storeScaleEvent``, ``markScaleEventsOutdated``): the count stays between the lowest
  recommendation of the scale-up window and the highest of the scale-down window
  (windows exclude their oldest instant); each policy allows a change counted from the
  replica count at the start of its period (replicas added and removed by scaling events
  strictly inside the period undone), Percent policies computed in float64 as the
  controller does (50 + 10 % is 55.00000000000001, so 56); ``select_policy`` picks the
  largest change (Max), the smallest (Min), or none (Disabled). A direction left out takes
  ``pkg/apis/autoscaling/v2/defaults.go``'s rules: scale-up without a window and at most
  max(+100 %, +4 pods) per 15 s; scale-down over the controller's 5 min window and at
  most −100 % per 15 s.

Which of the last two applies is the HPA's ``behavior``: an HPA written without one (as
``kubectl autoscale`` makes it, and as this model's ``hpa`` preset is) keeps the older
rules; giving ``scale_up``, ``scale_down`` or a per-direction ``tolerance`` gives it one.

The model's clock is exact, so the window edges above matter where syncs fall exactly
a window apart; the controller's clock jitters, which hides them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sim.core.errors import ConfigError
from sim.core.settings import Kind, setting
from sim.policies.autoscaling.ec2 import check_choice, check_not_negative, check_positive
from sim.policies.autoscaling.hpa_calculator import ReplicaCalculator, Tolerances
from sim.policies.autoscaling.protocol import (
    Decision,
    Observation,
    Series,
    check_capacity_range,
    out_of_range,
    unchanged,
)

PODS = "Pods"
PERCENT = "Percent"
SELECT_POLICIES = ("Max", "Min", "Disabled")
MAX_POLICY_PERIOD_S = 1800.0
MAX_STABILIZATION_WINDOW_S = 3600.0
SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0
CONTROLLER_TOLERANCE = 0.1
"""``--horizontal-pod-autoscaler-tolerance``'s default, for a direction without its own."""


def check_tolerance(key: str, value: float) -> None:
    """Reject a tolerance the API server rejects (negative or not a number).

    Raises:
        ConfigError: naming `key`.
    """
    if not (math.isfinite(value) and value >= 0):
        raise ConfigError(key, value, "a number, not negative (0.1 is 10 %)")


@dataclass(frozen=True, slots=True)
class HpaScalingPolicy:
    """One rate limit (``HPAScalingPolicy``): at most `value` pods or percent per period.

    Raises:
        ConfigError: for values the API server rejects; keys are the config names.
    """

    kind: str = setting(key="type", choices=(PODS, PERCENT), doc="pods, or a percent of them")
    value: int = setting(minimum=1, doc="the change allowed per period")
    period_s: float = setting(
        unit="duration",
        maximum=MAX_POLICY_PERIOD_S,
        doc="how long a change counts against the limit (above 0)",
    )

    def __post_init__(self) -> None:
        check_choice("type", self.kind, (PODS, PERCENT))
        if self.value < 1:
            raise ConfigError("value", self.value, "at least 1")
        if not 0 < self.period_s <= MAX_POLICY_PERIOD_S:
            raise ConfigError("period", self.period_s, "above 0 s, at most 1800 s")


def check_rules(
    stabilization_window_s: float | None,
    policies: Sequence[HpaScalingPolicy],
    select_policy: str,
) -> None:
    """Reject the behaviour of one direction the API server rejects.

    Raises:
        ConfigError: naming the config key (``stabilization_window``, ``policies``,
            ``select_policy``).
    """
    if stabilization_window_s is not None and not (
        0 <= stabilization_window_s <= MAX_STABILIZATION_WINDOW_S
    ):
        raise ConfigError("stabilization_window", stabilization_window_s, "0 s to 3600 s")
    if not policies:
        raise ConfigError("policies", "[]", "at least one policy")
    check_choice("select_policy", select_policy, SELECT_POLICIES)


@dataclass(frozen=True, slots=True)
class HpaScalingRules:
    """The behaviour in one direction (``HPAScalingRules``), as the controller applies it.

    Attributes:
        stabilization_window_s: recommendations this recent bound the result (the
            lowest for a scale-up, the highest for a scale-down).
        policies: the rate limits.
        select_policy: Max (the policy allowing the largest change), Min (the
            smallest), or Disabled (no scaling in this direction).
        tolerance: this direction's tolerance; None for the controller's.

    Raises:
        ConfigError: for values the API server rejects; keys are the config names.
    """

    stabilization_window_s: float
    policies: tuple[HpaScalingPolicy, ...]
    select_policy: str = "Max"
    tolerance: float | None = None

    def __post_init__(self) -> None:
        check_rules(self.stabilization_window_s, self.policies, self.select_policy)
        if self.tolerance is not None:
            check_tolerance("tolerance", self.tolerance)

    @property
    def longest_period_s(self) -> float:
        """The longest of the policies' periods: how long scaling events matter."""
        return max(policy.period_s for policy in self.policies)


_SELECT_POLICY_DOC = (
    "Max: the policy allowing the largest change, Min: the smallest, Disabled: none"
)


@dataclass(frozen=True, slots=True)
class HpaScaleUp:
    """``behavior.scaleUp`` as a config writes it: a key left out takes upstream's
    default (``pkg/apis/autoscaling/v2/defaults.go``).

    Raises:
        ConfigError: for values the API server rejects; keys are the config names.
    """

    stabilization_window_s: float = setting(
        0.0,
        unit="duration",
        minimum=0,
        maximum=MAX_STABILIZATION_WINDOW_S,
        doc="the lowest recommendation this recent bounds a scale-up",
    )
    policies: tuple[HpaScalingPolicy, ...] = setting(
        (HpaScalingPolicy(PODS, 4, 15.0), HpaScalingPolicy(PERCENT, 100, 15.0)),
        doc="the rate limits (HPAScalingPolicy)",
    )
    select_policy: str = setting("Max", choices=SELECT_POLICIES, doc=_SELECT_POLICY_DOC)

    def __post_init__(self) -> None:
        check_rules(self.stabilization_window_s, self.policies, self.select_policy)

    def rules(self, tolerance: float | None) -> HpaScalingRules:
        """The rules the controller applies, with this direction's own tolerance."""
        return HpaScalingRules(
            self.stabilization_window_s, self.policies, self.select_policy, tolerance
        )


@dataclass(frozen=True, slots=True)
class HpaScaleDown:
    """``behavior.scaleDown`` as a config writes it: a key left out takes upstream's
    default, the window the controller's ``--horizontal-pod-autoscaler-downscale-
    stabilization``.

    Raises:
        ConfigError: for values the API server rejects; keys are the config names.
    """

    stabilization_window_s: float | None = setting(
        None,
        unit="duration",
        minimum=0,
        maximum=MAX_STABILIZATION_WINDOW_S,
        doc="the highest recommendation this recent bounds a scale-down; "
        "none: the HPA's downscale_stabilization",
    )
    policies: tuple[HpaScalingPolicy, ...] = setting(
        (HpaScalingPolicy(PERCENT, 100, 15.0),),
        doc="the rate limits (HPAScalingPolicy)",
    )
    select_policy: str = setting("Max", choices=SELECT_POLICIES, doc=_SELECT_POLICY_DOC)

    def __post_init__(self) -> None:
        check_rules(self.stabilization_window_s, self.policies, self.select_policy)

    def rules(self, controller_window_s: float, tolerance: float | None) -> HpaScalingRules:
        """The rules the controller applies, with its own window where this sets none
        and this direction's own tolerance."""
        window_s = self.stabilization_window_s
        return HpaScalingRules(
            controller_window_s if window_s is None else window_s,
            self.policies,
            self.select_policy,
            tolerance,
        )


DEFAULT_SCALE_UP = HpaScaleUp().rules(None)
"""The scale-up rules of a ``behavior`` that leaves them out."""


def default_scale_down(stabilization_window_s: float) -> HpaScalingRules:
    """The scale-down rules of a ``behavior`` that leaves them out."""
    return HpaScaleDown().rules(stabilization_window_s, None)


@dataclass(frozen=True, slots=True)
class HpaTolerances:
    """The HPA's own tolerances per direction (``behavior.scaleUp.tolerance``,
    ``behavior.scaleDown.tolerance``, Kubernetes 1.33 and later); a direction without
    one keeps the controller's.

    Raises:
        ConfigError: for neither direction, or a negative tolerance; keys are the config
            names.
    """

    scale_up: float | None = setting(None, doc="0.1 is 10 %; none: the controller's")
    scale_down: float | None = setting(None, doc="0.1 is 10 %; none: the controller's")

    def __post_init__(self) -> None:
        if self.scale_up is None and self.scale_down is None:
            raise ConfigError("", "{}", "scale_up, scale_down or both")
        for direction, value in (("scale_up", self.scale_up), ("scale_down", self.scale_down)):
            if value is not None:
                check_tolerance(direction, value)


@dataclass(frozen=True, slots=True)
class HpaBehavior:
    """An HPA's ``behavior``, both directions filled in."""

    scale_up: HpaScalingRules
    scale_down: HpaScalingRules


@dataclass(frozen=True, slots=True)
class HpaParams:
    """A HorizontalPodAutoscaler on CPU utilization and the controller's settings.

    Giving `scale_up`, `scale_down` or per-direction tolerances gives the HPA a
    ``behavior`` (see the module docstring).

    Raises:
        ConfigError: for values the API server rejects; keys are the config names.
    """

    target_utilization: int = setting(
        doc="averageUtilization: a whole percent of the CPU request, at least 1"
    )
    max_capacity: int = setting(minimum=1, doc="maxReplicas")
    min_capacity: int = setting(1, minimum=1, doc="minReplicas")
    tolerance: float | HpaTolerances = setting(
        CONTROLLER_TOLERANCE,
        expected="a number such as 0.1, or a mapping {scale_up: 0.1, scale_down: 0.05}",
        doc="--horizontal-pod-autoscaler-tolerance, or the HPA's own per direction "
        "({scale_up, scale_down})",
    )
    interval_s: float = setting(
        15.0, unit="duration", doc="--horizontal-pod-autoscaler-sync-period (above 0)"
    )
    downscale_stabilization_s: float = setting(
        300.0,
        unit="duration",
        minimum=0,
        maximum=MAX_STABILIZATION_WINDOW_S,
        doc="--horizontal-pod-autoscaler-downscale-stabilization: the scale-down window",
    )
    cpu_initialization_period_s: float = setting(
        300.0,
        unit="duration",
        minimum=0,
        doc="--horizontal-pod-autoscaler-cpu-initialization-period",
    )
    metric_window_s: float = setting(
        30.0,
        unit="duration",
        minimum=0,
        doc="the window of one pod CPU sample (metrics-server reports 15 s to 30 s)",
    )
    scale_up: HpaScaleUp | None = setting(None, doc="behavior.scaleUp; none: not set")
    scale_down: HpaScaleDown | None = setting(None, doc="behavior.scaleDown; none: not set")

    def __post_init__(self) -> None:
        target = self.target_utilization
        if isinstance(target, bool) or not isinstance(target, int) or target < 1:
            raise ConfigError(
                "target_utilization", self.target_utilization, "a whole percent, at least 1"
            )
        if self.min_capacity < 1:
            raise ConfigError("min_capacity", self.min_capacity, "at least 1")
        check_capacity_range(self.min_capacity, self.max_capacity)
        if not isinstance(self.tolerance, HpaTolerances):
            check_tolerance("tolerance", self.tolerance)
        check_positive("interval", self.interval_s)
        if not 0 <= self.downscale_stabilization_s <= MAX_STABILIZATION_WINDOW_S:
            raise ConfigError(
                "downscale_stabilization", self.downscale_stabilization_s, "0 s to 3600 s"
            )
        check_not_negative("cpu_initialization_period", self.cpu_initialization_period_s)
        check_not_negative("metric_window", self.metric_window_s)

    @property
    def own_tolerances(self) -> HpaTolerances | None:
        """The HPA's own per-direction tolerances; None when it keeps the controller's."""
        return self.tolerance if isinstance(self.tolerance, HpaTolerances) else None

    @property
    def behavior(self) -> HpaBehavior | None:
        """The HPA's behaviour with defaults for what it leaves out; None without one."""
        own = self.own_tolerances
        if self.scale_up is None and self.scale_down is None and own is None:
            return None
        scale_up = self.scale_up or HpaScaleUp()
        scale_down = self.scale_down or HpaScaleDown()
        return HpaBehavior(
            scale_up.rules(own.scale_up if own else None),
            scale_down.rules(self.downscale_stabilization_s, own.scale_down if own else None),
        )

    @property
    def tolerances(self) -> Tolerances:
        """The band in force: a direction's own tolerance, else the controller's."""
        tolerance = self.tolerance
        if not isinstance(tolerance, HpaTolerances):
            return Tolerances(tolerance, tolerance)
        up, down = tolerance.scale_up, tolerance.scale_down
        return Tolerances(
            CONTROLLER_TOLERANCE if up is None else up,
            CONTROLLER_TOLERANCE if down is None else down,
        )

    def calculator(self) -> ReplicaCalculator:
        """The replica calculator these settings configure."""
        return ReplicaCalculator(
            self.target_utilization,
            self.tolerances,
            self.cpu_initialization_period_s,
            self.metric_window_s,
        )


@dataclass(slots=True)
class TimedRecommendation:
    """A recommendation of the replica calculator, as the controller remembers it."""

    time_s: float
    replicas: int


@dataclass(slots=True)
class ScaleEvent:
    """A past rescale in one direction: how many replicas it added or removed.

    Attributes:
        time_s: when it happened.
        change: replicas added (scale-up events) or removed (scale-down events).
        outdated: older than its direction's longest policy period when last checked;
            the next event in that direction takes its place.
    """

    time_s: float
    change: int
    outdated: bool = False


@dataclass(slots=True)
class HpaHistory:
    """What the controller remembers about its target between syncs."""

    recommendations: list[TimedRecommendation] = field(default_factory=list)
    scale_up_events: list[ScaleEvent] = field(default_factory=list)
    scale_down_events: list[ScaleEvent] = field(default_factory=list)


def _record(history: HpaHistory, now_s: float, replicas: int, old: Sequence[bool]) -> None:
    """Store a recommendation in the place of the last old one, or append it."""
    recommendation = TimedRecommendation(now_s, replicas)
    for index in range(len(old) - 1, -1, -1):
        if old[index]:
            history.recommendations[index] = recommendation
            return
    history.recommendations.append(recommendation)


def stabilize_without_behavior(
    history: HpaHistory, now_s: float, wanted: int, window_s: float
) -> int:
    """The highest of `wanted` and the recommendations of the last `window_s`.

    A recommendation exactly `window_s` old still counts. `wanted` is remembered.
    """
    cutoff_s = now_s - window_s
    highest = wanted
    old = [past.time_s < cutoff_s for past in history.recommendations]
    for past, is_old in zip(history.recommendations, old, strict=True):
        if not is_old:
            highest = max(highest, past.replicas)
    _record(history, now_s, wanted, old)
    return highest


def stabilize_with_behavior(
    history: HpaHistory, now_s: float, current: int, wanted: int, behavior: HpaBehavior
) -> int:
    """`current` moved toward `wanted` no further than the windows' recommendations allow.

    The lowest recommendation of the scale-up window and the highest of the scale-down
    window (each strictly younger than its window, `wanted` included) bound the result.
    `wanted` is remembered.
    """
    up_cutoff_s = now_s - behavior.scale_up.stabilization_window_s
    down_cutoff_s = now_s - behavior.scale_down.stabilization_window_s
    up_bound = wanted
    down_bound = wanted
    for past in history.recommendations:
        if past.time_s > up_cutoff_s:
            up_bound = min(up_bound, past.replicas)
        if past.time_s > down_cutoff_s:
            down_bound = max(down_bound, past.replicas)
    old = [
        past.time_s < up_cutoff_s and past.time_s < down_cutoff_s
        for past in history.recommendations
    ]
    _record(history, now_s, wanted, old)
    return min(max(current, up_bound), down_bound)


def replicas_changed(events: Sequence[ScaleEvent], now_s: float, period_s: float) -> int:
    """Replicas added (or removed) by the events strictly inside the last `period_s`."""
    cutoff_s = now_s - period_s
    return sum(event.change for event in events if event.time_s > cutoff_s)


def _period_start(history: HpaHistory, now_s: float, current: int, period_s: float) -> int:
    """The replica count at the start of a policy's period."""
    return (
        current
        - replicas_changed(history.scale_up_events, now_s, period_s)
        + replicas_changed(history.scale_down_events, now_s, period_s)
    )


def scale_up_limit(history: HpaHistory, now_s: float, current: int, rules: HpaScalingRules) -> int:
    """The most replicas the scale-up rules allow now (`current` when Disabled)."""
    if rules.select_policy == "Disabled":
        return current
    proposals = []
    for policy in rules.policies:
        start = _period_start(history, now_s, current, policy.period_s)
        if policy.kind == PODS:
            proposals.append(start + policy.value)
        else:
            proposals.append(math.ceil(start * (1 + policy.value / 100)))
    return max(proposals) if rules.select_policy == "Max" else min(proposals)


def scale_down_limit(
    history: HpaHistory, now_s: float, current: int, rules: HpaScalingRules
) -> int:
    """The fewest replicas the scale-down rules allow now (`current` when Disabled)."""
    if rules.select_policy == "Disabled":
        return current
    proposals = []
    for policy in rules.policies:
        start = _period_start(history, now_s, current, policy.period_s)
        if policy.kind == PODS:
            proposals.append(start - policy.value)
        else:
            proposals.append(int(start * (1 - policy.value / 100)))
    return min(proposals) if rules.select_policy == "Max" else max(proposals)


def limit_with_behavior(
    history: HpaHistory,
    now_s: float,
    current: int,
    wanted: int,
    bounds: tuple[int, int],
    behavior: HpaBehavior,
) -> int:
    """`wanted` within the behaviour's rate limits and the replica range `bounds`."""
    min_capacity, max_capacity = bounds
    if wanted > current:
        limit = max(scale_up_limit(history, now_s, current, behavior.scale_up), current)
        return min(wanted, limit, max_capacity)
    if wanted < current:
        limit = min(scale_down_limit(history, now_s, current, behavior.scale_down), current)
        return max(wanted, limit, min_capacity)
    return wanted


def limit_without_behavior(current: int, wanted: int, bounds: tuple[int, int]) -> int:
    """`wanted` within the replica range and at most ``max(2 × current, 4)``."""
    min_capacity, max_capacity = bounds
    scale_up_cap = int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))
    if wanted < min_capacity:
        return min_capacity
    return min(wanted, max_capacity, scale_up_cap)


def store_scale_event(
    events: list[ScaleEvent], now_s: float, change: int, longest_period_s: float
) -> None:
    """Remember a rescale: mark events older than `longest_period_s` outdated and put
    the new one in the place of the last outdated event, or after the others."""
    cutoff_s = now_s - longest_period_s
    for event in events:
        if event.time_s < cutoff_s:
            event.outdated = True
    new_event = ScaleEvent(now_s, change)
    for index in range(len(events) - 1, -1, -1):
        if events[index].outdated:
            events[index] = new_event
            return
    events.append(new_event)


class Hpa:
    """A HorizontalPodAutoscaler with its controller's memory.

    Args:
        params: the autoscaler and controller settings.
        name: the name the policy goes by.
        history: what the controller remembers from earlier syncs; None for an HPA
            seen for the first time (its first sync records the replica count found).
    """

    metric = "CPUUtilization"
    statistic = "Average"
    datapoints_needed = 0

    def __init__(
        self, params: HpaParams, name: str = "hpa", history: HpaHistory | None = None
    ) -> None:
        self.params = params
        self.name = name
        self.period_s = params.interval_s
        self.interval_s = params.interval_s
        self.extra_series: tuple[tuple[Series, int], ...] = ()
        self.min_capacity = params.min_capacity
        self.max_capacity = params.max_capacity
        self.calculator = params.calculator()
        self.behavior = params.behavior
        self.history = history if history is not None else HpaHistory()
        self._synced = history is not None

    def decide(self, observation: Observation) -> Decision:
        """One sync of the controller: recommend, stabilize, limit the rate."""
        params = self.params
        current = observation.desired
        now_s = observation.now_s
        if not self._synced:
            self.history.recommendations.append(TimedRecommendation(now_s, current))
            self._synced = True
        if current == 0:
            return unchanged(observation)
        decision = out_of_range(observation, params.min_capacity, params.max_capacity)
        if decision is None:
            recommendation = self.calculator.recommend(observation)
            if recommendation is None:
                return unchanged(observation)
            normalized = self._normalize(now_s, current, recommendation.replicas)
            if normalized.desired == current:
                return unchanged(observation)
            decision = Decision(normalized.desired, recommendation.reason + normalized.reason)
        self._store_scale_event(now_s, current, decision.desired)
        return decision

    def _normalize(self, now_s: float, current: int, wanted: int) -> Decision:
        """Stabilize `wanted` and bound it; the reason says what changed it."""
        bounds = (self.params.min_capacity, self.params.max_capacity)
        behavior = self.behavior
        if behavior is None:
            window_s = self.params.downscale_stabilization_s
            stabilized = stabilize_without_behavior(self.history, now_s, wanted, window_s)
            desired = limit_without_behavior(current, stabilized, bounds)
        else:
            stabilized = stabilize_with_behavior(self.history, now_s, current, wanted, behavior)
            desired = limit_with_behavior(
                self.history, now_s, current, stabilized, bounds, behavior
            )
        reason = ""
        if stabilized != wanted:
            reason += f", stabilized to {stabilized}"
        if desired != stabilized:
            reason += f", limited to {desired}"
        return Decision(desired, reason)

    def _store_scale_event(self, now_s: float, previous: int, desired: int) -> None:
        """Remember a rescale for the rate limits (only an HPA with a behaviour does)."""
        behavior = self.behavior
        if behavior is None:
            return
        if desired > previous:
            longest_s = behavior.scale_up.longest_period_s
            store_scale_event(self.history.scale_up_events, now_s, desired - previous, longest_s)
        else:
            longest_s = behavior.scale_down.longest_period_s
            store_scale_event(self.history.scale_down_events, now_s, previous - desired, longest_s)


KIND = Kind(
    "hpa",
    HpaParams,
    Hpa,
    "the Kubernetes HorizontalPodAutoscaler on CPU utilization",
)
