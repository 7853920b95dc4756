"""sim-plan end to end: every mistake in its keys is one line and exit 2 with nothing
written; the Erlang C case docs/planning.md shows answers the known number of workers in
fewer runs than the grid; the joblib launcher gives the same plan.csv as the basic one."""

from __future__ import annotations

import math
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pages import all_blocks

import sim.cli.plan as plan_cli

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """Runs ``sim-plan <arguments>`` in this process from an empty folder; returns (exit
    status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*arguments: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sim-plan", *arguments])
        status = 0
        try:
            plan_cli.main()
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else 1
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


POISSON = ("workload=poisson", "platform=container", "autoscaler=none")
WORKERS = "plan.vary=[workload.service.workers=1:16]"
SLO = "plan.slo=[latency_s_p95<=0.3]"


@pytest.mark.parametrize(
    ("arguments", "line"),
    [
        (
            (WORKERS, "plan.slo=[latency<=x]"),
            "config error: plan.slo[0]: latency<=x: <metric><=<number> or <metric>>=<number>, "
            "metric one of sim_time_s, hosts, ",
        ),
        ((SLO,), "config error: plan.vary: (none): at least one item key=low:high[:step]"),
        (
            ("plan.vary=[workload.service.workers=16:1]", SLO),
            "config error: plan.vary[0]: workload.service.workers=16:1: key=low:high[:step]",
        ),
        (
            ("plan.vary=[workload.service.workers=1:4, autoscaler.max_capacity]", SLO),
            "config error: plan.vary[0]: workload.service.workers=1:4,autoscaler.max_capacity: "
            "key=low:high[:step]",
        ),
        (
            ("plan.vary=[cluster.scaler.instance_type=t3.medium,t3.nano]", SLO),
            "config error: cluster.scaler.instance_type: t3.nano: ",
        ),
        (
            ("plan.vary=[workload.service.workers=-1:4]", SLO),
            "config error: workload.service.workers: -1: ",
        ),
        (
            ("plan.vary=[workload.service.workers=1,-1,4]", SLO),
            "config error: workload.service.workers: -1: ",
        ),
        ((WORKERS,), "config error: plan.slo: (none): at least one item"),
        ((WORKERS, SLO, "plan.minimize=latency"), "config error: plan.minimize: latency: "),
        ((WORKERS, SLO, "plan.replications=0"), "config error: plan.replications: 0: a whole"),
        (
            (WORKERS, SLO, "plan.monotone=[autoscaler.target_value=down]"),
            "config error: plan.monotone[0]: autoscaler.target_value=down: key=up, key=down",
        ),
        ((WORKERS, SLO, "plan.screen=maybe"), "config error: plan.screen: maybe: fluid ("),
        (
            (WORKERS, SLO, "plan.screen=fluid", "+slo.latency_p95=300ms"),
            "config error: plan.screen: fluid: none for this scenario (in the fluid mode, "
            "workload.traffic.mode: requests when faults, spot capacity or slo are set",
        ),
        ((WORKERS, SLO, "plan.foo=1"), "config error: plan.foo: 1: one of plan.vary, "),
        ((WORKERS, SLO, "plan.vary"), "config error: plan.vary: (no value): one of plan.vary"),
        (
            (WORKERS, SLO, "workload.service.workers=4"),
            "config error: workload.service.workers: 4: given once: plan.vary varies it",
        ),
        ((WORKERS, SLO, "seed=1,2"), "config error: seed: 1,2: one value (sim-plan varies"),
        ((WORKERS, SLO, "replications=3"), "config error: replications: 3: set by sim-plan"),
        ((WORKERS, SLO, "hydra/sweeper=basic"), "config error: hydra/sweeper: basic: set by"),
        ((WORKERS, SLO, "--cfg", "job"), "config error: command line: --cfg: overrides and"),
        ((WORKERS, SLO, "horizon=soon"), "config error: horizon: soon: "),
        (
            (WORKERS, SLO, "hydra.sweep.dir=/proc/plans"),
            "config error: hydra.sweep.dir: /proc/plans: a folder that can be written",
        ),
    ],
)
def test_a_mistake_is_one_line_exit_2_and_nothing_written(
    run_plan: Run, tmp_path: Path, arguments: tuple[str, ...], line: str
) -> None:
    status, out, err = run_plan(*POISSON, *arguments)
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith(line), err
    assert list(tmp_path.iterdir()) == []


def test_the_docs_show_the_unknown_metric_line_as_sim_plan_prints_it(run_plan: Run) -> None:
    block = next(b for b in code_blocks() if b[0].startswith("$ sim-plan workload=poisson"))
    shown = block[1].removesuffix("...")
    status, _, err = run_plan(*shlex.split(block[0].removeprefix("$ sim-plan ")))
    assert status == 2 and err.startswith(shown)


def code_blocks() -> list[list[str]]:
    return [list(block.lines) for block in all_blocks()]


def readme_erlang_case() -> tuple[list[str], list[str]]:
    """The Erlang C command of docs/planning.md (continuations joined) and the lines it shows."""
    block = next(
        b for b in code_blocks() if b[0].startswith("$ sim-plan") and "wait_s_mean<=" in str(b)
    )
    command, lines = "", iter(block)
    for line in lines:
        command += " " + line.strip().removeprefix("$ ").removesuffix("\\")
        if not line.endswith("\\"):
            break
    return shlex.split(command)[1:], list(lines)


def erlang_c_wait_s(arrival_per_s: float, service_per_s: float, servers: int) -> float:
    """The mean wait of M/M/c before service (Erlang C); infinite when unstable."""
    load = arrival_per_s / service_per_s
    if servers <= load:
        return math.inf
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    bottom = sum(load**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom / (servers * service_per_s - arrival_per_s)


def test_the_erlang_c_case_answers_the_smallest_workers_in_fewer_runs(
    run_plan: Run, tmp_path: Path
) -> None:
    arguments, shown = readme_erlang_case()
    known = min(c for c in range(1, 17) if erlang_c_wait_s(30.0, 10.0, c) <= 0.025)
    assert known == 5
    status, out, err = run_plan(*arguments)
    assert status == 0, err
    printed = out.splitlines()
    assert printed[-1] == "best: workload.service.workers=5 wait_s_mean=0.01184 runs=4 grid=16"
    assert printed[-1] == shown[-1]
    assert [line for line in printed if line in shown] == shown
    plan = tmp_path / "plans" / "erlang"
    assert (plan / "plan.csv").read_text().splitlines() == [
        "workload.service.workers,replication,fidelity,wait_s_mean,meets",
        "8,0,requests,0.0002567031567474266,true",
        "4,0,requests,0.05153657128694867,false",
        "6,0,requests,0.003263337423595551,true",
        "5,0,requests,0.011841084948958637,true",
    ]
    assert (plan / "plan.png").stat().st_size > 0
    assert sorted(p.name for p in plan.iterdir() if p.name.isdigit()) == ["0", "1", "2", "3"]

    # Asked again with a tighter objective (the last plan.slo wins), the plan reads its
    # four runs back and runs only what they do not settle: 7, verifying the answer 6.
    status, out, _ = run_plan(*arguments, "plan.slo=[wait_s_mean<=0.005]")
    assert status == 0
    assert out.count(", read back]") == 4
    assert "batch 5: workload.service.workers=7: meets" in out
    last = out.splitlines()[-1]
    assert last == "best: workload.service.workers=6 wait_s_mean=0.003263 runs=5 grid=16"


def test_no_point_that_meets_is_best_none_and_exit_1(run_plan: Run, tmp_path: Path) -> None:
    """Screened (the default): both points miss in the fluid mode, and the most capacity
    misses in the request mode too, so no point meets."""
    status, out, _ = run_plan(
        *POISSON,
        "horizon=2min",
        "plan.vary=[workload.service.workers=1:2]",
        "plan.slo=[latency_s_p95<=0.0001]",
        "hydra.sweep.dir=plans/none",
    )
    assert status == 1
    assert out.splitlines()[-1] == "best: none runs=3 grid=2"
    rows = (tmp_path / "plans" / "none" / "plan.csv").read_text().splitlines()
    assert [row.split(",")[:3] for row in rows[1:]] == [
        ["1", "0", "fluid"],
        ["2", "0", "fluid"],
        ["2", "0", "requests"],
    ]


def test_the_screened_erlang_case_answers_with_a_request_mode_result(
    run_plan: Run, tmp_path: Path
) -> None:
    """Screened in the fluid mode (exact for M/M/c: Erlang C), the Erlang C case finds 5
    workers in four fluid runs, then runs 5 and its neighbours 4 and 6 in the request
    mode; the answer printed is the request-mode result."""
    arguments, _ = readme_erlang_case()
    arguments = [a for a in arguments if a != "plan.screen=none" and "sweep.dir" not in a]
    status, out, err = run_plan(*arguments, "hydra.sweep.dir=plans/screened")
    assert status == 0, err
    rows = (tmp_path / "plans" / "screened" / "plan.csv").read_text().splitlines()
    assert [row.split(",")[::2] for row in rows[1:]] == [
        ["8", "fluid", "true"],
        ["4", "fluid", "false"],
        ["6", "fluid", "true"],
        ["5", "fluid", "true"],
        ["5", "requests", "true"],
        ["4", "requests", "false"],
        ["6", "requests", "true"],
    ]
    assert "batch 4: workload.service.workers=5: meets (wait_s_mean=0.01176) [run 3, fluid]" in out
    assert "answer: workload.service.workers=5 (wait_s_mean=0.01184)" in out
    assert out.splitlines()[-1] == (
        "best: workload.service.workers=5 wait_s_mean=0.01184 runs=7 grid=16"
    )


def test_joblib_gives_the_same_plan_csv_as_the_basic_launcher(
    run_plan: Run, tmp_path: Path
) -> None:
    pytest.importorskip(
        "hydra_plugins.hydra_joblib_launcher.joblib_launcher",
        reason="the joblib launcher does not import: pip install '.[parallel]'",
    )
    # Two arrival rates (choices: two slices searched side by side) over 1..3 workers,
    # two replications per point: four runs a batch, a minute each.
    plan = [
        *POISSON,
        "horizon=1min",
        "workload.service.initial_replicas=1",
        "plan.vary=[workload.traffic.arrivals.rate_per_s=20,40, workload.service.workers=1:3]",
        "plan.slo=[latency_s_p95<=0.3]",
        "plan.minimize=workload.service.workers",
        "plan.replications=2",
    ]
    status, basic_out, err = run_plan(*plan, "hydra.sweep.dir=basic")
    assert status == 0, err
    joblib = subprocess.run(
        [
            str(Path(sys.executable).parent / "sim-plan"),
            *plan,
            "hydra.sweep.dir=joblib",
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert joblib.returncode == 0, joblib.stderr
    basic_csv = (tmp_path / "basic" / "plan.csv").read_bytes()
    assert (tmp_path / "joblib" / "plan.csv").read_bytes() == basic_csv
    assert joblib.stdout.splitlines()[-1] == basic_out.splitlines()[-1]
    rows = basic_csv.decode().splitlines()
    assert rows[0] == (
        "workload.traffic.arrivals.rate_per_s,workload.service.workers,replication,"
        "fidelity,latency_s_p95,meets"
    )
    # Screened: one fluid run per point; confirmed: two replications per point.
    assert [row.split(",")[:4] for row in rows[1:3]] == [
        ["20", "2", "0", "fluid"],
        ["40", "2", "0", "fluid"],
    ]
    confirmed = [row.split(",")[:4] for row in rows if ",requests," in row]
    assert confirmed[:2] == [
        [*confirmed[0][:2], "0", "requests"],
        [*confirmed[0][:2], "1", "requests"],
    ]


def test_help_says_what_sim_plan_takes(run_plan: Run) -> None:
    status, out, _ = run_plan("--help")
    assert status == 0 and out.startswith("usage: sim-plan [overrides] plan.vary=[...]")
