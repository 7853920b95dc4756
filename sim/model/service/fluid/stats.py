"""The request statistics of the fluid mode: counts, waits and latency percentiles.

Each piece adds to the latency sketch (and, through the monitoring, to the wait sketch)
a grid of values weighted by the expected number of requests: the fluid delays the
piece's requests met (a few points along the backlog's ramp, one where it is flat) plus
the stationary wait's quantiles (0 with the probability of not waiting, else
exponential with the matching mean, on a probability grid finer in the tail), plus the
service time's quantiles for latency. Counts are expectations, rounded when read, so
``requests_total = served + in flight + dropped`` holds exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import simpy

from sim.core.distributions import Distribution
from sim.core.sketch import QuantileSketch
from sim.model.service.fluid.queueing import quantile_of
from sim.model.service.monitoring import Monitoring
from sim.model.service.traffic import TrafficSummary


class FluidQueues(Protocol):
    """What the statistics read of the fluid traffic (`sim.model.service.fluid.engine`)."""

    env: simpy.Environment
    monitoring: Monitoring

    def advance(self, t_s: float) -> None: ...

    def in_flight(self) -> float: ...

    def drops(self) -> dict[str, float]: ...


PROBABILITY_EDGES = np.array(
    [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99]
    + [0.995, 0.998, 0.999, 1.0]
)
"""The grid a distribution is represented on: each cell by its midpoint's quantile,
weighted by its width (finer in the tail, where the 95th and 99th percentiles lie)."""

_MIDPOINTS = (PROBABILITY_EDGES[:-1] + PROBABILITY_EDGES[1:]) / 2
_WIDTHS = np.diff(PROBABILITY_EDGES)
_UNIT_EXPONENTIAL = -np.log1p(-_MIDPOINTS)
_GRID_CACHE = 4096
"""Grids kept for reuse; a varying rate or a backlog rarely repeats one."""

Delays = tuple[tuple[float, float], ...]
"""The fluid delays the requests of a piece met: ``(delay_s, share)`` pairs, shares
summing to 1."""


def _merged(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equal values' weights added (a constant distribution becomes one value)."""
    unique, inverse = np.unique(values, return_inverse=True)
    return unique, np.bincount(inverse, weights=weights)


@dataclass(frozen=True, slots=True)
class _Grid:
    """One request's wait and latency as weighted values (weights summing to 1), with
    the wait's mean and the latency's first two moments."""

    wait_values: np.ndarray
    wait_weights: np.ndarray
    latency_values: np.ndarray
    latency_weights: np.ndarray
    wait_mean_s: float
    latency_mean_s: float
    latency_square_s2: float


class FluidStats:
    """The request statistics of the fluid mode, as `sim.model.service.traffic.TrafficStats`
    gives them.

    Grids are sketched in batches: each piece notes how many requests met which grid, and
    `flush` turns a batch into bucket counts at once (one sketch update per period rather
    than one per piece).

    Args:
        traffic: the fluid traffic whose queues are read (advanced when asked).
        cpu: each request's CPU time (the service time's grid for latency).
    """

    def __init__(self, traffic: FluidQueues, cpu: Distribution) -> None:
        self.traffic = traffic
        services = np.array([quantile_of(cpu, p) for p in _MIDPOINTS])
        self._service_values, self._service_weights = _merged(services, _WIDTHS)
        self.arrived = 0.0
        self.served = 0.0
        self.latency_sketch = QuantileSketch()
        self._wait_sum_s = 0.0
        self._latency_sum_s = 0.0
        self._latency_square_sum_s2 = 0.0
        self._grids: dict[tuple[Delays, float, float], _Grid] = {}
        self._waits_batch: dict[int, dict[int, list[Any]]] = {}
        self._wait_sums_s: dict[int, list[float]] = {}
        self._latency_batch: dict[int, list[Any]] = {}

    def add_served(
        self, served: float, delays: Delays, waits: tuple[float, float], index: int
    ) -> None:
        """`served` requests got a worker after a fluid delay of `delays` plus the
        stationary wait ``waits = (P(wait), E[Wq | wait])``, in period `index`."""
        key = (delays, *waits)
        grid = self._grids.get(key)
        if grid is None:
            if len(self._grids) > _GRID_CACHE:
                self._grids.clear()
            grid = self._grids[key] = self._grid(delays, *waits)
        self._wait_sums_s.setdefault(index, []).append(grid.wait_mean_s * served)
        for batch in (self._waits_batch.setdefault(index, {}), self._latency_batch):
            entry = batch.get(id(grid))
            if entry is None:
                batch[id(grid)] = [grid, served]
            else:
                entry[1] += served
        self.served += served
        self._wait_sum_s += grid.wait_mean_s * served
        self._latency_sum_s += grid.latency_mean_s * served
        self._latency_square_sum_s2 += grid.latency_square_s2 * served

    def flush(self) -> None:
        """Sketch the batches noted so far: each period's waits into the monitoring,
        latency into the run's sketch."""
        sketch = self.latency_sketch
        for index in sorted(self._waits_batch):
            entries = list(self._waits_batch[index].values())
            counted = sketch.bucket_counts(
                np.concatenate([grid.wait_values for grid, _ in entries]),
                np.concatenate([grid.wait_weights * served for grid, served in entries]),
            )
            if counted is not None:
                self.traffic.monitoring.book_waits(index, *counted, self._wait_sums_s[index])
        self._waits_batch.clear()
        self._wait_sums_s.clear()
        if self._latency_batch:
            entries = list(self._latency_batch.values())
            counted = sketch.bucket_counts(
                np.concatenate([grid.latency_values for grid, _ in entries]),
                np.concatenate([grid.latency_weights * served for grid, served in entries]),
            )
            if counted is not None:
                sketch.add_bucket_counts(*counted)
            self._latency_batch.clear()

    def _grid(self, delays: Delays, chance: float, conditional_s: float) -> _Grid:
        """One request's grid after `delays` and a stationary wait that is 0 with
        probability ``1 - chance``, else exponential of mean `conditional_s`."""
        delay_values = np.array([delay_s for delay_s, _ in delays])
        delay_weights = np.array([share for _, share in delays])
        stationary_values = np.concatenate(([0.0], conditional_s * _UNIT_EXPONENTIAL))
        stationary_weights = np.concatenate(([1 - chance], chance * _WIDTHS))
        wait_values = (delay_values[:, None] + stationary_values[None, :]).ravel()
        wait_weights = (delay_weights[:, None] * stationary_weights[None, :]).ravel()
        latency_values = (wait_values[:, None] + self._service_values[None, :]).ravel()
        latency_weights = (wait_weights[:, None] * self._service_weights[None, :]).ravel()
        return _Grid(
            wait_values,
            wait_weights,
            latency_values,
            latency_weights,
            float(wait_values @ wait_weights),
            float(latency_values @ latency_weights),
            float((latency_values**2) @ latency_weights),
        )

    def in_flight(self, t_s: float) -> int:
        """Requests in flight at `t_s` (rounded), after evolving the queues to it."""
        self.traffic.advance(t_s)
        return min(round(self.traffic.in_flight()), self._counts()[1])

    def _counts(self) -> tuple[int, int, dict[str, int]]:
        arrived = round(self.arrived)
        dropped = {reason: round(count) for reason, count in self.traffic.drops().items()}
        dropped = {reason: count for reason, count in dropped.items() if count}
        served = max(0, arrived - sum(dropped.values()))
        return arrived, served, dropped

    def summary(self, wait_sketch: QuantileSketch | None = None) -> TrafficSummary:
        """The statistics so far, as the request mode's record."""
        self.traffic.advance(self.traffic.env.now)
        self.flush()
        arrived, served, dropped = self._counts()
        weight = self.served
        mean_wait_s = self._wait_sum_s / weight if weight > 0 else math.nan
        mean_latency_s = self._latency_sum_s / weight if weight > 0 else math.nan
        variance = self._latency_square_sum_s2 / weight - mean_latency_s**2 if weight > 0 else 0
        sketch = wait_sketch

        def wait_quantile_s(q: float) -> float:
            return sketch.quantile(q) if sketch is not None else math.nan

        return TrafficSummary(
            arrived=arrived,
            served=served,
            dropped=tuple(sorted(dropped.items())),
            mean_wait_s=mean_wait_s,
            wait_p50_s=wait_quantile_s(0.5),
            wait_p95_s=wait_quantile_s(0.95),
            wait_p99_s=wait_quantile_s(0.99),
            mean_latency_s=mean_latency_s,
            latency_sd_s=math.sqrt(max(variance, 0.0)) if weight > 0 else math.nan,
            latency_p50_s=self.latency_sketch.quantile(0.5),
            latency_p95_s=self.latency_sketch.quantile(0.95),
            latency_p99_s=self.latency_sketch.quantile(0.99),
            served_within_slo=served,
        )
