"""The HPA against Kubernetes' own test tables, case by case.

Each case restates one upstream test of ``pkg/controller/podautoscaler`` in our terms;
its id is the upstream test's name (``Test.../subtest`` for table subtests, spaces as
``_``, as ``go test`` prints them). The CPU-utilization cases of
``replica_calculator_test.go`` keep their standalone names (upstream's master has since
gathered the first thirteen under ``TestReplicaCalcResourceScale``, with the same
numbers); the behaviour and stabilization tables come from ``horizontal_test.go``.

Upstream builds its pods from a few fields; `calc_pods` and `controller_pods` translate
them:

* a pod whose Ready condition is False, or which is Pending, has not become ready
  (``ready_s`` None); a Pending pod has no CPU sample either;
* a "hot" pod started at the sync and became ready then (its sample covers time before
  readiness); a "cool" one, and one with upstream's default start time, started three
  minutes earlier, past the two-minute CPU initialization period of upstream's tests;
* a pod being deleted is terminating; a Failed pod is left out, since the fleet drops a
  replica whose start fails at once;
* ``replica_calculator_test.go`` gives each of a pod's two containers the level and
  request listed, so the pod uses and requests twice as much; ``horizontal_test.go``
  splits each pod's level and request evenly over its two containers in whole
  milli-CPUs, so an odd value loses 1 m (95 m becomes 94 m).

Upstream's clock is the wall clock; ours is the simulation's, so "N minutes ago" is
``NOW_S - 60 N``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sim.policies.autoscaling.hpa import (
    DEFAULT_SCALE_UP,
    Hpa,
    HpaBehavior,
    HpaHistory,
    HpaParams,
    HpaScaleUp,
    HpaScalingPolicy,
    HpaScalingRules,
    ScaleEvent,
    TimedRecommendation,
    default_scale_down,
    limit_with_behavior,
    limit_without_behavior,
    replicas_changed,
    scale_down_limit,
    scale_up_limit,
    stabilize_with_behavior,
    stabilize_without_behavior,
    store_scale_event,
)
from sim.policies.autoscaling.hpa_calculator import ReplicaCalculator, Tolerances
from sim.policies.autoscaling.protocol import Instance, Observation

NOW_S = 10_000.0
COOL_START_S = NOW_S - 180.0
HOT, COOL = "hot", "cool"
RUNNING, PENDING, FAILED = "Running", "Pending", "Failed"

# Upstream's test settings: the CPU initialization period is 2 minutes and a resource
# metric sample covers 1 minute.
TEST_INITIALIZATION_S = 120.0
TEST_WINDOW_S = 60.0


def _pod(
    usage_m: int | None,
    request_m: int,
    ready: bool,
    start: str,
    phase: str,
    deleting: bool,
) -> Instance | None:
    if phase == FAILED:
        return None
    launched_s = NOW_S if start == HOT else COOL_START_S
    is_ready = ready and phase == RUNNING
    return Instance(
        launched_s=launched_s,
        ready_s=launched_s if is_ready else None,
        terminating=deleting,
        cpu_request_vcpu=request_m / 1000,
        cpu_usage_vcpu=None if usage_m is None or phase == PENDING else usage_m / 1000,
    )


def _pods(
    count: int,
    usage_m: Sequence[int],
    request_m: Sequence[int],
    readiness: Sequence[bool],
    starts: Sequence[str],
    phases: Sequence[str],
    deleting: Sequence[bool],
) -> list[Instance]:
    pods = []
    for index in range(count):
        pod = _pod(
            usage_m[index] if index < len(usage_m) else None,
            request_m[index] if index < len(request_m) else 0,
            readiness[index] if index < len(readiness) else True,
            starts[index] if index < len(starts) else COOL,
            phases[index] if index < len(phases) else RUNNING,
            deleting[index] if index < len(deleting) else False,
        )
        if pod is not None:
            pods.append(pod)
    return pods


def calc_pods(
    current: int,
    levels: Sequence[int],
    requests: Sequence[int],
    readiness: Sequence[bool] = (),
    starts: Sequence[str] = (),
    phases: Sequence[str] = (),
    deleting: Sequence[bool] = (),
) -> list[Instance]:
    """A ``replica_calculator_test.go`` fixture: per-container levels and requests (m)."""
    return _pods(
        max(current, len(phases)),
        [2 * level for level in levels],
        [2 * request for request in requests],
        readiness,
        starts,
        phases,
        deleting,
    )


def controller_pods(
    levels: Sequence[int],
    requests: Sequence[int],
    readiness: Sequence[bool] = (),
    starts: Sequence[str] = (),
    phases: Sequence[str] = (),
    deleting: Sequence[bool] = (),
) -> list[Instance]:
    """A ``horizontal_test.go`` fixture: per-pod levels and requests (m), split in two."""
    return _pods(
        len(requests),
        [2 * (level // 2) for level in levels],
        [2 * (request // 2) for request in requests],
        readiness,
        starts,
        phases,
        deleting,
    )


def observe(desired: int, pods: Sequence[Instance]) -> Observation:
    return Observation(NOW_S, desired, tuple(pods), ())


def calculator(target: int, tolerances: Tolerances | None = None) -> ReplicaCalculator:
    return ReplicaCalculator(
        target, tolerances or Tolerances(), TEST_INITIALIZATION_S, TEST_WINDOW_S
    )


T, F = True, False
ONE = 1000

# --- replica_calculator_test.go: CPU utilization -----------------------------------------

# (id, current, target, pods, replicas, utilization)
CALCULATOR_CASES = [
    ("TestReplicaCalcScaleUp", 3, 30, calc_pods(3, [300, 500, 700], [ONE] * 3), 5, 50),
    (
        "TestReplicaCalcScaleUpUnreadyLessScale",
        3,
        30,
        calc_pods(3, [300, 500, 700], [ONE] * 3, readiness=[F, T, T]),
        4,
        60,
    ),
    (
        "TestReplicaCalcScaleUpHotCpuLessScale",
        3,
        30,
        calc_pods(3, [300, 500, 700], [ONE] * 3, starts=[HOT, COOL, COOL]),
        4,
        60,
    ),
    (
        "TestReplicaCalcScaleUpUnreadyNoScale",
        3,
        30,
        calc_pods(3, [400, 500, 700], [ONE] * 3, readiness=[T, F, F]),
        3,
        40,
    ),
    (
        "TestReplicaCalcScaleHotCpuNoScale",
        3,
        30,
        calc_pods(3, [400, 500, 700], [ONE] * 3, readiness=[T, F, F], starts=[COOL, HOT, HOT]),
        3,
        40,
    ),
    (
        "TestReplicaCalcScaleUpIgnoresFailedPods",
        2,
        30,
        calc_pods(
            2,
            [500, 700],
            [ONE] * 4,
            readiness=[T, T, F, F],
            phases=[RUNNING, RUNNING, FAILED, FAILED],
        ),
        4,
        60,
    ),
    (
        "TestReplicaCalcScaleUpIgnoresDeletionPods",
        2,
        30,
        calc_pods(
            2,
            [500, 700],
            [ONE] * 4,
            readiness=[T, T, F, F],
            phases=[RUNNING] * 4,
            deleting=[F, F, T, T],
        ),
        4,
        60,
    ),
    ("TestReplicaCalcScaleDown", 5, 50, calc_pods(5, [100, 300, 500, 250, 250], [ONE] * 5), 3, 28),
    (
        "TestReplicaCalcScaleDownExcludeUnreadyPods",
        5,
        50,
        calc_pods(5, [100, 300, 500, 250, 250], [ONE] * 5, readiness=[T, T, T, F, F]),
        2,
        30,
    ),
    (
        "TestReplicaCalcScaleDownExcludeUnscheduledPods",
        5,
        50,
        calc_pods(
            5,
            [100],
            [ONE] * 5,
            readiness=[T, F, F, F, F],
            phases=[RUNNING] + [PENDING] * 4,
        ),
        1,
        10,
    ),
    (
        "TestReplicaCalcScaleDownIgnoreHotCpuPods",
        5,
        50,
        calc_pods(5, [100, 300, 500, 250, 250], [ONE] * 5, starts=[COOL] * 3 + [HOT] * 2),
        2,
        30,
    ),
    (
        "TestReplicaCalcScaleDownIgnoresFailedPods",
        5,
        50,
        calc_pods(
            5,
            [100, 300, 500, 250, 250],
            [ONE] * 7,
            readiness=[T] * 5 + [F] * 2,
            phases=[RUNNING] * 5 + [FAILED] * 2,
        ),
        3,
        28,
    ),
    (
        "TestReplicaCalcScaleDownIgnoresDeletionPods",
        5,
        50,
        calc_pods(
            5,
            [100, 300, 500, 250, 250],
            [ONE] * 7,
            readiness=[T] * 5 + [F] * 2,
            phases=[RUNNING] * 7,
            deleting=[F] * 5 + [T] * 2,
        ),
        3,
        28,
    ),
    (
        "TestReplicaCalcTolerance",
        3,
        100,
        calc_pods(3, [1010, 1030, 1020], [900, 1000, 1100]),
        3,
        102,
    ),
    ("TestReplicaCalcMissingMetrics", 4, 100, calc_pods(4, [400, 95], [ONE] * 4), 3, 24),
    ("TestReplicaCalcMissingMetricsNoChangeEq", 2, 100, calc_pods(2, [1000], [ONE] * 2), 2, 100),
    ("TestReplicaCalcMissingMetricsNoChangeGt", 2, 100, calc_pods(2, [1900], [ONE] * 2), 2, 190),
    ("TestReplicaCalcMissingMetricsNoChangeLt", 2, 100, calc_pods(2, [600], [ONE] * 2), 2, 60),
    (
        "TestReplicaCalcMissingMetricsUnreadyChange",
        3,
        50,
        calc_pods(3, [100, 450], [ONE] * 3, readiness=[F, T, T]),
        3,
        45,
    ),
    (
        "TestReplicaCalcMissingMetricsHotCpuNoChange",
        3,
        50,
        calc_pods(3, [100, 450], [ONE] * 3, starts=[HOT, COOL, COOL]),
        3,
        45,
    ),
    (
        "TestReplicaCalcMissingMetricsUnreadyScaleUp",
        3,
        50,
        calc_pods(3, [100, 2000], [ONE] * 3, readiness=[F, T, T]),
        4,
        200,
    ),
    (
        "TestReplicaCalcMissingMetricsHotCpuScaleUp",
        3,
        50,
        calc_pods(3, [100, 2000], [ONE] * 3, readiness=[F, T, T], starts=[HOT, COOL, COOL]),
        4,
        200,
    ),
    (
        "TestReplicaCalcMissingMetricsUnreadyScaleDown",
        4,
        50,
        calc_pods(4, [100, 100, 100], [ONE] * 4, readiness=[F, T, T, T]),
        3,
        10,
    ),
    (
        "TestReplicaCalcMissingMetricsScaleDownTargetOver100",
        4,
        300,
        calc_pods(4, [200, 100, 100], [ONE, ONE, 2000, 2000], readiness=[F, T, T, T]),
        2,
        6,
    ),
    (
        "TestReplicaCalcDuringRollingUpdateWithMaxSurge",
        2,
        50,
        calc_pods(2, [100, 100], [ONE] * 3, phases=[RUNNING] * 3),
        2,
        10,
    ),
]


@pytest.mark.parametrize(
    ("current", "target", "pods", "replicas", "utilization"),
    [pytest.param(*case[1:], id=case[0]) for case in CALCULATOR_CASES],
)
def test_replica_calculator(
    current: int, target: int, pods: list[Instance], replicas: int, utilization: int
) -> None:
    recommendation = calculator(target).recommend(observe(current, pods))
    assert recommendation is not None
    assert (recommendation.replicas, recommendation.utilization) == (replicas, utilization)


@pytest.mark.parametrize(
    ("current", "target", "pods"),
    [
        # No pod reports a sample: the controller cannot compute a count.
        pytest.param(4, 100, calc_pods(4, [], [ONE] * 3), id="TestReplicaCalcEmptyMetrics"),
        # A pod without a CPU request: utilization is undefined.
        pytest.param(1, 100, calc_pods(1, [200], []), id="TestReplicaCalcEmptyCPURequest"),
    ],
)
def test_replica_calculator_cannot_compute(current: int, target: int, pods: list[Instance]) -> None:
    assert calculator(target).recommend(observe(current, pods)) is None


def _tolerance_alg_case(margin: float) -> tuple[int, list[Instance]]:
    """``TestReplicaCalcComputedToleranceAlgImplementation``'s fixture: 10 pods using
    half of what they request in total (150 m per container), requests spread unevenly
    around 300 m per container, and a target just outside (or inside) the tolerance."""
    per_pod_request = 300
    target = int((abs(1 / (2.0 * (1 - 0.1))) + margin) * 100)
    offsets = [100, -100, 10, -10, 2, -2, 1, -1, 0, 0]
    pods = calc_pods(10, [150] * 10, [per_pod_request + offset for offset in offsets])
    return target, pods


@pytest.mark.parametrize(
    ("margin", "replicas"),
    [
        pytest.param(0.01, 9, id="TestReplicaCalcComputedToleranceAlgImplementation"),
        pytest.param(0.004, 10, id="TestReplicaCalcComputedToleranceAlgImplementation/unscaling"),
    ],
)
def test_utilization_is_a_ratio_of_sums(margin: float, replicas: int) -> None:
    target, pods = _tolerance_alg_case(margin)
    recommendation = calculator(target).recommend(observe(10, pods))
    assert recommendation is not None
    assert (recommendation.replicas, recommendation.utilization) == (replicas, 50)


UNEVEN = [900, 1000, 1100]


@pytest.mark.parametrize(
    ("tolerances", "levels", "replicas", "utilization"),
    [
        pytest.param(
            Tolerances(0.0, 0.0),
            [909, 1010, 1111],
            4,
            101,
            id="TestReplicaCalcConfigurableTolerance/Outside_of_a_0%_tolerance",
        ),
        pytest.param(
            Tolerances(scale_up=2.0, scale_down=0.1),
            [1890, 1910, 1900],
            3,
            190,
            id="TestReplicaCalcConfigurableTolerance/Within_a_200%_scale-up_tolerance",
        ),
        pytest.param(
            Tolerances(scale_up=0.08, scale_down=2.0),
            [1100, 1080, 1090],
            4,
            109,
            id=(
                "TestReplicaCalcConfigurableTolerance/"
                "Outside_8%_scale-up_tolerance_(and_superfuous_scale-down_tolerance)"
            ),
        ),
        pytest.param(
            Tolerances(scale_up=0.1, scale_down=0.36),
            [660, 640, 650],
            3,
            65,
            id="TestReplicaCalcConfigurableTolerance/Within_a_36%_scale-down_tolerance",
        ),
        pytest.param(
            Tolerances(scale_up=0.1, scale_down=0.34),
            [660, 640, 650],
            2,
            65,
            id="TestReplicaCalcConfigurableTolerance/Outside_a_34%_scale-down_tolerance",
        ),
    ],
)
def test_configurable_tolerance(
    tolerances: Tolerances, levels: list[int], replicas: int, utilization: int
) -> None:
    recommendation = calculator(100, tolerances).recommend(observe(3, calc_pods(3, levels, UNEVEN)))
    assert recommendation is not None
    assert (recommendation.replicas, recommendation.utilization) == (replicas, utilization)


def _sorted(groups_pods: list[Instance], window_s: float) -> tuple[int, int, int]:
    groups = ReplicaCalculator(100, Tolerances(), TEST_INITIALIZATION_S, window_s).group_pods(
        observe(len(groups_pods), groups_pods)
    )
    return len(groups.ready), len(groups.unready), len(groups.missing)


@pytest.mark.parametrize(
    ("pods", "window_s", "counts"),
    [
        pytest.param([], TEST_WINDOW_S, (0, 0, 0), id="TestGroupPods/void"),
        pytest.param(
            [Instance(NOW_S, None, cpu_request_vcpu=1.0, cpu_usage_vcpu=0.001)],
            TEST_WINDOW_S,
            (0, 1, 0),
            id="TestGroupPods/unready_a_pod_without_ready_condition_-_CPU",
        ),
        pytest.param(
            [Instance(NOW_S - 60, NOW_S - 30, cpu_request_vcpu=1.0, cpu_usage_vcpu=0.001)],
            30.0,
            (1, 0, 0),
            id="TestGroupPods/count_in_a_ready_pod_with_fresh_metrics_during_initialization_period_-_CPU",
        ),
        pytest.param(
            [Instance(NOW_S - 60, NOW_S - 30, cpu_request_vcpu=1.0, cpu_usage_vcpu=0.001)],
            60.0,
            (0, 1, 0),
            id="TestGroupPods/unready_a_ready_pod_without_fresh_metrics_during_initialization_period_-_CPU",
        ),
        pytest.param(
            [Instance(NOW_S - 600, None, cpu_request_vcpu=1.0, cpu_usage_vcpu=0.001)],
            TEST_WINDOW_S,
            (0, 1, 0),
            id="TestGroupPods/unready_an_unready_pod_during_initialization_period_-_CPU",
        ),
        pytest.param(
            [Instance(NOW_S - 180, NOW_S - 180, cpu_request_vcpu=1.0, cpu_usage_vcpu=0.001)],
            TEST_WINDOW_S,
            (1, 0, 0),
            id="TestGroupPods/count_in_a_ready_pod_without_fresh_metrics_after_initialization_period_-_CPU",
        ),
        pytest.param(
            [Instance(NOW_S, None, cpu_request_vcpu=1.0)],
            TEST_WINDOW_S,
            (0, 1, 0),
            id="TestGroupPods/pending_pods_are_unreadied",
        ),
        pytest.param(
            [Instance(NOW_S, None, terminating=True, cpu_request_vcpu=1.0, cpu_usage_vcpu=0.001)],
            TEST_WINDOW_S,
            (0, 0, 0),
            id="TestGroupPods/ignore_pods_with_deletion_timestamps",
        ),
    ],
)
def test_group_pods(pods: list[Instance], window_s: float, counts: tuple[int, int, int]) -> None:
    assert _sorted(pods, window_s) == counts


# --- horizontal_test.go: the controller, end to end ---------------------------------------


def hpa(
    target: int,
    min_capacity: int,
    max_capacity: int,
    history: HpaHistory | None = None,
    scale_up: HpaScalingRules | None = None,
) -> Hpa:
    params = HpaParams(
        target_utilization=target,
        max_capacity=max_capacity,
        min_capacity=min_capacity,
        cpu_initialization_period_s=TEST_INITIALIZATION_S,
        metric_window_s=TEST_WINDOW_S,
        scale_up=None
        if scale_up is None
        else HpaScaleUp(scale_up.stabilization_window_s, scale_up.policies, scale_up.select_policy),
    )
    return Hpa(params, history=history)


def rules(
    pods: int = 0,
    pods_period_s: float = 0.0,
    percent: int = 0,
    percent_period_s: float = 0.0,
    window_s: float = 0.0,
    select_policy: str = "Max",
) -> HpaScalingRules:
    """Upstream's ``generateScalingRules``: a Pods and/or a Percent policy."""
    policies = []
    if pods:
        policies.append(HpaScalingPolicy("Pods", pods, pods_period_s))
    if percent:
        policies.append(HpaScalingPolicy("Percent", percent, percent_period_s))
    return HpaScalingRules(window_s, tuple(policies), select_policy)


FRESH = None


def seen() -> HpaHistory:
    """Upstream's ``recommendations: []``: the controller has seen the HPA before and
    remembers no recommendation (so none from the first sync holds a scale-down)."""
    return HpaHistory()


# (id, min, max, spec replicas, target, pods, history, scale-up rules, desired)
CONTROLLER_CASES = [
    (
        "TestScaleUp",
        2,
        6,
        3,
        30,
        controller_pods([300, 500, 700], [ONE] * 3),
        FRESH,
        None,
        5,
    ),
    (
        "TestScaleUpUnreadyLessScale",
        2,
        6,
        3,
        30,
        controller_pods([300, 500, 700], [ONE] * 3, readiness=[F, T, T]),
        FRESH,
        None,
        4,
    ),
    (
        "TestScaleUpHotCpuLessScale",
        2,
        6,
        3,
        30,
        controller_pods([300, 500, 700], [ONE] * 3, starts=[HOT, COOL, COOL]),
        FRESH,
        None,
        4,
    ),
    (
        "TestScaleUpUnreadyNoScale",
        2,
        6,
        3,
        30,
        controller_pods([400, 500, 700], [ONE] * 3, readiness=[T, F, F]),
        FRESH,
        None,
        3,
    ),
    (
        "TestScaleUpHotCpuNoScale",
        2,
        6,
        3,
        30,
        controller_pods([400, 500, 700], [ONE] * 3, readiness=[T, F, F], starts=[COOL, HOT, HOT]),
        FRESH,
        None,
        3,
    ),
    (
        "TestScaleUpIgnoresFailedPods",
        2,
        6,
        2,
        30,
        controller_pods(
            [500, 700], [ONE] * 4, readiness=[T, T, F, F], phases=[RUNNING] * 2 + [FAILED] * 2
        ),
        FRESH,
        None,
        4,
    ),
    (
        "TestScaleUpIgnoresDeletionPods",
        2,
        6,
        2,
        30,
        controller_pods([500, 700], [ONE] * 4, readiness=[T, T, F, F], deleting=[F, F, T, T]),
        FRESH,
        None,
        4,
    ),
    (
        "TestScaleDown",
        2,
        6,
        5,
        50,
        controller_pods([100, 300, 500, 250, 250], [ONE] * 5),
        seen(),
        None,
        3,
    ),
    (
        "TestScaleDownWithScalingRules",
        2,
        6,
        5,
        50,
        controller_pods([100, 300, 500, 250, 250], [ONE] * 5),
        seen(),
        rules(percent=100, percent_period_s=15, window_s=30),
        3,
    ),
    (
        "TestScaleDownStabilizeInitialSize",
        2,
        6,
        5,
        50,
        controller_pods([100, 300, 500, 250, 250], [ONE] * 5),
        FRESH,
        None,
        5,
    ),
    (
        "TestScaleDownIncludeUnreadyPods",
        2,
        6,
        5,
        50,
        controller_pods([100, 300, 500, 250, 250], [ONE] * 5, readiness=[T, T, T, F, F]),
        seen(),
        None,
        2,
    ),
    (
        "TestScaleDownIgnoreHotCpuPods",
        2,
        6,
        5,
        50,
        controller_pods([100, 300, 500, 250, 250], [ONE] * 5, starts=[COOL] * 3 + [HOT] * 2),
        seen(),
        None,
        2,
    ),
    (
        "TestScaleDownIgnoresFailedPods",
        2,
        6,
        5,
        50,
        controller_pods(
            [100, 300, 500, 250, 250],
            [ONE] * 7,
            readiness=[T] * 5 + [F] * 2,
            phases=[RUNNING] * 5 + [FAILED] * 2,
        ),
        seen(),
        None,
        3,
    ),
    (
        "TestScaleDownIgnoresDeletionPods",
        2,
        6,
        5,
        50,
        controller_pods(
            [100, 300, 500, 250, 250],
            [ONE] * 7,
            readiness=[T] * 5 + [F] * 2,
            deleting=[F] * 5 + [T] * 2,
        ),
        seen(),
        None,
        3,
    ),
    (
        "TestTolerance",
        1,
        5,
        3,
        100,
        controller_pods([1010, 1030, 1020], UNEVEN),
        FRESH,
        None,
        3,
    ),
    ("TestMinReplicas", 2, 5, 3, 90, controller_pods([10, 95, 10], UNEVEN), seen(), None, 2),
    (
        "TestMinReplicasDesiredZero",
        2,
        5,
        3,
        90,
        controller_pods([0, 0, 0], UNEVEN),
        seen(),
        None,
        2,
    ),
    ("TestZeroReplicas", 3, 5, 0, 90, [], FRESH, None, 0),
    ("TestTooFewReplicas", 3, 5, 2, 90, [], FRESH, None, 3),
    ("TestTooManyReplicas", 3, 5, 10, 90, [], FRESH, None, 5),
    ("TestMaxReplicas", 2, 5, 3, 90, controller_pods([8000, 9500, 1000], UNEVEN), FRESH, None, 5),
    ("TestMissingMetrics", 2, 6, 4, 100, controller_pods([400, 95], [ONE] * 4), seen(), None, 3),
    ("TestEmptyMetrics", 2, 6, 4, 100, controller_pods([], [ONE] * 4), FRESH, None, 4),
    ("TestEmptyCPURequest", 1, 5, 1, 100, controller_pods([200], []), FRESH, None, 1),
    ("TestEventCreated", 1, 5, 1, 50, controller_pods([200], [200]), FRESH, None, 2),
    ("TestEventNotCreated", 1, 5, 2, 50, controller_pods([200, 200], [400, 400]), FRESH, None, 2),
    ("TestMissingReports", 1, 5, 4, 50, controller_pods([200], [200]), seen(), None, 2),
    (
        "TestUpscaleCap",
        1,
        100,
        3,
        10,
        controller_pods([100, 200, 300], [100] * 3),
        FRESH,
        rules(percent=700, percent_period_s=60),
        24,
    ),
    (
        "TestUpscaleCapGreaterThanMaxReplicas",
        1,
        20,
        3,
        10,
        controller_pods([100, 200, 300], [100] * 3),
        FRESH,
        rules(percent=700, percent_period_s=60),
        20,
    ),
    (
        "TestMoreReplicasThanSpecNoScale",
        1,
        8,
        4,
        50,
        controller_pods([500] * 5, [ONE] * 5),
        FRESH,
        None,
        4,
    ),
    (
        "TestStabilizeDownscale",
        1,
        5,
        4,
        100,
        controller_pods([50, 50, 50], [100] * 3),
        HpaHistory([TimedRecommendation(NOW_S - 600, 10), TimedRecommendation(NOW_S - 60, 4)]),
        None,
        4,
    ),
    ("TestScaleUpRCImmediately", 2, 6, 1, 30, controller_pods([0] * 4, [ONE] * 4), FRESH, None, 2),
    (
        "TestScaleDownRCImmediately",
        2,
        5,
        6,
        50,
        controller_pods([8000, 9500, 1000], UNEVEN),
        FRESH,
        None,
        5,
    ),
]


@pytest.mark.parametrize(
    ("min_capacity", "max_capacity", "spec", "target", "pods", "history", "scale_up", "desired"),
    [pytest.param(*case[1:], id=case[0]) for case in CONTROLLER_CASES],
)
def test_controller(
    min_capacity: int,
    max_capacity: int,
    spec: int,
    target: int,
    pods: list[Instance],
    history: HpaHistory | None,
    scale_up: HpaScalingRules | None,
    desired: int,
) -> None:
    policy = hpa(target, min_capacity, max_capacity, history, scale_up)
    assert policy.decide(observe(spec, pods)).desired == desired


def _tolerance_alg_pods() -> list[Instance]:
    """``TestComputedToleranceAlgImplementation``'s pods: 150 m each, requests around
    300 m (each split over two containers in whole milli-CPUs)."""
    offsets = [100, -100, 10, -10, 2, -2, 1, -1, 0, 0]
    return controller_pods([150] * 10, [300 + offset for offset in offsets])


@pytest.mark.parametrize(
    ("margin", "desired"),
    [
        pytest.param(0.01, 9, id="TestComputedToleranceAlgImplementation"),
        pytest.param(0.004, 10, id="TestComputedToleranceAlgImplementation/tc2"),
    ],
)
def test_controller_utilization_is_a_ratio_of_sums(margin: float, desired: int) -> None:
    target = int((abs(1 / (2.0 * (1 - 0.1))) + margin) * 100)
    # Upstream's minReplicas is 0 here; this model's HPA starts at 1, which 9 and 10 clear.
    policy = hpa(target, 1, 1000, seen())
    assert policy.decide(observe(10, _tolerance_alg_pods())).desired == desired


# --- horizontal_test.go: rate limits, stabilization, scale events --------------------------


@pytest.mark.parametrize(
    ("current", "wanted", "min_capacity", "max_capacity", "converted"),
    [
        pytest.param(
            5,
            7,
            3,
            8,
            7,
            id="TestConvertDesiredReplicasWithRules/prenormalized_desired_replicas_within_range",
        ),
        pytest.param(
            3,
            1,
            2,
            8,
            2,
            id="TestConvertDesiredReplicasWithRules/prenormalized_desired_replicas_<_minReplicas",
        ),
        pytest.param(
            1,
            0,
            0,
            10,
            0,
            id="TestConvertDesiredReplicasWithRules/prenormalized_desired_zeroed_replicas_within_range",
        ),
        pytest.param(
            20,
            1000,
            1,
            10,
            10,
            id=(
                "TestConvertDesiredReplicasWithRules/"
                "maxReplicas_is_the_limit_because_maxReplicas_<_scaleUpLimit"
            ),
        ),
        # Upstream expects calculateScaleUpLimit(3): max(2 × 3, 4) outside its tests,
        # which raise the factor to 8.
        pytest.param(
            3,
            1000,
            1,
            2000,
            6,
            id=(
                "TestConvertDesiredReplicasWithRules/"
                "scaleUpLimit_is_the_limit_because_scaleUpLimit_<_maxReplicas"
            ),
        ),
    ],
)
def test_limits_without_behavior(
    current: int, wanted: int, min_capacity: int, max_capacity: int, converted: int
) -> None:
    assert limit_without_behavior(current, wanted, (min_capacity, max_capacity)) == converted


def test_scale_up_limit_min_policy() -> None:
    """TestCalculateScaleUpLimitWithScalingRules: Min of +2 pods and +50 % from 1 is 2."""
    up = rules(pods=2, pods_period_s=60, percent=50, percent_period_s=60, select_policy="Min")
    assert scale_up_limit(HpaHistory(), NOW_S, 1, up) == 2


def test_scale_down_limit_min_policy() -> None:
    """TestCalculateScaleDownLimitWithBehaviors: Min of −2 pods and −50 % from 5 is 3."""
    down = rules(pods=2, pods_period_s=60, percent=50, percent_period_s=60, select_policy="Min")
    assert scale_down_limit(HpaHistory(), NOW_S, 5, down) == 3


def uniform_events(changes: Sequence[int], period_s: int) -> list[ScaleEvent]:
    """Upstream's ``generateEventsUniformDistribution``: events in the middles of equal
    slices of the last `period_s` seconds, oldest first, whole seconds."""
    slice_s = period_s / len(changes)
    return [
        ScaleEvent(NOW_S - int(period_s - slice_s * (index + 1) + slice_s / 2), change)
        for index, change in enumerate(changes)
    ]


# (id, up events, down events, min, max, up rules, down rules, current, wanted, expected)
RATE_CASES = [
    ("prenormalized_desired_replicas_within_range", [], [], 3, 8, None, None, 5, 7, 7),
    ("prenormalized_desired_replicas_<_minReplicas", [], [], 2, 8, None, None, 3, 1, 2),
    (
        "prenormalized_desired_replicas_within_range_when_minReplicas_is_0",
        [],
        [],
        0,
        10,
        None,
        None,
        1,
        0,
        0,
    ),
    (
        "maxReplicas_is_the_limit_because_maxReplicas_<_scaleUpLimit",
        [],
        [],
        1,
        10,
        None,
        None,
        20,
        1000,
        10,
    ),
    (
        "desired_replica_count_is_more_than_the_maximum_replica_count",
        [],
        [],
        100,
        150,
        None,
        None,
        100,
        1000,
        150,
    ),
    (
        "scaleUpLimit_is_the_limit_because_scaleUpLimit_<_maxReplicas_with_user_policies",
        [],
        [],
        1,
        2000,
        rules(percent=1, percent_period_s=60),
        None,
        3,
        1000,
        4,
    ),
    (
        "scaleDownLimit_is_the_limit_because_scaleDownLimit_>_minReplicas_with_user_defined_policies",
        [],
        [],
        3,
        2000,
        None,
        rules(pods=20, pods_period_s=60),
        1000,
        3,
        980,
    ),
    ("scaleUp_with_default_behavior", [], [], 1, 1000, None, None, 10, 50, 20),
    (
        "scaleUp_with_pods_policy_larger_than_percent_policy",
        [],
        [],
        1,
        1000,
        rules(100, 60, 100, 60),
        None,
        10,
        500,
        110,
    ),
    (
        "scaleUp_with_percent_policy_larger_than_pods_policy",
        [],
        [],
        1,
        1000,
        rules(2, 60, 100, 60),
        None,
        10,
        500,
        20,
    ),
    (
        "scaleUp_with_spec_MaxReplicas_limitation_with_large_pod_policy",
        [],
        [],
        1,
        1000,
        rules(100, 60),
        None,
        10,
        50,
        50,
    ),
    (
        "scaleUp_with_spec_MaxReplicas_limitation_with_large_percent_policy",
        [],
        [],
        1,
        1000,
        rules(10000, 60),
        None,
        10,
        50,
        50,
    ),
    ("scaleUp_with_pod_policy_limitation", [], [], 1, 1000, rules(30, 60), None, 10, 50, 40),
    (
        "scaleUp_with_percent_policy_limitation",
        [],
        [],
        1,
        1000,
        rules(percent=200, percent_period_s=60),
        None,
        10,
        50,
        30,
    ),
    (
        "scaleDown_with_percent_policy_larger_than_pod_policy",
        [],
        [],
        1,
        1000,
        None,
        rules(20, 60, 1, 60, 300),
        100,
        2,
        80,
    ),
    (
        "scaleDown_with_pod_policy_larger_than_percent_policy",
        [],
        [],
        1,
        1000,
        None,
        rules(2, 60, 1, 60, 300),
        100,
        2,
        98,
    ),
    (
        "scaleDown_with_spec_MinReplicas=nil_limitation_with_large_pod_policy",
        [],
        [],
        1,
        1000,
        None,
        rules(100, 60, window_s=300),
        10,
        0,
        1,
    ),
    (
        "scaleDown_with_spec_MinReplicas_limitation_with_large_pod_policy",
        [],
        [],
        1,
        1000,
        None,
        rules(100, 60, window_s=300),
        10,
        0,
        1,
    ),
    (
        "scaleDown_with_spec_MinReplicas_limitation_with_large_percent_policy",
        [],
        [],
        5,
        1000,
        None,
        rules(percent=100, percent_period_s=60, window_s=300),
        10,
        2,
        5,
    ),
    (
        "scaleDown_with_pod_policy_limitation",
        [],
        [],
        1,
        1000,
        None,
        rules(5, 60, window_s=300),
        10,
        2,
        5,
    ),
    (
        "scaleDown_with_percent_policy_limitation",
        [],
        [],
        1,
        1000,
        None,
        rules(percent=50, percent_period_s=60, window_s=300),
        10,
        5,
        5,
    ),
    (
        "scaleUp_with_spec_MaxReplicas_limitation_with_large_pod_policy_and_events",
        uniform_events([1, 5, 9], 120),
        [],
        1,
        200,
        rules(300, 60),
        None,
        100,
        500,
        200,
    ),
    (
        "scaleUp_with_spec_MaxReplicas_limitation_with_large_percent_policy_and_events",
        uniform_events([1, 5, 9], 120),
        [],
        1,
        200,
        rules(percent=10000, percent_period_s=60),
        None,
        100,
        500,
        200,
    ),
    (
        "scaleUp_with_currentReplicas_limitation_with_rate.PeriodSeconds_with_a_lot_of_recent_scale_up_events",
        uniform_events([1, 5, 9], 120),
        [],
        1,
        1000,
        rules(5, 120),
        None,
        100,
        500,
        100,
    ),
    (
        "scaleUp_with_pod_policy_and_previous_scale_up_events",
        uniform_events([1, 5, 9], 120),
        [],
        1,
        1000,
        rules(150, 120),
        None,
        100,
        500,
        235,
    ),
    (
        "scaleUp_with_percent_policy_and_previous_scale_up_events",
        uniform_events([1, 5, 9], 120),
        [],
        1,
        1000,
        rules(percent=200, percent_period_s=120),
        None,
        100,
        500,
        255,
    ),
    (
        "scaleUp_with_percent_policy_and_previous_scale_up_and_down_events",
        uniform_events([4], 120),
        uniform_events([2], 120),
        1,
        1000,
        rules(percent=300, percent_period_s=300),
        None,
        6,
        24,
        16,
    ),
    (
        "scaleDown_with_default_policy_and_previous_events",
        [],
        uniform_events([1, 5, 9], 120),
        1,
        1000,
        None,
        None,
        10,
        5,
        5,
    ),
    (
        "scaleDown_with_spec_MinReplicas=nil_limitation_with_large_pod_policy_and_previous_events",
        [],
        uniform_events([1, 5, 9], 120),
        1,
        1000,
        None,
        rules(115, 120, window_s=300),
        100,
        0,
        1,
    ),
    (
        "scaleDown_with_spec_MinReplicas_limitation_with_large_pod_policy_and_previous_events",
        [],
        uniform_events([1, 5, 9], 120),
        5,
        1000,
        None,
        rules(130, 120, window_s=300),
        100,
        0,
        5,
    ),
    (
        "scaleDown_with_spec_MinReplicas_limitation_with_large_percent_policy_and_previous_events",
        [],
        uniform_events([1, 5, 9], 120),
        5,
        1000,
        None,
        rules(percent=100, percent_period_s=120, window_s=300),
        100,
        2,
        5,
    ),
    (
        "scaleDown_with_pod_policy_limitation_and_previous_events",
        [],
        uniform_events([1, 5, 9], 120),
        1,
        1000,
        None,
        rules(5, 120, window_s=300),
        100,
        2,
        100,
    ),
    (
        "scaleDown_with_percent_policy_limitation_and_previous_events",
        [],
        uniform_events([2, 4, 6], 120),
        1,
        1000,
        None,
        rules(percent=50, percent_period_s=120, window_s=300),
        100,
        0,
        56,
    ),
    (
        "scaleDown_with_percent_policy_and_previous_scale_up_and_down_events",
        uniform_events([2], 120),
        uniform_events([4], 120),
        1,
        1000,
        None,
        rules(percent=50, percent_period_s=180),
        10,
        1,
        6,
    ),
    (
        "scaleDown_with_previous_events_preventing_further_scale_down",
        [],
        uniform_events([10, 10, 10], 120),
        1,
        1000,
        None,
        rules(percent=10, percent_period_s=120, window_s=300),
        100,
        0,
        100,
    ),
    (
        "scaleDown_with_with_previous_events_still_allowing_more_scale_down",
        [],
        uniform_events([10, 10, 10], 120),
        1,
        1000,
        None,
        rules(percent=1000, percent_period_s=120, window_s=300),
        10,
        5,
        5,
    ),
    (
        "check_'outdated'_flag_for_events_for_one_behavior_for_up",
        uniform_events([8, 12, 9, 11], 120),
        [],
        1,
        1000,
        rules(1000, 60),
        None,
        100,
        200,
        200,
    ),
    (
        "check_that_events_were_not_marked_'outdated'_for_two_different_policies_in_the_behavior_for_up",
        uniform_events([8, 12, 9, 11], 120),
        [],
        1,
        1000,
        rules(1000, 120, 100, 60),
        None,
        100,
        200,
        200,
    ),
    (
        "check_that_events_were_marked_'outdated'_for_two_different_policies_in_the_behavior_for_up",
        uniform_events([8, 12, 9, 11], 120),
        [],
        1,
        1000,
        rules(1000, 30, 100, 60),
        None,
        100,
        200,
        200,
    ),
    (
        "check_'outdated'_flag_for_events_for_one_behavior_for_down",
        [],
        uniform_events([8, 12, 9, 11], 120),
        1,
        1000,
        None,
        rules(1000, 60, window_s=300),
        100,
        5,
        5,
    ),
    (
        "check_that_events_were_not_marked_'outdated'_for_two_different_policies_in_the_behavior_for_down",
        [],
        uniform_events([8, 12, 9, 11], 120),
        1,
        1000,
        None,
        rules(1000, 120, 100, 60, 300),
        100,
        5,
        5,
    ),
    (
        "check_that_events_were_marked_'outdated'_for_two_different_policies_in_the_behavior_for_down",
        [],
        uniform_events([8, 12, 9, 11], 120),
        1,
        1000,
        None,
        rules(1000, 30, 100, 60, 300),
        100,
        5,
        5,
    ),
]


@pytest.mark.parametrize(
    (
        "up_events",
        "down_events",
        "min_capacity",
        "max_capacity",
        "up",
        "down",
        "current",
        "wanted",
        "expected",
    ),
    [pytest.param(*case[1:], id=f"TestScalingWithRules/{case[0]}") for case in RATE_CASES],
)
def test_rate_limits(
    up_events: list[ScaleEvent],
    down_events: list[ScaleEvent],
    min_capacity: int,
    max_capacity: int,
    up: HpaScalingRules | None,
    down: HpaScalingRules | None,
    current: int,
    wanted: int,
    expected: int,
) -> None:
    behavior = HpaBehavior(up or DEFAULT_SCALE_UP, down or default_scale_down(300.0))
    history = HpaHistory([], list(up_events), list(down_events))
    bounds = (min_capacity, max_capacity)
    assert limit_with_behavior(history, NOW_S, current, wanted, bounds, behavior) == expected


def ago(seconds: float, replicas: int) -> TimedRecommendation:
    return TimedRecommendation(NOW_S - seconds, replicas)


@pytest.mark.parametrize(
    ("recommendations", "wanted", "stabilized", "kept"),
    [
        pytest.param([], 5, 5, 1, id="TestNormalizeDesiredReplicas/empty_log"),
        pytest.param(
            [ago(120, 4), ago(60, 5)], 3, 5, 3, id="TestNormalizeDesiredReplicas/stabilize"
        ),
        pytest.param(
            [ago(120, 1), ago(60, 2)], 3, 3, 3, id="TestNormalizeDesiredReplicas/no_stabilize"
        ),
        pytest.param(
            [ago(600, 10), ago(540, 9)],
            3,
            3,
            2,
            id="TestNormalizeDesiredReplicas/no_stabilize_-_old_recommendations",
        ),
        pytest.param(
            [ago(600, 10), ago(60, 4), ago(120, 5), ago(540, 9)],
            3,
            5,
            4,
            id="TestNormalizeDesiredReplicas/stabilize_-_old_recommendations",
        ),
    ],
)
def test_stabilization_without_behavior(
    recommendations: list[TimedRecommendation], wanted: int, stabilized: int, kept: int
) -> None:
    history = HpaHistory(list(recommendations))
    assert stabilize_without_behavior(history, NOW_S, wanted, 300.0) == stabilized
    assert len(history.recommendations) == kept


def windows(up_s: float, down_s: float) -> HpaBehavior:
    return HpaBehavior(HpaScalingRules(up_s, DEFAULT_SCALE_UP.policies), default_scale_down(down_s))


@pytest.mark.parametrize(
    ("recommendations", "current", "wanted", "behavior", "stabilized", "stored"),
    [
        pytest.param(
            [],
            100,
            5,
            windows(0, 0),
            5,
            [5],
            id="TestNormalizeDesiredReplicasWithBehavior/empty_recommendations_for_scaling_down",
        ),
        pytest.param(
            [ago(120, 4), ago(60, 5)],
            100,
            3,
            windows(0, 180),
            5,
            [4, 5, 3],
            id="TestNormalizeDesiredReplicasWithBehavior/simple_scale_down_stabilization",
        ),
        pytest.param(
            [ago(120, 4), ago(60, 5)],
            1,
            7,
            windows(300, 0),
            4,
            [4, 5, 7],
            id="TestNormalizeDesiredReplicasWithBehavior/simple_scale_up_stabilization",
        ),
        pytest.param(
            [ago(120, 1), ago(60, 2)],
            100,
            3,
            windows(300, 0),
            3,
            [1, 2, 3],
            id="TestNormalizeDesiredReplicasWithBehavior/no_scale_down_stabilization",
        ),
        pytest.param(
            [ago(120, 4), ago(60, 5)],
            1,
            3,
            windows(0, 300),
            3,
            [4, 5, 3],
            id="TestNormalizeDesiredReplicasWithBehavior/no_scale_up_stabilization",
        ),
        pytest.param(
            [ago(600, 10), ago(540, 9)],
            100,
            3,
            windows(0, 0),
            3,
            [10, 3],
            id=(
                "TestNormalizeDesiredReplicasWithBehavior/"
                "no_scale_down_stabilization,_reuse_recommendation_element"
            ),
        ),
        pytest.param(
            [ago(600, 10), ago(540, 9)],
            1,
            100,
            windows(0, 0),
            100,
            [10, 100],
            id=(
                "TestNormalizeDesiredReplicasWithBehavior/"
                "no_scale_up_stabilization,_reuse_recommendation_element"
            ),
        ),
        pytest.param(
            [ago(600, 10), ago(60, 4), ago(120, 5), ago(540, 9)],
            100,
            3,
            windows(0, 180),
            5,
            [10, 4, 5, 3],
            id=(
                "TestNormalizeDesiredReplicasWithBehavior/"
                "scale_down_stabilization,_reuse_one_of_obsolete_recommendation_element"
            ),
        ),
        pytest.param(
            [ago(6000, 10), ago(60, 6), ago(120, 5), ago(180, 9)],
            1,
            100,
            windows(300, 0),
            5,
            [100, 6, 5, 9],
            id=(
                "TestNormalizeDesiredReplicasWithBehavior/"
                "scale_up_stabilization,_reuse_one_of_obsolete_recommendation_element"
            ),
        ),
        pytest.param(
            [ago(6000, 2), ago(180, 3)],
            2,
            1,
            windows(300, 300),
            2,
            None,
            id=(
                "TestNormalizeDesiredReplicasWithBehavior/"
                "scale_up_and_down_stabilization,_do_not_scale_up_when_prenormalized_rec_goes_down"
            ),
        ),
        pytest.param(
            [ago(6000, 2), ago(180, 1)],
            2,
            3,
            windows(300, 300),
            2,
            None,
            id=(
                "TestNormalizeDesiredReplicasWithBehavior/"
                "scale_up_and_down_stabilization,_do_not_scale_down_when_prenormalized_rec_goes_up"
            ),
        ),
    ],
)
def test_stabilization_with_behavior(
    recommendations: list[TimedRecommendation],
    current: int,
    wanted: int,
    behavior: HpaBehavior,
    stabilized: int,
    stored: list[int] | None,
) -> None:
    history = HpaHistory(list(recommendations))
    assert stabilize_with_behavior(history, NOW_S, current, wanted, behavior) == stabilized
    if stored is not None:
        assert [past.replicas for past in history.recommendations] == stored


def event(seconds_ago: float, change: int) -> ScaleEvent:
    return ScaleEvent(NOW_S - seconds_ago, change)


# (id, previous events, policies' longest period or None without a behaviour,
#  replicas changed within 60 s before, stored events as (change, outdated))
STORE_CASES = [
    ("empty_entries_with_two-policy-behavior", [], 60.0, 0, [(5, False)]),
    ("one_outdated_entry_to_be_replaced_with_behavior", [event(61, 7)], 60.0, 0, [(5, False)]),
    (
        "one_actual_entry_to_be_not_touched_with_behavior",
        [event(58, 7)],
        60.0,
        7,
        [(7, False), (5, False)],
    ),
    (
        "two_entries,_one_of_them_to_be_replaced",
        [event(61, 7), event(59, 6)],
        60.0,
        6,
        [(5, False), (6, False)],
    ),
    (
        "replace_one_entry,_use_policies_with_different_periods",
        [event(29, 8), event(59, 6), event(61, 7), event(61, 9)],
        60.0,
        14,
        [(8, False), (6, False), (7, True), (5, False)],
    ),
    (
        "two_entries,_both_actual",
        [event(58, 7), event(59, 6)],
        120.0,
        13,
        [(7, False), (6, False), (5, False)],
    ),
]


@pytest.mark.parametrize(
    ("previous", "longest_s", "changed", "stored"),
    [pytest.param(*case[1:], id=f"TestStoreScaleEvents/{case[0]}") for case in STORE_CASES],
)
def test_store_scale_events(
    previous: list[ScaleEvent],
    longest_s: float,
    changed: int,
    stored: list[tuple[int, bool]],
) -> None:
    events = [ScaleEvent(e.time_s, e.change, e.outdated) for e in previous]
    assert replicas_changed(events, NOW_S, 60.0) == changed
    store_scale_event(events, NOW_S, 5, longest_s)
    assert [(e.change, e.outdated) for e in events] == stored


@pytest.mark.parametrize(
    ("previous", "changed"),
    [
        pytest.param([], 0, id="TestStoreScaleEvents/empty_entries_with_default_behavior"),
        pytest.param(
            [event(61, 7)],
            0,
            id="TestStoreScaleEvents/one_outdated_entry_to_be_kept_untouched_without_behavior",
        ),
    ],
)
def test_an_hpa_without_behavior_stores_no_scale_event(
    previous: list[ScaleEvent], changed: int
) -> None:
    history = HpaHistory([], list(previous), list(previous))
    assert replicas_changed(history.scale_up_events, NOW_S, 60.0) == changed
    policy = hpa(50, 1, 20, history)
    scaled = policy.decide(observe(10, controller_pods([ONE] * 10, [ONE] * 10)))
    assert scaled.desired == 20
    assert history.scale_up_events == previous
