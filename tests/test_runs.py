"""Run folders read back or count as missing; sweep tables are rebuilt from what reads
back; sim-report marks bad runs and goes on; one sweep at a time per folder; files keep
the umask."""

from __future__ import annotations

import csv
import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import sim
import sim.cli.main as cli
from sim.batch.runs import (
    RESULT_FILES,
    RUN_FILE,
    clear_stale,
    config_hash,
    is_complete,
    read_run,
    record_failure,
    record_run,
)
from sim.batch.sweep import SweepBusy, SweepLock, sweep_rows, write_sweep_table
from sim.output.results import Result

DEPLOY = "workload.deployments=[{app: web, replicas: 1, platform: container}]"
DIGEST = config_hash({"seed": 1})


@pytest.fixture(scope="module")
def result() -> Result:
    return sim.simulate(sim.load_config(["platform=container", DEPLOY]))


def complete_run(folder: Path, result: Result, overrides: list[str] | None = None) -> Path:
    result.write(folder)
    record_run(folder, DIGEST, "complete", overrides=overrides)
    return folder


def make_sweep(root: Path, result: Result, runs: int = 3) -> Path:
    for number in range(runs):
        complete_run(root / str(number), result, [f"seed={number}", "progress=false"])
    return root


def read_table(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_a_complete_run_reads_back_with_its_summary(tmp_path: Path, result: Result) -> None:
    complete_run(tmp_path, result, ["seed=1"])
    state = read_run(tmp_path)
    assert (state.status, state.error, state.overrides) == ("complete", "", ("seed=1",))
    assert state.summary == json.loads((tmp_path / "summary.json").read_text())
    assert is_complete(tmp_path, DIGEST)
    assert not is_complete(tmp_path, config_hash({"seed": 2}))


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        (lambda f: (f / RUN_FILE).write_text("{not json"), "run.json: unreadable"),
        (lambda f: (f / RUN_FILE).write_bytes(b"\xff\xfe"), "run.json: unreadable"),
        (lambda f: (f / RUN_FILE).write_text("[1, 2]"), "run.json: not a run record"),
        (lambda f: (f / "summary.json").write_text("{"), "summary.json: changed since"),
        (lambda f: (f / "events.csv").unlink(), "events.csv: missing or unreadable"),
        (
            lambda f: (f / "pulls.csv").write_text("truncated"),
            "pulls.csv: changed since the run wrote it",
        ),
    ],
)
def test_a_run_that_does_not_read_back_is_missing_and_runs_again(
    tmp_path: Path, result: Result, damage: Callable[[Path], object], error: str
) -> None:
    complete_run(tmp_path, result)
    damage(tmp_path)
    state = read_run(tmp_path)
    assert state.status == "missing"
    assert state.error.startswith(error)
    assert not is_complete(tmp_path, DIGEST)
    clear_stale(tmp_path, DIGEST)
    assert not any((tmp_path / name).exists() for name in (*RESULT_FILES, RUN_FILE))


def test_a_summary_that_is_not_flat_metrics_is_missing(tmp_path: Path, result: Result) -> None:
    complete_run(tmp_path, result)
    (tmp_path / "summary.json").write_text('{"cost_usd": NaN}\n')
    record_run(tmp_path, DIGEST, "complete")  # digests match the bad file
    state = read_run(tmp_path)
    assert state.status == "missing"
    assert state.error == "summary.json: cost_usd: nan is not a finite number or a word"


def test_a_failure_that_cannot_be_recorded_in_its_folder_is_recorded_beside_it(
    tmp_path: Path,
) -> None:
    run = tmp_path / "4"
    (run / RUN_FILE).mkdir(parents=True)  # the run folder cannot take run.json
    where = record_failure(run, DIGEST, "cannot write summary.json: Is a directory", ["seed=4"])
    assert where == tmp_path / ".unwritable-runs" / "4.json"
    state = read_run(run)
    assert (state.status, state.error, state.overrides) == (
        "failed",
        "cannot write summary.json: Is a directory",
        ("seed=4",),
    )


def test_the_sweep_table_is_rebuilt_from_what_reads_back(tmp_path: Path, result: Result) -> None:
    sweep = make_sweep(tmp_path, result)
    write_sweep_table(sweep)
    (sweep / "1" / "summary.json").write_text("{}\n")
    write_sweep_table(sweep)
    rows = read_table(sweep / "sweep_summary.csv")
    assert [row["status"] for row in rows] == ["complete", "missing", "complete"]
    assert rows[1]["error"] == "summary.json: changed since the run wrote it"
    assert rows[1]["seed"] == "1" and rows[1]["replicas_started"] == ""
    report = read_table(sweep / "sweep_report.csv")
    assert [row["runs"] for row in report] == ["2"]  # seeds are replications of one point


def test_the_overrides_recorded_by_a_run_win_over_hydras_file(
    tmp_path: Path, result: Result
) -> None:
    # Two sweeps wrote into one folder: Hydra's file is the other sweep's.
    run = complete_run(tmp_path / "0", result, ["workload=poisson"])
    (run / ".hydra").mkdir()
    (run / ".hydra" / "overrides.yaml").write_text("- workload=constant\n")
    assert sweep_rows(tmp_path)[0]["workload"] == "poisson"


@pytest.fixture
def report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    def run(*arguments: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sim-report", *arguments])
        status = 0
        try:
            cli.report_main()
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else 1
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def test_sim_report_marks_bad_runs_and_goes_on(
    tmp_path: Path, result: Result, report: Callable[..., tuple[int, str, str]]
) -> None:
    sweep = make_sweep(tmp_path, result, runs=5)
    (sweep / "0" / RUN_FILE).write_text("garbage")
    (sweep / "1" / "summary.json").write_text('{"cost_usd": NaN}')
    (sweep / "2" / RUN_FILE).write_text('{"status": "complete"}')
    (sweep / "3" / RUN_FILE).unlink()
    (sweep / "3" / ".hydra").mkdir()
    (sweep / "3" / ".hydra" / "overrides.yaml").write_text("- [unclosed\n")
    status, out, err = report(str(sweep))
    assert status == 0, err
    assert "5 runs, 1 complete, 0 failed, 4 missing" in out
    rows = read_table(sweep / "sweep_summary.csv")
    assert [row["status"] for row in rows] == ["missing"] * 4 + ["complete"]
    assert [row["error"] for row in rows] == [
        "run.json: unreadable (JSONDecodeError)",
        "summary.json: changed since the run wrote it",
        "run.json: not a run record",
        "",
        "",
    ]


@pytest.mark.parametrize("layout", ["empty", "single run"])
def test_sim_report_on_a_folder_without_a_sweep_writes_nothing(
    tmp_path: Path, result: Result, report: Callable[..., tuple[int, str, str]], layout: str
) -> None:
    if layout == "single run":
        complete_run(tmp_path, result)
    before = sorted(tmp_path.iterdir())
    status, out, err = report(str(tmp_path))
    assert status == 2
    assert err.strip().splitlines() == [
        f"{cli.REPORT_USAGE}: {tmp_path}: holds no sweep (no numbered run folders)"
    ]
    assert sorted(tmp_path.iterdir()) == before


def test_sim_report_that_cannot_write_its_table_fails(
    tmp_path: Path, result: Result, report: Callable[..., tuple[int, str, str]]
) -> None:
    sweep = make_sweep(tmp_path, result, runs=1)
    (sweep / "sweep_summary.csv").mkdir()  # a folder where the table should go
    status, out, err = report(str(sweep))
    assert status == 1
    assert err.strip().splitlines() == [
        f"sim-report: tables not written: cannot write {sweep}/sweep_summary.csv: Is a directory"
    ]


def test_one_sweep_at_a_time_holds_a_sweep_folder(tmp_path: Path) -> None:
    lock = SweepLock.take(tmp_path)
    assert (tmp_path / ".sweep.lock").read_text() == f"{os.getpid()}\n"
    # flock locks belong to open files: a second open file in this process conflicts too.
    with pytest.raises(SweepBusy, match=f"another sweep \\(process {os.getpid()}\\)"):
        SweepLock.take(tmp_path)
    lock.release()
    assert (tmp_path / ".sweep.lock").read_text() == ""
    SweepLock.take(tmp_path).release()


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_respect_the_umask(tmp_path: Path, result: Result, umask: int) -> None:
    previous = os.umask(umask)
    try:
        sweep = make_sweep(tmp_path, result, runs=1)
        write_sweep_table(sweep)
    finally:
        os.umask(previous)
    written = [*(sweep / "0").iterdir(), sweep / "sweep_summary.csv", sweep / "sweep_report.csv"]
    assert {stat.S_IMODE(path.stat().st_mode) for path in written} == {0o666 & ~umask}


def test_the_digest_is_what_a_run_simulates_not_how_it_shows_progress() -> None:
    config = {"seed": 1, "horizon": "2h"}
    assert config_hash({**config, "progress": True}) == config_hash({**config, "progress": False})
    assert config_hash({**config, "hydra": {"job": 1}}) == config_hash(config)
    assert config_hash({**config, "seed": 2}) != config_hash(config)
