"""``requests``: every request settled at its arrival by its replica's queue (exact)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind
from sim.model.arrivals import ARRIVALS
from sim.model.traffic import RequestObservers, TrafficDriver, TrafficStats
from sim.model.traffic_modes import TrafficContext, rng
from sim.policies.balancing import make_balancer


@dataclass(frozen=True, slots=True)
class RequestsModeParams:
    pass


def build(
    params: RequestsModeParams, context: TrafficContext
) -> tuple[TrafficDriver, TrafficStats]:
    stats = TrafficStats()
    driver = TrafficDriver(
        context.env,
        ARRIVALS.kind_of(context.arrivals).build(
            context.arrivals, rng(context, "traffic/arrivals")
        ),
        context.request,
        make_balancer(context.balancer),
        rng(context, "traffic/cpu"),
        rng(context, "traffic/response"),
        rng(context, "traffic/balancer"),
        RequestObservers([stats, context.monitoring]),
    )
    return driver, stats


KIND = Kind("requests", RequestsModeParams, build, "every request simulated (exact; the default)")
