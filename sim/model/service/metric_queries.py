"""CloudWatch-style queries over the monitoring's closed periods, answered incrementally.

A datapoint is a metric at a statistic over consecutive base periods: each replica's
value over them (``CPUUtilization`` in percent of its vCPUs, ``NetworkOut`` in bytes,
``RequestCount``, ``Latency`` in seconds) combined across the replicas in service at
some time in them (``Average``, ``Sum``, ``Minimum``, ``Maximum``), as CloudWatch
aggregates an Auto Scaling group's instances; ``HealthyHostCount`` is the number in
service at each period's end. Longer periods (Beanstalk's 5 minutes) are built from the
base period, aligned to multiples of their length as CloudWatch aligns them.

A closed period never changes, so neither does a complete window's datapoint:
`MetricQueries` computes each window once, when it first completes, and keeps it. A
control loop that asks for its last 15 datapoints every minute then costs one window per
period instead of fifteen, however many replicas there are; the values are those a fresh
computation gives, to the bit (the same sums in the same order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sim.model.service.monitoring import Monitoring, PeriodMetrics

Datapoint = float | None
"""A datapoint's value; None when the window has no data (no replica, no request)."""


def replica_values(
    monitoring: Monitoring, metric: str, periods: Sequence[PeriodMetrics]
) -> dict[str, float]:
    """Each replica's value of a per-replica metric over consecutive base periods."""
    span_s = monitoring.period_s * len(periods)
    replicas: dict[str, None] = {}
    for period in periods:
        replicas.update(dict.fromkeys(period.in_service))
    values: dict[str, float] = {}
    for replica in replicas:
        requests = busy_s = bytes_out = latency_sum_s = completed = 0.0
        for period in periods:
            usage = period.usage.get(replica)
            if usage is not None:
                requests += usage.requests
                busy_s += usage.busy_s
                bytes_out += usage.bytes_out
                latency_sum_s += usage.latency_sum_s
                completed += usage.completed
        if metric == "CPUUtilization":
            values[replica] = 100.0 * busy_s / (monitoring.vcpus_of(replica) * span_s)
        elif metric == "NetworkOut":
            values[replica] = bytes_out
        elif metric == "RequestCount":
            values[replica] = requests
        elif metric == "Latency":
            if completed:
                values[replica] = latency_sum_s / completed
        else:
            raise ValueError(f"{metric} is not a per-replica metric")
    return values


def datapoint(
    monitoring: Monitoring, metric: str, statistic: str, periods: Sequence[PeriodMetrics]
) -> Datapoint:
    """One datapoint of `metric` at `statistic` over consecutive base periods."""
    if not periods:
        return None
    if metric == "HealthyHostCount":
        values = [float(period.healthy) for period in periods]
    elif metric == "Latency" and statistic in ("Average", "Sum"):
        latency_sum_s = sum(u.latency_sum_s for p in periods for u in p.usage.values())
        completed = sum(u.completed for p in periods for u in p.usage.values())
        if not completed:
            return None
        return latency_sum_s / completed if statistic == "Average" else latency_sum_s
    else:
        values = list(replica_values(monitoring, metric, periods).values())
    if not values:
        return None
    if statistic == "Average":
        return sum(values) / len(values)
    if statistic == "Sum":
        return sum(values)
    if statistic == "Minimum":
        return min(values)
    if statistic == "Maximum":
        return max(values)
    raise ValueError(f"unknown statistic {statistic}")


class MetricQueries:
    """The datapoints a control loop reads, each complete window computed once.

    Args:
        monitoring: the monitoring whose closed periods are read.
    """

    def __init__(self, monitoring: Monitoring) -> None:
        self.monitoring = monitoring
        self._windows: dict[tuple[str, str, int], list[Datapoint]] = {}
        self._latest: dict[str, tuple[int, dict[str, float]]] = {}

    def datapoints(
        self, metric: str, statistic: str, period_s: float, count: int
    ) -> tuple[Datapoint, ...]:
        """The last `count` complete datapoints of length `period_s`, oldest first.

        `period_s` must be a whole multiple of the base period; windows are aligned to
        multiples of `period_s`.
        """
        monitoring = self.monitoring
        ratio = round(period_s / monitoring.period_s)
        if ratio < 1 or not math.isclose(ratio * monitoring.period_s, period_s):
            raise ValueError(f"period {period_s} s is not a multiple of {monitoring.period_s} s")
        closed = monitoring.closed
        complete_windows = len(closed) // ratio
        windows = self._windows.setdefault((metric, statistic, ratio), [])
        for w in range(len(windows), complete_windows):
            windows.append(
                datapoint(monitoring, metric, statistic, closed[w * ratio : (w + 1) * ratio])
            )
        first = max(0, complete_windows - count)
        return tuple(windows[first:complete_windows])

    def latest_replica_values(self, metric: str) -> dict[str, float]:
        """Each replica's value of a per-replica metric over the last closed base period
        (none before the first period closes)."""
        closed = self.monitoring.closed
        cached = self._latest.get(metric)
        if cached is None or cached[0] != len(closed):
            cached = self._latest[metric] = (
                len(closed),
                replica_values(self.monitoring, metric, closed[-1:]),
            )
        return dict(cached[1])


def period_row(monitoring: Monitoring, period: PeriodMetrics | None) -> dict[str, float | int]:
    """A closed period's headline metrics, as time-series columns (zeros when none)."""
    periods = [period] if period is not None else []
    requests = sum(u.requests for p in periods for u in p.usage.values())
    completed = sum(u.completed for p in periods for u in p.usage.values())
    cpu = datapoint(monitoring, "CPUUtilization", "Average", periods) if periods else None
    latency = datapoint(monitoring, "Latency", "Average", periods) if periods else None
    return {
        "requests": requests,
        "completed": completed,
        "dropped": sum(sum(p.dropped.values()) for p in periods),
        "latency_s_avg": latency if latency is not None else 0.0,
        "cpu_percent_avg": cpu if cpu is not None else 0.0,
        "network_out_bytes": sum(u.bytes_out for p in periods for u in p.usage.values()),
        "wait_s_mean": period.wait.mean_s if period is not None else 0.0,
        "wait_s_p50": period.wait.p50_s if period is not None else 0.0,
        "wait_s_p95": period.wait.p95_s if period is not None else 0.0,
        "wait_s_p99": period.wait.p99_s if period is not None else 0.0,
    }
