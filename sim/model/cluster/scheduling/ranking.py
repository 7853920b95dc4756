"""The cluster's hosts ranked by a placement preset, kept in a heap between placements.

A ranking preset (``spread``, ``binpack``) chooses the feasible host of lowest rank
(`PlacementPolicy.rank`), the earliest in the cluster's order on ties. Scanning every
host for every replica costs O(hosts) per placement, O(hosts x replicas) for a roll-out.
A host's rank changes only when something is placed on it or leaves it, so a heap per
(policy, request) keeps every host by its rank: a change pushes the host's new entry,
older entries go stale, and the best feasible host is the heap's first current entry. A
host that is not feasible is dropped from the heap until its next change — which holds
only while a host's feasibility depends on the host alone (its room, pods, labels and
taints), so the scheduler scans instead for a pod whose filters look at other nodes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

from sim.model.hosts.host import Host
from sim.policies.placement import PlacementPolicy, PlacementRequest, Rank

_Entry = tuple[Rank, int, int, Host]


class HostRanking:
    """The hosts of a cluster ranked by one policy for one request.

    Args:
        policy: the placement policy.
        request: the resources one replica asks for.
        hosts: the cluster's hosts, in their order.
    """

    def __init__(
        self, policy: PlacementPolicy, request: PlacementRequest, hosts: Sequence[Host]
    ) -> None:
        self.policy = policy
        self.request = request
        self._order = {host: order for order, host in enumerate(hosts)}
        self._heap: list[_Entry] = [self._entry(host) for host in hosts]
        heapq.heapify(self._heap)

    def _entry(self, host: Host) -> _Entry:
        return (
            self.policy.rank(self.request, host.view()),
            self._order[host],
            host.reservations_changed,
            host,
        )

    def changed(self, host: Host) -> None:
        """Enter `host` again at its new rank, after its reservations changed."""
        if host not in self._order:
            return
        heapq.heappush(self._heap, self._entry(host))
        if len(self._heap) > 2 * len(self._order) + 64:
            self._heap = [entry for entry in self._heap if self._current(entry)]
            heapq.heapify(self._heap)

    def best(self, feasible: Callable[[Host], bool]) -> Host | None:
        """The feasible host of lowest rank, the earliest on ties; None if none is."""
        heap = self._heap
        while heap:
            entry = heap[0]
            if self._current(entry) and feasible(entry[3]):
                return entry[3]
            heapq.heappop(heap)
        return None

    def _current(self, entry: _Entry) -> bool:
        return entry[2] == entry[3].reservations_changed
