"""Spot capacity: instances at a fraction of the on-demand price that the cloud may reclaim.

A pool (``cluster.pools.<p>.spot``) or the cluster scaler's node group
(``cluster.scaler.spot``) may run spot instances: billed at ``price_fraction`` of the
on-demand price, and each interrupted after an exponential time at
``interruptions_per_h`` (its own stream, ``spot/<host>``). An interruption gives a
two-minute notice (as EC2 does): the host is cordoned (nothing new is placed on it), the
replicas serving on it are drained (no new requests; their owners start replacements at
once), and at the deadline the instance is reclaimed: whatever still runs there is lost,
and requests still in flight fail with ``spot interruption``. A pool's lost instance is
replaced by a new spot instance ``replace_after`` later (an Auto Scaling group keeping
its capacity), or by an on-demand one with ``on_demand_fallback``; the scaler's lost
capacity comes back as its pending replicas ask for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import setting


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotParams:
    """Spot instances: their price and how often they are reclaimed (SI units)."""

    price_fraction: float = setting(
        0.3, above=0, maximum=1, doc="the spot price over the on-demand price"
    )
    interruptions_per_h: float = setting(
        0.05, minimum=0, doc="the rate an instance is reclaimed at (exponential times)"
    )
    notice_s: float = setting(120.0, unit="duration", doc="the interruption notice")
    replace_after_s: float = setting(
        90.0, unit="duration", doc="a pool's reclaimed instance is replaced this long after"
    )
    on_demand_fallback: bool = setting(
        False, doc="a pool's reclaimed instance is replaced by an on-demand one"
    )
