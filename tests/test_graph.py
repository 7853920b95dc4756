"""sim.model.network.graph against networkx: same orders everywhere, same Dijkstra tie-breaks."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.network.graph import Graph, shortest_paths
from sim.model.network.network import Network

NAMES = [f"n{index}" for index in range(7)]

names = st.sampled_from(NAMES)
# Small integer latencies, zero included, so equal-length paths are frequent; sometimes
# no latency at all (Dijkstra then counts 1, as networkx does).
link_attributes = st.one_of(
    st.fixed_dictionaries({"latency_s": st.integers(0, 3)}),
    st.fixed_dictionaries({"latency_s": st.integers(0, 3), "bandwidth_bytes_s": st.just(1.0)}),
    st.just({}),
)
# A graph to start from, dense enough for many equal-length paths, then changes to it.
base_links = st.lists(st.tuples(st.just("edge"), names, names, link_attributes), min_size=6)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("node"), names, st.sampled_from(["host", "switch"])),
        st.tuples(st.just("edge"), names, names, link_attributes),
        st.tuples(st.just("edge"), names, names, link_attributes),
        st.tuples(st.just("remove"), st.integers(0, 50)),
        st.tuples(st.just("readd"), st.integers(0, 50)),
        st.tuples(st.just("copy")),
    ),
    max_size=40,
)


def apply(operation: tuple[Any, ...], ours: Graph, theirs: nx.Graph) -> tuple[Graph, nx.Graph]:
    """Do one operation to both graphs; returns them (a copy replaces them)."""
    kind = operation[0]
    if kind == "node":
        _, node, role = operation
        ours.add_node(node, role=role)
        theirs.add_node(node, role=role)
    elif kind == "edge":
        _, u, v, attributes = operation
        ours.add_edge(u, v, **attributes)
        theirs.add_edge(u, v, **attributes)
    elif kind in ("remove", "readd"):
        links = list(theirs.edges)
        assert list(ours.edges) == links
        if links:
            u, v = links[operation[1] % len(links)]
            attributes = dict(theirs.edges[u, v])
            ours.remove_edge(u, v)
            theirs.remove_edge(u, v)
            if kind == "readd":
                # Added back from the other end: both adjacency dicts put it last.
                ours.add_edge(v, u, **attributes)
                theirs.add_edge(v, u, **attributes)
    else:
        ours, theirs = ours.copy(), theirs.copy()
    return ours, theirs


def layout(graph: Any) -> list[Any]:
    """Everything whose order matters: nodes, links, adjacency."""
    return [
        list(graph.nodes),
        list(graph.nodes(data=True)),
        list(graph.edges),
        list(graph.edges(data=True)),
        [(node, list(neighbours.items())) for node, neighbours in graph.adj.items()],
        len(graph),
        len(graph.edges),
    ]


def dijkstra_items(distances: dict[str, Any], paths: dict[str, Any]) -> list[Any]:
    return [list(distances.items()), list(paths.items())]


@settings(max_examples=300, deadline=None)
@given(base_links, operations)
def test_the_graph_and_its_shortest_paths_match_networkx(
    links: list[tuple[Any, ...]], steps: list[tuple[Any, ...]]
) -> None:
    ours, theirs = Graph(), nx.Graph()
    for operation in links + steps:
        ours, theirs = apply(operation, ours, theirs)
        assert layout(ours) == layout(theirs)

    assert layout(ours.copy()) == layout(theirs.copy())
    assert layout(Graph.from_graph(theirs)) == layout(theirs.copy())
    for u, v in theirs.edges:
        assert ours.has_edge(u, v) and ours.has_edge(v, u)
        assert ours.adj[u][v] is ours.adj[v][u]
        assert ours.edges[u, v] == theirs.edges[u, v]
    for node in NAMES:
        assert (node in ours) == (node in theirs)
        for other in NAMES:
            assert ours.has_edge(node, other) == theirs.has_edge(node, other)
    for source in theirs:
        expected = nx.single_source_dijkstra(theirs, source, weight="latency_s")
        assert dijkstra_items(*shortest_paths(ours, source, "latency_s")) == dijkstra_items(
            *expected
        )


@settings(max_examples=100, deadline=None)
@given(base_links, operations)
def test_a_network_numbers_its_links_alike_from_a_networkx_graph_or_ours(
    links: list[tuple[Any, ...]], steps: list[tuple[Any, ...]]
) -> None:
    ours, theirs = Graph(), nx.Graph()
    for operation in links + steps:
        ours, theirs = apply(operation, ours, theirs)
    for graph in (ours, theirs):
        for u, v in list(graph.edges):
            if u == v:
                graph.remove_edge(u, v)
            else:
                graph.edges[u, v].update(
                    bandwidth_bytes_s=1.0, latency_s=graph.edges[u, v].get("latency_s", 1)
                )
    from_ours = Network(simpy.Environment(), ours)
    from_theirs = Network(simpy.Environment(), theirs)

    assert layout(from_ours.graph) == layout(from_theirs.graph) == layout(theirs.copy())
    for u, v in theirs.edges:
        assert from_ours.link_capacity_bytes_s(u, v) == 1.0
    assert from_ours._link_ends == from_theirs._link_ends


def test_equal_paths_round_a_square_go_the_way_networkx_goes() -> None:
    ours = Graph()
    for u, v in [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]:
        ours.add_edge(u, v, latency_s=1)

    distances, paths = shortest_paths(ours, "a", "latency_s")

    # Both a-b-d and a-c-d take 2: d is first pushed from b (scanned before c), and c
    # offers nothing strictly shorter, so a-b-d stands.
    assert list(distances.items()) == [("a", 0), ("b", 1), ("c", 1), ("d", 2)]
    assert paths == {"a": ["a"], "b": ["a", "b"], "c": ["a", "c"], "d": ["a", "b", "d"]}
    assert (distances, paths) == nx.single_source_dijkstra(
        nx.Graph(ours.edges(data=True)), "a", weight="latency_s"
    )


def test_a_link_removed_and_added_again_goes_last_and_moves_the_tie() -> None:
    ours = Graph()
    for u, v in [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]:
        ours.add_edge(u, v, latency_s=1)
    ours.remove_edge("a", "b")
    ours.add_edge("a", "b", latency_s=1)

    assert list(ours.adj["a"]) == ["c", "b"]
    assert list(ours.edges) == [("a", "c"), ("a", "b"), ("b", "d"), ("c", "d")]
    assert shortest_paths(ours, "a", "latency_s")[1]["d"] == ["a", "c", "d"]
    theirs = nx.Graph()
    for u, v in [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]:
        theirs.add_edge(u, v, latency_s=1)
    theirs.remove_edge("a", "b")
    theirs.add_edge("a", "b", latency_s=1)
    assert nx.single_source_dijkstra(theirs, "a", weight="latency_s")[1]["d"] == ["a", "c", "d"]


def test_a_copy_reorders_neighbours_as_networkx_copy_does() -> None:
    ours = Graph()
    ours.add_node("x")
    ours.add_edge("y", "z", latency_s=1)
    ours.add_edge("y", "x", latency_s=2)

    copied = ours.copy()

    # x's neighbour y was added after the copy had visited x itself: order kept; but y
    # now lists x (met first, from x) before z.
    assert list(ours.adj["y"]) == ["z", "x"]
    assert list(copied.adj["y"]) == ["x", "z"]
    assert copied.adj["y"]["x"] == {"latency_s": 2}
    assert copied.adj["y"]["x"] is not ours.adj["y"]["x"]


def test_a_link_without_a_weight_counts_one_and_a_weight_of_none_is_skipped() -> None:
    ours = Graph()
    ours.add_edge("a", "b")
    ours.add_edge("b", "c", latency_s=None)

    distances, paths = shortest_paths(ours, "a", "latency_s")

    assert distances == {"a": 0, "b": 1}
    assert paths == {"a": ["a"], "b": ["a", "b"]}


def test_misuse_is_refused() -> None:
    ours = Graph()
    ours.add_edge("a", "b")

    with pytest.raises(KeyError, match="no link"):
        ours.remove_edge("a", "c")
    with pytest.raises(ValueError, match="unknown node"):
        shortest_paths(ours, "z", "latency_s")
    with pytest.raises(ValueError, match="None"):
        ours.add_node(None)  # type: ignore[arg-type]
    assert not ours.is_directed() and not ours.is_multigraph()
    assert not ours.view().is_directed()


@settings(max_examples=40, deadline=None)
@given(
    topology=st.sampled_from(["star", "two_tier"]),
    hosts=st.integers(1, 40),
    hosts_per_rack=st.integers(1, 7),
    registries=st.integers(0, 3),
)
def test_the_topology_is_built_in_the_order_a_copy_has_so_a_network_may_adopt_it(
    topology: str, hosts: int, hosts_per_rack: int, registries: int
) -> None:
    """A cluster's network takes its topology as it is (`Network(..., adopt=True)`)
    instead of copying it: the same nodes, links and orders as the copy it would make."""
    from types import SimpleNamespace

    from sim.model.network.topology import LinkParams, NetworkParams, build_topology

    params = NetworkParams(
        topology=topology,  # type: ignore[arg-type]
        host_link=LinkParams(1e9, 1e-4),
        hosts_per_rack=hosts_per_rack,
    )
    endpoints = [
        SimpleNamespace(name=f"registry-{i}", bandwidth_bytes_s=1e9, latency_s=1e-3)
        for i in range(registries)
    ]
    names = [f"node-{i}" for i in range(1, hosts + 1)]
    built = build_topology(params, names, endpoints)
    copied = Graph.from_graph(built)
    assert list(built.nodes(data=True)) == list(copied.nodes(data=True))
    assert [(u, list(built.adj[u])) for u in built] == [(u, list(copied.adj[u])) for u in copied]
    adopted = Network(simpy.Environment(), build_topology(params, names, endpoints), adopt=True)
    fresh = Network(simpy.Environment(), built)
    assert list(adopted.graph.edges(data=True)) == list(fresh.graph.edges(data=True))
    assert adopted.link_rates() == fresh.link_rates() == {}
    for name in names:
        for endpoint in endpoints:
            assert adopted.path(endpoint.name, name) == fresh.path(endpoint.name, name)
