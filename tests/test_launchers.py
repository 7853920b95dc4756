"""Launchers: one sweep run one by one (Hydra's basic launcher), in joblib's worker
processes and on a local Ray instance gives the same files, byte for byte.

The runs draw only from generators seeded by name, so which process runs them, and in
which order, must not change a byte; only Hydra's record of its own config (``.hydra/``,
which names the launcher) and ``multirun.yaml`` differ. Each sweep runs in a session of its
own, so every process it started (joblib's workers, Ray's servers and workers) can be found
afterwards: none may outlive the sweep and hang CI.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SWEEP = [
    "seed=1,2",
    "cluster.pools.node.count=2,3",
    "platform=container",
    "workload.deployments=[{app: web, replicas: 2, platform: container}]",
    "progress=false",
]
JOBLIB = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
# A Ray instance of its own (address local: start one, even if RAY_ADDRESS or a cluster
# started on this machine names another), two CPUs, no dashboard, warnings only.
RAY = [
    "hydra/launcher=ray",
    "hydra.launcher.ray.init.address=local",
    "+hydra.launcher.ray.init.num_cpus=2",
    "+hydra.launcher.ray.init.include_dashboard=false",
    "+hydra.launcher.ray.init.logging_level=warning",
]
RUNS = 4
SHUTDOWN_GRACE_S = 10.0


def _session_processes(session_id: int) -> list[int]:
    """Processes still alive in a session (Linux's /proc; empty elsewhere)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended while we looked
            continue
        # after the command name: state, ppid, pgrp, session; a zombie holds nothing
        if int(fields[3]) == session_id and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def run_sweep(launcher: list[str], folder: Path, env: dict[str, str] | None = None) -> str:
    """Run the sweep with a launcher's overrides; its standard output.

    Fails if a process the sweep started is still alive a few seconds after it ended
    (after killing it, by its id).
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "-m", *SWEEP, *launcher, f"hydra.sweep.dir={folder}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=folder.parent,
        env=env,
        start_new_session=True,  # its session id is its pid: finds what it leaves behind
    )
    try:
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        while (leftovers := _session_processes(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
    assert process.returncode == 0, output
    assert not leftovers, f"processes left running after the sweep: {leftovers}\n{output}"
    return output


LOG = "sim.log"
"""A run's messages, stamped with the time and the run's folder: not a result."""


def run_files(sweep: Path) -> dict[str, bytes]:
    """Every file of a sweep by its path, except Hydra's records of its own config and
    the runs' logs (whose messages must match but for their times and folders)."""
    files = {
        str(path.relative_to(sweep)): path.read_bytes()
        for path in sorted(sweep.rglob("*"))
        if path.is_file() and ".hydra" not in path.parts and path.name != "multirun.yaml"
    }
    for name, text in list(files.items()):
        if Path(name).name == LOG:
            files[name] = re.sub(rb"^\[[^]]*\]|results in \S+", b"", text, flags=re.M)
    return files


def assert_complete_table(sweep: Path, output: str) -> None:
    table = (sweep / "sweep_summary.csv").read_text(encoding="utf-8").splitlines()
    assert len(table) == 1 + RUNS
    assert [line.split(",")[:3] for line in table[1:]] == [
        [str(r), "complete", ""] for r in range(RUNS)
    ]
    # The table is written by the SweepTable callback's on_multirun_end, once, in the
    # driver (Ray prefixes what its workers print with "(_run_job pid=...)").
    announcements = [line for line in output.splitlines() if "sweep table in" in line]
    assert announcements == [f"sweep table in {sweep / 'sweep_summary.csv'}"]


@pytest.fixture(scope="module")
def basic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("launchers") / "basic"
    output = run_sweep([], folder)
    assert_complete_table(folder, output)
    return folder


def test_the_basic_launcher_writes_four_complete_runs(basic: Path) -> None:
    runs = sorted(int(path.name) for path in basic.iterdir() if path.name.isdigit())
    assert runs == list(range(RUNS))


def test_joblib_runs_the_sweep_in_two_processes_with_the_same_results(
    basic: Path, tmp_path: Path
) -> None:
    pytest.importorskip(
        "hydra_plugins.hydra_joblib_launcher.joblib_launcher",
        reason="the joblib launcher does not import: pip install '.[parallel]'",
    )
    folder = tmp_path / "joblib"
    output = run_sweep(JOBLIB, folder)
    assert_complete_table(folder, output)
    assert run_files(folder) == run_files(basic)


@pytest.fixture
def private_ray_directory() -> Iterator[Path]:
    """A short temporary folder for Ray's session (its sockets' paths must stay under 108
    characters), removed afterwards, instead of /tmp/ray."""
    folder = Path(
        tempfile.mkdtemp(prefix="sim-ray-", dir="/tmp" if Path("/tmp").is_dir() else None)
    )
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_ray_runs_the_sweep_on_a_local_instance_with_the_same_results(
    basic: Path, tmp_path: Path, private_ray_directory: Path
) -> None:
    pytest.importorskip(
        "hydra_plugins.hydra_ray_launcher._launcher_util",
        reason="the Ray launcher does not import: pip install '.[ray]'",
    )
    env = os.environ | {"RAY_TMPDIR": str(private_ray_directory), "RAY_USAGE_STATS_ENABLED": "0"}
    folder = tmp_path / "ray"
    output = run_sweep(RAY, folder, env)
    assert_complete_table(folder, output)
    assert run_files(folder) == run_files(basic)
