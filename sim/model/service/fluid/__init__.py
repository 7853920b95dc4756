"""Fluid traffic: replica queues as fluids, for day-long services at thousands of requests/s.

The request mode settles every request (`sim.model.service.traffic`); at 10,000 requests
per second a day is 864 million of them. The fluid mode settles none: each replica's
queue is a fluid evolved piece by piece (`engine`), its waits below capacity taken from
queueing approximations (`queueing`), and its requests' counts, waits and latency
percentiles booked as expected numbers (`stats`), so the summary's keys, the time series
and every autoscaler read as in the request mode.
"""

from sim.model.service.fluid.engine import FluidReplica, FluidTraffic
from sim.model.service.fluid.queueing import arrival_scv, erlang_c, gi_g_c_wait, quantile_of
from sim.model.service.fluid.stats import FluidStats

__all__ = [
    "FluidReplica",
    "FluidStats",
    "FluidTraffic",
    "arrival_scv",
    "erlang_c",
    "gi_g_c_wait",
    "quantile_of",
]
