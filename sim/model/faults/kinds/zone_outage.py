"""``zone-outage``: every host of an availability zone fails at once (a power or network
event in one data centre), and comes back together after ``duration`` (or ``mttr``).
Hosts carry a zone from their pool (``cluster.pools.<p>.zones``: host n of the pool is
in zone n mod k); what each host loses, and how it comes back, is as for ``host-crash``."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind, setting
from sim.model.faults.kinds import FaultParams, FaultWorld, Process, scheduled_or_stochastic
from sim.model.faults.kinds.host_crash import Recovery


@dataclass(frozen=True, kw_only=True)
class ZoneOutageParams(FaultParams):
    recovery: Recovery = setting(
        "reboot", doc="reboot: back with their caches; replace: new empty hosts; none"
    )

    @property
    def target_classes(self) -> tuple[str, ...]:
        return ("zone",)


def build(params: ZoneOutageParams, world: FaultWorld) -> list[Process]:
    hosts = world.hosts_of(params.target)
    return scheduled_or_stochastic(params, "zone-outage", world, hosts, params.recovery, True)


KIND = Kind("zone-outage", ZoneOutageParams, build, "every host of a zone fails together")
