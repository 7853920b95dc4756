"""A small undirected graph with node and edge attributes, and Dijkstra over it.

The network needs little of a graph library: nodes and links with attributes, links that
fail and come back, and the lowest-latency paths from one node. ``networkx`` does all
that, but importing it loads about 300 modules (0.08-0.13 s), a large share of the time
one ``sim-docker`` verb may take. This module keeps the subset the model uses, with the
data layout and iteration orders of ``networkx.Graph`` (networkx 3.x,
https://networkx.org/documentation/stable/reference/classes/graph.html), because link
ids, the order of the links in the results and Dijkstra's tie-breaks follow them:

* nodes iterate in insertion order; a node's neighbours in the order their links were
  added to it (a link removed and added again goes last);
* each link is reported once, from the first of its ends to iterate, and one attribute
  dict is shared by both directions;
* a copy adds every node (attributes copied) in order, then every link as the adjacency
  lists list it, which can reorder neighbours, exactly as ``networkx.Graph.copy`` does.

`shortest_paths` returns what ``networkx.single_source_dijkstra`` returns, in the same
dict orders. A test compares both on random graphs with frequent ties.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from itertools import count
from typing import Any, Literal, Protocol, overload

Attributes = dict[str, Any]
"""A node's or a link's attributes (a link's dict is shared by both directions)."""

__all__ = ["Attributes", "Graph", "GraphLike", "GraphView", "shortest_paths"]


class GraphLike(Protocol):
    """What `Graph.from_graph` reads of a graph: ``networkx.Graph`` qualifies."""

    @property
    def nodes(self) -> Any: ...

    @property
    def adj(self) -> Any: ...

    def is_directed(self) -> bool: ...

    def is_multigraph(self) -> bool: ...


class NodeView:
    """The nodes: iterate them, test membership, ``nodes[n]`` is n's attribute dict,
    ``nodes(data=True)`` yields ``(n, attributes)``."""

    __slots__ = ("_node",)

    def __init__(self, node: dict[str, Attributes]) -> None:
        self._node = node

    def __iter__(self) -> Iterator[str]:
        return iter(self._node)

    def __len__(self) -> int:
        return len(self._node)

    def __contains__(self, node: object) -> bool:
        return node in self._node

    def __getitem__(self, node: str) -> Attributes:
        return self._node[node]

    @overload
    def __call__(self, data: Literal[False] = ...) -> list[str]: ...

    @overload
    def __call__(self, data: Literal[True]) -> list[tuple[str, Attributes]]: ...

    def __call__(self, data: bool = False) -> list[str] | list[tuple[str, Attributes]]:
        return list(self._node.items()) if data else list(self._node)


class EdgeView:
    """The links, each once: iterate ``(u, v)``, ``edges(data=True)`` yields
    ``(u, v, attributes)``, ``edges[u, v]`` is the link's attribute dict."""

    __slots__ = ("_adj",)

    def __init__(self, adj: dict[str, dict[str, Attributes]]) -> None:
        self._adj = adj

    def _links(self) -> Iterator[tuple[str, str, Attributes]]:
        # A link is reported from whichever end iterates first: skip neighbours already
        # iterated as nodes (a self-loop is reported, its node not being done yet).
        done: set[str] = set()
        for node, neighbours in self._adj.items():
            for neighbour, attributes in neighbours.items():
                if neighbour not in done:
                    yield node, neighbour, attributes
            done.add(node)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((u, v) for u, v, _ in self._links())

    def __len__(self) -> int:
        return sum(1 for _ in self._links())

    def __contains__(self, link: object) -> bool:
        if not isinstance(link, tuple) or len(link) != 2:
            return False
        u, v = link
        return u in self._adj and v in self._adj[u]

    def __getitem__(self, link: tuple[str, str]) -> Attributes:
        u, v = link
        return self._adj[u][v]

    @overload
    def __call__(self, data: Literal[False] = ...) -> list[tuple[str, str]]: ...

    @overload
    def __call__(self, data: Literal[True]) -> list[tuple[str, str, Attributes]]: ...

    def __call__(
        self, data: bool = False
    ) -> list[tuple[str, str]] | list[tuple[str, str, Attributes]]:
        if data:
            return list(self._links())
        return list(self)


class _ReadGraph:
    """The reading half of a graph, shared by `Graph` and `GraphView`."""

    __slots__ = ("_adj", "_node")

    _node: dict[str, Attributes]
    _adj: dict[str, dict[str, Attributes]]

    def __contains__(self, node: object) -> bool:
        return node in self._node

    def __iter__(self) -> Iterator[str]:
        return iter(self._node)

    def __len__(self) -> int:
        return len(self._node)

    @property
    def nodes(self) -> NodeView:
        """The nodes, in insertion order; ``nodes[n]`` is n's attribute dict."""
        return NodeView(self._node)

    @property
    def edges(self) -> EdgeView:
        """The links, each once, from the end that comes first in node order."""
        return EdgeView(self._adj)

    @property
    def adj(self) -> Mapping[str, Mapping[str, Attributes]]:
        """Node -> {neighbour: the link's attribute dict}, neighbours in the order their
        links were added to the node."""
        return self._adj

    def has_edge(self, u: str, v: str) -> bool:
        """Whether a link joins `u` and `v`."""
        neighbours = self._adj.get(u)
        return neighbours is not None and v in neighbours

    def is_directed(self) -> bool:
        """False: every link joins its ends both ways."""
        return False

    def is_multigraph(self) -> bool:
        """False: at most one link joins two nodes."""
        return False

    def copy(self) -> Graph:
        """An independent copy (attribute dicts copied), ordered as networkx copies."""
        return Graph.from_graph(self)


class Graph(_ReadGraph):
    """An undirected simple graph: a dict node -> attributes and a dict node -> dict
    neighbour -> link attributes, the dict of a link shared by both its ends."""

    __slots__ = ()

    def __init__(self) -> None:
        self._node = {}
        self._adj = {}

    @classmethod
    def from_graph(cls, graph: GraphLike) -> Graph:
        """A copy of any graph with networkx's reading interface (``nodes(data=True)``,
        ``adj``), built as ``networkx.Graph.copy`` builds one: every node with a copy of
        its attributes, in order; then, for each node in ``adj`` order, each of its
        links in its neighbours' order, a link met the second time (from its other end)
        updating the dict made the first time."""
        copied = cls()
        for node, attributes in graph.nodes(data=True):
            copied._add_node(node, attributes)
        for u, neighbours in graph.adj.items():
            for v, attributes in neighbours.items():
                copied._add_edge(u, v, attributes)
        return copied

    def add_node(self, node: str, **attributes: Any) -> None:
        """Add `node`, or update its attributes if it exists."""
        self._add_node(node, attributes)

    def add_edge(self, u: str, v: str, **attributes: Any) -> None:
        """Add the link u-v (and any missing end), or update its attributes if it
        exists: a new link goes last among each end's neighbours, an existing one stays
        where it is."""
        self._add_edge(u, v, attributes)

    def remove_edge(self, u: str, v: str) -> None:
        """Remove the link u-v.

        Raises:
            KeyError: no link joins `u` and `v`.
        """
        if not self.has_edge(u, v):
            raise KeyError(f"no link between {u!r} and {v!r}")
        del self._adj[u][v]
        if u != v:
            del self._adj[v][u]

    def view(self) -> GraphView:
        """A read-only view of this graph that follows its changes."""
        return GraphView(self)

    def _add_node(self, node: str, attributes: Mapping[str, Any]) -> None:
        if node is None:
            raise ValueError("None cannot be a node")
        if node not in self._node:
            self._adj[node] = {}
            self._node[node] = {}
        self._node[node].update(attributes)

    def _add_edge(self, u: str, v: str, attributes: Mapping[str, Any]) -> None:
        for end in (u, v):
            if end not in self._node:
                self._add_node(end, {})
        shared = self._adj[u].get(v)
        if shared is None:
            shared = {}
        shared.update(attributes)
        self._adj[u][v] = shared
        self._adj[v][u] = shared


class GraphView(_ReadGraph):
    """A read-only view of a `Graph`: it follows the graph's changes and has no method
    that changes it (the attribute dicts it hands out are the graph's own)."""

    __slots__ = ()

    def __init__(self, graph: Graph) -> None:
        self._node = graph._node
        self._adj = graph._adj


def shortest_paths(
    graph: Graph | GraphView, source: str, weight: str
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """The lowest-`weight` distance and path from `source` to every node it reaches.

    Dijkstra's algorithm as ``networkx.single_source_dijkstra(graph, source,
    weight=weight)`` runs it, so that ties between equal paths go the same way: a heap of
    (distance, push count, node); a node is final when first popped; its neighbours are
    scanned in adjacency order, and one is pushed again only when strictly closer, its
    predecessor being the node that pushed it last. A link without `weight` weighs 1;
    one whose weight is None is skipped. Both dicts list nodes in the order they became
    final.

    Raises:
        ValueError: `source` is not in the graph, or a negative weight contradicts a
            distance already final.
    """
    adj = graph._adj
    if source not in adj:
        raise ValueError(f"unknown node {source!r}")
    distances: dict[str, float] = {}
    best: dict[str, float] = {source: 0}
    predecessor: dict[str, str] = {}
    pushes = count()
    heap: list[tuple[float, int, str]] = [(0, next(pushes), source)]
    while heap:
        distance, _, node = heapq.heappop(heap)
        if node in distances:
            continue
        distances[node] = distance
        for neighbour, attributes in adj[node].items():
            cost = attributes.get(weight, 1)
            if cost is None:
                continue
            through = distance + cost
            if neighbour in distances:
                if through < distances[neighbour]:
                    raise ValueError("contradictory paths found: negative weights?")
            elif neighbour not in best or through < best[neighbour]:
                best[neighbour] = through
                heapq.heappush(heap, (through, next(pushes), neighbour))
                predecessor[neighbour] = node
    paths: dict[str, list[str]] = {source: [source]}
    for node in distances:
        if node != source:
            paths[node] = [*paths[predecessor[node]], node]
    return distances, paths
