"""The pods on a node, as a node scaler sees them, and how a drained node's pods move.

A node scaler that removes a node which still runs pods drains it, as ``kubectl drain``
and the autoscalers do: the node is cordoned (nothing new lands on it) and each pod is
evicted; its owner (a Deployment's ReplicaSet, here the service's fleet or the deployer)
starts a replacement at once, which the scheduler places on another node, while the
evicted pod finishes what it was doing and stops. Pods pinned to their node (one per
node, as a DaemonSet's) are not moved: they go with the node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sim.model.hosts.host import Host
from sim.model.hosts.replica import Ledger
from sim.policies.scheduling.objects import PodInfo


@dataclass(frozen=True, slots=True)
class PodOnNode:
    """One replica on a node: what it requests, and whether it may be moved.

    Attributes:
        name: the replica's name.
        vcpu: the vCPU it requests.
        memory_bytes: the memory it requests.
        movable: False for a replica pinned to its node (a per-host deployment, as a
            DaemonSet's pod), which runs on every node and is never moved.
        starting: True while it is still starting (placed, pulling or initialising).
        spec: the pod as the scheduler placed it (its labels and constraints); None for
            a replica the scheduler did not place.
    """

    name: str
    vcpu: float
    memory_bytes: int
    movable: bool = True
    starting: bool = False
    spec: PodInfo | None = None


class Owner(Protocol):
    """What owns replicas and replaces an evicted one (a fleet, the deployer)."""

    def owns(self, replica: str) -> bool: ...

    def is_daemon(self, replica: str) -> bool: ...

    def evict(self, replica: str) -> None: ...


class Workloads(Protocol):
    """The pods on each node, and their eviction."""

    def pods_on(self, host: Host) -> list[PodOnNode]:
        """The replicas on `host`, starting ones first, in the order they came."""
        ...

    def evict(self, replica: str) -> None:
        """Evict `replica`: its owner replaces it elsewhere and it stops."""
        ...


class LedgerWorkloads:
    """The pods a run's ledger holds on each host, evicted through their owners.

    Args:
        ledger: every replica's holdings and start-ups.
        owners: whoever owns the replicas (the service's fleet, the deployer).
    """

    def __init__(self, ledger: Ledger, owners: Sequence[Owner]) -> None:
        self.ledger = ledger
        self.owners = tuple(owners)

    def _owner(self, replica: str) -> Owner | None:
        return next((owner for owner in self.owners if owner.owns(replica)), None)

    def pods_on(self, host: Host) -> list[PodOnNode]:
        specs = {pod.name: pod for pod in host.node.pods}
        pods = []
        for name in self.ledger.on_host(host):
            owner = self._owner(name)
            movable = owner is not None and not owner.is_daemon(name)
            spec = specs.get(name)
            startup = self.ledger.starting.get(name)
            if startup is not None:
                app = startup.app
                pods.append(PodOnNode(name, app.vcpu, app.memory_bytes, movable, True, spec))
                continue
            holding = self.ledger.get(name)
            if holding is not None:
                pods.append(
                    PodOnNode(name, holding.vcpu, holding.memory_bytes, movable, False, spec)
                )
        return pods

    def evict(self, replica: str) -> None:
        owner = self._owner(replica)
        if owner is not None:
            owner.evict(replica)
