"""The fluid backlog of one replica over one piece: Newell's deterministic fluid.

Above capacity a queue's content is, to first order, a fluid: it grows at ``λ − cμ``
while the arrival rate ``λ`` exceeds the capacity ``cμ`` (``c`` workers of rate ``μ``),
drains at ``cμ − λ`` once it is below, and stops at the bound ``B`` (the queue, or the
timeout × cμ), beyond which what flows in is dropped (G. F. Newell, *Applications of
Queueing Theory*, 2nd ed., Chapman and Hall 1982, ch. 6). Within a piece the rate is
constant, so the backlog is a ramp from where it was, then a flat (empty once drained,
at the bound once full): solved exactly. A request arriving at ``t`` waits ``b(t) / cμ``
for it (first come, first served behind the backlog), so the piece's requests meet the
delays along the ramp (`DELAY_POINTS` of them, uniformly) and the flat's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.model.service.fluid.stats import Delays

DELAY_POINTS = 8
"""Points a backlog's ramp is represented by in the waits of its requests."""


@dataclass(frozen=True, slots=True)
class Piece:
    """What one replica's queue does in one piece (expected numbers)."""

    delays: Delays  # the fluid delays of the requests served, with their shares
    mean_delay_s: float  # their mean
    served: float  # requests given a worker
    dropped: float  # requests dropped
    completed: float
    busy_s: float
    backlog_end: float
    in_service_end: float


def evolve(
    backlog: float,
    in_service: float,
    workers: int,
    bound: float,
    capacity_per_s: float,
    mean_service_s: float,
    rate_per_s: float,
    duration_s: float,
    drop_share: float,
) -> Piece:
    """A replica's queue over one piece at a constant arrival rate.

    Args:
        backlog, in_service: the requests waiting and in service at the piece's start.
        workers: the replica's workers (``c``).
        bound: the most requests that may wait (``B``).
        capacity_per_s: the requests its workers finish per second (``cμ``).
        mean_service_s: the mean CPU time of a request (``1 / μ``).
        rate_per_s: the replica's arrival rate in the piece (``λ``).
        duration_s: the piece's length.
        drop_share: the share of admitted requests dropped by chance (the stationary
            queue's, below capacity).
    """
    net_per_s = rate_per_s - capacity_per_s
    ramp_s, overflow = duration_s, 0.0
    if net_per_s <= 0:
        if backlog > 0 and net_per_s < 0 and backlog / -net_per_s < duration_s:
            ramp_s = backlog / -net_per_s
            end_backlog = 0.0
        else:
            end_backlog = max(0.0, backlog + net_per_s * duration_s)
    else:
        filled_s = max(0.0, bound - backlog) / net_per_s
        if filled_s >= duration_s:
            end_backlog = backlog + net_per_s * duration_s
        else:
            ramp_s = filled_s
            end_backlog = max(bound, 0.0) if backlog <= bound else backlog
            overflow = net_per_s * (duration_s - filled_s)
    admitted = rate_per_s * duration_s - overflow
    ramp_admitted = rate_per_s * ramp_s
    delays = _delays(
        backlog / capacity_per_s,
        end_backlog / capacity_per_s,
        ramp_admitted / admitted if admitted > 0 else 1.0,
    )
    served = admitted * (1 - drop_share)
    if end_backlog > 0:
        in_service_end = float(workers)
    else:
        in_service_end = min(float(workers), served / duration_s * mean_service_s)
    completed = max(0.0, served + backlog + in_service - end_backlog - in_service_end)
    return Piece(
        delays,
        math.fsum(delay_s * share for delay_s, share in delays),
        served,
        overflow + admitted * drop_share,
        completed,
        min(workers * duration_s, completed * mean_service_s),
        end_backlog,
        in_service_end,
    )


def _delays(start_s: float, end_s: float, ramp_share: float) -> Delays:
    """The fluid delays of a piece's requests: a ramp from `start_s` to `end_s` taking
    `ramp_share` of them (uniform along it, at `DELAY_POINTS` midpoints), then `end_s`
    for the rest."""
    if start_s == end_s:
        return ((start_s, 1.0),)
    if ramp_share <= 0:
        return ((end_s, 1.0),)
    step_s = (end_s - start_s) / DELAY_POINTS
    share = min(ramp_share, 1.0) / DELAY_POINTS
    ramp = tuple((start_s + (k + 0.5) * step_s, share) for k in range(DELAY_POINTS))
    return ramp if ramp_share >= 1 else (*ramp, (end_s, 1 - ramp_share))
