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

from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise

from sim.model.network.flows import Flow, Path

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
