"""The flow-level network: closed-form transfer times, max-min sharing, invariants."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Generator, Sequence
from functools import partial
from pathlib import Path

import networkx as nx
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.network.network import Network

MB = 1e6


def graph_of(*links: tuple[str, str, float, float]) -> nx.Graph:
    """A graph from (u, v, bandwidth_bytes_s, latency_s) links, in that order."""
    graph = nx.Graph()
    for u, v, bandwidth_bytes_s, latency_s in links:
        graph.add_edge(u, v, bandwidth_bytes_s=bandwidth_bytes_s, latency_s=latency_s)
    return graph


def star_graph(hosts: Sequence[str], bandwidth_bytes_s: float, latency_s: float) -> nx.Graph:
    return graph_of(*((host, "switch", bandwidth_bytes_s, latency_s) for host in hosts))


def schedule_transfers(
    network: Network, transfers: Sequence[tuple[float, str, str, float]]
) -> list[float]:
    """Start each (start_s, src, dst, size_bytes) transfer at its time.

    Returns:
        The completion time of each transfer, NaN until it completes.
    """
    env = network.env
    finished_s = [math.nan] * len(transfers)

    def record(_: simpy.Event, index: int) -> None:
        finished_s[index] = env.now

    def start(_: simpy.Event, index: int, src: str, dst: str, size_bytes: float) -> None:
        network.transfer(src, dst, size_bytes).callbacks.append(partial(record, index=index))

    for index, (start_s, src, dst, size_bytes) in enumerate(transfers):
        env.timeout(start_s).callbacks.append(
            partial(start, index=index, src=src, dst=dst, size_bytes=size_bytes)
        )
    return finished_s


def run_transfers(
    network: Network, transfers: Sequence[tuple[float, str, str, float]]
) -> list[float]:
    """Run the transfers to the end; return their completion times."""
    finished_s = schedule_transfers(network, transfers)
    network.env.run()
    return finished_s


def test_uncongested_transfer_takes_latency_plus_size_over_bottleneck() -> None:
    env = simpy.Environment()
    network = Network(env, graph_of(("a", "b", 10 * MB, 0.003), ("b", "c", 4 * MB, 0.002)))

    assert run_transfers(network, [(0.0, "a", "c", 7 * MB)]) == [
        pytest.approx(0.005 + 7 / 4, rel=1e-9)
    ]
    assert network.link_bytes("a", "b") == 7 * MB
    assert network.link_bytes("b", "c") == 7 * MB
    assert network.active_flows == 0


def test_equal_flows_through_one_bottleneck_finish_together() -> None:
    env = simpy.Environment()
    network = Network(env, graph_of(("a", "b", 1 * MB, 0.01)))

    finished_s = run_transfers(network, [(0.0, "a", "b", 2 * MB)] * 7)

    assert finished_s == [pytest.approx(0.01 + 7 * 2, rel=1e-9)] * 7
    assert network.recomputations == 2


def test_different_sizes_finish_staggered() -> None:
    # Rates 1/3 MB/s each until the 1 MB flow ends at 3 s, then 1/2 each: the 2 MB flow
    # has 1 MB left and ends at 5 s, the 3 MB flow has 1 MB left at 5 s and ends at 6 s.
    env = simpy.Environment()
    network = Network(env, graph_of(("a", "b", 1 * MB, 0.5)))

    finished_s = run_transfers(network, [(0.0, "a", "b", size * MB) for size in (1, 2, 3)])

    assert finished_s == [pytest.approx(0.5 + t, rel=1e-9) for t in (3, 5, 6)]


def test_two_bottlenecks_get_max_min_rates() -> None:
    # x -> y: 10 MB/s, y -> z: 4 MB/s. A crosses both, B only x->y, C only y->z.
    # y->z is the tighter bottleneck: A and C get 4/2 = 2 MB/s; B gets what A leaves on
    # x->y: 10 - 2 = 8 MB/s. A (4 MB) ends at 2 s; B (24 MB) has 8 MB left and then gets
    # 10 MB/s: ends at 2.8 s; C (8 MB) has 4 MB left and then gets 4 MB/s: ends at 3 s.
    env = simpy.Environment()
    network = Network(env, graph_of(("x", "y", 10 * MB, 0.0), ("y", "z", 4 * MB, 0.0)))
    transfers = [(0.0, "x", "z", 4 * MB), (0.0, "x", "y", 24 * MB), (0.0, "y", "z", 8 * MB)]
    rates_at_1s: list[dict[tuple[str, ...], float]] = []
    env.timeout(1.0).callbacks.append(lambda _: rates_at_1s.append(network.path_rates()))

    finished_s = run_transfers(network, transfers)

    assert rates_at_1s == [
        {
            ("x", "y", "z"): pytest.approx(2 * MB),
            ("x", "y"): pytest.approx(8 * MB),
            ("y", "z"): pytest.approx(2 * MB),
        }
    ]
    assert finished_s == [pytest.approx(t, rel=1e-9) for t in (2.0, 2.8, 3.0)]


def test_link_rates_report_the_shared_capacity() -> None:
    env = simpy.Environment()
    network = Network(env, graph_of(("x", "y", 10 * MB, 0.0), ("y", "z", 4 * MB, 0.0)))
    for src, dst in (("x", "z"), ("x", "y"), ("y", "z")):
        network.transfer(src, dst, 100 * MB)

    env.run(until=1.0)

    assert network.link_rates() == {
        ("x", "y"): pytest.approx(10 * MB),
        ("y", "z"): pytest.approx(4 * MB),
    }
    assert network.active_flows == 3


def test_opposite_directions_do_not_share_a_link() -> None:
    env = simpy.Environment()
    network = Network(env, graph_of(("a", "b", 1 * MB, 0.0)))

    finished_s = run_transfers(network, [(0.0, "a", "b", 5 * MB), (0.0, "b", "a", 5 * MB)])

    assert finished_s == [pytest.approx(5.0, rel=1e-9)] * 2


def test_a_flow_starting_midway_halves_the_rate_from_then_on() -> None:
    # The first flows alone from 0.5 s to 4.5 s (4 MB, 6 MB left); both then get 0.5 MB/s
    # until the second ends at 8.5 s (the first has 4 MB left), which ends alone at 12.5 s.
    env = simpy.Environment()
    network = Network(env, graph_of(("a", "b", 1 * MB, 0.5)))

    finished_s = run_transfers(network, [(0.0, "a", "b", 10 * MB), (4.0, "a", "b", 2 * MB)])

    assert finished_s == [pytest.approx(12.5, rel=1e-9), pytest.approx(8.5, rel=1e-9)]


def test_link_bytes_count_bytes_in_flight_up_to_now() -> None:
    env = simpy.Environment()
    network = Network(env, graph_of(("a", "b", 1 * MB, 1.0)))
    network.transfer("a", "b", 10 * MB)

    env.run(until=4.0)

    assert network.link_bytes("a", "b") == pytest.approx(3 * MB, rel=1e-12)
    assert network.link_bytes("b", "a") == 0.0
    with pytest.raises(ValueError, match="no link"):
        network.link_bytes("a", "c")


def test_zero_bytes_take_the_latency_and_a_local_transfer_nothing() -> None:
    env = simpy.Environment()
    network = Network(env, graph_of(("a", "b", 1 * MB, 0.25), ("b", "c", 1 * MB, 0.5)))

    finished_s = run_transfers(network, [(1.0, "a", "c", 0.0), (1.0, "b", "b", 5 * MB)])

    assert finished_s == [1.75, 1.0]
    assert network.link_bytes("a", "b") == 0.0
    assert network.recomputations == 0


def test_paths_follow_the_lowest_latency_and_break_ties_by_insertion_order() -> None:
    env = simpy.Environment()
    network = Network(
        env,
        graph_of(
            ("a", "b", MB, 0.010),
            ("a", "c", MB, 0.002),
            ("c", "b", MB, 0.003),
            ("b", "d", MB, 0.001),
            ("c", "e", MB, 0.004),
            ("e", "d", MB, 0.0),
        ),
    )

    assert network.path("a", "b") == ("a", "c", "b")
    assert network.latency_s("a", "b") == pytest.approx(0.005)
    # Via b or via e both take 6 ms to d; Dijkstra settles b's route first.
    assert network.path("a", "d") == ("a", "c", "b", "d")
    assert network.latency_s("a", "d") == pytest.approx(0.006)
    assert network.path("d", "d") == ("d",)
    assert network.latency_s("d", "d") == 0.0


def test_completions_of_one_instant_come_in_start_order() -> None:
    env = simpy.Environment()
    hosts = [f"host-{index}" for index in range(5)]
    network = Network(env, star_graph(["registry", *hosts], 100 * MB, 0.0))
    order: list[str] = []

    def record(_: simpy.Event, host: str) -> None:
        order.append(host)

    for host in ("host-3", "host-1", "host-4", "host-0", "host-2"):
        done = network.transfer("registry", host, 1 * MB)
        done.callbacks.append(partial(record, host=host))

    env.run()

    assert order == ["host-3", "host-1", "host-4", "host-0", "host-2"]
    assert env.now == pytest.approx(5 * MB / (100 * MB))


def test_simultaneous_starts_and_ends_cost_one_recomputation_each() -> None:
    # Each host downloads two 1 MB blobs, the second one event hop after the first ends.
    # Per instant (t=0: 1000 starts; t=1: 1000 ends and 1000 starts; t=2: 1000 ends) the
    # rates are computed once, after every event of that instant, not once per change.
    env = simpy.Environment()
    hosts = [f"host-{index}" for index in range(1000)]
    network = Network(env, star_graph(["registry", *hosts], 1000 * MB, 0.0))

    def pull_two_blobs(host: str) -> Generator[simpy.Event, None, None]:
        yield network.transfer("registry", host, 1 * MB)
        yield env.timeout(0)
        yield network.transfer("registry", host, 1 * MB)

    for host in hosts:
        env.process(pull_two_blobs(host))

    env.run(until=0.5)
    assert (network.recomputations, network.active_flows) == (1, 1000)
    env.run(until=1.5)
    assert (network.recomputations, network.active_flows) == (2, 1000)
    env.run()
    assert (network.recomputations, network.active_flows) == (3, 0)
    assert env.now == pytest.approx(2.0, rel=1e-9)


def test_attached_node_receives_transfers() -> None:
    env = simpy.Environment()
    network = Network(env, graph_of(("registry", "switch", 10 * MB, 0.01)))
    network.path("registry", "switch")
    finished_s: list[float] = []

    def boot_and_pull(_: simpy.Event) -> None:
        network.attach("host-new", "switch", bandwidth_bytes_s=2 * MB, latency_s=0.04)
        done = network.transfer("registry", "host-new", 4 * MB)
        done.callbacks.append(lambda _: finished_s.append(env.now))

    env.timeout(1.0).callbacks.append(boot_and_pull)
    env.run()

    assert finished_s == [pytest.approx(1.0 + 0.05 + 4 / 2, rel=1e-9)]
    assert network.path("registry", "host-new") == ("registry", "switch", "host-new")
    assert network.path("host-new", "registry") == ("host-new", "switch", "registry")
    assert network.latency_s("registry", "host-new") == pytest.approx(0.05)
    assert "host-new" in network.graph
    assert network.link_bytes("switch", "host-new") == 4 * MB


def test_attach_rejects_existing_or_dangling_nodes() -> None:
    network = Network(simpy.Environment(), graph_of(("a", "b", MB, 0.0)))

    with pytest.raises(ValueError, match="exists"):
        network.attach("a", "b", MB, 0.0)
    with pytest.raises(ValueError, match="unknown node"):
        network.attach("c", "nowhere", MB, 0.0)
    with pytest.raises(ValueError, match="bandwidth"):
        network.attach("c", "b", 0.0, 0.0)
    assert "c" not in network.graph


def test_the_graph_view_is_read_only_and_the_callers_graph_is_not_tracked() -> None:
    graph = graph_of(("a", "b", MB, 0.0))
    network = Network(simpy.Environment(), graph)
    graph.add_edge("b", "c", bandwidth_bytes_s=MB, latency_s=0.0)

    assert not hasattr(network.graph, "add_node")
    assert not hasattr(network.graph, "add_edge")
    assert not hasattr(network.graph, "remove_edge")
    assert list(network.graph.nodes) == ["a", "b"]


@pytest.mark.parametrize(
    ("src", "dst", "size_bytes", "message"),
    [
        ("a", "zz", 1.0, "unknown node"),
        ("zz", "a", 1.0, "unknown node"),
        ("a", "island", 1.0, "no path"),
        ("a", "b", -1.0, "size_bytes"),
        ("a", "b", math.nan, "size_bytes"),
        ("a", "b", math.inf, "size_bytes"),
    ],
)
def test_transfer_rejects_bad_requests(src: str, dst: str, size_bytes: float, message: str) -> None:
    graph = graph_of(("a", "b", MB, 0.0))
    graph.add_node("island")
    network = Network(simpy.Environment(), graph)

    with pytest.raises(ValueError, match=message):
        network.transfer(src, dst, size_bytes)


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (nx.DiGraph([("a", "b", {"bandwidth_bytes_s": MB, "latency_s": 0.0})]), "undirected"),
        (nx.Graph([("a", "b", {"latency_s": 0.0})]), "bandwidth_bytes_s"),
        (nx.Graph([("a", "b", {"bandwidth_bytes_s": 0.0, "latency_s": 0.0})]), "> 0"),
        (nx.Graph([("a", "b", {"bandwidth_bytes_s": MB, "latency_s": -1.0})]), ">= 0"),
        (nx.Graph([("a", "a", {"bandwidth_bytes_s": MB, "latency_s": 0.0})]), "self-loop"),
    ],
)
def test_invalid_graphs_are_rejected(graph: nx.Graph, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Network(simpy.Environment(), graph)


def mixed_scenario(network: Network) -> list[float]:
    hosts = sorted(node for node in network.graph if node.startswith("host"))
    transfers = [
        (
            0.1 * (index % 4),
            "registry" if index % 3 else hosts[(index + 1) % len(hosts)],
            hosts[index % len(hosts)],
            float((index % 5 + 1) * MB),
        )
        for index in range(40)
    ]
    return run_transfers(network, transfers)


def mixed_network() -> Network:
    hosts = {f"host-{index}" for index in range(8)}
    graph = graph_of(("registry", "switch", 20 * MB, 0.001))
    for index, host in enumerate(sorted(hosts)):
        graph.add_edge(host, "switch", bandwidth_bytes_s=(index % 3 + 1) * MB, latency_s=0.002)
    return Network(simpy.Environment(), graph)


def test_two_runs_give_identical_completion_times() -> None:
    first = mixed_scenario(mixed_network())
    second = mixed_scenario(mixed_network())

    assert first == second
    assert all(math.isfinite(t) for t in first)


def test_runs_under_different_hash_seeds_print_the_same() -> None:
    code = (
        "from tests.test_network import mixed_network, mixed_scenario\n"
        "print(repr(mixed_scenario(mixed_network())))\n"
    )
    root = Path(__file__).resolve().parents[1]
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(result.stdout)

    assert outputs[0] == outputs[1]
    assert outputs[0].count(",") == 39


@st.composite
def star_workloads(
    draw: st.DrawFn,
) -> tuple[nx.Graph, list[tuple[float, str, str, float]]]:
    """A switch with 2-5 hosts on links of random speed and latency, and transfers among
    them that start at random (often coinciding) times."""
    host_count = draw(st.integers(2, 5))
    graph = nx.Graph()
    for index in range(host_count):
        graph.add_edge(
            f"h{index}",
            "s",
            bandwidth_bytes_s=draw(st.sampled_from([0.5, 1.0, 2.0, 10.0]) | st.floats(0.5, 50.0))
            * MB,
            latency_s=draw(st.sampled_from([0.0, 0.001, 0.25])),
        )
    host = st.integers(0, host_count - 1).map(lambda index: f"h{index}")
    start_s = st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0.0, 3.0))
    size_bytes = st.one_of(
        st.just(0.0),
        st.integers(1, 40).map(lambda halves: halves * MB / 2),
        st.floats(1.0, 20 * MB),
    )
    transfers = draw(st.lists(st.tuples(start_s, host, host, size_bytes), min_size=1, max_size=12))
    return graph, transfers


def assert_rates_feasible_and_max_min_fair(network: Network) -> None:
    """No link over capacity, and every flow has a bottleneck: a full link on its path
    where no other flow gets more (the defining property of max-min fairness)."""
    link_rates = network.link_rates()
    path_rates = network.path_rates()
    for (u, v), rate_bytes_s in link_rates.items():
        assert rate_bytes_s <= network.link_capacity_bytes_s(u, v) * (1 + 1e-9)
    for path, rate_bytes_s in path_rates.items():
        links = list(zip(path, path[1:], strict=False))
        assert any(
            link_rates[link] >= network.link_capacity_bytes_s(*link) * (1 - 1e-9)
            and all(
                rate_bytes_s >= other_rate * (1 - 1e-9)
                for other_path, other_rate in path_rates.items()
                if link in zip(other_path, other_path[1:], strict=False)
            )
            for link in links
        ), f"flow over {path} has no bottleneck"


@settings(max_examples=60, deadline=None)
@given(star_workloads())
def test_random_star_workloads_conserve_bytes_and_share_fairly(
    workload: tuple[nx.Graph, list[tuple[float, str, str, float]]],
) -> None:
    graph, transfers = workload
    env = simpy.Environment()
    network = Network(env, graph)
    finished_s = schedule_transfers(network, transfers)

    while env.peek() < math.inf:
        env.step()
        if env.peek() > env.now:
            assert_rates_feasible_and_max_min_fair(network)

    assert network.active_flows == 0
    for (start_s, src, dst, size_bytes), end_s in zip(transfers, finished_s, strict=True):
        assert math.isfinite(end_s), "a transfer never completed"
        path = network.path(src, dst)
        bottleneck_bytes_s = min(
            (graph.edges[u, v]["bandwidth_bytes_s"] for u, v in zip(path, path[1:], strict=False)),
            default=math.inf,
        )
        fastest_s = start_s + network.latency_s(src, dst) + size_bytes / bottleneck_bytes_s
        assert end_s >= fastest_s * (1 - 1e-9) - 1e-9
    for host in graph.nodes - {"s"}:
        sent_bytes = sum(b for _, src, dst, b in transfers if src == host != dst)
        received_bytes = sum(b for _, src, dst, b in transfers if dst == host != src)
        assert network.link_bytes(host, "s") == pytest.approx(sent_bytes, rel=1e-9, abs=1e-3)
        assert network.link_bytes("s", host) == pytest.approx(received_bytes, rel=1e-9, abs=1e-3)


def test_send_reports_to_callbacks_when_transfer_would_succeed_its_event() -> None:
    """`send` and `transfer` give the same times; a link failure reaches `send`'s callback
    later in the instant, as an event's waiter would hear of it."""
    graph = star_graph(["a", "b"], 100 * MB, 0.001)
    env = simpy.Environment()
    network = Network(env, graph)
    heard: list[tuple[float, str]] = []
    network.send("a", "b", 10 * MB, lambda size: heard.append((env.now, f"sent {size}")), print)
    done = network.transfer("a", "b", 10 * MB)
    done.callbacks.append(lambda event: heard.append((env.now, f"event {event.value}")))
    cut: list[str] = []
    network.send("b", "a", 500 * MB, print, lambda error: cut.append(str(error)))

    def fail(_: object) -> None:
        network.fail_link("a", "switch")
        cut.append("after the failure")

    env.timeout(1.0).callbacks.append(fail)
    env.run()
    assert heard == [(0.202, f"sent {10 * MB}"), (0.202, f"event {10 * MB}")]
    assert cut == ["after the failure", "link a-switch failed"]
