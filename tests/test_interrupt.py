"""An interrupt (SIGINT, SIGTERM) during a run, a sweep or a plan ends the command with
one line and the shell's status for the signal; what was complete is kept.

The signal is real and comes at a known point without waiting on a clock: the command
runs in a child process whose scenario, when its run starts, sends the signal to its
own process (and, for a sweep, only in the second run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sim.batch.runs import read_run

CHILD = """
import os, signal, sys
import sim.cli.main as cli
import sim.cli.plan as plan

real = cli.run_scenario
runs = []

def interrupted(params, progress=None):
    runs.append(params.seed)
    if len(runs) == int(os.environ["INTERRUPT_AT_RUN"]):
        os.kill(os.getpid(), getattr(signal, os.environ["INTERRUPT_WITH"]))
    return real(params, progress)

cli.run_scenario = interrupted
program = plan.main if sys.argv[1] == "sim-plan" else cli.main
sys.argv = sys.argv[1:]
program()
"""

DEPLOY_ONE = "workload.deployments=[{app: web, replicas: 1, platform: container}]"


def interrupt(
    tmp_path: Path, signal_name: str, at_run: int, program: str, *arguments: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, program, *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "INTERRUPT_AT_RUN": str(at_run),
            "INTERRUPT_WITH": signal_name,
        },
        # As a terminal starts a command: SIGINT at its default (Python's
        # KeyboardInterrupt), whatever the test runner's parent does with it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.parametrize(("signal_name", "status"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_an_interrupted_run_ends_with_one_line(
    tmp_path: Path, signal_name: str, status: int
) -> None:
    completed = interrupt(
        tmp_path, signal_name, 1, "sim", "platform=container", DEPLOY_ONE, "hydra.run.dir=run"
    )
    assert completed.returncode == status
    assert completed.stderr == "interrupted; run the same command to resume\n"
    assert not (tmp_path / "run" / "summary.json").exists()


def test_an_interrupted_sweep_keeps_its_complete_runs_and_resumes(tmp_path: Path) -> None:
    arguments = ["-m", "seed=1,2,3", "platform=container", DEPLOY_ONE, "hydra.sweep.dir=sweep"]
    completed = interrupt(tmp_path, "SIGINT", 2, "sim", *arguments)
    assert completed.returncode == 130
    assert completed.stderr == "interrupted; run the same command to resume\n"
    assert "Traceback" not in completed.stdout
    assert read_run(tmp_path / "sweep" / "0").status == "complete"
    assert read_run(tmp_path / "sweep" / "1").status == "missing"
    resumed = subprocess.run(
        [str(Path(sys.executable).parent / "sim"), *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "sweep/0: complete for this config, skipped" in resumed.stdout
    assert all(read_run(tmp_path / "sweep" / str(run)).status == "complete" for run in range(3))


def test_an_interrupted_plan_ends_with_one_line(tmp_path: Path) -> None:
    completed = interrupt(
        tmp_path,
        "SIGTERM",
        2,
        "sim-plan",
        "platform=container",
        DEPLOY_ONE,
        "plan.vary=[cluster.pools.node.count=1:4]",
        "plan.slo=[startup_s_p95<=100]",
        "hydra.sweep.dir=plan",
    )
    assert completed.returncode == 143
    assert completed.stderr == "interrupted; run the same command to resume\n"
