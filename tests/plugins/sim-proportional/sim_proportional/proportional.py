"""``proportional``: as many replicas as the last period's requests need, at a target
number of requests per replica and period.

desired = ceil(RequestCount Sum of the last period / requests_per_replica), kept within
[min_capacity, max_capacity]. It declares itself as the simulator's own policies do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.core.settings import Kind, setting
from sim.policies import Decision, Observation
from sim.policies.autoscaling.protocol import Series, clamp, out_of_range, unchanged


@dataclass(frozen=True, slots=True)
class ProportionalParams:
    requests_per_replica: float = setting(doc="requests one replica takes per period")
    min_capacity: int = setting(1, minimum=0, doc="the fewest replicas")
    max_capacity: int = setting(10, minimum=1, doc="the most replicas")
    period_s: float = setting(60.0, unit="duration", above=0, doc="one datapoint")
    interval_s: float = setting(60.0, unit="duration", above=0, doc="how often it decides")


class Proportional:
    metric = "RequestCount"
    statistic = "Sum"
    datapoints_needed = 1
    name = "proportional"

    def __init__(self, params: ProportionalParams) -> None:
        self.params = params
        self.period_s = params.period_s
        self.interval_s = params.interval_s
        self.extra_series: tuple[tuple[Series, int], ...] = ()

    def decide(self, observation: Observation) -> Decision:
        params = self.params
        bounded = out_of_range(observation, params.min_capacity, params.max_capacity)
        if bounded is not None:
            return bounded
        latest = observation.datapoints[-1] if observation.datapoints else None
        if latest is None:
            return unchanged(observation)
        wanted = math.ceil(latest / params.requests_per_replica)
        desired = clamp(wanted, params.min_capacity, params.max_capacity)
        if desired == observation.desired:
            return unchanged(observation)
        return Decision(desired, f"{latest:g} requests need {wanted}")


KIND = Kind("proportional", ProportionalParams, Proportional, "replicas in proportion to requests")
