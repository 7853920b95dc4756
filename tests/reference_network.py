"""The network's first algorithm, kept as the test oracle for `sim.model.network.network`.

Every instant with a start or an end recomputes the max-min rates of *all* path classes by
progressive filling: simple and exact, but O(classes) per instant, so a storm whose flows
start at different instants costs O(N^2). The engine in `sim.model.network.network` updates rates
incrementally; the property tests check that both give the same completion times.

Unchanged from the engine it replaced except for the class name and this docstring.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from itertools import pairwise
from typing import Any, NamedTuple

import networkx as nx
import simpy
from simpy.events import EventPriority

Link = tuple[str, str]
"""A directed link ``(from_node, to_node)``."""

Path = tuple[str, ...]
"""The nodes a transfer visits, source first."""

# SimPy orders the events of one instant by priority (URGENT=0, NORMAL=1), so an event of
# priority 2 runs after all of them: by then every start and end of the instant is known.
_AFTER_INSTANT = EventPriority(2)

# Flows this close to their end when a completion fires end with it. The byte terms batch
# flows finishing in (practically) the same instant; the time term absorbs rounding.
_RELATIVE_SIZE_TOLERANCE = 1e-9
_ABSOLUTE_TOLERANCE_BYTES = 1e-6
_RELATIVE_TIME_TOLERANCE = 1e-12


class _EndOfInstant(simpy.Event):
    """An event that fires at the current time, after every normal event of that time."""

    def __init__(self, env: simpy.Environment) -> None:
        super().__init__(env)
        # Born triggered, as SimPy's own Timeout is, because succeed() cannot set a priority.
        self._ok = True
        self._value = None
        env.schedule(self, _AFTER_INSTANT)


class _Flow(NamedTuple):
    """One transfer's bytes in flight, ordered in its class by when they end."""

    finish_service_bytes: float
    seq: int
    start_service_bytes: float
    size_bytes: float
    done: simpy.Event


class _PathClass:
    """The active flows over one path; symmetric, so they share one per-flow rate.

    ``service_bytes`` is what any one flow of the class would have received since the class
    was created, as of ``updated_s``; it advances lazily at ``rate_bytes_s``.
    """

    __slots__ = (
        "path",
        "links",
        "flows",
        "rate_bytes_s",
        "service_bytes",
        "updated_s",
        "start_service_sum_bytes",
        "next_finish_s",
        "frozen_in",
    )

    def __init__(self, path: Path, links: tuple[int, ...], now_s: float) -> None:
        self.path = path
        self.links = links
        self.flows: list[_Flow] = []
        self.rate_bytes_s = 0.0
        self.service_bytes = 0.0
        self.updated_s = now_s
        # Lets link_bytes() know what the active flows received without visiting them.
        self.start_service_sum_bytes = 0.0
        self.next_finish_s = math.inf
        self.frozen_in = -1

    def advance(self, now_s: float) -> None:
        self.service_bytes += self.rate_bytes_s * (now_s - self.updated_s)
        self.updated_s = now_s

    def service_at(self, now_s: float) -> float:
        return self.service_bytes + self.rate_bytes_s * (now_s - self.updated_s)


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


class ReferenceNetwork:
    """Links between hosts, switches and registries, and the transfers crossing them.

    Wraps (does not subclass) an undirected ``networkx.Graph``. Every edge carries
    ``bandwidth_bytes_s`` (capacity of each direction: links are full duplex) and
    ``latency_s`` (one way). Transfers follow the lowest-latency path and share the
    bandwidth of its directed links max-min fairly with every other active flow.

    Args:
        env: the simulation environment.
        graph: the topology. The network keeps a copy, so later changes to ``graph``
            do not affect it; add nodes at run time with :meth:`attach`.

    Raises:
        ValueError: for a directed graph or multigraph, a self-loop, or a link without
            valid ``bandwidth_bytes_s`` (> 0) and ``latency_s`` (>= 0).
    """

    def __init__(self, env: simpy.Environment, graph: nx.Graph) -> None:
        if graph.is_directed() or graph.is_multigraph():
            raise ValueError("the network needs an undirected simple graph (nx.Graph)")
        self.env = env
        self._graph: nx.Graph = graph.copy()
        self._graph_view: nx.Graph = self._graph.copy(as_view=True)
        self._link_ids: dict[Link, int] = {}
        self._link_ends: list[Link] = []
        self._capacity_bytes_s: list[float] = []
        self._finished_bytes: list[float] = []
        for u, v, attributes in self._graph.edges(data=True):
            bandwidth_bytes_s, _ = _link_parameters(u, v, attributes)
            self._add_links(u, v, bandwidth_bytes_s)
        self._routes: dict[str, tuple[dict[str, float], dict[str, Path]]] = {}
        self._classes: dict[Path, _PathClass] = {}
        self._link_flows: dict[int, int] = {}
        self._link_classes: dict[int, dict[_PathClass, None]] = {}
        self._active_flows = 0
        self._next_seq = 0
        self._recomputations = 0
        self._recompute_pending = False
        self._next_finish_s = math.inf
        self._timer: simpy.Event | None = None
        self._timer_at_s = math.inf

    @property
    def graph(self) -> nx.Graph:
        """A read-only view of the topology, including attached nodes."""
        return self._graph_view

    @property
    def active_flows(self) -> int:
        """Transfers whose bytes are flowing now (past their latency, not yet complete)."""
        return self._active_flows

    @property
    def recomputations(self) -> int:
        """How many times the fair rates were recomputed: once per instant with changes."""
        return self._recomputations

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

    def path(self, src: str, dst: str) -> Path:
        """The lowest-latency path from `src` to `dst`, both included.

        Ties go to the path networkx's Dijkstra finds first, which depends only on the
        graph's insertion order. Routes are computed once per source.

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
            An event that succeeds when the last byte arrives: after the latency alone for
            zero bytes, at once when `src` is `dst`.

        Raises:
            ValueError: for an unknown node, an unreachable `dst` or a negative size.
        """
        if not (size_bytes >= 0 and math.isfinite(size_bytes)):
            raise ValueError(f"size_bytes must be finite and >= 0, not {size_bytes}")
        path = self.path(src, dst)
        done = self.env.event()
        if len(path) == 1:
            done.succeed()
            return done
        seq = self._next_seq
        self._next_seq += 1
        latency_s = self._routes[src][0][dst]
        if latency_s > 0:
            self.env.timeout(latency_s).callbacks.append(
                lambda _: self._start_flow(path, size_bytes, seq, done)
            )
        else:
            self._start_flow(path, size_bytes, seq, done)
        return done

    def link_bytes(self, u: str, v: str) -> float:
        """Bytes carried on the directed link u->v from the start until now.

        Raises:
            ValueError: if there is no link between `u` and `v`.
        """
        link = self._link_id(u, v)
        now_s = self.env.now
        carried_bytes = self._finished_bytes[link]
        for path_class in self._link_classes.get(link, {}):
            carried_bytes += (
                len(path_class.flows) * path_class.service_at(now_s)
                - path_class.start_service_sum_bytes
            )
        return carried_bytes

    def link_rates(self) -> dict[Link, float]:
        """The current rate (bytes/s) on every directed link that carries a flow.

        For checking and debugging: once an instant's events are done, no rate exceeds
        its link's capacity.
        """
        return {
            self._link_ends[link]: sum(
                len(path_class.flows) * path_class.rate_bytes_s
                for path_class in self._link_classes[link]
            )
            for link in sorted(self._link_classes)
        }

    def path_rates(self) -> dict[Path, float]:
        """The current rate (bytes/s) of each flow, by path; flows on one path share it."""
        return {path: path_class.rate_bytes_s for path, path_class in self._classes.items()}

    def link_capacity_bytes_s(self, u: str, v: str) -> float:
        """The capacity of the directed link u->v."""
        return self._capacity_bytes_s[self._link_id(u, v)]

    def _link_id(self, u: str, v: str) -> int:
        link = self._link_ids.get((u, v))
        if link is None:
            raise ValueError(f"no link between {u!r} and {v!r}")
        return link

    def _add_links(self, u: str, v: str, bandwidth_bytes_s: float) -> None:
        for ends in ((u, v), (v, u)):
            self._link_ids[ends] = len(self._link_ends)
            self._link_ends.append(ends)
            self._capacity_bytes_s.append(bandwidth_bytes_s)
            self._finished_bytes.append(0.0)

    def _routes_from(self, src: str) -> tuple[dict[str, float], dict[str, Path]]:
        routes = self._routes.get(src)
        if routes is None:
            if src not in self._graph:
                raise ValueError(f"unknown node {src!r}")
            distances, paths = nx.single_source_dijkstra(self._graph, src, weight="latency_s")
            routes = (distances, {node: tuple(path) for node, path in paths.items()})
            self._routes[src] = routes
        return routes

    def _start_flow(self, path: Path, size_bytes: float, seq: int, done: simpy.Event) -> None:
        """Put a transfer's bytes on the wire; its rate is set at the end of this instant."""
        if size_bytes == 0:
            done.succeed()
            return
        now_s = self.env.now
        path_class = self._classes.get(path)
        if path_class is None:
            links = tuple(self._link_ids[ends] for ends in pairwise(path))
            path_class = _PathClass(path, links, now_s)
            self._classes[path] = path_class
            for link in links:
                self._link_classes.setdefault(link, {})[path_class] = None
        else:
            path_class.advance(now_s)
        start_service_bytes = path_class.service_bytes
        heapq.heappush(
            path_class.flows,
            _Flow(start_service_bytes + size_bytes, seq, start_service_bytes, size_bytes, done),
        )
        path_class.start_service_sum_bytes += start_service_bytes
        link_flows = self._link_flows
        for link in path_class.links:
            link_flows[link] = link_flows.get(link, 0) + 1
        self._active_flows += 1
        self._request_recompute()

    def _request_recompute(self) -> None:
        if not self._recompute_pending:
            self._recompute_pending = True
            _EndOfInstant(self.env).callbacks.append(self._recompute)

    def _recompute(self, _: simpy.Event) -> None:
        """Set max-min fair rates by progressive filling, and arm the completion timer.

        Links wait in a heap keyed by their fair share (remaining capacity over the flows
        not yet frozen on them). The link with the smallest share is a bottleneck: every
        unfrozen class through it is frozen at that share, which uses up capacity on its
        other links; their shares are pushed again and outdated entries skipped when
        popped. Each class is frozen once, so the cost is about
        O((classes * path_length + links) * log(links)), whatever the number of flows.
        """
        self._recompute_pending = False
        self._recomputations += 1
        stamp = self._recomputations
        now_s = self.env.now
        capacity_bytes_s = self._capacity_bytes_s
        link_classes = self._link_classes
        remaining_bytes_s = {link: capacity_bytes_s[link] for link in self._link_flows}
        unfrozen_flows = dict(self._link_flows)
        shares = [(remaining_bytes_s[link] / n, link) for link, n in unfrozen_flows.items()]
        heapq.heapify(shares)
        touched: dict[int, None] = {}
        next_finish_s = math.inf
        unfrozen_classes = len(self._classes)
        while unfrozen_classes:
            share_bytes_s, bottleneck = heapq.heappop(shares)
            flows_left = unfrozen_flows[bottleneck]
            if (
                flows_left == 0
                or share_bytes_s != max(remaining_bytes_s[bottleneck], 0.0) / flows_left
            ):
                continue
            for path_class in link_classes[bottleneck]:
                if path_class.frozen_in == stamp:
                    continue
                path_class.frozen_in = stamp
                unfrozen_classes -= 1
                service_bytes = path_class.service_bytes + path_class.rate_bytes_s * (
                    now_s - path_class.updated_s
                )
                path_class.service_bytes = service_bytes
                path_class.updated_s = now_s
                path_class.rate_bytes_s = share_bytes_s
                flows = path_class.flows
                finish_s = now_s + (flows[0].finish_service_bytes - service_bytes) / share_bytes_s
                path_class.next_finish_s = finish_s
                if finish_s < next_finish_s:
                    next_finish_s = finish_s
                weight = len(flows)
                used_bytes_s = share_bytes_s * weight
                for link in path_class.links:
                    remaining_bytes_s[link] -= used_bytes_s
                    unfrozen_flows[link] -= weight
                    touched[link] = None
            for link in touched:
                flows_left = unfrozen_flows[link]
                if flows_left:
                    share = max(remaining_bytes_s[link], 0.0) / flows_left
                    heapq.heappush(shares, (share, link))
            touched.clear()
        self._next_finish_s = next_finish_s
        self._arm_timer()

    def _arm_timer(self) -> None:
        """Make sure a timer fires no later than the next completion.

        An armed timer that fires earlier is kept: it finds nothing due and re-arms. A new,
        earlier timer makes the armed one stale; SimPy cannot cancel it, so it fires and
        is ignored.
        """
        if self._next_finish_s == math.inf:
            return
        if self._timer is not None and self._timer_at_s <= self._next_finish_s:
            return
        now_s = self.env.now
        delay_s = max(self._next_finish_s - now_s, 0.0)
        timer = self.env.timeout(delay_s)
        timer.callbacks.append(self._on_timer)
        self._timer = timer
        self._timer_at_s = now_s + delay_s

    def _on_timer(self, timer: simpy.Event) -> None:
        if timer is not self._timer:
            return
        self._timer = None
        self._timer_at_s = math.inf
        now_s = self.env.now
        deadline_s = now_s + _RELATIVE_TIME_TOLERANCE * max(1.0, abs(now_s))
        if self._next_finish_s > deadline_s:
            if not self._recompute_pending:
                self._arm_timer()
            return
        self._finish_due_flows(now_s, deadline_s)

    def _finish_due_flows(self, now_s: float, deadline_s: float) -> None:
        """End every flow due by `deadline_s`, in start order, then recompute the rates.

        A flow is due if its class, at its current rate, serves it by `deadline_s` (the
        very test that set the timer, so the flow the timer was armed for always ends),
        or if what it still lacks is within the size tolerance.
        """
        finished: list[_Flow] = []
        emptied: list[_PathClass] = []
        for path_class in self._classes.values():
            if path_class.next_finish_s > deadline_s:
                continue
            flows = path_class.flows
            rate_bytes_s = path_class.rate_bytes_s
            service_now_bytes = path_class.service_at(now_s)
            while flows:
                head = flows[0]
                time_due = (
                    path_class.updated_s
                    + (head.finish_service_bytes - path_class.service_bytes) / rate_bytes_s
                    <= deadline_s
                )
                lacking_bytes = head.finish_service_bytes - service_now_bytes
                tolerance_bytes = (
                    _RELATIVE_SIZE_TOLERANCE * head.size_bytes + _ABSOLUTE_TOLERANCE_BYTES
                )
                if not (time_due or lacking_bytes <= tolerance_bytes):
                    break
                heapq.heappop(flows)
                finished.append(head)
                path_class.start_service_sum_bytes -= head.start_service_bytes
                for link in path_class.links:
                    self._finished_bytes[link] += head.size_bytes
                    self._link_flows[link] -= 1
            path_class.advance(now_s)
            if not flows:
                emptied.append(path_class)
        for path_class in emptied:
            del self._classes[path_class.path]
            for link in path_class.links:
                classes_on_link = self._link_classes[link]
                del classes_on_link[path_class]
                if not classes_on_link:
                    del self._link_classes[link]
                    del self._link_flows[link]
        self._active_flows -= len(finished)
        finished.sort(key=lambda flow: flow.seq)
        for flow in finished:
            flow.done.succeed()
        self._request_recompute()
