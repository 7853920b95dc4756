"""Flows in flight as the max-min solver keeps them: path classes and bottleneck groups.

A *path class* is the set of active flows over the same directed links. Its flows are
symmetric, so they always get the same rate, and the class keeps them in a heap by the
*service* (bytes received by any one of them) at which each ends: the class's service
when the flow started plus the flow's size.

A *bottleneck group* is the set of classes whose rate one saturated link sets. They all
get the group's rate, so the group keeps one virtual clock: the bytes any one of its
flows has received since the group was formed. A class's service is that clock minus an
offset fixed when the class joined, so changing a group's rate advances one clock,
whatever the number of classes and flows in the group. The group keeps its classes in a
heap by the clock value at which each one's next flow ends, so its next completion is
its heap's head.
"""

from __future__ import annotations

import heapq
import math
from typing import Any, NamedTuple

Path = tuple[str, ...]
"""The nodes a transfer visits, source first."""


class Flow(NamedTuple):
    """One transfer's bytes in flight, ordered in its class by when they end."""

    finish_service_bytes: float
    seq: int
    start_service_bytes: float
    size_bytes: float
    done: Any


class PathClass:
    """The active flows over one path; symmetric, so they share one rate.

    A class may also stand for the same flows on `weight` twin paths (`Network.send_together`):
    paths alike but for their last link, a host's own, of equal capacity. Each of its
    flows is then `weight` flows, one per path, and counts `weight` times on every link
    of `links`, which ends with one stand-in link of `weight` times a last link's
    capacity; `tails` are the real last links, each carrying one of those flows.

    Attributes:
        path: the nodes of the path (for twin paths, a name the class is known by).
        links: the directed links of the path, by id.
        weight: how many twin paths the class stands for (1: one path).
        tails: for twin paths, the real last link of each, by id.
        seq: creation order, to break ties between classes deterministically.
        flows: a heap of `Flow` by finish service.
        group: the bottleneck group that sets the class's rate; None until the rates are
            next updated.
        offset_bytes: the group clock value at which this class's service was 0.
        start_service_sum_bytes: the sum of the flows' start services, so that the bytes
            the class has carried need no visit of its flows.
        counted_flows: how many flows the solver's per-link counts include (each counted
            `weight` times).
        version: bumped whenever the class's entry in its group's heap goes stale.
    """

    __slots__ = (
        "path",
        "links",
        "weight",
        "tails",
        "seq",
        "flows",
        "group",
        "offset_bytes",
        "start_service_sum_bytes",
        "counted_flows",
        "version",
    )

    def __init__(
        self,
        path: Path,
        links: tuple[int, ...],
        seq: int,
        weight: int = 1,
        tails: tuple[int, ...] = (),
    ) -> None:
        self.path = path
        self.links = links
        self.weight = weight
        self.tails = tails
        self.seq = seq
        self.flows: list[Flow] = []
        self.group: BottleneckGroup | None = None
        self.offset_bytes = 0.0
        self.start_service_sum_bytes = 0.0
        self.counted_flows = 0
        self.version = 0

    @property
    def weighted_flows(self) -> int:
        """Its flows as the links count them: each `weight` times."""
        return len(self.flows) * self.weight

    @property
    def rate_bytes_s(self) -> float:
        """The rate of each of the class's flows (0 until it has a group)."""
        return 0.0 if self.group is None else self.group.rate_bytes_s

    def service_at(self, now_s: float) -> float:
        """What any one flow of the class would have received since the class began."""
        group = self.group
        return 0.0 if group is None else group.clock_at(now_s) - self.offset_bytes


class BottleneckGroup:
    """Classes whose rate the same saturated link sets, with one virtual clock.

    Attributes:
        bottleneck: the link, by id.
        seq: creation order, to break ties between groups deterministically.
        rate_bytes_s: the rate of each flow of the group.
        clock_bytes: service per flow since the group was formed, as of `updated_s`.
        classes: the member classes, in joining order.
        queue: a heap of ``(clock at the class's next end, class seq, class version,
            class)``; entries whose version is not the class's are stale.
        crossed: links the group's classes cross that are other groups' bottlenecks.
        shared: links the group's classes cross, bottleneck of no group, that other
            groups' classes cross too.
        ceilings: a heap of ``(capacity / the group's flows on it, link, stamp)`` for the
            links only this group's classes cross (and that are no bottleneck): the
            rate at which such a link would fill. Entries whose stamp is not the link's
            are stale.
        version: bumped whenever the group's next completion is scheduled anew.
        alive: False once a full recomputation has replaced the group.
    """

    __slots__ = (
        "bottleneck",
        "seq",
        "rate_bytes_s",
        "clock_bytes",
        "updated_s",
        "classes",
        "queue",
        "crossed",
        "shared",
        "ceilings",
        "version",
        "alive",
    )

    def __init__(self, bottleneck: int, seq: int, rate_bytes_s: float, now_s: float) -> None:
        self.bottleneck = bottleneck
        self.seq = seq
        self.rate_bytes_s = rate_bytes_s
        self.clock_bytes = 0.0
        self.updated_s = now_s
        self.classes: dict[PathClass, None] = {}
        self.queue: list[tuple[float, int, int, PathClass]] = []
        self.crossed: dict[int, None] = {}
        self.shared: dict[int, None] = {}
        self.ceilings: list[tuple[float, int, int]] = []
        self.version = 0
        self.alive = True

    def clock_at(self, now_s: float) -> float:
        return self.clock_bytes + self.rate_bytes_s * (now_s - self.updated_s)

    def advance(self, now_s: float) -> None:
        """Bring the clock up to `now_s`, before the rate changes."""
        self.clock_bytes += self.rate_bytes_s * (now_s - self.updated_s)
        self.updated_s = now_s

    def enqueue(self, path_class: PathClass) -> None:
        """(Re-)enter a member class by its next end; its older entries go stale."""
        path_class.version += 1
        heapq.heappush(
            self.queue,
            (
                path_class.flows[0].finish_service_bytes + path_class.offset_bytes,
                path_class.seq,
                path_class.version,
                path_class,
            ),
        )
        if len(self.queue) > 2 * len(self.classes) + 32:
            self.queue = [entry for entry in self.queue if _current(entry, self)]
            heapq.heapify(self.queue)

    def head(self) -> tuple[float, PathClass] | None:
        """The clock value at which the next flow of the group ends, and its class."""
        queue = self.queue
        while queue:
            entry = queue[0]
            if _current(entry, self):
                return entry[0], entry[3]
            heapq.heappop(queue)
        return None

    def next_finish_s(self) -> float:
        """When the group's next flow ends at the current rate (inf if none)."""
        head = self.head()
        if head is None:
            return math.inf
        return self.updated_s + (head[0] - self.clock_bytes) / self.rate_bytes_s


def _current(entry: tuple[float, int, int, PathClass], group: BottleneckGroup) -> bool:
    path_class = entry[3]
    return entry[2] == path_class.version and path_class.group is group and bool(path_class.flows)
