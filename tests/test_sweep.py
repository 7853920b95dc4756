"""Sweeps: one tidy table over the runs, written at the end and rebuilt on demand."""

from __future__ import annotations

import csv
import math
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DEPLOY = "workload.deployments=[{app: web, replicas: 2, platform: container}]"


def read_table(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "-m",
            "seed=1,2",
            "cluster.pools.node.count=2,3",
            "platform=container",
            DEPLOY,
            f"hydra.sweep.dir={folder}",
            "progress=false",
        ],
        check=True,
        capture_output=True,
        cwd=folder,
        timeout=300,
    )
    return folder


def test_a_2x2_sweep_writes_one_row_per_run_with_overrides_then_metrics(sweep: Path) -> None:
    rows = read_table(sweep / "sweep_summary.csv")
    assert [row["run"] for row in rows] == ["0", "1", "2", "3"]
    assert [(row["seed"], row["cluster.pools.node.count"]) for row in rows] == [
        ("1", "2"),
        ("1", "3"),
        ("2", "2"),
        ("2", "3"),
    ]
    columns = list(rows[0])
    assert columns[:5] == ["run", "status", "error", "seed", "cluster.pools.node.count"]
    assert columns.index("replicas_started") > columns.index("workload.deployments")
    assert {row["status"] for row in rows} == {"complete"}
    assert [row["hosts"] for row in rows] == ["2", "3", "2", "3"]
    assert all(row["replicas_started"] == "2" for row in rows)


def test_sim_report_rebuilds_the_table_of_a_partial_sweep(sweep: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(sweep, partial)
    (partial / "3" / "summary.json").unlink()  # as a killed run: neither file
    (partial / "3" / "run.json").unlink()
    (partial / "sweep_summary.csv").unlink()
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "sim-report"), str(partial)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "4 runs, 3 complete, 0 failed" in completed.stdout
    rows = read_table(partial / "sweep_summary.csv")
    assert [row["status"] for row in rows] == ["complete", "complete", "complete", "missing"]
    assert rows[3]["replicas_started"] == "" and rows[3]["seed"] == "2"
    assert rows[:3] == read_table(sweep / "sweep_summary.csv")[:3]


def test_sim_report_needs_a_folder(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "sim-report"), str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().startswith("usage: sim-report")


def run_sim(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=True,
    )


@pytest.fixture(scope="module")
def replicated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("replicated")
    run_sim(
        [
            "-m",
            "replications=3",
            "cluster.pools.node.count=2,3",
            "platform=container",
            DEPLOY,
            f"hydra.sweep.dir={folder}",
            "progress=false",
        ],
        folder,
    )
    return folder


def test_replications_run_derived_seeds_and_the_report_gives_mean_and_ci(
    replicated: Path,
) -> None:
    from sim.config import replication_seed
    from sim.core.intervals import t_975

    rows = read_table(replicated / "sweep_summary.csv")
    assert len(rows) == 6
    assert [row["replication"] for row in rows] == ["0", "1", "2"] * 2
    assert [int(row["seed"]) for row in rows[:3]] == [replication_seed(42, r) for r in range(3)]
    assert len({row["seed"] for row in rows}) == 3
    report = read_table(replicated / "sweep_report.csv")
    assert [(r["cluster.pools.node.count"], r["runs"]) for r in report] == [("2", "3"), ("3", "3")]
    values = [float(row["startup_s_p95"]) for row in rows[:3]]
    mean = statistics.fmean(values)
    half = t_975(2) * statistics.stdev(values) / math.sqrt(3)
    assert float(report[0]["startup_s_p95_mean"]) == pytest.approx(mean)
    assert float(report[0]["startup_s_p95_ci95"]) == pytest.approx(half)


def test_rerunning_a_sweep_skips_complete_runs_and_reruns_changed_ones(
    replicated: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    shutil.copytree(replicated, again)
    same = run_sim(
        [
            "-m",
            "replications=3",
            "cluster.pools.node.count=2,3",
            "platform=container",
            DEPLOY,
            f"hydra.sweep.dir={again}",
            "progress=false",
        ],
        again,
    )
    assert same.stdout.count("complete for this config, skipped") == 6
    changed = run_sim(
        [
            "-m",
            "replications=3",
            "cluster.pools.node.count=2,4",
            "platform=container",
            DEPLOY,
            f"hydra.sweep.dir={again}",
            "progress=false",
        ],
        again,
    )
    assert changed.stdout.count("complete for this config, skipped") == 3
    rows = read_table(again / "sweep_summary.csv")
    assert [row["hosts"] for row in rows] == ["2", "2", "2", "4", "4", "4"]


def test_a_failing_run_is_recorded_and_the_sweep_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.cli.main as cli

    real = cli.run_scenario

    def flaky(params: Any, progress: Any = None) -> Any:
        if params.seed == 2:
            raise RuntimeError("boom")
        return real(params, progress)

    monkeypatch.setattr(cli, "run_scenario", flaky)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "sim",
            "-m",
            "seed=1,2,3",
            "platform=container",
            DEPLOY,
            f"hydra.sweep.dir={tmp_path}",
            "progress=false",
        ],
    )
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 1  # the sweep went on, and says it did not all complete
    rows = read_table(tmp_path / "sweep_summary.csv")
    assert [row["status"] for row in rows] == ["complete", "failed", "complete"]
    assert rows[1]["error"] == "RuntimeError: boom"
    assert rows[1]["replicas_started"] == ""
    assert not (tmp_path / "1" / "summary.json").exists()


def test_an_interrupted_write_leaves_no_half_written_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import sim

    result = sim.simulate(sim.load_config(["platform=container", DEPLOY]))

    def interrupted(source: str, target: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        result.write(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_sim_report_draws_a_figure_per_headline_metric(replicated: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(replicated, copy)
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "sim-report"), str(copy)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    figures = sorted(path.name for path in (copy / "figures").iterdir())
    assert "startup_s_p95.png" in figures and "cost_usd.png" in figures
    assert all((copy / "figures" / name).stat().st_size > 5000 for name in figures)
    assert f"{len(figures)} figures" in completed.stdout


def test_the_sweep_size_is_the_product_of_the_swept_values() -> None:
    from sim.cli.main import sweep_size, with_replications

    assert sweep_size(["seed=1,2,3", "platform=container", "workload=poisson,diurnal"]) == 6
    assert sweep_size(["seed=range(0,5)"]) == 5
    expanded = with_replications(["-m", "replications=4", "seed=7"])
    assert expanded[-1] == "replication=0,1,2,3"
    assert sweep_size(expanded[1:]) == 4


def run_in_process(arguments: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    import sim.cli.main as cli

    monkeypatch.setattr(sys, "argv", ["sim", *arguments])
    try:
        cli.main()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def test_a_run_folder_that_cannot_be_written_fails_that_run_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    blocked = tmp_path / "1"
    (blocked / "summary.json").mkdir(parents=True)  # results cannot go in
    (blocked / "run.json").mkdir()  # and neither can the record of the failure
    arguments = ["-m", "seed=1,2,3", "platform=container", DEPLOY, "progress=false"]
    status = run_in_process([*arguments, f"hydra.sweep.dir={tmp_path}"], monkeypatch)
    assert status == 1  # the sweep went on, and says a run failed
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("sweep error: 1 of 3 runs did not complete (run 1:")
    assert [line for line in err.splitlines() if line.startswith("run failed")] == [
        f"run failed: cannot write {blocked}/summary.json: Is a directory "
        f"(recorded in {tmp_path}/.unwritable-runs/1.json)"
    ]
    rows = read_table(tmp_path / "sweep_summary.csv")
    assert [row["status"] for row in rows] == ["complete", "failed", "complete"]
    assert rows[1]["error"] == f"cannot write {blocked}/summary.json: Is a directory"


def test_a_second_sweep_into_a_busy_folder_stops_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.batch.sweep import SweepLock

    monkeypatch.chdir(tmp_path)
    held = SweepLock.take(tmp_path)
    try:
        status = run_in_process(
            ["-m", "seed=1,2", "platform=container", DEPLOY, f"hydra.sweep.dir={tmp_path}"],
            monkeypatch,
        )
    finally:
        held.release()
    assert status == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"sweep error: {tmp_path}: another sweep (process {__import__('os').getpid()}) is "
        "writing into this folder; wait for it to end or choose another hydra.sweep.dir"
    ]
    assert not [path for path in tmp_path.iterdir() if path.name.isdigit()]


def test_a_smaller_sweep_into_an_old_sweep_folder_leaves_its_runs_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    common = ["platform=container", DEPLOY, "progress=false", f"hydra.sweep.dir={tmp_path}"]
    assert run_in_process(["-m", "seed=1,2,3,4", *common], monkeypatch) == 0
    capsys.readouterr()
    assert run_in_process(["-m", "seed=5,6", *common], monkeypatch) == 0
    rows = read_table(tmp_path / "sweep_summary.csv")
    assert [(row["run"], row["seed"]) for row in rows] == [("0", "5"), ("1", "6")]
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"sweep: {tmp_path}: run folders 2-3 are another sweep's (this one has 2 runs): "
        "left out of the tables"
    )
    assert [row["runs"] for row in read_table(tmp_path / "sweep_report.csv")] == ["2"]


def test_a_deleted_run_folder_is_a_missing_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    import sim.cli.main as cli

    monkeypatch.chdir(tmp_path)
    arguments = ["-m", "seed=1,2,3", "platform=container", DEPLOY, "progress=false"]
    assert run_in_process([*arguments, f"hydra.sweep.dir={tmp_path}"], monkeypatch) == 0
    shutil.rmtree(tmp_path / "2")  # the last one: only the sweep's own record knows of it
    shutil.rmtree(tmp_path / "1")
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["sim-report", str(tmp_path)])
    cli.report_main()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{tmp_path / 'sweep_summary.csv'}: 3 runs, 1 complete, 0 failed, 2 missing"
    assert out[1:3] == ["run 1: missing: no run folder", "run 2: missing: no run folder"]


def test_sim_report_help_is_not_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.cli.main as cli

    monkeypatch.setattr(sys, "argv", ["sim-report", "--help"])
    cli.report_main()
    assert capsys.readouterr().out.startswith("usage: sim-report [--html]")


def test_a_sweep_whose_every_run_failed_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.cli.main as cli

    def broken(params: Any, progress: Any = None) -> Any:
        raise RuntimeError("broken")

    monkeypatch.setattr(cli, "run_scenario", broken)
    monkeypatch.chdir(tmp_path)
    arguments = ["-m", "seed=1,2", "platform=container", DEPLOY, f"hydra.sweep.dir={tmp_path}"]
    assert run_in_process(arguments, monkeypatch) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "sweep error: 2 of 2 runs did not complete (run 0: failed: RuntimeError: broken; "
        "run 1: failed: RuntimeError: broken)"
    )
