"""Monitoring books every request's CPU time into the periods it overlaps, exactly, at a
cost that does not grow with the request's length."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.model.service.monitoring import Monitoring

PERIOD_S = 60.0


def busy_by_period(monitoring: Monitoring, periods: int) -> list[dict[str, float]]:
    return [
        {replica: usage[1] for replica, usage in monitoring.close(index).usage.items()}
        for index in range(periods)
    ]


def overlap_s(start_s: float, finish_s: float, index: int) -> float:
    """Seconds of [start, finish] inside period `index`, by the definition."""
    low, high = index * PERIOD_S, (index + 1) * PERIOD_S
    return max(0.0, min(finish_s, high) - max(start_s, low))


requests = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.floats(0, 600, allow_nan=False),
        st.floats(0, 400, allow_nan=False),
    ),
    max_size=20,
)


@given(requests)
def test_busy_time_per_period_is_the_overlap_of_each_request(
    served: list[tuple[str, float, float]],
) -> None:
    monitoring = Monitoring(PERIOD_S, lambda replica: 1.0)
    for replica, start_s, cpu_s in served:
        monitoring.served(replica, start_s, start_s, start_s + cpu_s, cpu_s, 0.0)
    booked = busy_by_period(monitoring, 18)
    for index, period in enumerate(booked):
        for replica in ("a", "b"):
            expected = sum(
                overlap_s(start_s, start_s + cpu_s, index)
                for name, start_s, cpu_s in served
                if name == replica
            )
            assert math.isclose(period.get(replica, 0.0), expected, rel_tol=1e-9, abs_tol=1e-9)


def test_a_request_of_a_million_years_is_booked_in_constant_time_and_space() -> None:
    monitoring = Monitoring(PERIOD_S, lambda replica: 1.0)
    finish_s = 10.0 + 3.2e13
    monitoring.served("a", 10.0, 10.0, finish_s, finish_s - 10.0, 100.0)
    # Booked: the first period, the last one, and one span between them.
    assert len(monitoring._open) == 2
    assert busy_by_period(monitoring, 4) == [{"a": 50.0}, {"a": 60.0}, {"a": 60.0}, {"a": 60.0}]
    assert monitoring.busy_total_s == finish_s - 10.0


def test_a_run_with_absurd_request_cpu_ends_and_counts_every_request() -> None:
    result = sim.simulate(
        sim.load_config(
            [
                "workload=poisson",
                "platform=container",
                "workload.traffic.request.cpu.mean=1000d",
                "horizon=20min",
            ]
        )
    )
    summary = result.summary
    assert summary["sim_time_s"] == 1200.0
    assert summary["requests_total"] == (
        summary["requests_served"] + summary["requests_in_flight"] + summary["requests_dropped"]
    )
    assert summary["requests_in_flight"] == 2  # one per worker; the rest time out
    cpu = [row["cpu_percent_avg"] for row in result.timeseries]
    assert cpu[-1] == 100.0
