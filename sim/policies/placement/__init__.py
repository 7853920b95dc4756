"""Placement: which host a new replica goes to. One module per policy, found by listing.

A placement policy sees each host's capacity and what is still free, and the replica's
request; it answers with a host's name, or None when the replica fits nowhere (it stays
unschedulable). The policies follow the Kubernetes scheduler's NodeResourcesFit scoring
strategies (``spread``: LeastAllocated, ``binpack``: MostAllocated). They score the mean
over vCPU and memory of a fraction of capacity, as the scheduler does with equal weights,
but as exact fractions rather than its 0-100 integer scores, so the result does not
depend on rounding. A resource a host has none of scores 0, as in the scheduler.

Each policy module declares ``KIND = Kind(name, Params, build)``; ``build(params)``
returns the policy. A platform names its policy (``placement: spread``). The kinds
``spread`` and ``binpack`` are presets of the scheduler profile: its filters decide where
a replica may go, and the exact-fraction ranking above chooses among those hosts, so
their choices are those of the ranking alone wherever the filters let every host pass;
``scheduler`` leaves the choice to the profile's score plugins instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sim.core.settings import Family

PLACEMENT = Family("placement", __name__, summary="which host a new replica goes to")

VCPU_TOLERANCE = 1e-9
"""vCPU a request may exceed what is free by and still fit: free vCPU is a float
difference, and ten replicas of 0.4 vCPU must fit on 4 vCPU despite rounding."""


@dataclass(frozen=True, slots=True)
class HostView:
    """What a placement policy sees of one host.

    Attributes:
        name: the host's name, returned when it is chosen.
        vcpu_total: allocatable vCPU.
        vcpu_free: allocatable vCPU not yet requested by replicas on the host.
        memory_total_bytes: allocatable memory.
        memory_free_bytes: allocatable memory not yet requested.
        replicas: replicas already placed on the host.
    """

    name: str
    vcpu_total: float
    vcpu_free: float
    memory_total_bytes: int
    memory_free_bytes: int
    replicas: int


@dataclass(frozen=True, slots=True)
class PlacementRequest:
    """The resources one replica requests."""

    vcpu: float
    memory_bytes: int


Rank = tuple[float, ...]
"""How a policy orders the hosts a replica fits on: the lowest rank wins."""


class PlacementPolicy(Protocol):
    """Chooses a host for a replica, or None when no host has room for it.

    A policy ranks each host the replica fits on and chooses the lowest rank, ties going
    to the host earlier in the sequence; `rank` is public so that a scheduler may keep
    hosts in an index by rank instead of asking `choose` to scan them all.
    """

    name: str

    def rank(self, request: PlacementRequest, host: HostView) -> Rank:
        """Where `host`, on which `request` fits, stands: lower is better."""
        ...

    def choose(self, request: PlacementRequest, hosts: Sequence[HostView]) -> str | None:
        """The name of the host the replica goes to; None when nothing fits."""
        ...


def fits(request: PlacementRequest, host: HostView) -> bool:
    """Whether `host` has the free vCPU and memory `request` asks for."""
    return (
        request.vcpu <= host.vcpu_free + VCPU_TOLERANCE
        and request.memory_bytes <= host.memory_free_bytes
    )


def _fraction(part: float, total: float) -> float:
    return part / total if total > 0 else 0.0


def free_fraction_after(request: PlacementRequest, host: HostView) -> float:
    """Mean over vCPU and memory of the fraction left free once `request` is placed."""
    vcpu = _fraction(host.vcpu_free - request.vcpu, host.vcpu_total)
    memory = _fraction(host.memory_free_bytes - request.memory_bytes, host.memory_total_bytes)
    return (vcpu + memory) / 2


def used_fraction_after(request: PlacementRequest, host: HostView) -> float:
    """Mean over vCPU and memory of the fraction in use once `request` is placed."""
    vcpu_used = host.vcpu_total - host.vcpu_free + request.vcpu
    memory_used = host.memory_total_bytes - host.memory_free_bytes + request.memory_bytes
    vcpu = _fraction(vcpu_used, host.vcpu_total)
    memory = _fraction(memory_used, host.memory_total_bytes)
    return (vcpu + memory) / 2


def best_ranked(
    policy: PlacementPolicy, request: PlacementRequest, hosts: Sequence[HostView]
) -> str | None:
    """The fitting host of lowest rank under `policy`, the earliest on ties; None if none."""
    candidates = [
        (policy.rank(request, host), index)
        for index, host in enumerate(hosts)
        if fits(request, host)
    ]
    return hosts[min(candidates)[1]].name if candidates else None


class ProfilePlacement:
    """Placement by the scheduler profile's score plugins (the ``scheduler`` kind)."""

    name = "scheduler"


Placement = PlacementPolicy | ProfilePlacement
"""What a platform places its replicas by: a ranking preset or the profile's scores."""


def make_placement_policy(name: str) -> Placement:
    """The placement a config names (one of `PLACEMENT`)."""
    kind = PLACEMENT[name]
    placement: Placement = kind.build(kind.params())
    return placement
