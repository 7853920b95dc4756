"""The kubelet's back-offs: client-go's flowcontrol.Backoff (its own tests,
``util/flowcontrol/backoff_test.go``, restated) and how the kubelet uses it for
CrashLoopBackOff (``kuberuntime_manager.go`` doBackOff) and ImagePullBackOff
(``images/image_manager.go``)."""

from __future__ import annotations

import pytest

from sim.policies.backoff import Backoff, CrashLoopBackoff, ImagePullBackoff


def test_slow_backoff() -> None:
    """TestSlowBackoff: one step a second, the back-off read before each Next."""
    backoff = Backoff(1.0, 50.0)
    seen = []
    for tick in range(1, 11):
        seen.append(backoff.get("id"))
        backoff.next("id", float(tick), float(tick))

    assert seen == [0, 1, 2, 4, 8, 16, 32, 50, 50, 50]


def test_backoff_reset() -> None:
    """TestBackoffReset: capped at 5 s, then 11 s later (more than twice the maximum)
    the entry no longer holds the event back."""
    backoff = Backoff(1.0, 5.0)
    now = 0.0
    for _ in range(6):
        now += 1.0
        backoff.next("id", now, now)
    assert backoff.in_backoff_since("id", now, now)

    last_update = now
    now += 11.0
    assert not backoff.in_backoff_since("id", last_update, now)


def test_backoff_high_water_mark() -> None:
    """TestBackoffHighWaterMark: 6 s after reaching the 5 s cap (not more than twice it),
    the next step stays at the cap."""
    backoff = Backoff(1.0, 5.0)
    now = 0.0
    for _ in range(6):
        now += 1.0
        backoff.next("id", now, now)
    now += 6.0
    backoff.next("id", now, now)

    assert backoff.get("id") == 5.0


# TestIsInBackOffSinceUpdate: (second, in back-off, back-off then); Next whenever not.
SINCE_UPDATE = [
    (0, False, 0), (1, False, 1), (2, True, 2), (3, False, 2), (4, True, 4), (5, True, 4),
    (6, True, 4), (7, False, 4), (8, True, 8), (14, True, 8), (15, False, 8), (16, True, 10),
    (24, True, 10), (25, False, 10), (26, True, 10), (34, True, 10), (35, False, 10),
    (56, False, 0), (57, False, 1),
]  # fmt: skip


def test_is_in_backoff_since_update() -> None:
    backoff = Backoff(1.0, 10.0)
    for second, in_backoff, value in SINCE_UPDATE:
        now = float(second)
        assert backoff.in_backoff_since_update("id", now) is in_backoff, second
        if in_backoff:
            assert backoff.get("id") == value
        else:
            backoff.next("id", now, now)


def restarts(
    run_s: float, exits: int, initial_s: float = 10.0, max_s: float = 300.0
) -> list[float]:
    """The restart delays of a container that runs `run_s` after each restart."""
    crash_loop = CrashLoopBackoff(initial_s, max_s)
    delays, now = [], 0.0
    for _ in range(exits):
        now += run_s
        delay = crash_loop.restart_delay_s("web", now)
        delays.append(delay)
        now += delay
    return delays


def test_the_first_restart_is_immediate_then_10_s_doubling_to_5_min() -> None:
    assert restarts(30.0, 9) == [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]


@pytest.mark.parametrize(
    ("run_s", "first_three"), [(600.0, [0.0, 10.0, 20.0]), (600.5, [0.0, 0.0, 0.0])]
)
def test_the_back_off_starts_over_only_after_more_than_600_s(
    run_s: float, first_three: list[float]
) -> None:
    """hasExpired is strict (``>``), timed from the restart before the exit."""
    assert restarts(run_s, 3) == first_three


def test_kep_4603_settings() -> None:
    assert restarts(5.0, 9, initial_s=1.0, max_s=60.0) == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    # A maximum below the initial back-off lowers both (kubelet.go).
    assert restarts(5.0, 4, initial_s=10.0, max_s=4.0) == [0, 4, 4, 4]


def test_image_pull_waits_double_and_start_over_after_a_long_gap() -> None:
    pulls = ImagePullBackoff(10.0, 300.0)
    failures = [0.0, 15.0, 40.0, 90.0, 1000.0, 1015.0]

    waits = [pulls.wait_after_failure_s("web", failed) for failed in failures]

    assert waits == [10.0, 20.0, 40.0, 80.0, 10.0, 20.0]
