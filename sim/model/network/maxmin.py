"""The flows in flight over a network's directed links, and their max-min fair rates.

`MaxMinSharing` keeps the links (their capacities and the bytes they carried) and the
flows (in path classes and bottleneck groups, `sim.model.network.flows`), starts them,
ends those due and cuts those a link failure takes; the rates are set by its other half,
`sim.model.network.rates.FairRates`, once per instant with starts or ends.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

from sim.model.network.flows import BottleneckGroup, Flow, Path, PathClass
from sim.model.network.rates import FairRates

# Flows this close to their end when a completion fires end with it. The byte terms batch
# flows finishing in (practically) the same instant; the time term absorbs rounding.
_RELATIVE_SIZE_TOLERANCE = 1e-9
_ABSOLUTE_TOLERANCE_BYTES = 1e-6
RELATIVE_TIME_TOLERANCE = 1e-12
"""How far past now a completion may be and still count as now (relative to now)."""


class MaxMinSharing(FairRates):
    """The flows in flight over a set of directed links and their max-min fair rates.

    Links are numbered by the caller (`add_link`); a flow is started on a path given as
    its links. Rates are set by `update`, which the caller runs once per instant after
    every start and end of that instant; `finish_due` ends the flows whose time has come.

    Attributes:
        updates: how many times rates were updated (once per instant with changes).
        full_updates: how many of those recomputed every rate from scratch.
        active_flows: flows in flight.
    """

    def __init__(self) -> None:
        self._capacity_bytes_s: list[float] = []
        self._finished_bytes: list[float] = []
        self._stamps: list[int] = []
        self._classes: dict[Path, PathClass] = {}
        self._classes_by_link: dict[int, list[tuple[PathClass, int]]] | None = {}
        self._owners: dict[int, BottleneckGroup] = {}
        self._link_groups: dict[int, dict[BottleneckGroup, int]] = {}
        self._changed: dict[PathClass, None] = {}
        self._touched: dict[BottleneckGroup, None] = {}
        self._recheck: dict[int, None] = {}
        self._finishes: list[tuple[float, int, int, BottleneckGroup]] = []
        self._class_seq = 0
        self._group_seq = 0
        self._recompute_pending = False
        self.ended_twins: list[Path] = []
        """Twin-path classes whose last flow ended, for their owner to forget."""
        self.updates = 0
        self.full_updates = 0
        self.active_flows = 0

    # -- links ---------------------------------------------------------------------------

    def add_link(self, capacity_bytes_s: float) -> int:
        """Add a directed link; returns its id."""
        self._capacity_bytes_s.append(capacity_bytes_s)
        self._finished_bytes.append(0.0)
        self._stamps.append(0)
        return len(self._capacity_bytes_s) - 1

    def capacity_bytes_s(self, link: int) -> float:
        return self._capacity_bytes_s[link]

    def link_bytes(self, link: int, now_s: float) -> float:
        """Bytes carried on `link` up to `now_s`, by finished and active flows."""
        carried_bytes = self._finished_bytes[link]
        for path_class, weight in self._link_index().get(link, ()):
            carried_bytes += weight * (
                len(path_class.flows) * path_class.service_at(now_s)
                - path_class.start_service_sum_bytes
            )
        return carried_bytes

    def link_rates(self) -> dict[int, float]:
        """The current rate on every link that carries a flow, by link id in order."""
        index = self._link_index()
        return {
            link: sum(weight * len(c.flows) * c.rate_bytes_s for c, weight in index[link])
            for link in sorted(index)
        }

    def _link_index(self) -> dict[int, list[tuple[PathClass, int]]]:
        """The classes crossing each link, each with the flows one of its flows is there
        (its weight on its links, one on a twin path's own last link), in the order the
        classes began; rebuilt only after classes began or ended (a link's classes are not
        kept between uses, so a host's link costs no memory while it waits)."""
        index = self._classes_by_link
        if index is None:
            index = {}
            for path_class in self._classes.values():
                for link in path_class.links:
                    index.setdefault(link, []).append((path_class, path_class.weight))
                for link in path_class.tails:
                    index.setdefault(link, []).append((path_class, 1))
            self._classes_by_link = index
        return index

    def path_rates(self) -> dict[Path, float]:
        """The current rate of each flow, by path (twin paths by the name of their class)."""
        return {path: path_class.rate_bytes_s for path, path_class in self._classes.items()}

    def crossed(self, link: int) -> bool:
        """Whether a flow in flight crosses `link` (its class's links or own last links)."""
        return link in self._link_index()

    def has_class(self, path: Path) -> bool:
        """Whether flows are in flight on `path` (or the twin paths of that name)."""
        return path in self._classes

    # -- flows ---------------------------------------------------------------------------

    def start(
        self,
        path: Path,
        links: tuple[int, ...],
        size_bytes: float,
        seq: int,
        done: Any,
        now_s: float,
        weight: int = 1,
        tails: tuple[int, ...] = (),
    ) -> None:
        """Put a flow of `size_bytes` on the wire; it gets a rate at the next `update`.

        With a `weight`, `path` names twin paths (see `PathClass`): `links` end with their
        stand-in link, `tails` are their own last links, and the flow is one on each.
        """
        path_class = self._classes.get(path)
        if path_class is None:
            # Twin paths take the numbers their classes would have had apart.
            path_class = PathClass(path, links, self._class_seq, weight, tails)
            self._class_seq += weight
            self._classes[path] = path_class
            self._classes_by_link = None
        start_service_bytes = path_class.service_at(now_s)
        heapq.heappush(
            path_class.flows,
            Flow(start_service_bytes + size_bytes, seq, start_service_bytes, size_bytes, done),
        )
        path_class.start_service_sum_bytes += start_service_bytes
        self._changed[path_class] = None
        self.active_flows += path_class.weight

    def cancel(self, links: set[int], now_s: float) -> list[Flow]:
        """Cut every flow crossing one of `links` (a link failed): the bytes each carried
        so far stay counted on its links; the others' rates are recomputed from scratch.
        Returns the cut flows in start order."""
        cancelled: list[Flow] = []
        for path_class in list(self._classes.values()):
            if not path_class.flows or (
                links.isdisjoint(path_class.links) and links.isdisjoint(path_class.tails)
            ):
                continue
            service_bytes = path_class.service_at(now_s)
            weight = path_class.weight
            for flow in path_class.flows:
                carried_bytes = min(
                    max(service_bytes - flow.start_service_bytes, 0.0), flow.size_bytes
                )
                for link in path_class.links:
                    self._finished_bytes[link] += weight * carried_bytes
                for link in path_class.tails:
                    self._finished_bytes[link] += carried_bytes
                cancelled.append(flow)
            self.active_flows -= weight * len(path_class.flows)
            path_class.flows.clear()
            path_class.start_service_sum_bytes = 0.0
        if not cancelled:
            return cancelled
        self._recompute_all(now_s)
        self._changed.clear()
        self._touched.clear()
        self._recheck.clear()
        cancelled.sort(key=lambda flow: flow.seq)
        return cancelled

    def next_finish_s(self) -> float:
        """When the next flow ends at the current rates (inf when none is active)."""
        finishes = self._finishes
        while finishes:
            finish_s, _, version, group = finishes[0]
            if group.alive and version == group.version:
                return finish_s
            heapq.heappop(finishes)
        return math.inf

    def finish_due(self, now_s: float, deadline_s: float) -> list[Flow]:
        """End every flow due by `deadline_s`; returns them in start order.

        A class is due when its next flow ends by `deadline_s` at its current rate (the
        very test that set the timer); then each of its flows ends that is also due, or
        whose missing bytes are within the size tolerance.
        """
        finished: list[Flow] = []
        finishes = self._finishes
        while finishes and finishes[0][0] <= deadline_s:
            _, _, version, group = heapq.heappop(finishes)
            if not group.alive or version != group.version:
                continue
            self._touched[group] = None
            self._finish_due_in(group, now_s, deadline_s, finished)
        finished.sort(key=lambda flow: flow.seq)
        return finished

    def _finish_due_in(
        self, group: BottleneckGroup, now_s: float, deadline_s: float, finished: list[Flow]
    ) -> None:
        rate_bytes_s = group.rate_bytes_s
        clock_bytes = group.clock_bytes
        updated_s = group.updated_s
        clock_now_bytes = group.clock_at(now_s)
        finished_bytes = self._finished_bytes
        while True:
            head = group.head()
            if head is None or updated_s + (head[0] - clock_bytes) / rate_bytes_s > deadline_s:
                return
            path_class = head[1]
            heapq.heappop(group.queue)
            flows = path_class.flows
            offset_bytes = path_class.offset_bytes
            weight = path_class.weight
            while flows:
                flow = flows[0]
                finish_clock_bytes = flow.finish_service_bytes + offset_bytes
                time_due = (
                    updated_s + (finish_clock_bytes - clock_bytes) / rate_bytes_s <= deadline_s
                )
                lacking_bytes = finish_clock_bytes - clock_now_bytes
                tolerance_bytes = (
                    _RELATIVE_SIZE_TOLERANCE * flow.size_bytes + _ABSOLUTE_TOLERANCE_BYTES
                )
                if not (time_due or lacking_bytes <= tolerance_bytes):
                    break
                heapq.heappop(flows)
                finished.append(flow)
                self.active_flows -= weight
                path_class.start_service_sum_bytes -= flow.start_service_bytes
                for link in path_class.links:
                    finished_bytes[link] += weight * flow.size_bytes
                for link in path_class.tails:
                    finished_bytes[link] += flow.size_bytes
            self._changed[path_class] = None

    def split(
        self,
        path: Path,
        paths: list[tuple[Path, tuple[int, ...]]],
        member_flow: Any,
    ) -> None:
        """Replace the twin-path class `path` by one class per twin path, each with its
        share of every flow (`member_flow(flow, position)` makes it), as far along as
        the twins were and as the classes of separate flows would be: in the same group
        with the same offset, counted on their own last links instead of the stand-in,
        numbered as they would have been. Only when the stand-in link is a bottleneck (the
        hosts' own links hold the twins back) does the split change the groups: every
        rate is then recomputed at the next update.

        Args:
            path: the name of the twin paths' class.
            paths: each twin path and its links, in the class's order.
            member_flow: makes the flow of one twin path from a flow of the class.
        """
        twins = self._classes.pop(path)
        self._classes_by_link = None
        group = twins.group
        members: list[PathClass] = []
        for position, (member_path, member_links) in enumerate(paths):
            member = PathClass(member_path, member_links, twins.seq + position)
            member.flows = [member_flow(flow, position) for flow in twins.flows]
            heapq.heapify(member.flows)
            member.start_service_sum_bytes = twins.start_service_sum_bytes
            member.offset_bytes = twins.offset_bytes
            member.counted_flows = twins.counted_flows // twins.weight
            # Above the twins' in its group's heap, where they share a number.
            member.version = twins.version
            member.group = group
            self._classes[member_path] = member
            members.append(member)
        if twins in self._changed:
            changed: dict[PathClass, None] = {}
            for path_class in self._changed:
                changed.update(dict.fromkeys(members if path_class is twins else (path_class,)))
            self._changed = changed
        twins.flows = []
        twins.group = None
        if group is None:
            return
        stand_in = twins.links[-1]
        if stand_in in self._owners:
            self._recompute_pending = True
            return
        del group.classes[twins]
        if twins.counted_flows:
            self._count(stand_in, group, -twins.counted_flows)
        for member in members:
            group.classes[member] = None
            if member.counted_flows:
                self._count(member.links[-1], group, member.counted_flows)
            if member.flows:
                group.enqueue(member)
