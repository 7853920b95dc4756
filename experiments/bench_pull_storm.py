"""Benchmark: a pull storm, N hosts pulling one image from one registry.

One registry and N hosts on a star of 1 Gbit/s (125 MB/s) links; every host starts one
replica of a 350 MB image made of three layers (a DaemonSet roll-out), all at t = 0 or,
with ``--stagger``, host k at k x stagger; extraction is off. Prints, per N, the
simulated time at which the last layer download completes, the time a closed form
expects, the wall and CPU time of the run through the public API (``sim.simulate``:
validate, build, simulate, summarise) and the peak resident memory of the process:

    N=<n> sim_s=<s> expected_s=<e> wall_s=<w> cpu_s=<c> rss_mb=<m>

The registry's link is the bottleneck and max-min sharing keeps it full: it never idles
while the hosts that started have bytes left, so the last byte arrives after
max(N x 350 MB, (N - 1) x stagger x 125 MB/s + 350 MB) / 125 MB/s, plus the manifest and
blob round trips and the links' latency (1 ms).

Each N runs in a process of its own, so that its memory peak and its garbage are its
own. Runs above 10,000 hosts keep no event log (``log=summary``), so that memory grows
with the hosts, not with their 25 events each. On a shared machine, wall times follow
the other jobs; CPU times much less.

``--against PYTHON`` measures the same sizes with another installation too (another
checkout's interpreter, e.g. main's), the two alternating run by run, each line led by
``code=new`` (this one) or ``code=old``; ``--repeats`` keeps the best of that many runs
of each (fastest CPU time).

    python experiments/bench_pull_storm.py                  # N = 500, 2000, 10000, 100000
    python experiments/bench_pull_storm.py 100 1000         # chosen sizes
    python experiments/bench_pull_storm.py --stagger 10ms   # host k starts at k x 10 ms
    python experiments/bench_pull_storm.py --against ../main/.venv/bin/python --repeats 3 2000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import sim
from sim.core.collection import collect_left_garbage
from sim.core.units import parse_duration

LINK = "1Gbps"
IMAGE_BYTES = 350e6
LINK_BYTES_S = 125e6
FULL_LOG_UP_TO_HOSTS = 10_000


def storm(hosts: int, stagger: str) -> tuple[float, float, float]:
    """(simulated seconds to the last layer downloaded, wall seconds, CPU seconds) for
    `hosts` hosts."""
    overrides = [
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
        f"log={'full' if hosts <= FULL_LOG_UP_TO_HOSTS else 'summary'}",
    ]
    if parse_duration(stagger, "--stagger"):
        overrides.append(f"workload.deployments.0.stagger={stagger}")
    cfg = sim.load_config(overrides)
    collect_left_garbage()  # the last repeat's: each run measured as its process's only one
    started, cpu_started = time.perf_counter(), time.process_time()
    result = sim.simulate(cfg)
    wall_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    assert result.summary["pulls_completed"] == hosts
    last_download = max(pull.started_s + pull.queued_s + pull.download_s for pull in result.pulls)
    return last_download, wall_s, cpu_s


def expected_s(hosts: int, stagger_s: float) -> float:
    """When the registry's link, busy whenever a started host has bytes left, ends."""
    return max(hosts * IMAGE_BYTES, (hosts - 1) * stagger_s * LINK_BYTES_S + IMAGE_BYTES) / (
        LINK_BYTES_S
    )


def run_one(hosts: int, stagger: str) -> None:
    """Run one size in this process and print its line."""
    sim_s, wall_s, cpu_s = storm(hosts, stagger)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    expected = expected_s(hosts, parse_duration(stagger, "--stagger"))
    print(
        f"N={hosts} sim_s={sim_s:.3f} expected_s={expected:.3f} wall_s={wall_s:.3f} "
        f"cpu_s={cpu_s:.3f} rss_mb={rss_mb:.0f}",
        flush=True,
    )


def measured(python: str, hosts: int, stagger: str) -> str:
    """The line of one size, run by `python` in a process of its own."""
    return subprocess.run(
        [python, __file__, "--in-process", "--stagger", stagger, str(hosts)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def cpu_of(line: str) -> float:
    return float(dict(field.split("=") for field in line.split())["cpu_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[500, 2000, 10000, 100000])
    parser.add_argument("--stagger", default="0s", help="host k starts at k x stagger")
    parser.add_argument("--against", help="another installation's python: old vs new")
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        for hosts in args.sizes:
            run_one(hosts, args.stagger)
        return
    codes = [("new", sys.executable)] + ([("old", args.against)] if args.against else [])
    for hosts in args.sizes:
        best: dict[str, str] = {}
        for _ in range(max(args.repeats, 1)):
            for code, python in codes:
                line = measured(python, hosts, args.stagger)
                if code not in best or cpu_of(line) < cpu_of(best[code]):
                    best[code] = line
        for code, _ in codes:
            print(f"code={code} {best[code]}" if args.against else best[code], flush=True)


if __name__ == "__main__":
    main()
