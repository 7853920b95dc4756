"""Fragmentation: room on the nodes that a pod of a given size can no longer use.

A placement that spreads pods leaves a little free CPU on many nodes; one that packs them
leaves whole nodes free or full. What matters is whether the free room can hold the pods
that come: CPU free on a node where a *probe* pod (the workload's large pod, say 4 vCPU
and 12 GiB) does not fit — its memory, CPU or pod count is short — is *stranded*. With
``cluster.stranded_probe`` set, each time-series row gets (over the nodes in the
cluster now, cordoned ones left out):

* ``cpu_allocatable`` — vCPU the nodes' pods may request in all;
* ``cpu_free`` — of it, vCPU no pod requests;
* ``cpu_stranded`` — of that, vCPU on nodes where the probe fits no more;
* ``nodes_underused`` — nodes whose pods request less than half their allocatable CPU
  and memory (both: the Cluster Autoscaler's scale-down utilisation, the larger of the
  two, is below its 0.5 threshold): nodes a scale-down wants gone, still billed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.core.settings import setting
from sim.model.hosts.host import Host

UNDERUSED_BELOW = 0.5
"""The Cluster Autoscaler's default ``scale-down-utilization-threshold``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StrandedProbe:
    """The pod size free room is judged against (`sim.model.cluster.fragmentation`)."""

    vcpu: float = setting(unit="cpu", minimum=0.001, doc="the probe pod's CPU request")
    memory_bytes: int = setting(unit="size", above=0, doc="the probe pod's memory request")


def fragmentation_columns(hosts: Sequence[Host], probe: StrandedProbe) -> dict[str, float | int]:
    """The fragmentation columns of a time-series row over `hosts` (the cluster's now)."""
    allocatable = free = stranded = 0.0
    underused = 0
    for host in hosts:
        view = host.view()
        allocatable += view.vcpu_total
        free += view.vcpu_free
        fits = (
            view.vcpu_free + 1e-9 >= probe.vcpu
            and view.memory_free_bytes >= probe.memory_bytes
            and host.replicas < host.params.max_pods
        )
        if not fits:
            stranded += view.vcpu_free
        cpu_used = 1.0 - view.vcpu_free / view.vcpu_total if view.vcpu_total else 1.0
        memory_used = (
            1.0 - view.memory_free_bytes / view.memory_total_bytes
            if view.memory_total_bytes
            else 1.0
        )
        if max(cpu_used, memory_used) < UNDERUSED_BELOW:
            underused += 1
    return {
        "cpu_allocatable": allocatable,
        "cpu_free": free,
        "cpu_stranded": stranded,
        "nodes_underused": underused,
    }
