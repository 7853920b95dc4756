"""Why a replica is pending: the words its `replica_state: pending` event carries.

A replica no host can take now is pending until capacity changes. Its reason says which
case it is: it can never fit (no host the cluster has, nor the largest a cluster scaler
can add, is that large), or nothing has room now. For the ranking presets, when every
host was turned away for want of CPU or memory alone, the reason keeps the words the
simulator always used; any other rejection (too many pods, a taint, an affinity, a
spread constraint) is reported as kube-scheduler reports it
(``0/3 nodes are available: 3 Too many pods.``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.core.units import format_size
from sim.model.cluster.scheduling.cycle import Decision
from sim.model.hosts.host import Host
from sim.policies.placement import PlacementRequest

RESOURCE_REASONS = frozenset({"Insufficient cpu", "Insufficient memory"})


@dataclass(frozen=True, slots=True)
class Addable:
    """The largest host a cluster scaler can still add.

    Attributes:
        instance_type: its type's name.
        vcpu: its allocatable vCPU.
        memory_bytes: its allocatable memory.
        overhead: whether it keeps reserves or DaemonSet pods from replicas.
    """

    instance_type: str
    vcpu: float
    memory_bytes: int
    overhead: bool = False


def never_fits(
    request: PlacementRequest, hosts: Sequence[Host], addable: Addable | None
) -> str | None:
    """Why `request` can never be placed (no host the cluster has, nor the biggest it
    can add, is that large), or None when some host could hold it once free."""
    for host in hosts:
        if host.params.allocatable_vcpu + 1e-9 >= request.vcpu and (
            host.params.allocatable_memory_bytes >= request.memory_bytes
        ):
            return None
    if addable is not None and (
        addable.vcpu + 1e-9 >= request.vcpu and addable.memory_bytes >= request.memory_bytes
    ):
        return None
    biggest = max(
        ((h.params.allocatable_vcpu, h.params.allocatable_memory_bytes) for h in hosts),
        default=(0.0, 0),
    )
    reserved = any(h.params.overhead_vcpu or h.params.overhead_memory_bytes for h in hosts) or (
        addable is not None and addable.overhead
    )
    growth = (
        f"; the cluster scaler adds {addable.instance_type} ({addable.vcpu:g} vCPU, "
        f"{format_size(addable.memory_bytes)}{' allocatable' if reserved else ''})"
        if addable is not None
        else "; no cluster scaler adds hosts"
    )
    return (
        f"never fits: needs {request.vcpu:g} vCPU and {format_size(request.memory_bytes)} "
        f"of memory; the largest host has {biggest[0]:g} vCPU and "
        f"{format_size(biggest[1])}{' allocatable' if reserved else ''}{growth}"
    )


def pending_reason(request: PlacementRequest, decision: Decision, ranked: bool) -> str:
    """Why a replica that may fit some day is pending now.

    Args:
        request: what it asks for.
        decision: the cycle that found no node.
        ranked: placed by a ranking preset (``spread``, ``binpack``).
    """
    resources_only = all(
        set(rejection.reasons) <= RESOURCE_REASONS for rejection in decision.rejections.values()
    )
    if ranked and resources_only:
        return (
            f"unschedulable: 0/{decision.nodes} hosts have {request.vcpu:g} vCPU and "
            f"{request.memory_bytes} B of memory free"
        )
    return f"unschedulable: {decision.message()}"
