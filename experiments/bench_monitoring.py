"""What autoscaling costs a simulated day: the control loop's monitoring queries.

The README's day (``workload=diurnal platform=container``, 2.77 million requests in the
request mode) with each autoscaler preset and without one (``autoscaler=none``), and the
day at 10,000 requests/s of ``bench_fluid.py`` in the fluid mode (target tracking over
up to 60 replicas, where the queries are a large share of a cheap run). One line per run:

    tree=<label> case=<name> cpu_s=<s> ratio=<to the same tree's autoscaler=none>

``cpu_s`` is the CPU time of the run alone (building and running the scenario), the
best of ``--repeats``. Every case runs in a process of its own; with ``--tree LABEL=DIR``
(repeatable: a checkout of main, say) each case runs with every tree in turn, so old
and new code are measured in one run, alternately, under the same load.

Run ``python experiments/bench_monitoring.py --tree main=/path/to/main`` (about four
minutes of CPU per tree on a 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

DAY = ["workload=diurnal", "platform=container"]
FLUID_DAY = [
    "workload=poisson",
    "autoscaler=target_tracking",
    "platform=container",
    "workload.traffic.arrivals.rate_per_s=10000",
    "workload.traffic.request.cpu={dist: exponential, mean: 5ms}",
    "workload.traffic.request.response_bytes=20kB",
    "workload.apps.web.vcpu=4",
    "workload.service.initial_replicas=25",
    "autoscaler.max_capacity=60",
    "cluster.scaler.max_hosts=40",
    "horizon=1d",
    "workload.traffic.mode=fluid",
]
CASES = {
    **{
        name: [*DAY, f"autoscaler={name}"]
        for name in ("none", "beanstalk", "simple", "step", "target_tracking", "hpa")
    },
    "fluid_10k": FLUID_DAY,
}
ROOT = Path(__file__).resolve().parent.parent


def run_once(overrides: Sequence[str], repeats: int) -> float:
    """CPU seconds of the best of `repeats` runs of a scenario (in this process)."""
    import sim
    from sim.cli.main import to_plain
    from sim.config import scenario_params
    from sim.scenario import run_scenario

    params = scenario_params(
        to_plain(sim.load_config([*overrides, "log=summary", "progress=false"]))
    )
    best_s = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        run_scenario(params)
        best_s = min(best_s, time.process_time() - started)
    return best_s


def run_in_tree(tree: Path, case: str, repeats: int) -> float:
    """CPU seconds of one case, run with the code of `tree` in a process of its own."""
    done = subprocess.run(
        [sys.executable, __file__, "--inner", case, "--repeats", str(repeats)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tree)},
        cwd=tree,
        check=True,
    )
    return float(done.stdout.split()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], help="LABEL=DIR, repeatable")
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        print(run_once(CASES[args.inner], args.repeats))
        return 0
    trees = [("new", ROOT)] + [
        (label, Path(folder)) for label, _, folder in (t.partition("=") for t in args.tree)
    ]
    baseline: dict[str, float] = {}
    for case in args.cases:
        for label, tree in trees:
            cpu_s = run_in_tree(tree, case, args.repeats)
            if case == "none":
                baseline[label] = cpu_s
            ratio = f" ratio={cpu_s / baseline[label]:.2f}" if label in baseline else ""
            print(f"tree={label} case={case} cpu_s={cpu_s:.2f}{ratio}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
