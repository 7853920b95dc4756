"""Transfers to many hosts at once (`Network.send_together`): twin paths moved as one flow
give every transfer the end, the order of notice and the byte counts separate transfers
have."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import networkx as nx
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.network.network import Network, TransferFailed

MB = 1e6

# A registry, a core switch and racks of hosts: hosts of one rack are on twin paths.
Topology = tuple[float, float, list[tuple[float, list[float]]]]


def two_tier(topology: Topology) -> nx.Graph:
    """`registry_bandwidth, host_latency, [(rack_uplink, [host link bandwidths...])...]`."""
    registry_bandwidth, latency_s, racks = topology
    graph = nx.Graph()
    graph.add_edge("registry", "core", bandwidth_bytes_s=registry_bandwidth, latency_s=1e-4)
    for rack, (uplink, hosts) in enumerate(racks):
        graph.add_edge("core", f"rack-{rack}", bandwidth_bytes_s=uplink, latency_s=1e-4)
        for host, bandwidth in enumerate(hosts):
            graph.add_edge(
                f"rack-{rack}", f"h{rack}-{host}", bandwidth_bytes_s=bandwidth, latency_s=latency_s
            )
    return graph


Send = tuple[float, list[str], list[float]]  # at, destinations, sizes


def run(graph: nx.Graph, sends: Sequence[Send], together: bool, cut: str | None = None):
    """Each send at its time, together or one transfer at a time; what each transfer
    was told and when, in the order it was told, and the bytes on every link."""
    env = simpy.Environment()
    network = Network(env, graph)
    told: list[tuple[float, int, str, int, str]] = []

    def arrived(send: int, dsts: list[str], index: int, members: list[int]) -> None:
        told.extend((env.now, send, dsts[m], index, "arrived") for m in members)

    def failed(
        send: int, dsts: list[str], index: int, members: list[int], error: Exception
    ) -> None:
        told.extend((env.now, send, dsts[m], index, f"failed {error}") for m in members)

    def start(send: int, dsts: list[str], sizes: list[float], _: object) -> None:
        if together:
            network.send_together(
                "registry", dsts, sizes, partial(arrived, send, dsts), partial(failed, send, dsts)
            )
            return
        for member, dst in enumerate(dsts):
            for index, size in enumerate(sizes):
                network.send(
                    "registry",
                    dst,
                    size,
                    lambda _, send=send, member=member, index=index, dsts=dsts: arrived(
                        send, dsts, index, [member]
                    ),
                    lambda error, send=send, member=member, index=index, dsts=dsts: failed(
                        send, dsts, index, [member], error
                    ),
                )

    for send, (at_s, dsts, sizes) in enumerate(sends):
        env.timeout(at_s).callbacks.append(partial(start, send, dsts, sizes))
    if cut is not None:
        u, v = cut.split("--")
        env.timeout(1.5).callbacks.append(lambda _: network.fail_link(u, v))
    samples: list[int] = []
    env.timeout(0.75).callbacks.append(lambda _: samples.append(network.active_flows))
    env.run()
    carried = {
        (u, v): (network.link_bytes(u, v), network.link_bytes(v, u)) for u, v in graph.edges()
    }
    return told, carried, samples


def test_a_storm_on_a_star_moves_as_one_flow_per_layer_and_ends_as_separate_flows_do() -> None:
    graph = two_tier((125 * MB, 1e-4, [(1e12, [125 * MB] * 50)]))
    hosts = [f"h0-{host}" for host in range(50)]
    sends = [(0.0, hosts, [200 * MB, 100 * MB, 50 * MB])]
    separate = run(graph, sends, together=False)
    together = run(graph, sends, together=True)
    assert together == separate
    told = together[0]
    assert [(dst, index) for _, _, dst, index, _ in told[:3]] == [
        ("h0-0", 2),
        ("h0-1", 2),
        ("h0-2", 2),
    ]
    # The registry link is full from the bytes' start (after 3 x 0.1 ms) to the last byte.
    assert told[-1][0] == pytest.approx(50 * 350 * MB / (125 * MB) + 3e-4, rel=1e-12)


def test_a_flow_of_its_own_on_a_twins_link_splits_the_set_as_far_along_as_it_was() -> None:
    graph = two_tier((100 * MB, 1e-4, [(1e12, [1000 * MB] * 4)]))
    hosts = [f"h0-{host}" for host in range(4)]
    sends = [
        (0.0, hosts, [100 * MB, 60 * MB]),
        (1.0, ["h0-2"], [30 * MB]),  # on h0-2's own link while its twins' bytes flow
    ]
    assert run(graph, sends, together=True) == run(graph, sends, together=False)


def test_a_link_failure_under_twins_fails_their_transfers_as_separate_ones() -> None:
    graph = two_tier((100 * MB, 1e-4, [(1e12, [1000 * MB] * 3)]))
    hosts = [f"h0-{host}" for host in range(3)]
    sends = [(0.0, hosts, [100 * MB, 60 * MB])]
    for cut in ("registry--core", "rack-0--h0-1"):
        together = run(graph, sends, together=True, cut=cut)
        assert together == run(graph, sends, together=False, cut=cut)
        assert any(what.startswith("failed") for *_, what in together[0])


def test_sizes_must_be_finite_and_not_negative() -> None:
    network = Network(simpy.Environment(), two_tier((MB, 0.0, [(MB, [MB])])))
    with pytest.raises(ValueError, match="size_bytes"):
        network.send_together("registry", ["h0-0"], [1.0, -1.0], print, print)


topologies = st.tuples(
    st.sampled_from([50 * MB, 125 * MB, 1e12]),
    st.sampled_from([0.0, 1e-4]),
    st.lists(
        st.tuples(
            st.sampled_from([60 * MB, 1e12]),
            st.lists(st.sampled_from([40 * MB, 125 * MB]), min_size=1, max_size=5),
        ),
        min_size=1,
        max_size=3,
    ),
)


@settings(max_examples=120, deadline=None)
@given(
    topologies,
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.0, 0.5, 1.0]),
            st.lists(st.integers(0, 14), min_size=1, max_size=8, unique=True),
            st.lists(st.sampled_from([0.0, 5 * MB, 20 * MB, 50 * MB]), min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from([None, "registry--core", "core--rack-0"]),
)
def test_sends_together_and_apart_agree(
    topology: Topology, picks: list[tuple[float, list[int], list[float]]], cut: str | None
) -> None:
    """Random racks, sends at a few instants to random hosts (twins, lone hosts, hosts
    already receiving), zero-byte transfers and a link failing midway: every transfer is
    told the same thing at the same time in the same order, and every link carried the
    same bytes, whether sent together or apart."""
    graph = two_tier(topology)
    hosts = [node for node in graph.nodes if str(node).startswith("h")]
    sends = [
        (at_s, [hosts[pick] for pick in dict.fromkeys(p % len(hosts) for p in picked)], sizes)
        for at_s, picked, sizes in picks
    ]
    together = run(graph, sends, together=True, cut=cut)
    separate = run(graph, sends, together=False, cut=cut)
    # A set split because a host's own link came into use is rated afresh from then on:
    # its times may differ from separate flows' in the last bit.
    assert [told[1:] for told in together[0]] == [told[1:] for told in separate[0]]
    assert [told[0] for told in together[0]] == pytest.approx(
        [told[0] for told in separate[0]], rel=1e-12
    )
    assert together[2] == separate[2]
    for link, carried in separate[1].items():
        assert together[1][link] == pytest.approx(carried, rel=1e-12, abs=1e-3)


def test_failures_name_the_cut_link() -> None:
    graph = two_tier((100 * MB, 1e-4, [(1e12, [1000 * MB] * 2)]))
    told, _, _ = run(graph, [(0.0, ["h0-0", "h0-1"], [500 * MB])], True, cut="registry--core")
    assert {what for *_, what in told} == {f"failed {TransferFailed('link registry-core failed')}"}
