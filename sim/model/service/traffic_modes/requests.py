"""``requests``: every request settled at its arrival by its replica's queue (exact)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind
from sim.model.service.arrivals import ARRIVALS
from sim.model.service.requests import RequestObserver, RequestObservers, TrafficStats
from sim.model.service.traffic import TrafficDriver
from sim.model.service.traffic_modes import TrafficContext, rng
from sim.policies.balancing import make_balancer


@dataclass(frozen=True, slots=True)
class RequestsModeParams:
    pass


def build(
    params: RequestsModeParams, context: TrafficContext
) -> tuple[TrafficDriver, TrafficStats]:
    stats = TrafficStats()
    slo = context.slo
    if slo is not None and slo.params.latency_p95_s is not None:
        stats.slo_latency_s = slo.params.latency_p95_s
    observers: list[RequestObserver] = [stats, context.monitoring]
    if slo is not None:
        observers.append(slo)
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
        RequestObservers(observers),
    )
    return driver, stats


KIND = Kind("requests", RequestsModeParams, build, "every request simulated (exact; the default)")
