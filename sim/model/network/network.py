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
from collections.abc import Callable, Mapping
from functools import partial
from itertools import pairwise
from typing import Any

import simpy

from sim.model.network.flows import Path
from sim.model.network.graph import Graph, GraphLike, GraphView, shortest_paths
from sim.model.network.maxmin import RELATIVE_TIME_TOLERANCE, MaxMinSharing
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

    def succeed(self, size_bytes: float) -> None:
        self.arrived(size_bytes)

    def fail(self, error: TransferFailed) -> None:
        self.failed(error)


Done = simpy.Event | Delivery
"""What a transfer reports its end to: an event its waiters yield, or callbacks."""


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

    Raises:
        ValueError: for a directed graph or multigraph, a self-loop, or a link without
            valid ``bandwidth_bytes_s`` (> 0) and ``latency_s`` (>= 0).
    """

    def __init__(self, env: simpy.Environment, graph: GraphLike) -> None:
        if graph.is_directed() or graph.is_multigraph():
            raise ValueError("the network needs an undirected simple graph (nx.Graph)")
        self.env = env
        self._graph = Graph.from_graph(graph)
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
        cut = self._sharing.cancel(ids, self.env.now)
        for flow in cut:
            error = TransferFailed(f"link {u}-{v} failed")
            if isinstance(flow.done, Delivery):
                # As a waiter on an event would: later in the instant, after the failure.
                Soon(self.env, partial(_deliver_failure, flow.done, error))
            else:
                flow.done.fail(error)
        self._arm_timer()
        return len(cut)

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

    def _transfer(self, src: str, dst: str, size_bytes: float, done: Done) -> None:
        if not (size_bytes >= 0 and math.isfinite(size_bytes)):
            raise ValueError(f"size_bytes must be finite and >= 0, not {size_bytes}")
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
            self.env.timeout(latency_s).callbacks.append(
                partial(self._start_flow, path, size_bytes, seq, done)
            )
        else:
            self._start_flow(path, size_bytes, seq, done)

    def link_bytes(self, u: str, v: str) -> float:
        """Bytes carried on the directed link u->v from the start until now.

        Raises:
            ValueError: if there is no link between `u` and `v`.
        """
        return self._sharing.link_bytes(self._link_id(u, v), self.env.now)

    def link_rates(self) -> dict[Link, float]:
        """The current rate (bytes/s) on every directed link that carries a flow.

        For checking and debugging: once an instant's events are done, no rate exceeds
        its link's capacity.
        """
        return {
            self._link_ends[link]: rate_bytes_s
            for link, rate_bytes_s in self._sharing.link_rates().items()
        }

    def path_rates(self) -> dict[Path, float]:
        """The current rate (bytes/s) of each flow, by path; flows on one path share it."""
        return self._sharing.path_rates()

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
        for flow in self._sharing.finish_due(now_s, deadline_s):
            flow.done.succeed(flow.size_bytes)
        self._request_update()


def _deliver_failure(done: Delivery, error: TransferFailed, _: simpy.Event) -> None:
    done.fail(error)
