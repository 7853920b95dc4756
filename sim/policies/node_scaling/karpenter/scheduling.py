"""Karpenter's provisioning scheduler: which pods go to which node, and which new
NodeClaims to launch (``pkg/controllers/provisioning/scheduling/scheduler.go``,
``queue.go``, ``nodeclaim.go``).

Pods are taken largest first (CPU, then memory, then the order they came). Each pod
goes, in this order of preference:

1. to the first existing node it fits (nodes that have joined first, then those still
   starting, each kind by name);
2. to a NodeClaim already planned in this solve, the one with the fewest pods first: a
   planned NodeClaim keeps every instance type option that can hold all its pods, and
   the pod joins it if any option still can;
3. to a new NodeClaim of the first NodePool (by weight, then name) with an option that
   holds it within the pool's remaining limits; the limits are charged the largest
   option's capacity (``subtractMax``).

A pod that fits none of these stays pending. What fits is the scheduler's filters'
answer (`sim.policies.node_scaling.fit`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from sim.policies.node_scaling import Pod
from sim.policies.node_scaling.fit import DEFAULT_CHECK, FitCheck, Room, why_not
from sim.policies.node_scaling.karpenter.catalogue import Offering, by_price, launch_choice


@dataclass(frozen=True, slots=True)
class Remaining:
    """What a NodePool may still launch (None: no limit), in instance capacity."""

    vcpu: float | None = None
    memory_bytes: int | None = None
    nodes: int | None = None

    def allows(self, offering: Offering) -> bool:
        """Whether one more node of `offering` stays within the limits."""
        it = offering.instance_type
        return (
            (self.nodes is None or self.nodes >= 1)
            and (self.vcpu is None or it.vcpu <= self.vcpu + 1e-9)
            and (self.memory_bytes is None or it.memory_bytes <= self.memory_bytes)
        )

    def less(self, offerings: Sequence[Offering]) -> Remaining:
        """What remains once a NodeClaim of these options is charged its largest."""
        vcpu = max(o.instance_type.vcpu for o in offerings)
        memory = max(o.instance_type.memory_bytes for o in offerings)
        return Remaining(
            None if self.vcpu is None else self.vcpu - vcpu,
            None if self.memory_bytes is None else self.memory_bytes - memory,
            None if self.nodes is None else self.nodes - 1,
        )


@dataclass(frozen=True, slots=True)
class PoolTemplate:
    """A NodePool as the scheduler sees it: its offerings (what its requirements allow,
    cheapest first) and its weight."""

    name: str
    offerings: tuple[Offering, ...]
    weight: int = 0


@dataclass(slots=True)
class NewNodeClaim:
    """A node to launch: its NodePool, its pods and the offerings that hold them all."""

    pool: str
    offerings: list[Offering]
    pods: list[Pod] = field(default_factory=list)

    def options_with(self, pod: Pod, check: FitCheck) -> list[Offering]:
        """The offerings that hold this claim's pods and `pod` too."""
        kept = []
        for offering in self.offerings:
            room = Room.empty(offering.shape)
            for placed in (*self.pods, pod):
                if why_not(placed, room, check) is not None:
                    break
                room.take(placed)
            else:
                kept.append(offering)
        return kept

    @property
    def launch(self) -> Offering | None:
        """The offering its launch takes."""
        return launch_choice(self.offerings)


@dataclass(frozen=True, slots=True)
class Results:
    """What a solve decided: pods placed on existing nodes (by node name), new
    NodeClaims, and the pods no node could take."""

    existing: Mapping[str, tuple[Pod, ...]]
    new_claims: tuple[NewNodeClaim, ...]
    unscheduled: tuple[Pod, ...]

    def all_scheduled(self, pods: Collection[str]) -> bool:
        """Whether every pod named in `pods` found a node."""
        return not any(pod.name in pods for pod in self.unscheduled)


def pod_order(pods: Sequence[Pod]) -> list[Pod]:
    """Largest CPU first, then largest memory, then the order they came."""
    return [
        pod
        for _, pod in sorted(
            enumerate(pods), key=lambda item: (-item[1].vcpu, -item[1].memory_bytes, item[0])
        )
    ]


def solve(
    pods: Sequence[Pod],
    existing: Sequence[Room],
    pools: Sequence[PoolTemplate],
    remaining: Mapping[str, Remaining] | None = None,
    check: FitCheck = DEFAULT_CHECK,
    closed: Collection[str] = (),
    moving: Collection[str] = (),
) -> Results:
    """Where `pods` go, and the NodeClaims to launch for them.

    Args:
        pods: the pods to place (pending pods, and in a consolidation simulation the
            candidates' pods).
        existing: the nodes that exist or are starting, in the order to try them.
        pools: the NodePools.
        remaining: what each NodePool may still launch (a pool not listed: no limit).
        check: the scheduler's filters.
        closed: nodes the pods named in `moving` may not go to (nodes still within
            their ``consolidateAfter``, in a consolidation simulation).
        moving: the pods `closed` applies to.
    """
    limits = dict(remaining or {})
    ordered_pools = sorted(pools, key=lambda pool: (-pool.weight, pool.name))
    placed: dict[str, list[Pod]] = {}
    claims: list[NewNodeClaim] = []
    unscheduled: list[Pod] = []
    for pod in pod_order(pods):
        room = next(
            (
                room
                for room in existing
                if not (pod.name in moving and room.name in closed)
                and why_not(pod, room, check) is None
            ),
            None,
        )
        if room is not None:
            room.take(pod)
            placed.setdefault(room.name, []).append(pod)
            continue
        claims.sort(key=lambda claim: len(claim.pods))
        joined = False
        for claim in claims:
            options = claim.options_with(pod, check)
            if options:
                claim.offerings = options
                claim.pods.append(pod)
                joined = True
                break
        if joined:
            continue
        for pool in ordered_pools:
            allowed = limits.get(pool.name, Remaining())
            options = [o for o in pool.offerings if allowed.allows(o)]
            claim = NewNodeClaim(pool.name, by_price(options))
            options = claim.options_with(pod, check)
            if options:
                claim.offerings = options
                claim.pods.append(pod)
                claims.append(claim)
                limits[pool.name] = allowed.less(options)
                break
        else:
            unscheduled.append(pod)
    return Results(
        {name: tuple(pods) for name, pods in placed.items()}, tuple(claims), tuple(unscheduled)
    )
