"""How fast request traffic simulates: Poisson requests over fixed load-balanced replicas.

`replicas` replicas of `workers` workers each serve requests with exponential CPU time
(mean `mean_cpu_s`); Poisson arrivals load them to `utilization`, spread by round
robin. A ticker every `tick_s` simulated seconds stands in for the other SimPy events of
a real run (monitoring periods), so arrivals are handled in batches between events.

Prints requests simulated per wall-clock second; the rate of bare SimPy timeouts in a
trivial process loop on the same machine and the ratio of the two (requests per raw
event); and the peak memory (tracemalloc) of runs of different lengths, which should not
grow with the number of requests. Both rates are the best of `repeats` runs, taken
alternately, so that another load on the machine distorts the ratio less.

Run from the repository root (with the package installed, or ``PYTHONPATH=.``):
``python experiments/bench_requests.py --requests 1000000 --memory-requests 200000 1000000``
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from collections.abc import Generator
from typing import Any

import simpy

from sim.core.distributions import Constant, Exponential
from sim.core.streams import RandomStreams
from sim.model.service.arrivals.poisson import PoissonArrivals
from sim.model.service.replica_queue import ReplicaQueue
from sim.model.service.requests import TrafficStats, TrafficSummary
from sim.model.service.traffic import TrafficDriver
from sim.model.service.workload import RequestSpec
from sim.policies.balancing.round_robin import RoundRobin


def simulate_requests(
    requests: int,
    replicas: int,
    workers: int,
    utilization: float,
    mean_cpu_s: float,
    tick_s: float,
    seed: int,
) -> tuple[float, TrafficSummary, int]:
    """Run `requests` Poisson requests through the replicas.

    Returns:
        The wall-clock seconds of the run, its statistics, and the ticker events seen.
    """
    streams = RandomStreams(seed)
    rate_per_s = utilization * replicas * workers / mean_cpu_s
    env = simpy.Environment()
    stats = TrafficStats()
    driver = TrafficDriver(
        env,
        PoissonArrivals(rate_per_s, streams.generator("arrivals")),
        RequestSpec(Exponential(mean_cpu_s), Constant(20_000.0, "number")),
        RoundRobin(),
        streams.generator("cpu"),
        streams.generator("response"),
        streams.generator("balancer"),
        stats,
        max_requests=requests,
    )
    for index in range(replicas):
        driver.add_replica(ReplicaQueue(f"replica-{index}", workers, 100, 30.0))
    ticks = 0

    def ticker() -> Generator[simpy.Event, Any, None]:
        nonlocal ticks
        while True:
            yield env.timeout(tick_s)
            ticks += 1

    traffic = env.process(driver.run())
    env.process(ticker())
    started_s = time.perf_counter()
    env.run(until=traffic)
    wall_s = time.perf_counter() - started_s
    assert stats.arrived == requests
    return wall_s, stats.summary(), ticks


def raw_timeouts_per_s(events: int) -> float:
    """Bare SimPy timeouts per wall-clock second in a one-process loop."""
    env = simpy.Environment()

    def loop() -> Generator[simpy.Event, Any, None]:
        for _ in range(events):
            yield env.timeout(1.0)

    env.process(loop())
    started_s = time.perf_counter()
    env.run()
    return events / (time.perf_counter() - started_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--replicas", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--utilization", type=float, default=0.7)
    parser.add_argument("--mean-cpu-s", type=float, default=0.1)
    parser.add_argument("--tick-s", type=float, default=1.0)
    parser.add_argument("--raw-events", type=int, default=1_000_000)
    parser.add_argument("--memory-requests", type=int, nargs="*", default=[200_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    shape = (args.replicas, args.workers, args.utilization, args.mean_cpu_s, args.tick_s)

    runs = []
    raw_rates_per_s = []
    for _ in range(args.repeats):
        runs.append(simulate_requests(args.requests, *shape, args.seed))
        raw_rates_per_s.append(raw_timeouts_per_s(args.raw_events))
    wall_s, summary, ticks = min(runs, key=lambda run: run[0])
    requests_per_s = args.requests / wall_s
    raw_per_s = max(raw_rates_per_s)
    print(
        f"requests={args.requests} replicas={args.replicas} workers={args.workers} "
        f"utilization={args.utilization} best_wall_s={wall_s:.3f} "
        f"all_wall_s={[round(run[0], 3) for run in runs]} ticks={ticks} "
        f"requests_per_wall_s={requests_per_s:,.0f}"
    )
    print(
        f"  served={summary.served} dropped={dict(summary.dropped)} "
        f"mean_latency_s={summary.mean_latency_s:.4f} p50_s={summary.latency_p50_s:.4f} "
        f"p95_s={summary.latency_p95_s:.4f} p99_s={summary.latency_p99_s:.4f}"
    )
    print(
        f"raw_simpy_timeouts_per_wall_s={raw_per_s:,.0f} "
        f"(all {[round(rate) for rate in raw_rates_per_s]}) "
        f"requests_per_raw_event={requests_per_s / raw_per_s:.2f}"
    )
    for requests in args.memory_requests:
        tracemalloc.start()
        simulate_requests(requests, *shape, args.seed)
        _, peak_bytes = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        max_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"memory requests={requests} tracemalloc_peak_kib={peak_bytes / 1024:,.0f} "
            f"process_max_rss_kib={max_rss_kib:,}"
        )


if __name__ == "__main__":
    main()
