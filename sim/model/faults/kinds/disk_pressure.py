"""``disk-pressure``: something fills a host's disk (logs, a runaway writer) with ``fill``
bytes for ``duration``, and the kubelet reacts as it does at its hard eviction threshold
(``nodefs.available < 10 %`` by default, here ``eviction_percent`` used): it first
collects unused images (least recently used first, as its image GC does), and if the disk
is still over the threshold it taints the node (nothing new is placed on it) and evicts
its pods — lost with reason ``evicted``, replaced by their owners on other hosts. Once
the fill is gone and the disk is back under the threshold, the taint is lifted."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind, setting
from sim.model.faults.kinds import FaultParams, FaultWorld, Process, fault_name, fault_windows


@dataclass(frozen=True, kw_only=True)
class DiskPressureParams(FaultParams):
    fill_bytes: int = setting(
        unit="size", above=0, doc="bytes written to the disk (at most what is free)"
    )
    eviction_percent: float = setting(
        90.0, above=0, maximum=100, doc="disk use at which the kubelet evicts (nodefs 10 %)"
    )


def _pressure(params: DiskPressureParams, world: FaultWorld, host: object, stream: str) -> Process:
    name = fault_name(params, "disk-pressure")
    return fault_windows(
        params,
        world.env,
        world.stream(stream),
        lambda: world.fill_disk(host, name, params.fill_bytes, params.eviction_percent),
        lambda filled: world.release_disk(filled[0], name, filled[1], params.eviction_percent),
    )


def build(params: DiskPressureParams, world: FaultWorld) -> list[Process]:
    return [
        _pressure(params, world, host, f"disk-pressure/{params.target}/{host.name}")
        for host in world.hosts_of(params.target)
    ]


KIND = Kind("disk-pressure", DiskPressureParams, build, "a host's disk fills; the kubelet evicts")
