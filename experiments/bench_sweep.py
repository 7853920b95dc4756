"""How much a sweep gains from running its runs in parallel: the same 8-run sweep with
Hydra's basic launcher (one run after another) and with the joblib launcher (``n_jobs``
worker processes), both through the ``sim -m`` command line.

The runs are Poisson and constant traffic served by two fixed replicas (``autoscaler=none``)
for ``horizon`` simulated time, a few seconds of wall time each, so the launcher's own cost
(starting worker processes, passing each run its config) is small beside them. Both sweeps
must give the same table; the benchmark prints both wall times, each the best of
`repeats` sweeps taken alternately (another load on the machine distorts them less), and
the speed-up.

Run from the repository root with the ``parallel`` extra installed
(``pip install '.[parallel]'``): ``python experiments/bench_sweep.py``
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWEEP = [
    "seed=1,2,3,4",
    "workload=poisson,constant",
    "platform=container",
    "autoscaler=none",
    "progress=false",
]
RUNS = 8


def run_sweep(overrides: list[str], sweep_dir: Path) -> float:
    """Run ``sim -m`` with the sweep and extra overrides; its wall seconds."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sim", "-m", *SWEEP, *overrides, f"hydra.sweep.dir={sweep_dir}"],
        check=True,
        stdout=subprocess.DEVNULL,
        cwd=sweep_dir.parent,
    )
    return time.perf_counter() - started


def complete_table(sweep_dir: Path) -> str:
    """The sweep's table, after checking that every run completed."""
    table = (sweep_dir / "sweep_summary.csv").read_text(encoding="utf-8")
    statuses = [line.split(",")[1] for line in table.splitlines()[1:]]
    if statuses != ["complete"] * RUNS:
        raise SystemExit(f"{sweep_dir}: runs not all complete: {statuses}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", default="10h", help="simulated time of each run")
    parser.add_argument("--n-jobs", type=int, default=2, help="joblib worker processes")
    parser.add_argument("--repeats", type=int, default=2, help="sweeps per launcher")
    arguments = parser.parse_args()
    common = [f"horizon={arguments.horizon}"]
    joblib = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={arguments.n_jobs}"]
    sequential_wall_s = joblib_wall_s = math.inf
    same = True
    for _ in range(arguments.repeats):
        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
            sequential, parallel = Path(folder) / "sequential", Path(folder) / "joblib"
            sequential_wall_s = min(sequential_wall_s, run_sweep(common, sequential))
            joblib_wall_s = min(joblib_wall_s, run_sweep([*common, *joblib], parallel))
            same = same and complete_table(sequential) == complete_table(parallel)
    print(f"runs={RUNS} horizon={arguments.horizon} cores={os.cpu_count()} same_table={same}")
    print(f"launcher=basic wall_s={sequential_wall_s:.2f} per_run_s={sequential_wall_s / RUNS:.2f}")
    print(f"launcher=joblib n_jobs={arguments.n_jobs} wall_s={joblib_wall_s:.2f}")
    print(f"speed_up={sequential_wall_s / joblib_wall_s:.2f}")
    if not same:
        raise SystemExit("the two launchers' tables differ")


if __name__ == "__main__":
    main()
