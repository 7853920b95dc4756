"""How long a long Dockerfile takes to build with ``sim-docker``, and a verb after it.

A Dockerfile of N steps (``FROM python:3.12-slim`` and N - 1 ``RUN`` steps, each
annotated ``# sim: size=1MB time=1s`` so 10,000 of them fit the host's 100 GB disk) is
built in an empty folder with ``sim-docker build``, then ``sim-docker images`` runs on
the saved host, which replays the journal (the build among it) before it answers. Each
figure is a whole process, started as the console script starts it: wall seconds and
CPU seconds (user + system, which a busy machine inflates less than wall time), the
fastest of `runs`. ``per_step_ms`` is the build's CPU time per step: constant when the
build is linear in its length.

Run from the repository root after installing it:
``python experiments/bench_docker_build.py [--steps 2000 10000] [--runs 3]``
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAUNCHER = "from sim.cli.launch import launch; launch('sim-docker')"


def dockerfile(steps: int) -> str:
    """FROM and `steps` - 1 annotated RUN steps."""
    lines = ["FROM python:3.12-slim"]
    for number in range(1, steps):
        lines += ["# sim: size=1MB time=1s", f"RUN echo step {number}"]
    return "\n".join(lines) + "\n"


def timed(argv: list[str], folder: Path) -> tuple[float, float]:
    """Run one sim-docker command in `folder`: its (wall, CPU) seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "SIM_DOCKER_STATE": str(folder / "state.json")},
    )
    wall_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"sim-docker {' '.join(argv)} failed: {completed.stderr.strip()}")
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall_s, cpu_s


def measure(steps: int, runs: int) -> None:
    builds: list[tuple[float, float]] = []
    verbs: list[tuple[float, float]] = []
    for _ in range(runs):
        folder = Path(tempfile.mkdtemp(prefix="bench-build-"))
        try:
            (folder / "Dockerfile").write_text(dockerfile(steps), encoding="utf-8")
            builds.append(timed(["build", "-t", "long", "."], folder))
            verbs.append(timed(["images"], folder))
        finally:
            shutil.rmtree(folder)
    build_wall, build_cpu = min(builds)
    verb_wall, verb_cpu = min(verbs)
    print(
        f"steps={steps} build_wall_s={build_wall:.2f} build_cpu_s={build_cpu:.2f} "
        f"per_step_ms={1000 * build_cpu / steps:.3f} "
        f"verb_after_wall_s={verb_wall:.2f} verb_after_cpu_s={verb_cpu:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--runs", type=int, default=3, help="the fastest of this many")
    options = parser.parse_args()
    print(f"cores={os.cpu_count()} load_1min={os.getloadavg()[0]:.1f}")
    for steps in options.steps:
        measure(steps, options.runs)


if __name__ == "__main__":
    main()
