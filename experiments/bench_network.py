"""How the flow-level network scales: N hosts pull a 350 MB image from one registry.

A star: the registry and N hosts hang off one switch by 1 Gbit/s links with 0.1 ms
latency. Every host downloads the image's three layers (200, 100 and 50 MB) at once, so
the registry's link is the bottleneck and the last byte arrives after about
N * 350 MB / 125 MB/s. In the simultaneous variant all hosts start at t=0; in the
staggered one host i starts at i * 0.01 s, so no two starts share an instant.

Run from the repository root (with the package installed, or ``PYTHONPATH=.``):
``python experiments/bench_network.py --hosts 50 500 2000 10000 --staggered-hosts 50 500``

Each line also gives the rate updates (one per instant with a start or an end) and how
many of them had to recompute every rate because a bottleneck moved.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from functools import partial

import networkx as nx
import simpy

from sim.model.network.network import Network

LINK_BYTES_S = 125e6
LINK_LATENCY_S = 1e-4
LAYER_SIZES_BYTES = (200e6, 100e6, 50e6)
STAGGER_S = 0.01


def star(hosts: int) -> nx.Graph:
    """The registry and `hosts` hosts, each on its own link to one switch."""
    graph = nx.Graph()
    graph.add_edge("registry", "switch", bandwidth_bytes_s=LINK_BYTES_S, latency_s=LINK_LATENCY_S)
    for index in range(hosts):
        graph.add_edge(
            f"host-{index}", "switch", bandwidth_bytes_s=LINK_BYTES_S, latency_s=LINK_LATENCY_S
        )
    return graph


def pull_everywhere(hosts: int, stagger_s: float) -> tuple[float, int, int, float]:
    """Simulate every host pulling the image; host i starts at ``i * stagger_s``.

    Returns:
        When the last transfer completed (simulated s), the rate updates, how many of them
        recomputed every rate, and the wall-clock seconds of building the network and
        running the simulation.
    """
    graph = star(hosts)
    started_s = time.perf_counter()
    env = simpy.Environment()
    network = Network(env, graph)
    completions_s: list[float] = []

    def record(_: simpy.Event) -> None:
        completions_s.append(env.now)

    def pull(_: simpy.Event | None, host: str) -> None:
        for size_bytes in LAYER_SIZES_BYTES:
            network.transfer("registry", host, size_bytes).callbacks.append(record)

    for index in range(hosts):
        host = f"host-{index}"
        if stagger_s == 0:
            pull(None, host)
        else:
            env.timeout(index * stagger_s).callbacks.append(partial(pull, host=host))
    env.run()
    wall_s = time.perf_counter() - started_s
    assert len(completions_s) == hosts * len(LAYER_SIZES_BYTES)
    return max(completions_s), network.recomputations, network.full_recomputations, wall_s


def report(label: str, host_counts: Sequence[int], stagger_s: float) -> None:
    print(label)
    for hosts in host_counts:
        last_s, updates, full_updates, wall_s = pull_everywhere(hosts, stagger_s)
        expected_s = hosts * sum(LAYER_SIZES_BYTES) / LINK_BYTES_S
        print(
            f"N={hosts} sim_s={last_s:.6f} expected_s={expected_s:.6f} wall_s={wall_s:.3f} "
            f"updates={updates} full_updates={full_updates}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[50, 500, 2000, 10000])
    parser.add_argument(
        "--staggered-hosts",
        type=int,
        nargs="*",
        default=[50, 500, 2000, 10000],
        help="host counts for the staggered variant (every start and end its own instant)",
    )
    args = parser.parse_args()
    report("simultaneous starts (t=0)", args.hosts, 0.0)
    report(f"staggered starts (host i at i*{STAGGER_S} s)", args.staggered_hosts, STAGGER_S)


if __name__ == "__main__":
    main()
