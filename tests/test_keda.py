"""KEDA's scale to zero (``autoscaler=keda``) and the interceptor that holds requests.

Timings follow kedacore/keda's ``pkg/scaling/executor/scale_scaledobjects.go`` (and its
``scale_scaledobjects_test.go`` cases: active at zero scales to max(min, 1); inactive
with min 0 scales to zero only after the cooldown; an idle count takes the place of the
minimum) on a deterministic trace; the HPA part is checked against the ``hpa`` policy
decision by decision.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
import sim.cli.main as cli
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.core.errors import ConfigError
from sim.core.records import EventKind, ReplicaState
from sim.core.schema import read_kind
from sim.model.service.interceptor import Interceptor
from sim.policies.autoscaling import AUTOSCALING
from sim.policies.autoscaling.hpa import Hpa, HpaParams
from sim.policies.autoscaling.keda import Keda
from sim.policies.autoscaling.protocol import Instance, Observation
from sim.scenario import Scenario


def keda(**settings: Any) -> Keda:
    params = read_kind(AUTOSCALING, {"policy": "keda", "target_utilization": 60} | settings, "a")
    policy = AUTOSCALING.kind_of(params).build(params)
    assert isinstance(policy, Keda)
    return policy


def seen(
    now_s: float, desired: int, rate: float, instances: tuple[Instance, ...] = ()
) -> Observation:
    return Observation(now_s, desired, instances, (), {}, rate)


# --- The policy alone --------------------------------------------------------------------


def test_the_loop_ticks_at_the_gcd_of_poll_and_sync() -> None:
    assert keda().interval_s == 15.0
    assert keda(polling_interval="20s").interval_s == 5.0
    assert keda(polling_interval="1s").interval_s == 1.0


def test_activation_at_a_poll_then_zero_a_cooldown_after_the_last_active_poll() -> None:
    policy = keda()
    decisions = []
    desired = 0
    rates = {30.0: 0.0, 60.0: 0.05, 90.0: 0.05, 120.0: 0.0}
    for now_s in [15.0 * k for k in range(1, 31)]:
        decision = policy.decide(seen(now_s, desired, rates.get(now_s, 0.0)))
        if decision.desired != desired:
            decisions.append((now_s, decision.desired))
            desired = decision.desired
    # Active at the poll at 60 s: one replica; last active poll 90 s; zero at 390 s.
    assert decisions == [(60.0, 1), (390.0, 0)]
    assert policy.last_active_s == 90.0


def test_a_trigger_at_the_threshold_is_inactive() -> None:
    policy = keda(activation_threshold=0.5)
    assert policy.decide(seen(30.0, 0, 0.5)).desired == 0
    assert policy.decide(seen(60.0, 0, 0.51)).desired == 1


def test_never_active_scales_in_after_the_initial_cooldown() -> None:
    policy = keda(initial_cooldown_period="1min")
    assert policy.decide(seen(30.0, 2, 0.0)).desired == 2
    decision = policy.decide(seen(60.0, 2, 0.0))
    assert decision.desired == 0
    assert decision.reason == "inactive since creation, initial_cooldown_period 60 s passed"


def test_min_one_never_reaches_zero_and_min_above_one_activates_to_min() -> None:
    warm = keda(min_capacity=1)
    assert warm.decide(seen(3600.0, 1, 0.0)).desired == 1
    assert keda(min_capacity=3).decide(seen(30.0, 0, 2.0)).desired == 3


def test_an_idle_count_takes_the_place_of_the_minimum() -> None:
    policy = keda(min_capacity=3, idle_capacity=0, cooldown_period="0s")
    # Inactive above the idle count: back to it at once (no cooldown).
    assert policy.decide(seen(30.0, 3, 0.0)).desired == 0
    # Active below the minimum: the minimum.
    assert policy.decide(seen(60.0, 0, 1.0)).desired == 3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 8),
            st.lists(st.floats(0.0, 2.0), min_size=0, max_size=8),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_above_zero_while_active_it_decides_as_the_hpa(
    steps: list[tuple[int, list[float]]],
) -> None:
    """Active at every poll, KEDA leaves every decision to its HPA: the same as the
    ``hpa`` policy with KEDA's range (minReplicas max(min, 1)) on the same observations."""
    policy = keda(max_capacity=8)
    hpa = Hpa(HpaParams(target_utilization=60, max_capacity=8, min_capacity=1))
    for index, (desired, usages) in enumerate(steps):
        instances = tuple(Instance(0.0, 0.0, False, 1.0, usage) for usage in usages)
        observation = seen(15.0 * (index + 1), desired, 1.0, instances)
        assert policy.decide(observation) == hpa.decide(observation)


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"min_capacity": 5, "max_capacity": 4}, "a.max_capacity"),
        ({"min_capacity": 0, "idle_capacity": 1}, "a.idle_capacity"),
        ({"min_capacity": 2, "idle_capacity": 2}, "a.idle_capacity"),
        ({"polling_interval": "0s"}, "a.polling_interval"),
        ({"cooldown_period": "-5s"}, "a.cooldown_period"),
        ({"activation_threshold": -1}, "a.activation_threshold"),
        ({"hold_timeout": "0s"}, "a.hold_timeout"),
        ({"hold_capacity": 0}, "a.hold_capacity"),
        ({"target_utilization": 0}, "a.target_utilization"),
    ],
)
def test_bad_settings_name_their_key(settings: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        keda(**settings)
    assert error.value.key == key


def test_a_bad_value_on_the_command_line_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys, "argv", ["sim", "autoscaler=keda", "autoscaler.idle_capacity=3", "progress=false"]
    )
    with pytest.raises(SystemExit) as stop:
        cli.main()
    captured = capsys.readouterr()
    assert stop.value.code == 2
    lines = captured.err.strip().splitlines()
    assert lines == [
        "config error: autoscaler.idle_capacity: 3: an integer from 0 to below "
        "max(min_capacity, 1) (1)"
    ]
    assert not list(tmp_path.iterdir()) or not any(tmp_path.rglob("summary.json"))


def test_the_fluid_mode_cannot_hold_requests() -> None:
    with pytest.raises(ConfigError) as error:
        world(
            "workload=bursty",
            "workload.traffic.mode=fluid",
            "workload.service.platform=container",
            "autoscaler=keda",
            "horizon=5min",
        )
    assert error.value.key == "workload.traffic.mode"


# --- The interceptor alone ---------------------------------------------------------------


def test_the_interceptor_counts_a_sliding_window_of_whole_seconds() -> None:
    interceptor = Interceptor(timeout_s=20.0, capacity=10, window_s=60.0)
    for arrival_s in (100.0, 100.5, 101.2, 159.9):
        interceptor.count(arrival_s)
    assert interceptor.recent(159.9) == 4
    # The window ending at 160.x covers the seconds 101..160.
    assert interceptor.recent(160.0) == 2
    assert interceptor.recent(220.0) == 0


def test_the_interceptor_drops_a_request_only_after_its_deadline() -> None:
    interceptor = Interceptor(timeout_s=20.0, capacity=2, window_s=60.0)
    assert interceptor.hold(10.0, 0.1, 1.0)
    assert interceptor.hold(15.0, 0.1, 1.0)
    assert not interceptor.hold(16.0, 0.1, 1.0)
    assert interceptor.expired(30.0) == []
    assert [held.arrival_s for held in interceptor.expired(30.5)] == [10.0]
    assert [held.arrival_s for held in interceptor.release()] == [15.0]


# --- Whole runs on a deterministic trace -------------------------------------------------


CONSTANT_CPU = (
    "~workload.traffic.request.cpu",
    "+workload.traffic.request.cpu={dist: constant, value: 50ms}",
)


def world(*overrides: str) -> Scenario:
    return Scenario(scenario_params(to_plain(sim.load_config(list(overrides)))))


def sparse(tmp_path: Path, arrivals_s: list[float], *overrides: str) -> Any:
    trace = tmp_path / "trace.csv"
    trace.write_text("timestamp_s\n" + "".join(f"{t}\n" for t in arrivals_s))
    return world(
        "workload=trace",
        f"workload.traffic.arrivals.path={trace}",
        "workload.service.initial_replicas=0",
        "workload.service.platform=container",
        *CONSTANT_CPU,
        "autoscaler=keda",
        *overrides,
    ).run()


def in_service_s(result: Any) -> list[float]:
    return [
        event.time_s
        for event in result.events
        if event.kind == EventKind.REPLICA_STATE
        and event.detail("state") == ReplicaState.IN_SERVICE
    ]


def ready_s(result: Any) -> list[float]:
    return [
        event.time_s
        for event in result.events
        if event.kind == EventKind.REPLICA_STATE and event.detail("state") == ReplicaState.READY
    ]


def scaling(result: Any) -> list[tuple[float, int]]:
    return [
        (event.time_s, int(event.detail("desired")))
        for event in result.events
        if event.kind == EventKind.SCALING_ACTION
    ]


def test_zero_to_one_to_zero_on_a_sparse_trace(tmp_path: Path) -> None:
    """First request at 100 s; the poll at 120 s activates; the replica serves after its
    start-up and two health checks 10 s apart; the held requests are served then, their
    hold in their wait; the last poll to count a request is at 150 s (60 s window), so
    the service is back at zero at 450 s."""
    result = sparse(
        tmp_path, [100.0, 101.0, 102.5], "autoscaler.hold_timeout=2min", "horizon=20min"
    )
    assert scaling(result) == [(120.0, 1), (450.0, 0)]
    (ready,) = ready_s(result)
    (serving,) = in_service_s(result)
    assert serving == pytest.approx(ready + 20.0, abs=1e-9)
    summary = result.summary
    assert summary["requests_served"] == 3
    assert summary["requests_dropped"] == 0
    # One worker serves the three held requests in turn, 50 ms each.
    waits = [serving - 100.0, serving + 0.05 - 101.0, serving + 0.10 - 102.5]
    assert summary["wait_s_mean"] == pytest.approx(sum(waits) / 3, abs=1e-9)
    assert summary["latency_s_mean"] == pytest.approx(sum(waits) / 3 + 0.05, abs=1e-9)


def test_held_requests_time_out_and_overflow(tmp_path: Path) -> None:
    """Five requests at zero with room for three: two are turned away at once; the
    replica serves only after the 20 s wait ran out, so the three held ones time out."""
    result = sparse(
        tmp_path, [100.0, 100.1, 100.2, 100.3, 100.4], "autoscaler.hold_capacity=3", "horizon=5min"
    )
    summary = result.summary
    assert in_service_s(result)[0] > 120.4
    assert summary["requests_dropped_activation_buffer_full"] == 2
    assert summary["requests_dropped_activation_timeout"] == 3
    assert summary["requests_served"] == 0
    assert summary["requests_total"] == 5


def test_requests_still_held_at_the_end_count_in_flight(tmp_path: Path) -> None:
    result = sparse(tmp_path, [100.0, 110.0], "horizon=115s")
    summary = result.summary
    assert summary["requests_total"] == 2
    assert summary["requests_in_flight"] == 2
    assert summary["requests_dropped"] == 0


@settings(max_examples=6, deadline=None)
@given(
    st.lists(st.floats(0.0, 900.0), min_size=1, max_size=40),
    st.sampled_from(["10s", "20s", "1min"]),
    st.integers(1, 20),
)
def test_every_request_is_served_in_flight_or_dropped(
    arrivals_s: list[float], timeout: str, capacity: int
) -> None:

    with tempfile.TemporaryDirectory() as folder:
        result = sparse(
            Path(folder),
            sorted(round(t, 3) for t in arrivals_s),
            f"autoscaler.hold_timeout={timeout}",
            f"autoscaler.hold_capacity={capacity}",
            "horizon=16min",
        )
    summary = result.summary
    assert summary["requests_total"] == len(arrivals_s)
    assert summary["requests_total"] == (
        summary["requests_served"]
        + summary["requests_in_flight"]
        + summary["requests_dropped"]
        + summary["requests_failed"]
    )
    by_reason = sum(v for k, v in summary.items() if k.startswith("requests_dropped_"))
    assert by_reason == summary["requests_dropped"]
    assert summary["requests_dropped_no_ready_replica"] == 0
    timestamps = [t for t, desired in scaling(result) if desired == 1]
    assert all(t % 30.0 == 0.0 for t in timestamps)
