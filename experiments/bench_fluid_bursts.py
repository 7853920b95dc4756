"""Does the fluid mode follow short bursts? The bursty case, both modes, old and new code.

One replica of 4 workers at 100 ms per request (exponential: 40 requests/s), a queue of
100, and Markov-modulated Poisson arrivals at 10 and 60 requests/s with mean sojourns of
10 s and 2 s: bursts of about 2 s at 1.5 times capacity, 18.3 requests/s on average; two
hours, seeds 0–2. Both modes see the same bursts (``mmpp`` draws its states from a
stream of their own). One line per tree, mode and seed, then one per tree with the
fluid's differences from the request mode over the seeds' means:

    tree=<label> mode=<m> seed=<s> wait_s_mean=<x> wait_s_p95=<x> latency_s_p95=<x>
        requests_dropped=<n> cpu_s=<s>
    tree=<label> wait_mean_diff=<%> wait_p95_diff=<%> latency_p95_diff=<%> dropped_diff=<%>

The goal: the mean wait and the p95s within 10 %, the drops within 25 %. With ``--tree
LABEL=DIR`` (repeatable: a checkout of main) each run is also made with that tree's
code, in a process of its own.

Run ``python experiments/bench_fluid_bursts.py --tree main=/path/to/main`` (a few
seconds of CPU per run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

BURSTY = [
    "workload=bursty",
    "autoscaler=none",
    "platform=container",
    "cluster.scaler.enabled=false",
    "workload.service.initial_replicas=1",
    "workload.service.workers=4",
    "workload.service.queue=100",
    "workload.traffic.arrivals.rates_per_s=[10,60]",
    "workload.traffic.arrivals.mean_sojourn=[10s,2s]",
    "workload.traffic.request.cpu={dist: exponential, mean: 100ms}",
    "log=summary",
    "progress=false",
]
METRICS = ("wait_s_mean", "wait_s_p95", "latency_s_p95", "requests_dropped")
ROOT = Path(__file__).resolve().parent.parent


def run_once(mode: str, seed: int, horizon: str) -> dict[str, float]:
    """The metrics of one run (in this process) and its CPU seconds."""
    import sim
    from sim.cli.main import to_plain
    from sim.config import scenario_params
    from sim.scenario import run_scenario

    overrides = [*BURSTY, f"workload.traffic.mode={mode}", f"seed={seed}", f"horizon={horizon}"]
    params = scenario_params(to_plain(sim.load_config(overrides)))
    started = time.process_time()
    summary = run_scenario(params).summary
    cpu_s = time.process_time() - started
    return {**{metric: float(summary[metric]) for metric in METRICS}, "cpu_s": cpu_s}


def run_in_tree(tree: Path, mode: str, seed: int, horizon: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--inner", mode, str(seed), "--horizon", horizon],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tree)},
        cwd=tree,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


def difference(fluid: float, requests: float) -> str:
    return f"{(fluid - requests) / requests:+.1%}" if requests else "n/a"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="LABEL=DIR, repeatable")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--horizon", default="2h")
    parser.add_argument("--inner", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        mode, seed = args.inner
        print(json.dumps(run_once(mode, int(seed), args.horizon)))
        return 0
    trees = [("new", ROOT)] + [
        (label, Path(folder)) for label, _, folder in (t.partition("=") for t in args.tree)
    ]
    for label, tree in trees:
        means: dict[str, dict[str, float]] = {}
        for mode in ("requests", "fluid"):
            rows = []
            for seed in range(args.seeds):
                row = run_in_tree(tree, mode, seed, args.horizon)
                rows.append(row)
                shown = " ".join(
                    f"{key}={value:.0f}" if key == "requests_dropped" else f"{key}={value:.4f}"
                    for key, value in row.items()
                )
                print(f"tree={label} mode={mode} seed={seed} {shown}", flush=True)
            means[mode] = {key: statistics.fmean(r[key] for r in rows) for key in METRICS}
        fluid, requests = means["fluid"], means["requests"]
        print(
            f"tree={label} "
            f"wait_mean_diff={difference(fluid['wait_s_mean'], requests['wait_s_mean'])} "
            f"wait_p95_diff={difference(fluid['wait_s_p95'], requests['wait_s_p95'])} "
            f"latency_p95_diff={difference(fluid['latency_s_p95'], requests['latency_s_p95'])} "
            f"dropped_diff={difference(fluid['requests_dropped'], requests['requests_dropped'])}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
