"""A fixed capacity: the group keeps the size it was given.

The baseline every autoscaling policy is compared with: the desired capacity never
changes, whatever the load, so over-provisioning costs money and under-provisioning
costs latency and dropped requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind, setting
from sim.policies.autoscaling.ec2 import DEFAULT_INTERVAL_S, check_positive
from sim.policies.autoscaling.protocol import Decision, Observation, Series, unchanged


@dataclass(frozen=True, slots=True)
class FixedCapacityParams:
    """How often the loop asks (only visible in its event counts).

    Raises:
        ConfigError: for an interval not above 0 (key ``interval``).
    """

    interval_s: float = setting(
        DEFAULT_INTERVAL_S, unit="duration", doc="how often the loop asks (above 0)"
    )

    def __post_init__(self) -> None:
        check_positive("interval", self.interval_s)


class FixedCapacity:
    """The ``none`` policy: never changes the desired capacity and reads no metric.

    Args:
        params: its interval.
        name: the name the policy goes by.
    """

    metric = "CPUUtilization"
    statistic = "Average"
    datapoints_needed = 0

    def __init__(self, params: FixedCapacityParams | None = None, name: str = "none") -> None:
        self.params = params if params is not None else FixedCapacityParams()
        self.name = name
        self.period_s = self.params.interval_s
        self.interval_s = self.params.interval_s
        self.extra_series: tuple[tuple[Series, int], ...] = ()

    def decide(self, observation: Observation) -> Decision:
        """No change, ever."""
        return unchanged(observation)


KIND = Kind(
    "none", FixedCapacityParams, FixedCapacity, "a fixed capacity: the group keeps its size"
)
