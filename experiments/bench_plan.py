"""How long the README's diurnal planning question takes, screened in the fluid mode or not.

The question of the README's "Capacity planning" section: a day of diurnal traffic on
containers scaled by target tracking, over nine instance types × ``min_capacity`` 1–3 ×
``max_capacity`` 4–10 by 2 × ``target_value`` 40–80 by 10 (540 points), for p95 ≤ 300 ms
and drops ≤ 0.1 %, with two joblib workers. Each case runs ``sim-plan`` from scratch in a
folder of its own (no run read back) and prints one line::

    screen=<fluid|none> replications=<r> types=<n> wall_s=<s> cpu_s=<s> runs=<n>
        fluid_runs=<m> best=<answer>

``cpu_s`` is the CPU time of sim-plan and its workers (wall time on a shared machine
depends on what else runs; two idle workers take about half of it); ``best`` is the
answer's point and metrics as sim-plan's last line gives them. The cases run one after
another, in the order given, each ``screen:replications[:type]``: ``none:1`` is the
request-mode search, ``fluid:1`` the screened one, ``fluid:3:t3.medium`` the README's
three-seed question (the instance type fixed: 60 points).

Run from the repository root with the ``parallel`` extra installed: ``python
experiments/bench_plan.py`` (the request-mode search alone takes over ten minutes on a
2-core machine).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

TYPES = "t3.medium,c5.large,m7g.large,m5.large,r5.large,c5.xlarge,m5.xlarge,m5.2xlarge,m5.4xlarge"
CAPACITY = "autoscaler.min_capacity=1:3, autoscaler.max_capacity=4:10:2, "
CAPACITY += "autoscaler.target_value=40:80:10"
QUESTION = [
    "workload=diurnal",
    "autoscaler=target_tracking",
    "platform=container",
    "cluster.pools.node.count=1",
    "cluster.pools.node.instance_type=${cluster.scaler.instance_type}",
    "plan.monotone=[autoscaler.target_value=down]",
    "plan.slo=[latency_s_p95<=0.3, drop_ratio<=0.001]",
    "hydra/launcher=joblib",
    "hydra.launcher.n_jobs=2",
    "progress=false",
]


def run_case(screen: str, replications: int, instance_type: str, folder: Path) -> str:
    """Run the question once (over every type, or with `instance_type` fixed); its
    ``key=value`` line."""
    if instance_type:
        vary = [f"cluster.scaler.instance_type={instance_type}", f"plan.vary=[{CAPACITY}]"]
    else:
        vary = [f"plan.vary=[cluster.scaler.instance_type={TYPES}, {CAPACITY}]"]
    command = [
        sys.executable,
        "-c",
        "from sim.cli.launch import launch; launch('sim-plan')",
        *QUESTION,
        *vary,
        f"plan.screen={screen}",
        f"plan.replications={replications}",
        f"hydra.sweep.dir={folder}",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder.parent)
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode not in (0, 1):
        raise SystemExit(f"sim-plan failed ({done.returncode}): {done.stderr[-2000:]}")
    rows = (folder / "plan.csv").read_text(encoding="utf-8").splitlines()[1:]
    fluid_runs = sum(",fluid," in row for row in rows)
    best = done.stdout.splitlines()[-1].removeprefix("best: ")
    best = " ".join(part for part in best.split() if not part.startswith(("runs=", "grid=")))
    types = 1 if instance_type else len(TYPES.split(","))
    return (
        f"screen={screen} replications={replications} types={types} wall_s={wall_s:.1f} "
        f"cpu_s={cpu_s:.1f} runs={len(rows)} fluid_runs={fluid_runs} best={best}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--cases",
        nargs="*",
        default=["none:1", "fluid:1", "fluid:3:t3.medium", "none:3:t3.medium"],
        help="screen:replications[:instance type], run in this order",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_plan_") as scratch:
        for number, case in enumerate(args.cases):
            screen, replications, instance_type = (case.split(":") + ["", ""])[:3]
            folder = Path(scratch) / f"{number}-{screen}-{replications}"
            line = run_case(screen, int(replications or 1), instance_type, folder)
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
