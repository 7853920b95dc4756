"""Max-min fair rates of the flows in flight, kept exact and updated incrementally.

In a max-min fair allocation every flow has a *bottleneck*: a full link on its path where
no other flow gets more. Path classes whose bottleneck is the same link form a
`BottleneckGroup` with one rate. The allocation is the max-min fair one exactly when:

* (A) each group's bottleneck is full: its rate is what the flows of other groups leave
  of the link's capacity, shared equally among its own flows;
* (B) no flow crossing a group's bottleneck gets more than the group's rate;
* (C) no other link carries more than its capacity.

When flows start or end, the groups they belong to are *touched*, and so is every group
whose bottleneck a touched group's flows cross (its share depends on theirs). Only the
touched groups get new rates, by progressive filling over their bottlenecks with every
other group's rate held; then (A)–(C) are checked where anything changed: (B) on the
touched bottlenecks, (C) on the links the touched groups' flows cross, from a heap of the
rates at which the links only one group crosses would fill. If every check holds, the
rates are the max-min fair ones (they are unique), found at a cost that does not grow
with the flows of the groups left alone. If a check fails — a bottleneck moves: a link
fills first, a group empties, a new class meets no bottleneck — every rate is recomputed
by progressive filling over all classes, as the first version of this model did on every
change.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from typing import Any

from sim.model.network.flows import BottleneckGroup, Flow, Path, PathClass

# Flows this close to their end when a completion fires end with it. The byte terms batch
# flows finishing in (practically) the same instant; the time term absorbs rounding.
_RELATIVE_SIZE_TOLERANCE = 1e-9
_ABSOLUTE_TOLERANCE_BYTES = 1e-6
RELATIVE_TIME_TOLERANCE = 1e-12
"""How far past now a completion may be and still count as now (relative to now)."""

# Rates and loads computed along different routes differ by rounding; a check of (B) or
# (C) fails only beyond that.
_CHECK_TOLERANCE = 1e-12


class MaxMinSharing:
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

    # -- rates ---------------------------------------------------------------------------

    def update(self, now_s: float) -> None:
        """Set the max-min fair rates after this instant's starts and ends."""
        self.updates += 1
        if self._recompute_pending or not self._update_locally(now_s):
            self._recompute_pending = False
            self._recompute_all(now_s)
        self._changed.clear()
        self._touched.clear()
        self._recheck.clear()

    def _update_locally(self, now_s: float) -> bool:
        """New rates for the touched groups only; False when a bottleneck moves."""
        touched = self._touched
        for path_class in self._changed:
            flows_now = path_class.weighted_flows
            group = path_class.group
            if group is None:
                if flows_now == 0:
                    continue
                group = self._bottleneck_group_on(path_class.links)
                if group is None:
                    return False
                path_class.group = group
                path_class.offset_bytes = group.clock_at(now_s)
                group.classes[path_class] = None
            touched[group] = None
            delta = flows_now - path_class.counted_flows
            if delta:
                for link in path_class.links:
                    self._count(link, group, delta)
                path_class.counted_flows = flows_now
            if flows_now:
                group.enqueue(path_class)
            else:
                del group.classes[path_class]
                self._forget(path_class)
                if not group.classes:
                    return False
        groups = self._with_dependents(touched)
        rates = self._fill(groups)
        if rates is None or not self._is_max_min_fair(groups, rates):
            return False
        for group, rate_bytes_s in rates.items():
            group.advance(now_s)
            group.rate_bytes_s = rate_bytes_s
            self._schedule(group)
        return True

    def _bottleneck_group_on(self, links: Iterable[int]) -> BottleneckGroup | None:
        """The slowest group whose bottleneck is one of `links` (a new class joins it)."""
        chosen: BottleneckGroup | None = None
        for link in links:
            group = self._owners.get(link)
            if group is not None and (chosen is None or group.rate_bytes_s < chosen.rate_bytes_s):
                chosen = group
        return chosen

    def _count(self, link: int, group: BottleneckGroup, delta: int) -> None:
        """Add `delta` flows of `group` on `link`, keeping the link's role for every
        group that crosses it (own bottleneck, crossed, shared or sole) up to date."""
        groups_on_link = self._link_groups.setdefault(link, {})
        before = groups_on_link.get(group, 0)
        after = before + delta
        if after:
            groups_on_link[group] = after
        else:
            del groups_on_link[group]
            if not groups_on_link:
                del self._link_groups[link]
        owner = self._owners.get(link)
        if owner is not None:
            self._touched[owner] = None
            if owner is not group:
                if not before:
                    group.crossed[link] = None
                elif not after:
                    del group.crossed[link]
            return
        self._stamps[link] += 1
        if not after:
            group.shared.pop(link, None)
            if len(groups_on_link) == 1:
                ((other, flows),) = groups_on_link.items()
                other.shared.pop(link, None)
                self._push_ceiling(other, link, flows)
        elif len(groups_on_link) == 1:
            self._push_ceiling(group, link, after)
        else:
            group.shared[link] = None
            if not before and len(groups_on_link) == 2:
                for other in groups_on_link:
                    other.shared[link] = None
            if delta > 0:
                self._recheck[link] = None

    def _push_ceiling(self, group: BottleneckGroup, link: int, flows: int) -> None:
        ceilings = group.ceilings
        heapq.heappush(ceilings, (self._capacity_bytes_s[link] / flows, link, self._stamps[link]))
        if len(ceilings) > 64 and len(ceilings) > 4 * len(group.classes):
            stamps = self._stamps
            group.ceilings = [entry for entry in ceilings if entry[2] == stamps[entry[1]]]
            heapq.heapify(group.ceilings)

    def _ceiling(self, group: BottleneckGroup) -> float:
        """The lowest rate at which a link only this group crosses would be full."""
        ceilings = group.ceilings
        stamps = self._stamps
        while ceilings:
            ceiling, link, stamp = ceilings[0]
            if stamp == stamps[link]:
                return ceiling
            heapq.heappop(ceilings)
        return math.inf

    def _forget(self, path_class: PathClass) -> None:
        """Drop a class whose last flow has ended."""
        del self._classes[path_class.path]
        self._classes_by_link = None
        path_class.group = None
        if path_class.tails:
            self.ended_twins.append(path_class.path)

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

    def _with_dependents(self, touched: dict[BottleneckGroup, None]) -> dict[BottleneckGroup, None]:
        """The touched groups and, transitively, the groups whose bottleneck they cross."""
        if len(touched) == 1 and not next(iter(touched)).crossed:
            return touched
        groups = dict(touched)
        pending = list(groups)
        owners = self._owners
        while pending:
            for link in pending.pop().crossed:
                owner = owners[link]
                if owner not in groups:
                    groups[owner] = None
                    pending.append(owner)
        return groups

    def _fill(self, groups: dict[BottleneckGroup, None]) -> dict[BottleneckGroup, float] | None:
        """Progressive filling over the groups' bottlenecks, other groups' rates held.

        Returns the new rates, or None when a group would be stopped by a bottleneck
        not its own (its bottleneck moves).
        """
        link_groups = self._link_groups
        if len(groups) == 1:
            # The common case, a storm's one group: its share of what the others leave.
            (group,) = groups
            held_bytes_s = 0.0
            flows = 0
            for other, other_flows in link_groups[group.bottleneck].items():
                if other is group:
                    flows = other_flows
                else:
                    held_bytes_s += other.rate_bytes_s * other_flows
            left_bytes_s = self._capacity_bytes_s[group.bottleneck] - held_bytes_s
            share_bytes_s = max(left_bytes_s, 0.0) / flows
            return {group: share_bytes_s} if share_bytes_s > 0.0 else None
        remaining_bytes_s: dict[int, float] = {}
        unfrozen_flows: dict[int, int] = {}
        for group in groups:
            link = group.bottleneck
            held_bytes_s = 0.0
            flows = 0
            for other, other_flows in link_groups[link].items():
                if other in groups:
                    flows += other_flows
                else:
                    held_bytes_s += other.rate_bytes_s * other_flows
            remaining_bytes_s[link] = self._capacity_bytes_s[link] - held_bytes_s
            unfrozen_flows[link] = flows
        rates: dict[BottleneckGroup, float] = {}
        while len(rates) < len(groups):
            bottleneck = -1
            share_bytes_s = math.inf
            for link, flows in unfrozen_flows.items():
                if flows:
                    share = max(remaining_bytes_s[link], 0.0) / flows
                    if share < share_bytes_s:
                        share_bytes_s, bottleneck = share, link
            if not share_bytes_s > 0.0:
                return None
            for group in link_groups[bottleneck]:
                if group in rates or group not in groups:
                    continue
                if group.bottleneck != bottleneck:
                    return None
                rates[group] = share_bytes_s
                for link in (bottleneck, *group.crossed):
                    if link in unfrozen_flows:
                        group_flows = link_groups[link][group]
                        remaining_bytes_s[link] -= share_bytes_s * group_flows
                        unfrozen_flows[link] -= group_flows
        return rates

    def _is_max_min_fair(
        self, groups: dict[BottleneckGroup, None], rates: dict[BottleneckGroup, float]
    ) -> bool:
        """Conditions (B) and (C) wherever the new rates could break them."""
        bound = 1.0 + _CHECK_TOLERANCE
        link_groups = self._link_groups
        for group, rate_bytes_s in rates.items():
            for other in link_groups[group.bottleneck]:
                if rates.get(other, other.rate_bytes_s) > rate_bytes_s * bound:
                    return False
            if rate_bytes_s > self._ceiling(group) * bound:
                return False
            if rate_bytes_s > group.rate_bytes_s:
                for link in group.shared:
                    self._recheck[link] = None
        capacity_bytes_s = self._capacity_bytes_s
        for link in self._recheck:
            if link in self._owners:
                continue
            load_bytes_s = sum(
                rates.get(group, group.rate_bytes_s) * flows
                for group, flows in link_groups.get(link, {}).items()
            )
            if load_bytes_s > capacity_bytes_s[link] * bound:
                return False
        return True

    def _schedule(self, group: BottleneckGroup) -> None:
        """Enter the group's next completion in the timetable; older entries go stale."""
        group.version += 1
        finish_s = group.next_finish_s()
        if finish_s < math.inf:
            heapq.heappush(self._finishes, (finish_s, group.seq, group.version, group))
        if len(self._finishes) > 2 * len(self._owners) + 64:
            self._finishes = [
                entry for entry in self._finishes if entry[3].alive and entry[2] == entry[3].version
            ]
            heapq.heapify(self._finishes)

    def _recompute_all(self, now_s: float) -> None:
        """Progressive filling over every class, then groups rebuilt from the result.

        Links wait in a heap keyed by their fair share (remaining capacity over the flows
        not yet frozen on them). The link with the smallest share is a bottleneck: every
        unfrozen class through it is frozen at that share, which uses up capacity on its
        other links; their shares are pushed again and outdated entries skipped when
        popped. Each class is frozen once, so the cost is about
        O((classes * path_length + links) * log(links)).
        """
        self.full_updates += 1
        self._recompute_pending = False
        services: dict[PathClass, float] = {}
        for path_class in list(self._classes.values()):
            if path_class.flows:
                services[path_class] = path_class.service_at(now_s)
            else:
                self._forget(path_class)
        for group in self._owners.values():
            group.alive = False
        self._owners = {}
        self._link_groups = {}
        self._finishes = []
        capacity_bytes_s = self._capacity_bytes_s
        unfrozen_flows: dict[int, int] = {}
        for path_class in services:
            weight = path_class.weighted_flows
            for link in path_class.links:
                unfrozen_flows[link] = unfrozen_flows.get(link, 0) + weight
        remaining_bytes_s = {link: capacity_bytes_s[link] for link in unfrozen_flows}
        shares = [(remaining_bytes_s[link] / n, link) for link, n in unfrozen_flows.items()]
        heapq.heapify(shares)
        touched: dict[int, None] = {}
        frozen: dict[PathClass, BottleneckGroup] = {}
        classes_on_link = self._link_index()
        unfrozen_classes = len(services)
        while unfrozen_classes:
            share_bytes_s, bottleneck = heapq.heappop(shares)
            flows_left = unfrozen_flows[bottleneck]
            if (
                flows_left == 0
                or share_bytes_s != max(remaining_bytes_s[bottleneck], 0.0) / flows_left
            ):
                continue
            group = BottleneckGroup(bottleneck, self._group_seq, share_bytes_s, now_s)
            self._group_seq += 1
            self._owners[bottleneck] = group
            for path_class, _ in classes_on_link[bottleneck]:
                if path_class in frozen:
                    continue
                frozen[path_class] = group
                unfrozen_classes -= 1
                weight = path_class.weighted_flows
                # Twin paths use their links as their separate classes would, one by one.
                used_bytes_s = share_bytes_s * len(path_class.flows)
                for link in path_class.links:
                    for _ in range(path_class.weight):
                        remaining_bytes_s[link] -= used_bytes_s
                    unfrozen_flows[link] -= weight
                    touched[link] = None
            for link in touched:
                flows_left = unfrozen_flows[link]
                if flows_left:
                    share = max(remaining_bytes_s[link], 0.0) / flows_left
                    heapq.heappush(shares, (share, link))
            touched.clear()
        for path_class, group in frozen.items():
            path_class.group = group
            path_class.offset_bytes = -services[path_class]
            path_class.counted_flows = path_class.weighted_flows
            group.classes[path_class] = None
            group.enqueue(path_class)
            for link in path_class.links:
                groups_on_link = self._link_groups.setdefault(link, {})
                groups_on_link[group] = groups_on_link.get(group, 0) + path_class.counted_flows
        self._classify_links()
        for group in self._owners.values():
            self._schedule(group)

    def _classify_links(self) -> None:
        """Each link's role for each group crossing it, after a full recomputation."""
        for link, groups_on_link in self._link_groups.items():
            owner = self._owners.get(link)
            self._stamps[link] += 1
            for group, flows in groups_on_link.items():
                if group is owner:
                    continue
                if owner is not None:
                    group.crossed[link] = None
                elif len(groups_on_link) > 1:
                    group.shared[link] = None
                else:
                    self._push_ceiling(group, link, flows)
