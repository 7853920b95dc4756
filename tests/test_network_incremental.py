"""The incremental max-min network against the reference algorithm it replaced.

`tests/reference_network.py` recomputes every rate at every instant with a change; the
engine updates only the bottleneck groups whose share changes. Both must give the same
completion times on any topology and workload; and the incremental path must be the one
taken in the common case (a storm whose flows start one after another).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import networkx as nx
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_network import ReferenceNetwork
from test_network import (
    assert_rates_feasible_and_max_min_fair,
    schedule_transfers,
    star_graph,
)

from sim.model.network.network import Network

MB = 1e6
Transfer = tuple[float, str, str, float]


def finish_times(network: Network | ReferenceNetwork, transfers: Sequence[Transfer]) -> list[float]:
    """Run the transfers to the end on `network` (either engine), checking the rates at
    the end of every instant when it is the incremental one."""
    finished_s = schedule_transfers(network, transfers)  # type: ignore[arg-type]
    env = network.env
    while env.peek() < math.inf:
        env.step()
        if isinstance(network, Network) and env.peek() > env.now:
            assert_rates_feasible_and_max_min_fair(network)
    assert network.active_flows == 0
    return finished_s


bandwidths = st.sampled_from([1.0, 2.0, 3.0, 10.0, 40.0]) | st.floats(0.5, 50.0)
latencies = st.sampled_from([0.0, 0.0001, 0.001, 0.25])


@st.composite
def topologies(draw: st.DrawFn) -> tuple[nx.Graph, list[str], list[str]]:
    """A star, two tiers of switches, or a random tree of switches; hosts and one to
    three registries hang off random switches. Returns (graph, registries, hosts)."""
    shape = draw(st.sampled_from(["star", "two_tier", "tree"]))
    graph = nx.Graph()
    if shape == "star":
        switches = ["switch"]
        graph.add_node("switch")
    elif shape == "two_tier":
        racks = draw(st.integers(1, 3))
        switches = [f"rack-{index}" for index in range(racks)]
        for rack in switches:
            graph.add_edge(rack, "spine", bandwidth_bytes_s=draw(bandwidths) * MB, latency_s=0.0)
        switches.append("spine")
    else:
        count = draw(st.integers(1, 5))
        switches = [f"s{index}" for index in range(count)]
        graph.add_node("s0")
        for index in range(1, count):
            parent = switches[draw(st.integers(0, index - 1))]
            graph.add_edge(
                switches[index],
                parent,
                bandwidth_bytes_s=draw(bandwidths) * MB,
                latency_s=draw(latencies),
            )
    hosts = [f"h{index}" for index in range(draw(st.integers(1, 8)))]
    registries = [f"r{index}" for index in range(draw(st.integers(1, 3)))]
    for node in hosts + registries:
        switch = "spine" if shape == "two_tier" and node in registries else None
        switch = switch or switches[draw(st.integers(0, len(switches) - 1))]
        if shape == "two_tier" and node in hosts:
            switch = switches[draw(st.integers(0, len(switches) - 2))]
        graph.add_edge(
            node, switch, bandwidth_bytes_s=draw(bandwidths) * MB, latency_s=draw(latencies)
        )
    return graph, registries, hosts


@st.composite
def workloads(draw: st.DrawFn) -> tuple[nx.Graph, list[Transfer]]:
    """Transfers from registries to hosts (and a few between hosts) of random sizes,
    starting at staggered, sometimes coinciding, times."""
    graph, registries, hosts = draw(topologies())
    source = st.sampled_from(registries) | st.sampled_from(hosts)
    start_s = st.one_of(
        st.sampled_from([0.0, 0.5, 1.0]),
        st.integers(0, 40).map(lambda step: step * 0.01),
        st.floats(0.0, 3.0),
    )
    size_bytes = st.one_of(
        st.integers(1, 40).map(lambda halves: halves * MB / 2),
        st.sampled_from([50 * MB, 100 * MB, 200 * MB]),
        st.floats(1.0, 20 * MB),
    )
    transfers = draw(
        st.lists(
            st.tuples(start_s, source, st.sampled_from(hosts), size_bytes), min_size=1, max_size=30
        )
    )
    return graph, transfers


@settings(max_examples=150, deadline=None)
@given(workloads())
def test_completion_times_equal_the_reference_algorithm(
    workload: tuple[nx.Graph, list[Transfer]],
) -> None:
    graph, transfers = workload

    engine = finish_times(Network(simpy.Environment(), graph), transfers)
    reference = finish_times(ReferenceNetwork(simpy.Environment(), graph), transfers)

    assert all(math.isfinite(t) for t in engine)
    for got, expected in zip(engine, reference, strict=True):
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def staggered_storm(hosts: int, stagger_s: float) -> tuple[Network, list[float]]:
    """`hosts` hosts on a 125 MB/s star each pull 200, 100 and 50 MB from one registry;
    host i starts at i * `stagger_s`."""
    names = [f"host-{index}" for index in range(hosts)]
    network = Network(simpy.Environment(), star_graph([*names, "registry"], 125 * MB, 0.0))
    transfers = [
        (index * stagger_s, "registry", host, size * MB)
        for index, host in enumerate(names)
        for size in (200, 100, 50)
    ]
    return network, finish_times(network, transfers)


def test_a_staggered_storm_keeps_the_registry_link_full() -> None:
    # The registry's link is never idle once the first host starts (each host brings
    # 2.8 s of work every 10 ms), and it is every flow's bottleneck: the last byte
    # arrives after N * 350 MB / 125 MB/s, whatever the stagger.
    network, finished_s = staggered_storm(hosts=50, stagger_s=0.01)

    assert max(finished_s) == pytest.approx(50 * 350 / 125, rel=1e-12)
    assert network.link_bytes("switch", "host-7") == 350 * MB
    assert network.link_bytes("registry", "switch") == pytest.approx(50 * 350 * MB, rel=1e-12)


def test_a_staggered_storm_updates_rates_locally() -> None:
    # 50 start instants and 150 end instants (each host's three layers end apart): every
    # one updates the registry's group alone, except the first start (no bottleneck yet),
    # the second (the bottleneck moves from the first host's link to the registry's) and
    # the last end (the group empties).
    network, _ = staggered_storm(hosts=50, stagger_s=0.01)

    assert network.recomputations == 200
    assert network.full_recomputations == 3


def test_equal_shares_on_a_staggered_storm_match_the_reference() -> None:
    names = [f"host-{index}" for index in range(20)]
    transfers = [
        (index * 0.01, "registry", host, size * MB)
        for index, host in enumerate(names)
        for size in (200, 100, 50)
    ]
    graph = star_graph([*names, "registry"], 125 * MB, 0.0)

    engine = finish_times(Network(simpy.Environment(), graph), transfers)
    reference = finish_times(ReferenceNetwork(simpy.Environment(), graph), transfers)

    assert engine == pytest.approx(reference, rel=1e-12)


def test_a_slow_host_link_becomes_its_flows_bottleneck() -> None:
    # Two hosts pull 100 MB from a 10 MB/s registry; host-slow's own link is 2 MB/s, so
    # it gets 2 MB/s and host-fast the other 8 MB/s until host-fast ends at 12.5 s; then
    # host-slow still gets 2 MB/s and ends at 50 s.
    graph = nx.Graph()
    graph.add_edge("registry", "switch", bandwidth_bytes_s=10 * MB, latency_s=0.0)
    graph.add_edge("host-fast", "switch", bandwidth_bytes_s=100 * MB, latency_s=0.0)
    graph.add_edge("host-slow", "switch", bandwidth_bytes_s=2 * MB, latency_s=0.0)
    network = Network(simpy.Environment(), graph)

    finished_s = finish_times(
        network,
        [(0.0, "registry", "host-fast", 100 * MB), (0.0, "registry", "host-slow", 100 * MB)],
    )

    assert finished_s == [pytest.approx(12.5), pytest.approx(50.0)]
