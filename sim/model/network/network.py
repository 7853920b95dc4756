"""A flow-level network: transfers are fluid flows sharing links max-min fairly.

Transfers are not simulated packet by packet. Once the one-way latency of its path has
elapsed, a transfer's bytes flow as a fluid at a rate set by max-min fair sharing of the
directed links on its path among all active flows. Links are full duplex: each direction
has the link's whole bandwidth. Rates change only when a flow starts or ends, so between
those instants every flow progresses linearly and its completion time is exact.

Large scenarios (thousands of hosts pulling images, all at once or one after another)
stay cheap. All the starts and ends of one instant are folded into one update of the
rates, run after every other event of that instant, and that update touches only the
flows whose share changes (`sim.model.network.maxmin`): flows over the same links form one
*path class*, classes held back by the same link one *bottleneck group* with one virtual
clock, so a start or an end costs O(log n) in the common case. A single pending timer
serves the next completion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from itertools import pairwise
from typing import Any, Protocol, cast

import simpy

from sim.model.network.flows import Path
from sim.model.network.graph import Graph, GraphLike, GraphView, shortest_paths
from sim.model.network.maxmin import RELATIVE_TIME_TOLERANCE, MaxMinSharing
from sim.model.network.twins import (
    Arrived,
    Failed,
    MemberDelivery,
    TwinFlow,
    TwinSet,
    in_order,
    member_flow,
)
from sim.model.primitives.clock import after
from sim.model.primitives.instant import AFTER_INSTANT, Soon

Link = tuple[str, str]
"""A directed link ``(from_node, to_node)``."""

__all__ = ["Delivery", "Link", "Network", "Path", "TransferFailed"]


class TransferFailed(Exception):
    """A transfer cut because a link on its path failed."""


class Delivery:
    """Where a transfer's end goes when its sender waits with callbacks, not on an event
    (`Network.send`): `arrived` with the bytes as the last byte arrives, `failed` with
    the `TransferFailed` when the transfer is cut. A pull storm moves thousands of blobs at
    once; this spares each an event.
    """

    __slots__ = ("arrived", "failed")

    def __init__(
        self, arrived: Callable[[float], None], failed: Callable[[TransferFailed], None]
    ) -> None:
        self.arrived = arrived
        self.failed = failed

    def succeed(self, value: Any = None) -> None:
        self.arrived(value)

    def fail(self, exception: Exception) -> None:
        self.failed(cast(TransferFailed, exception))


class Done(Protocol):
    """What a transfer reports its end to: an event its waiters yield, or callbacks."""

    def succeed(self, value: Any = None) -> object: ...

    def fail(self, exception: Exception) -> object: ...


def _link_parameters(u: str, v: str, attributes: Mapping[str, Any]) -> tuple[float, float]:
    """The (bandwidth_bytes_s, latency_s) of link u-v, validated."""
    if u == v:
        raise ValueError(f"self-loop at {u!r}: a link joins two different nodes")
    try:
        bandwidth_bytes_s = float(attributes["bandwidth_bytes_s"])
        latency_s = float(attributes["latency_s"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"link {u!r}-{v!r} needs numeric 'bandwidth_bytes_s' and 'latency_s'"
        ) from error
    if not (math.isfinite(bandwidth_bytes_s) and bandwidth_bytes_s > 0):
        raise ValueError(
            f"link {u!r}-{v!r}: bandwidth_bytes_s must be > 0, not {bandwidth_bytes_s}"
        )
    if not (math.isfinite(latency_s) and latency_s >= 0):
        raise ValueError(f"link {u!r}-{v!r}: latency_s must be >= 0, not {latency_s}")
    return bandwidth_bytes_s, latency_s


class Network:
    """Links between hosts, switches and registries, and the transfers crossing them.

    Wraps (does not subclass) an undirected `Graph` (`sim.model.network.graph`). Every edge carries
    ``bandwidth_bytes_s`` (capacity of each direction: links are full duplex) and
    ``latency_s`` (one way). Transfers follow the lowest-latency path and share the
    bandwidth of its directed links max-min fairly with every other active flow.

    Args:
        env: the simulation environment.
        graph: the topology: a `Graph`, or any graph with networkx's reading interface
            (``nodes(data=True)``, ``adj``, ``is_directed()``, ``is_multigraph()``),
            such as a ``networkx.Graph``. The network keeps a copy, ordered as
            ``networkx.Graph.copy`` orders one, so later changes to ``graph`` do not
            affect it; add nodes at run time with :meth:`attach`.
        adopt: take `graph`, a `Graph` built for this network alone (as
            `sim.model.network.topology.build_topology` builds one, already in that
            order), as it is rather than a copy.

    Raises:
        ValueError: for a directed graph or multigraph, a self-loop, or a link without
            valid ``bandwidth_bytes_s`` (> 0) and ``latency_s`` (>= 0).
    """

    def __init__(self, env: simpy.Environment, graph: GraphLike, adopt: bool = False) -> None:
        if graph.is_directed() or graph.is_multigraph():
            raise ValueError("the network needs an undirected simple graph (nx.Graph)")
        self.env = env
        self._graph = graph if adopt and isinstance(graph, Graph) else Graph.from_graph(graph)
        self._graph_view = self._graph.view()
        self._link_ids: dict[Link, int] = {}
        self._link_ends: list[Link] = []
        self._sharing = MaxMinSharing()
        for u, v, attributes in self._graph.edges(data=True):
            bandwidth_bytes_s, _ = _link_parameters(u, v, attributes)
            self._add_links(u, v, bandwidth_bytes_s)
        self._routes: dict[str, tuple[dict[str, float], dict[str, Path]]] = {}
        self._path_links: dict[Path, tuple[int, ...]] = {}
        self._next_seq = 0
        self._update_pending = False
        self._timer: simpy.Event | None = None
        self._timer_at_s = math.inf
        self._down: dict[Link, dict[str, Any]] = {}
        self._down_ids: set[int] = set()
        self._twin_sets: dict[Path, TwinSet] = {}
        self._twin_sets_made = 0
        self._twin_tails: dict[int, TwinSet] = {}
        self.routes_version = 0
        """Grows whenever routes change (a link failed or came back)."""

    @property
    def graph(self) -> GraphView:
        """A read-only view of the topology that follows it: attached nodes appear,
        failed links are absent until restored."""
        return self._graph_view

    @property
    def active_flows(self) -> int:
        """Transfers whose bytes are flowing now (past their latency, not yet complete)."""
        return self._sharing.active_flows

    @property
    def recomputations(self) -> int:
        """How many times the fair rates were updated: once per instant with a start or
        an end, however many flows started or ended then."""
        return self._sharing.updates

    @property
    def full_recomputations(self) -> int:
        """How many of those updates recomputed every rate, because a bottleneck moved
        (the others updated only the groups of flows whose share changed)."""
        return self._sharing.full_updates

    def attach(self, node: str, to: str, bandwidth_bytes_s: float, latency_s: float) -> None:
        """Add `node` with one link to the existing node `to`, e.g. a host just booted.

        Raises:
            ValueError: if `node` exists already, `to` does not, or the link is invalid.
        """
        if node in self._graph:
            raise ValueError(f"node {node!r} exists already")
        if to not in self._graph:
            raise ValueError(f"unknown node {to!r}")
        attributes = {"bandwidth_bytes_s": bandwidth_bytes_s, "latency_s": latency_s}
        _link_parameters(node, to, attributes)
        self._graph.add_edge(to, node, **attributes)
        self._add_links(to, node, float(bandwidth_bytes_s))
        # A leaf lies on no path between other nodes, and Dijkstra run afresh would reach it
        # only through `to`, breaking no ties differently; so cached routes just extend.
        for distances, paths in self._routes.values():
            via = paths.get(to)
            if via is not None:
                distances[node] = distances[to] + attributes["latency_s"]
                paths[node] = (*via, node)

    @property
    def links_down(self) -> bool:
        """Whether some link is down now."""
        return bool(self._down)

    def fail_link(self, u: str, v: str) -> int:
        """The link u-v fails: flows crossing it are cut (their transfers fail with
        `TransferFailed`), and routes are recomputed around it. Returns the flows cut.

        Raises:
            ValueError: no such link up.
        """
        if not self._graph.has_edge(u, v):
            raise ValueError(f"no link up between {u!r} and {v!r}")
        self._down[(u, v)] = dict(self._graph.edges[u, v])
        self._graph.remove_edge(u, v)
        ids = {self._link_id(u, v), self._link_id(v, u)}
        self._down_ids |= ids
        self._routes.clear()
        self.routes_version += 1
        # A twin's own link: the set goes on as one flow per member, of which one is cut.
        self._split_twins_on(tuple(ids))
        cut = self._sharing.cancel(ids, self.env.now)
        self._forget_ended_twins()
        transfers_cut = 0
        for flow, members in in_order(cut):
            error = TransferFailed(f"link {u}-{v} failed")
            done = flow.done
            if members:
                transfers_cut += len(members)
                Soon(self.env, partial(_fail_twins, done, members, error))
            elif isinstance(done, simpy.Event):
                transfers_cut += 1
                done.fail(error)
            else:
                # As a waiter on an event would: later in the instant, after the failure.
                transfers_cut += 1
                Soon(self.env, partial(_deliver_failure, done, error))
        self._arm_timer()
        return transfers_cut

    def restore_link(self, u: str, v: str) -> None:
        """The failed link u-v works again; routes are recomputed."""
        attributes = self._down.pop((u, v))
        self._graph.add_edge(u, v, **attributes)
        self._down_ids -= {self._link_id(u, v), self._link_id(v, u)}
        self._routes.clear()
        self.routes_version += 1

    def reachable(self, src: str, dst: str) -> bool:
        """Whether some path joins `src` and `dst` now."""
        return dst in self._routes_from(src)[1]

    def path(self, src: str, dst: str) -> Path:
        """The lowest-latency path from `src` to `dst`, both included.

        Ties go to the path Dijkstra finds first (`sim.model.network.graph.shortest_paths`, which
        breaks them as networkx does), which depends only on the graph's insertion order.
        Routes are computed once per source.

        Raises:
            ValueError: for an unknown node or when `dst` cannot be reached.
        """
        path = self._routes_from(src)[1].get(dst)
        if path is None:
            if dst not in self._graph:
                raise ValueError(f"unknown node {dst!r}")
            raise ValueError(f"no path from {src!r} to {dst!r}")
        return path

    def latency_s(self, src: str, dst: str) -> float:
        """The one-way latency from `src` to `dst`: the sum over the links of `path`."""
        self.path(src, dst)
        return self._routes[src][0][dst]

    def transfer(self, src: str, dst: str, size_bytes: float) -> simpy.Event:
        """Send `size_bytes` from `src` to `dst`.

        The path's latency elapses first; then the bytes flow, sharing bandwidth with all
        other active flows. Uncongested, a transfer takes exactly
        ``latency + size / bottleneck_bandwidth``.

        Returns:
            An event that succeeds with `size_bytes` when the last byte arrives: after the
            latency alone for zero bytes, at once when `src` is `dst`.

            While a link is down and no path joins them, the event fails at once with
            `TransferFailed`.

        Raises:
            ValueError: for an unknown node, an unreachable `dst` or a negative size.
        """
        done = self.env.event()
        self._transfer(src, dst, size_bytes, done)
        return done

    def send(
        self,
        src: str,
        dst: str,
        size_bytes: float,
        arrived: Callable[[float], None],
        failed: Callable[[TransferFailed], None],
    ) -> None:
        """`transfer` with callbacks instead of an event: `arrived(size_bytes)` runs as
        the last byte arrives (at once for zero hops), `failed(error)` when a link on the
        path fails under the transfer (later in that instant) or none joins the ends.

        Raises:
            ValueError: as `transfer`.
        """
        self._transfer(src, dst, size_bytes, Delivery(arrived, failed))

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
            _check_size(size_bytes)
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
        member_paths = []
        for member in members:
            path = paths[member]
            links = self._path_links.get(path)
            if links is None:
                links = tuple(self._link_ids[ends] for ends in pairwise(path))
                self._path_links[path] = links
            member_paths.append((path, links))
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

    def _transfer(self, src: str, dst: str, size_bytes: float, done: Done) -> None:
        _check_size(size_bytes)
        if self._down and not self.reachable(src, dst):
            done.fail(TransferFailed(f"no path from {src} to {dst}: a link is down"))
            return
        path = self.path(src, dst)
        if len(path) == 1:
            done.succeed(size_bytes)
            return
        seq = self._next_seq
        self._next_seq += 1
        latency_s = self._routes[src][0][dst]
        if latency_s > 0:
            after(self.env, latency_s, partial(self._start_flow, path, size_bytes, seq, done))
        else:
            self._start_flow(path, size_bytes, seq, done)

    def link_bytes(self, u: str, v: str) -> float:
        """Bytes carried on the directed link u->v from the start until now.

        Raises:
            ValueError: if there is no link between `u` and `v`.
        """
        return self._sharing.link_bytes(self._link_id(u, v), self.env.now)

    def carried_bytes(self) -> dict[Link, float]:
        """`link_bytes` of every directed link, failed ones included."""
        now_s = self.env.now
        link_bytes = self._sharing.link_bytes
        return {ends: link_bytes(link, now_s) for ends, link in self._link_ids.items()}

    def link_rates(self) -> dict[Link, float]:
        """The current rate (bytes/s) on every directed link that carries a flow.

        For checking and debugging: once an instant's events are done, no rate exceeds
        its link's capacity.
        """
        return {
            self._link_ends[link]: rate_bytes_s
            for link, rate_bytes_s in self._sharing.link_rates().items()
            if link < len(self._link_ends)  # not a twin set's stand-in link
        }

    def path_rates(self) -> dict[Path, float]:
        """The current rate (bytes/s) of each flow, by path; flows on one path share it."""
        rates: dict[Path, float] = {}
        for path, rate_bytes_s in self._sharing.path_rates().items():
            twins = self._twin_sets.get(path)
            if twins is None:
                rates[path] = rate_bytes_s
            else:
                rates.update((member_path, rate_bytes_s) for member_path, _ in twins.paths)
        return rates

    def link_capacity_bytes_s(self, u: str, v: str) -> float:
        """The capacity of the directed link u->v."""
        return self._sharing.capacity_bytes_s(self._link_id(u, v))

    def _link_id(self, u: str, v: str) -> int:
        link = self._link_ids.get((u, v))
        if link is None:
            raise ValueError(f"no link between {u!r} and {v!r}")
        return link

    def _add_links(self, u: str, v: str, bandwidth_bytes_s: float) -> None:
        for ends in ((u, v), (v, u)):
            self._link_ids[ends] = self._sharing.add_link(bandwidth_bytes_s)
            self._link_ends.append(ends)

    def _routes_from(self, src: str) -> tuple[dict[str, float], dict[str, Path]]:
        routes = self._routes.get(src)
        if routes is None:
            if src not in self._graph:
                raise ValueError(f"unknown node {src!r}")
            distances, paths = shortest_paths(self._graph, src, "latency_s")
            routes = (distances, {node: tuple(path) for node, path in paths.items()})
            self._routes[src] = routes
        return routes

    def _start_flow(
        self, path: Path, size_bytes: float, seq: int, done: Done, _: object = None
    ) -> None:
        """Put a transfer's bytes on the wire; its rate is set at the end of this instant."""
        if size_bytes == 0:
            done.succeed(size_bytes)
            return
        links = self._path_links.get(path)
        if links is None:
            links = tuple(self._link_ids[ends] for ends in pairwise(path))
            self._path_links[path] = links
        if self._down_ids and not self._down_ids.isdisjoint(links):
            done.fail(TransferFailed("a link on its path failed during its latency"))
            return
        if self._twin_tails and not self._twin_tails.keys().isdisjoint(links):
            self._split_twins_on(links)
        self._sharing.start(path, links, size_bytes, seq, done, self.env.now)
        self._request_update()

    def _request_update(self) -> None:
        if not self._update_pending:
            self._update_pending = True
            # After every other event of this instant: by then its starts and ends are known.
            Soon(self.env, self._update, AFTER_INSTANT)

    def _update(self, _: simpy.Event) -> None:
        """Update the fair rates after every start and end of this instant; arm the timer."""
        self._update_pending = False
        self._sharing.update(self.env.now)
        self._forget_ended_twins()
        self._arm_timer()

    def _arm_timer(self) -> None:
        """Make sure a timer fires no later than the next completion.

        An armed timer that fires earlier is kept: it finds nothing due and re-arms. A new,
        earlier timer makes the armed one stale; SimPy cannot cancel it, so it fires and
        is ignored.
        """
        next_finish_s = self._sharing.next_finish_s()
        if next_finish_s == math.inf:
            return
        if self._timer is not None and self._timer_at_s <= next_finish_s:
            return
        now_s = self.env.now
        delay_s = max(next_finish_s - now_s, 0.0)
        timer = self.env.timeout(delay_s)
        timer.callbacks.append(self._on_timer)
        self._timer = timer
        self._timer_at_s = now_s + delay_s

    def _on_timer(self, timer: simpy.Event) -> None:
        """End the flows due now, in start order; their shares go to the others at the
        end of the instant."""
        if timer is not self._timer:
            return
        self._timer = None
        self._timer_at_s = math.inf
        now_s = self.env.now
        deadline_s = now_s + RELATIVE_TIME_TOLERANCE * max(1.0, abs(now_s))
        if self._sharing.next_finish_s() > deadline_s:
            if not self._update_pending:
                self._arm_timer()
            return
        for flow, members in in_order(self._sharing.finish_due(now_s, deadline_s)):
            if members:
                flow.done.arrived(flow.done.index, members)
            else:
                flow.done.succeed(flow.size_bytes)
        self._request_update()


def _check_size(size_bytes: float) -> None:
    if not (size_bytes >= 0 and math.isfinite(size_bytes)):
        raise ValueError(f"size_bytes must be finite and >= 0, not {size_bytes}")


def _deliver_failure(done: Delivery, error: TransferFailed, _: simpy.Event) -> None:
    done.fail(error)


def _fail_twins(flow: TwinFlow, members: list[int], error: TransferFailed, _: simpy.Event) -> None:
    flow.failed(flow.index, members, error)
