"""How fast a day of high-rate traffic simulates: the fluid mode, and the request mode.

A container service of 4-vCPU replicas (5 ms of CPU per request, exponential; 20 kB
responses), Poisson arrivals at `rate` requests per second, scaled by target tracking
at 50 % CPU (1 to 60 replicas, starting with what the rate needs at 50 %) on the small
cluster, whose scaler adds hosts. The fluid mode runs a day; the request mode a short
horizon (10 min by default: a day at 10,000 requests per second is 864 million
requests). One line per case:

    rate=<r> horizon=<h> mode=<m> wall_s=<w> served=<n> p95_s=<x>

``wall_s`` is the wall-clock time of the run alone (building and running the scenario,
not composing the config), the best of ``--repeats``.

Run ``python experiments/bench_fluid.py`` (about a minute on a 2-core machine).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.scenario import run_scenario

CPU_S = 0.005
VCPU = 4
TARGET = 0.5


def overrides(rate_per_s: float, horizon: str, mode: str) -> list[str]:
    initial = max(1, math.ceil(rate_per_s * CPU_S / VCPU / TARGET))
    return [
        "workload=poisson",
        "autoscaler=target_tracking",
        "platform=container",
        f"workload.traffic.arrivals.rate_per_s={rate_per_s:g}",
        f"workload.traffic.request.cpu={{dist: exponential, mean: {CPU_S * 1000:g}ms}}",
        "workload.traffic.request.response_bytes=20kB",
        f"workload.apps.web.vcpu={VCPU}",
        f"workload.service.initial_replicas={initial}",
        "autoscaler.max_capacity=60",
        "cluster.scaler.max_hosts=40",
        f"horizon={horizon}",
        f"workload.traffic.mode={mode}",
        "log=summary",
        "progress=false",
    ]


def bench(rate_per_s: float, horizon: str, mode: str, repeats: int) -> str:
    params = scenario_params(to_plain(sim.load_config(overrides(rate_per_s, horizon, mode))))
    best_s = math.inf
    summary: dict[str, object] = {}
    for _ in range(repeats):
        started = time.perf_counter()
        summary = dict(run_scenario(params).summary)
        best_s = min(best_s, time.perf_counter() - started)
    p95 = summary["latency_s_p95"]
    shown = f"{p95:.4f}" if isinstance(p95, float) else "null"
    return (
        f"rate={rate_per_s:g} horizon={horizon} mode={mode} wall_s={best_s:.2f} "
        f"served={summary['requests_served']} p95_s={shown}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="*", default=[1000.0, 10000.0])
    parser.add_argument("--horizon", default="1d", help="the fluid runs' horizon")
    parser.add_argument("--request-horizon", default="10min")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-requests", action="store_true", help="the fluid mode only")
    args = parser.parse_args(argv)
    for rate_per_s in args.rates:
        print(bench(rate_per_s, args.horizon, "fluid", args.repeats), flush=True)
        if not args.no_requests:
            print(bench(rate_per_s, args.request_horizon, "requests", args.repeats), flush=True)
            print(bench(rate_per_s, args.request_horizon, "fluid", args.repeats), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
