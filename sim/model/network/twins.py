"""Transfers from one source to many hosts at once, over twin paths.

When thousands of hosts download the same blob in the same instant, their paths from the
registry are alike but for the last link, each host's own, and every such link carries
only that host's transfer: max-min sharing gives all of them the same rate at all times.
So the network moves them as one flow that counts once per host
(`sim.model.network.flows.PathClass` with a weight): one flow to start, to rate and to end
instead of thousands, with every rate, completion time and byte count as the separate flows
would have had them. Each host keeps its own sequence number, so that the transfers are
told of their end in the order separate transfers would be.

A twin set lasts as long as its flows do; should anything else come to use a host's own
link meanwhile, the set is split into one flow per host, as far along as the set was.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from itertools import pairwise

import simpy

from sim.model.network.delivery import Done, check_size
from sim.model.network.flows import Flow, Path
from sim.model.network.graph import GraphLike
from sim.model.network.links import Links
from sim.model.network.maxmin import MaxMinSharing
from sim.model.primitives.clock import after

Arrived = Callable[[int, list[int]], None]
"""Told that transfers of one size (by index) have arrived at some destinations (by
index), in the order separate transfers would be told."""
Failed = Callable[[int, list[int], Exception], None]
"""Told that transfers of one size have failed at some destinations, with the error."""


class TwinSet:
    """Destinations on twin paths from one source, whose transfers move together.

    Attributes:
        name: the name the set's flows are known by in the max-min solver.
        paths: each destination's path and its links, in the set's order.
        tails: each destination's own last link, by id.
    """

    __slots__ = ("name", "paths", "tails")

    def __init__(
        self, name: Path, paths: list[tuple[Path, tuple[int, ...]]], tails: tuple[int, ...]
    ) -> None:
        self.name = name
        self.paths = paths
        self.tails = tails


class TwinFlow:
    """What one flow of a twin set reports its end to: the transfers of size `index` of
    one send to the set's destinations, at `members` among that send's destinations, whose
    sequence numbers are ``first_seq + member * stride + index``."""

    __slots__ = ("twins", "index", "members", "first_seq", "stride", "arrived", "failed")

    def __init__(
        self,
        twins: TwinSet,
        index: int,
        members: list[int],
        first_seq: int,
        stride: int,
        arrived: Arrived,
        failed: Failed,
    ) -> None:
        self.twins = twins
        self.index = index
        self.members = members
        self.first_seq = first_seq
        self.stride = stride
        self.arrived = arrived
        self.failed = failed

    def seq(self, position: int) -> int:
        """The sequence number of the transfer to the set's member at `position`."""
        return self.first_seq + self.members[position] * self.stride + self.index


class MemberDelivery:
    """One destination's transfer of size `index` reporting as a transfer of its own would
    (`sim.model.network.network.Delivery`): sent apart from its twins, or split from them."""

    __slots__ = ("arrived", "failed", "index", "member")

    def __init__(self, arrived: Arrived, failed: Failed, index: int, member: int) -> None:
        self.arrived = arrived
        self.failed = failed
        self.index = index
        self.member = member

    def succeed(self, value: object = None) -> None:
        self.arrived(self.index, [self.member])

    def fail(self, exception: Exception) -> None:
        self.failed(self.index, [self.member], exception)


def member_flow(flow: Flow, position: int) -> Flow:
    """The flow of the member at `position` of a twin flow's set, as far along as the set."""
    twin: TwinFlow = flow.done
    return Flow(
        flow.finish_service_bytes,
        twin.seq(position),
        flow.start_service_bytes,
        flow.size_bytes,
        MemberDelivery(twin.arrived, twin.failed, twin.index, twin.members[position]),
    )


def in_order(flows: Sequence[Flow]) -> Iterator[tuple[Flow, list[int]]]:
    """The ends of `flows` as separate transfers would have them, in sequence order:
    ``(flow, [])`` for a flow of its own, ``(flow, members)`` for a run of members of a
    twin flow whose turns come one right after the other."""
    if not any(type(flow.done) is TwinFlow for flow in flows):
        for flow in flows:
            yield flow, []
        return
    if len(flows) == 1:
        # One twin flow (a storm's layer ending everywhere at once): its members' turns
        # are in their order among the destinations, numbered in that order.
        (flow,) = flows
        members = flow.done.members
        if all(a < b for a, b in pairwise(members)):
            yield flow, members
            return
    turns: list[tuple[int, int, Flow]] = []
    for flow in flows:
        done = flow.done
        if type(done) is TwinFlow:
            members = done.members
            turns.extend(
                (done.seq(position), member, flow) for position, member in enumerate(members)
            )
        else:
            turns.append((flow.seq, -1, flow))
    turns.sort(key=lambda turn: turn[0])
    run: list[int] = []
    current: Flow | None = None
    for _, member, flow in turns:
        if member >= 0 and flow is current:
            run.append(member)
            continue
        if current is not None:
            yield current, run
        current, run = flow, ([member] if member >= 0 else [])
    if current is not None:
        yield current, run


class TwinSets(Links, ABC):
    """The part of a `sim.model.network.network.Network` that sends to many hosts at
    once (`send_together`) and keeps the twin sets in flight; a flow's own life (its
    latency, its start, its end) is the network's."""

    env: simpy.Environment
    _next_seq: int

    def __init__(self, graph: GraphLike, adopt: bool, sharing: MaxMinSharing) -> None:
        super().__init__(graph, adopt, sharing)
        self._twin_sets: dict[Path, TwinSet] = {}
        self._twin_sets_made = 0
        self._twin_tails: dict[int, TwinSet] = {}

    @abstractmethod
    def _transfer(self, src: str, dst: str, size_bytes: float, done: Done) -> None: ...

    @abstractmethod
    def _start_flow(
        self, path: Path, size_bytes: float, seq: int, done: Done, _: object = None
    ) -> None: ...

    @abstractmethod
    def _request_update(self) -> None: ...

    def send_together(
        self,
        src: str,
        dsts: Sequence[str],
        sizes: Sequence[float],
        arrived: Arrived,
        failed: Failed,
    ) -> None:
        """Send every size in `sizes` from `src` to every node in `dsts`: what `send`
        would do for each destination in turn and each size in turn, in that order, with
        the transfers to destinations on twin paths (`sim.model.network.twins`) moving as
        one flow per size. `arrived(index, members)` runs as the transfers of
        ``sizes[index]`` to those destinations (indices into `dsts`) arrive;
        `failed(index, members, error)` as for `send`. Both are told in the order
        separate transfers would be.

        Raises:
            ValueError: as `transfer`, for any destination or size.
        """
        for size_bytes in sizes:
            check_size(size_bytes)
        stride = len(sizes)
        if self._down or stride == 0:
            for member, dst in enumerate(dsts):
                for index, size_bytes in enumerate(sizes):
                    self._transfer(
                        src, dst, size_bytes, MemberDelivery(arrived, failed, index, member)
                    )
            return
        first_seq = self._next_seq
        self._next_seq += len(dsts) * stride
        distances = self._routes_from(src)[0]
        # Destinations alike in path but for its last link, that link's capacity and the
        # latency: twins, if nothing else uses their own links when their bytes start.
        paths: list[Path] = []
        alike: dict[tuple[Path, float, float], list[int]] = {}
        for member, dst in enumerate(dsts):
            path = self.path(src, dst)
            paths.append(path)
            if len(path) == 1:
                for index in range(stride):
                    arrived(index, [member])
                continue
            tail = self._link_ids[(path[-2], path[-1])]
            key = (path[:-1], self._sharing.capacity_bytes_s(tail), distances[dst])
            alike.setdefault(key, []).append(member)
        starts: dict[float, list[list[int]]] = {}
        for (_, _, latency_s), members in alike.items():
            starts.setdefault(latency_s, []).append(members)
        for latency_s, sets in starts.items():
            start = partial(self._start_together, paths, sizes, sets, first_seq, arrived, failed)
            if latency_s > 0:
                after(self.env, latency_s, start)
            else:
                start()

    def _start_together(
        self,
        paths: list[Path],
        sizes: Sequence[float],
        sets: list[list[int]],
        first_seq: int,
        arrived: Arrived,
        failed: Failed,
        _: object = None,
    ) -> None:
        """Put the bytes of `send_together`'s transfers on the wire: to a live twin set's
        members (all of them), as more flows of that set; to two or more other twins, as a
        new set; to the rest (a lone destination, one whose own link is in use, any while
        a link is down), one by one. Transfers of no bytes are told at once, in order."""
        stride = len(sizes)
        at_once: list[tuple[int, int, int]] = []
        for members in sets:
            alone: list[int] = []
            fresh: list[int] = []
            joined: dict[TwinSet, dict[str, int]] = {}
            for member in members:
                path = paths[member]
                tail = self._link_ids[(path[-2], path[-1])]
                owner = self._twin_tails.get(tail)
                if self._down_ids:
                    alone.append(member)
                elif owner is not None:
                    joined.setdefault(owner, {})[path[-1]] = member
                elif len(members) > 1 and not self._sharing.crossed(tail):
                    fresh.append(member)
                else:
                    alone.append(member)
            twins: list[tuple[TwinSet, list[int]]] = []
            for owner, by_node in joined.items():
                if len(by_node) == len(owner.tails):
                    twins.append((owner, [by_node[path[-1]] for path, _ in owner.paths]))
                else:
                    alone.extend(by_node.values())
            if len(fresh) > 1 and any(sizes):
                twins.append((self._twin_set(fresh, paths), fresh))
            else:
                alone.extend(fresh)
            for member in sorted(alone):
                for index, size_bytes in enumerate(sizes):
                    seq = first_seq + member * stride + index
                    if size_bytes == 0 and not self._down_ids:
                        at_once.append((seq, index, member))
                        continue
                    delivery = MemberDelivery(arrived, failed, index, member)
                    self._start_flow(paths[member], size_bytes, seq, delivery)
            for twin_set, positions in twins:
                self._start_twin_flows(twin_set, positions, sizes, first_seq, arrived, failed)
                at_once.extend(
                    (first_seq + member * stride + index, index, member)
                    for index, size_bytes in enumerate(sizes)
                    if size_bytes == 0
                    for member in positions
                )
        for _, index, member in sorted(at_once):
            arrived(index, [member])

    def _start_twin_flows(
        self,
        twin_set: TwinSet,
        positions: list[int],
        sizes: Sequence[float],
        first_seq: int,
        arrived: Arrived,
        failed: Failed,
    ) -> None:
        """One flow per size (of some bytes) for the twin set, whose members are at
        `positions` among the destinations of the send."""
        stride = len(sizes)
        for index, size_bytes in enumerate(sizes):
            if size_bytes == 0:
                continue
            flow = TwinFlow(twin_set, index, positions, first_seq, stride, arrived, failed)
            self._sharing.start(
                twin_set.name,
                self._path_links[twin_set.name],
                size_bytes,
                flow.seq(0),
                flow,
                self.env.now,
                len(positions),
                twin_set.tails,
            )
        self._request_update()

    def _twin_set(self, members: list[int], paths: list[Path]) -> TwinSet:
        """A new twin set of `members`, with a stand-in for their own links: one link of
        as many times a member's capacity as there are members."""
        member_paths = [(paths[member], self._links_of(paths[member])) for member in members]
        first_path, first_links = member_paths[0]
        self._twin_sets_made += 1
        name = (*first_path[:-1], f"{len(members)} twins #{self._twin_sets_made}")
        stand_in = self._sharing.add_link(
            len(members) * self._sharing.capacity_bytes_s(first_links[-1])
        )
        self._path_links[name] = (*first_links[:-1], stand_in)
        twin_set = TwinSet(name, member_paths, tuple(links[-1] for _, links in member_paths))
        self._twin_sets[name] = twin_set
        for tail in twin_set.tails:
            self._twin_tails[tail] = twin_set
        return twin_set

    def _split_twins_on(self, links: tuple[int, ...]) -> None:
        """Split every twin set whose own links `links` cross: one flow per member."""
        for link in links:
            twin_set = self._twin_tails.get(link)
            if twin_set is None:
                continue
            self._sharing.split(twin_set.name, twin_set.paths, member_flow)
            self._drop_twin_set(twin_set)

    def _drop_twin_set(self, twin_set: TwinSet) -> None:
        del self._twin_sets[twin_set.name]
        del self._path_links[twin_set.name]
        for tail in twin_set.tails:
            del self._twin_tails[tail]

    def _forget_ended_twins(self) -> None:
        ended = self._sharing.ended_twins
        while ended:
            twin_set = self._twin_sets.get(ended.pop())
            if twin_set is not None:
                self._drop_twin_set(twin_set)
