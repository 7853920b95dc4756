"""``host-crash``: a host (or every host of a pool) crashes. Its replicas are lost and
the requests they were serving fail with ``host failure``; their owners (a fleet, a
deployment) start replacements on the other hosts, pulling there, and the cluster scaler
adds hosts if they no longer fit. After ``duration`` (or a draw of ``mttr``) the host
comes back: ``reboot`` — the same host, its layer cache kept on its disk — or
``replace`` — a new instance in its place, with an empty disk; ``none``: it stays down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sim.core.settings import Kind, setting
from sim.model.faults.kinds import FaultParams, FaultWorld, Process, scheduled_or_stochastic

Recovery = Literal["reboot", "replace", "none"]


@dataclass(frozen=True, kw_only=True)
class HostCrashParams(FaultParams):
    recovery: Recovery = setting(
        "reboot", doc="reboot: back with its cache; replace: a new empty host; none: stays down"
    )


def build(params: HostCrashParams, world: FaultWorld) -> list[Process]:
    hosts = world.hosts_of(params.target)
    return scheduled_or_stochastic(params, "host-crash", world, hosts, params.recovery, False)


KIND = Kind("host-crash", HostCrashParams, build, "a host, or each host of a pool, crashes")
