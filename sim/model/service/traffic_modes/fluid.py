"""``fluid``: replica queues as fluids with a queueing approximation (`sim.model.service.fluid`)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind
from sim.model.service.arrivals import ARRIVALS
from sim.model.service.fluid import FluidStats, FluidTraffic
from sim.model.service.traffic_modes import TrafficContext, rng


@dataclass(frozen=True, slots=True)
class FluidModeParams:
    pass


def build(params: FluidModeParams, context: TrafficContext) -> tuple[FluidTraffic, FluidStats]:
    kind = ARRIVALS.kind_of(context.arrivals)
    # The rate of a random arrival process (mmpp's states) is drawn from its own stream.
    arrivals = kind.build(context.arrivals, rng(context, "traffic/arrivals"))
    traffic = FluidTraffic(
        context.env,
        arrivals,
        kind.name,
        context.request,
        context.balancer,
        context.monitoring,
        rng(context, "traffic/fluid-noise"),
    )
    return traffic, traffic.stats


KIND = Kind(
    "fluid",
    FluidModeParams,
    build,
    "queues as fluids, waits by Allen-Cunneen (day-long, high-rate services)",
)
