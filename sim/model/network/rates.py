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

`FairRates` is the rate-setting half of `sim.model.network.maxmin.MaxMinSharing`, which
keeps the links and the flows.
"""

from __future__ import annotations

import heapq
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable

from sim.model.network.flows import BottleneckGroup, Path, PathClass

# Rates and loads computed along different routes differ by rounding; a check of (B) or
# (C) fails only beyond that.
_CHECK_TOLERANCE = 1e-12


class FairRates(ABC):
    """Sets the max-min fair rates of a `MaxMinSharing`'s flows (its state is declared
    here, kept there)."""

    _capacity_bytes_s: list[float]
    _stamps: list[int]
    _classes: dict[Path, PathClass]
    _classes_by_link: dict[int, list[tuple[PathClass, int]]] | None
    _owners: dict[int, BottleneckGroup]
    _link_groups: dict[int, dict[BottleneckGroup, int]]
    _changed: dict[PathClass, None]
    _touched: dict[BottleneckGroup, None]
    _recheck: dict[int, None]
    _finishes: list[tuple[float, int, int, BottleneckGroup]]
    _group_seq: int
    _recompute_pending: bool
    ended_twins: list[Path]
    updates: int
    full_updates: int

    @abstractmethod
    def _link_index(self) -> dict[int, list[tuple[PathClass, int]]]: ...

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
