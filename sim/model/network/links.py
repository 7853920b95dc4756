"""The network's topology: its nodes and links, the routes over them, the links down.

An undirected `Graph` (`sim.model.network.graph`) whose every edge carries
``bandwidth_bytes_s`` (the capacity of each direction: links are full duplex) and
``latency_s`` (one way). Each direction of an edge is a directed link, numbered in the
max-min solver that shares it (`sim.model.network.maxmin`). Transfers follow the
lowest-latency path, computed once per source and again only when a link fails or comes
back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.model.network.flows import Path
from sim.model.network.graph import Graph, GraphLike, GraphView, shortest_paths
from sim.model.network.maxmin import MaxMinSharing

Link = tuple[str, str]
"""A directed link ``(from_node, to_node)``."""


def link_parameters(u: str, v: str, attributes: Mapping[str, Any]) -> tuple[float, float]:
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


class Links:
    """The topology of a `sim.model.network.network.Network`, and its routes.

    Args:
        graph: the topology (see `Network`).
        adopt: take `graph`, a `Graph`, as it is rather than a copy.
        sharing: the max-min solver that numbers the directed links.
    """

    def __init__(self, graph: GraphLike, adopt: bool, sharing: MaxMinSharing) -> None:
        if graph.is_directed() or graph.is_multigraph():
            raise ValueError("the network needs an undirected simple graph (nx.Graph)")
        self._graph = graph if adopt and isinstance(graph, Graph) else Graph.from_graph(graph)
        self._graph_view = self._graph.view()
        self._sharing = sharing
        self._link_ids: dict[Link, int] = {}
        self._link_ends: list[Link] = []
        for u, v, attributes in self._graph.edges(data=True):
            bandwidth_bytes_s, _ = link_parameters(u, v, attributes)
            self._add_links(u, v, bandwidth_bytes_s)
        self._routes: dict[str, tuple[dict[str, float], dict[str, Path]]] = {}
        self._path_links: dict[Path, tuple[int, ...]] = {}
        self._down: dict[Link, dict[str, Any]] = {}
        self._down_ids: set[int] = set()
        self.routes_version = 0
        """Grows whenever routes change (a link failed or came back)."""

    @property
    def graph(self) -> GraphView:
        """A read-only view of the topology that follows it: attached nodes appear,
        failed links are absent until restored."""
        return self._graph_view

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
        link_parameters(node, to, attributes)
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

    def _take_down(self, u: str, v: str) -> set[int]:
        """The link u-v is down: out of the topology, routes computed around it.
        Returns its directed links' ids.

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
        return ids

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

        Ties go to the path Dijkstra finds first (`sim.model.network.graph.shortest_paths`,
        which breaks them as networkx does), which depends only on the graph's insertion
        order. Routes are computed once per source.

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

    def link_capacity_bytes_s(self, u: str, v: str) -> float:
        """The capacity of the directed link u->v."""
        return self._sharing.capacity_bytes_s(self._link_id(u, v))

    def _links_of(self, path: Path) -> tuple[int, ...]:
        """The directed links of `path`, by id (kept per path)."""
        links = self._path_links.get(path)
        if links is None:
            links = tuple(self._link_ids[(u, v)] for u, v in zip(path, path[1:], strict=False))
            self._path_links[path] = links
        return links

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
