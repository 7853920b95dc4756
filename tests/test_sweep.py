"""Sweeps: one tidy table over the runs, written at the end and rebuilt on demand."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

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
    assert columns[:4] == ["run", "status", "seed", "cluster.pools.node.count"]
    assert columns.index("replicas_started") > columns.index("workload.deployments")
    assert {row["status"] for row in rows} == {"complete"}
    assert [row["hosts"] for row in rows] == ["2", "3", "2", "3"]
    assert all(row["replicas_started"] == "2" for row in rows)


def test_sim_report_rebuilds_the_table_of_a_partial_sweep(sweep: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(sweep, partial)
    (partial / "3" / "summary.json").unlink()
    (partial / "sweep_summary.csv").unlink()
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "sim-report"), str(partial)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "4 runs, 3 complete" in completed.stdout
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
