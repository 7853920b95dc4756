"""How long the command line makes a person wait: a ``sim-docker`` verb on a saved host,
composing a config, and what a fresh interpreter pays to import each layer.

* **Verbs**: a host is made once (``sim-docker run -d --name web shop/web:1.4.2``), then
  each verb runs `runs` times as its own process, the way a person types it; a verb that
  changes the host starts each time from a copy of the saved state. Wall seconds from
  starting the process to its exit: the median and the fastest. ``new host`` is the first
  command in an empty folder, which also composes the packaged config with Hydra (the
  state file keeps the result, so later commands compose nothing).
* **Composing**: `sim.api.load_config` with the overrides sim-docker uses, in one process
  after a first composition (which imports Hydra): the median and the fastest.
* **Imports**: each module imported alone in a fresh interpreter (``python -c``) as the
  console scripts import their program (`sim.cli.launch`), the fastest of `runs` (what
  the module and everything it imports cost).

Every figure is a wall time on a shared machine, so each case alternates with the
others rather than running back to back, and the fastest is the steadiest figure.

Run from the repository root after installing it: ``python experiments/bench_cli.py``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETUP = ["run", "-d", "--name", "web", "shop/web:1.4.2"]
VERBS = {
    "images": ["images"],
    "ps -a": ["ps", "-a"],
    "system df": ["system", "df"],
    "inspect web": ["inspect", "web"],
    "pull redis:7-alpine": ["pull", "redis:7-alpine"],
    "run -d nginx": ["run", "-d", "nginx:1.27-alpine"],
}
MODULES = [
    "numpy",
    "simpy",
    "networkx",
    "rich.console",
    "sim.model.cluster.cluster",
    "sim.config",
    "sim.api",
    "sim.teach.docker.cli",
]
NEW_HOST = "new host: images"


def sim_docker(argv: list[str], folder: Path) -> float:
    """Run one sim-docker command in `folder`; its wall seconds."""
    launcher = "from sim.cli.launch import launch; launch('sim-docker')"  # as the script does
    command = [sys.executable, "-c", launcher, *argv]
    started = time.perf_counter()
    subprocess.run(command, cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def import_s(module: str) -> float:
    """The seconds a fresh interpreter spends importing `module` (and what it imports)."""
    code = (  # as the launcher imports a program: one OpenBLAS thread, the collector paused
        "import gc, os, time; os.environ.setdefault('OPENBLAS_NUM_THREADS', '1'); gc.disable()\n"
        f"t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return float(output)


def compose_s(runs: int) -> list[float]:
    """Seconds per composition of sim-docker's host config, after a first one."""
    from sim.api import load_config
    from sim.teach.docker.verbs import HOST_OVERRIDES

    overrides = [*HOST_OVERRIDES, "seed=42"]
    load_config(overrides)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        load_config(overrides)
        times.append(time.perf_counter() - started)
    return times


def line(label: str, times: list[float]) -> str:
    return (
        f"{label} median_s={statistics.median(times):.3f} min_s={min(times):.3f} runs={len(times)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="processes per case")
    arguments = parser.parse_args()
    verb_times: dict[str, list[float]] = {name: [] for name in [*VERBS, NEW_HOST]}
    module_times: dict[str, list[float]] = {name: [] for name in MODULES}
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as folder:
        saved = Path(folder) / "saved"
        work = Path(folder) / "work"
        saved.mkdir()
        sim_docker(SETUP, saved)
        for _ in range(arguments.runs):
            for name, argv in VERBS.items():
                shutil.rmtree(work, ignore_errors=True)
                shutil.copytree(saved, work)
                verb_times[name].append(sim_docker(argv, work))
            shutil.rmtree(work)
            work.mkdir()
            verb_times[NEW_HOST].append(sim_docker(["images"], work))
            for module in MODULES:
                module_times[module].append(import_s(module))
    print(f"cores={os.cpu_count()} load_1min={os.getloadavg()[0]:.2f}")
    for name, times in verb_times.items():
        print(line(f'verb="{name}"', times))
    print(line("compose", compose_s(arguments.runs)))
    for module, times in module_times.items():
        print(f"import={module} min_s={min(times):.3f}")


if __name__ == "__main__":
    main()
