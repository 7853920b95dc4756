"""The service level objective a run is judged by: latency and drops, period by period.

An SLO here has two optional targets (root key ``slo``): the 95th percentile of latency
(``latency_p95``) and the share of requests that do not get an answer (``drop_ratio``:
dropped at arrival or failed after it). A monitoring period *violates* the SLO when the
p95 latency of the requests that arrived in it is above its target, or when its requests
dropped or failed, over those that arrived, are above the ratio; `SloTracker` adds up
the seconds of violating periods (``slo_violation_s``). A request served within
``latency_p95`` counts toward ``availability``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.core.settings import setting
from sim.core.sketch import QuantileSketch


@dataclass(frozen=True, slots=True, kw_only=True)
class SloParams:
    """The service level objective (root key ``slo``); a target left out is not judged."""

    latency_p95_s: float | None = setting(
        None, unit="duration", above=0, doc="the 95th percentile of latency must stay below"
    )
    drop_ratio: float | None = setting(
        None, minimum=0, maximum=1, doc="requests dropped or failed over arrived, per period"
    )

    @property
    def judged(self) -> bool:
        """Whether any target is set."""
        return self.latency_p95_s is not None or self.drop_ratio is not None


@dataclass(slots=True)
class _PeriodCounts:
    arrived: int = 0
    unanswered: int = 0
    latencies: QuantileSketch | None = None


class SloTracker:
    """Counts each period's requests and latencies (a request observer) and judges the
    period against the SLO when it closes.

    Args:
        params: the targets.
        period_s: the monitoring period.
    """

    def __init__(self, params: SloParams, period_s: float) -> None:
        self.params = params
        self.period_s = period_s
        self._periods: dict[int, _PeriodCounts] = {}
        self.violation_s = 0.0
        self.violating_periods: list[int] = []
        self._first_open = 0

    def _period(self, t_s: float) -> _PeriodCounts:
        # A request held for a replica may have arrived in a period already judged: it
        # counts in the first one still open.
        index = max(int(t_s // self.period_s), self._first_open)
        counts = self._periods.get(index)
        if counts is None:
            counts = self._periods[index] = _PeriodCounts()
        return counts

    def served(
        self,
        replica: str,
        arrival_s: float,
        start_s: float,
        finish_s: float,
        cpu_s: float,
        response_bytes: float,
    ) -> None:
        counts = self._period(arrival_s)
        counts.arrived += 1
        if self.params.latency_p95_s is not None:
            if counts.latencies is None:
                counts.latencies = QuantileSketch(0.01)
            counts.latencies.add(finish_s - arrival_s)

    def dropped(self, arrival_s: float, reason: str, replica: str | None) -> None:
        counts = self._period(arrival_s)
        counts.arrived += 1
        counts.unanswered += 1

    def failed(self, now_s: float, requests: Sequence[tuple[float, float, float]]) -> None:
        """Requests cut at `now_s` count as unanswered in the period they were cut in."""
        self._period(now_s).unanswered += len(requests)

    def close(self, index: int, length_s: float) -> bool:
        """Judge period `index` (of `length_s` seconds, shorter at the run's end)."""
        counts = self._periods.pop(index, None)
        self._first_open = max(self._first_open, index + 1)
        if counts is None:
            return False
        violated = False
        target_s = self.params.latency_p95_s
        if target_s is not None and counts.latencies is not None and counts.latencies.count:
            violated = counts.latencies.quantile(0.95) > target_s
        ratio = self.params.drop_ratio
        if ratio is not None and counts.arrived:
            violated = violated or counts.unanswered / counts.arrived > ratio
        if violated:
            self.violation_s += length_s
            self.violating_periods.append(index)
        return violated


def availability(served_within_slo: int, arrived: int) -> float | None:
    """Requests served within the SLO's latency over those that arrived (None: none)."""
    return served_within_slo / arrived if arrived else None


__all__ = ["SloParams", "SloTracker", "availability"]
