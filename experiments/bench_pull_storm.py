"""Benchmark: a pull storm, N hosts pulling one image from one registry at once.

One registry and N hosts on a star of 1 Gbit/s (125 MB/s) links; at t = 0 every host
starts one replica of a 350 MB image made of three layers (a DaemonSet roll-out);
extraction is off. Prints, per N, the simulated time at which the last layer download
completes (expected N x 350 MB / 125 MB/s: the registry's link is the bottleneck and
max-min sharing keeps it full) and the wall time of the whole run through the public API
(compose, validate, build, simulate, summarise).

    python experiments/bench_pull_storm.py            # N = 50, 500, 2000, 10000
    python experiments/bench_pull_storm.py 100 1000   # chosen sizes
"""

from __future__ import annotations

import argparse
import time

import sim

LINK = "1Gbps"
IMAGE_BYTES = 350e6
LINK_BYTES_S = 125e6


def storm(hosts: int) -> tuple[float, float]:
    """(simulated seconds to the last layer downloaded, wall seconds) for `hosts` hosts."""
    cfg = sim.load_config(
        [
            "cluster=large",
            f"cluster.pools.node.count={hosts}",
            "cluster.engine.extraction=off",
            "network=star",
            f"network.host_link.bandwidth={LINK}",
            "registry=single",
            f"registry.hub.bandwidth={LINK}",
            "images=storm",
            "workload=storm",
            "platform=container",
            "horizon=30d",
        ]
    )
    started = time.perf_counter()
    result = sim.simulate(cfg)
    wall_s = time.perf_counter() - started
    last_download = max(e.time_s for e in result.events if e.kind == "layer_downloaded")
    assert result.summary["pulls_completed"] == hosts
    return last_download, wall_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[50, 500, 2000, 10000])
    for hosts in parser.parse_args().sizes:
        sim_s, wall_s = storm(hosts)
        expected_s = hosts * IMAGE_BYTES / LINK_BYTES_S
        print(
            f"N={hosts} sim_s={sim_s:.3f} expected_s={expected_s:.3f} wall_s={wall_s:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
