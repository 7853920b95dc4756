"""The metric vocabulary: CloudWatch's names for what monitoring measures and what
scaling policies watch, in one place.

Elastic Beanstalk triggers and CloudWatch alarms may name any `Metric`; the simulated
monitoring produces the `PRODUCED` ones (a policy watching another is refused when the
config is read). Each metric has its unit, as CloudWatch reports it.
"""

from __future__ import annotations

from enum import StrEnum


class Metric(StrEnum):
    """A CloudWatch metric of an Auto Scaling group's instances (or a service's replicas).

    The values are CloudWatch's own names; ``unit`` and ``doc`` say what each measures.
    """

    CPU_UTILIZATION = "CPUUtilization"
    NETWORK_IN = "NetworkIn"
    NETWORK_OUT = "NetworkOut"
    DISK_READ_OPS = "DiskReadOps"
    DISK_WRITE_OPS = "DiskWriteOps"
    DISK_READ_BYTES = "DiskReadBytes"
    DISK_WRITE_BYTES = "DiskWriteBytes"
    LATENCY = "Latency"
    REQUEST_COUNT = "RequestCount"
    HEALTHY_HOST_COUNT = "HealthyHostCount"
    UNHEALTHY_HOST_COUNT = "UnhealthyHostCount"

    @property
    def unit(self) -> str:
        return _UNITS[self]


_UNITS = {
    Metric.CPU_UTILIZATION: "Percent",
    Metric.NETWORK_IN: "Bytes",
    Metric.NETWORK_OUT: "Bytes",
    Metric.DISK_READ_OPS: "Count",
    Metric.DISK_WRITE_OPS: "Count",
    Metric.DISK_READ_BYTES: "Bytes",
    Metric.DISK_WRITE_BYTES: "Bytes",
    Metric.LATENCY: "Seconds",
    Metric.REQUEST_COUNT: "Count",
    Metric.HEALTHY_HOST_COUNT: "Count",
    Metric.UNHEALTHY_HOST_COUNT: "Count",
}

PRODUCED: tuple[Metric, ...] = (
    Metric.CPU_UTILIZATION,
    Metric.NETWORK_OUT,
    Metric.REQUEST_COUNT,
    Metric.LATENCY,
    Metric.HEALTHY_HOST_COUNT,
)
"""The metrics the simulated monitoring produces (`sim.model.service.monitoring`)."""

PER_REPLICA: tuple[Metric, ...] = PRODUCED[:4]
"""Produced metrics measured per replica (the rest is a count over the group)."""


class Statistic(StrEnum):
    """How datapoints of several instances combine, as CloudWatch names it."""

    MINIMUM = "Minimum"
    MAXIMUM = "Maximum"
    SUM = "Sum"
    AVERAGE = "Average"
