"""Traffic modes: how a service's requests are simulated. One module per mode.

* ``requests`` (the default): every request is settled at its arrival by the replica's
  first-come-first-served queue (`sim.model.service.traffic`): exact, and about 130,000 requests
  per CPU-second.
* ``fluid``: no request is simulated; each replica's queue evolves as a fluid between
  events, with waits and percentiles from a queueing approximation
  (`sim.model.service.fluid`): a day at 10,000 requests per second in seconds.

Each mode module declares ``KIND``; ``build(params, context)`` returns the traffic (what
the fleet adds replicas to and the service runs) and its statistics (what the summary
reads). A config chooses one with ``workload.traffic.mode: fluid``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.core.settings import Family
from sim.model.service.monitoring import Monitoring
from sim.model.service.slo import SloTracker
from sim.model.service.workload import RequestSpec

TRAFFIC_MODES = Family(
    "traffic mode",
    __name__,
    summary="how requests are simulated (workload.traffic.mode)",
)


@dataclass(frozen=True, slots=True)
class TrafficContext:
    """What a traffic mode is built from.

    Attributes:
        env: the simulation environment.
        arrivals: the arrival process's parameters (a kind of `ARRIVALS`).
        request: each request's CPU time and response size.
        balancer: the balancer's kind.
        generator: the run's named random streams (``generator(name)``).
        monitoring: the run's monitoring.
        slo: judges each period against the service level objective, if one is set
            (request mode only: the fluid mode keeps no request to judge).
    """

    env: simpy.Environment
    arrivals: Any
    request: RequestSpec
    balancer: str
    generator: Any
    monitoring: Monitoring
    slo: SloTracker | None = None


def rng(context: TrafficContext, name: str) -> np.random.Generator:
    """The named random stream `name` of the run."""
    generator: np.random.Generator = context.generator(name)
    return generator


__all__ = ["TRAFFIC_MODES", "TrafficContext", "rng"]
