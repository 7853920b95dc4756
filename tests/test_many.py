"""`sim.run_many`: a grid or configs, replicated, into one DataFrame whose rows are the
runs ``sim -m`` makes, in its order, with its numbers."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.batch import many

COMMON = ["workload=poisson", "platform=container", "horizon=5min"]


@pytest.fixture(scope="module")
def grid() -> pd.DataFrame:
    return sim.run_many(
        {"cluster.pools.node.count": [2, 3]}, overrides=COMMON, replications=2, progress=False
    )


def test_a_grid_runs_every_combination_in_the_order_sim_m_runs_them(grid: pd.DataFrame) -> None:
    assert grid[["cluster.pools.node.count", "replication"]].values.tolist() == [
        [2, 0],
        [2, 1],
        [3, 0],
        [3, 1],
    ]
    assert list(grid.columns[:4]) == [
        "cluster.pools.node.count",
        "seed",
        "replication",
        "sim_time_s",
    ]
    assert grid.loc[0, "seed"] == 42 and grid.loc[1, "seed"] != 42
    assert grid.loc[0, "seed"] == grid.loc[2, "seed"] and grid.loc[1, "seed"] == grid.loc[3, "seed"]
    assert grid.loc[2, "hosts"] == 3
    assert grid.attrs["units"]["startup_s_p95"] == "s"


def test_sweep_overrides_give_the_same_table_as_a_grid(grid: pd.DataFrame) -> None:
    swept = sim.run_many(
        ["cluster.pools.node.count=2,3"], overrides=COMMON, replications=2, progress=False
    )
    pd.testing.assert_frame_equal(swept, grid)


def test_the_rows_hold_what_sim_m_writes_in_its_sweep_table(
    grid: pd.DataFrame, tmp_path: Path
) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "-m",
            *COMMON,
            "cluster.pools.node.count=2,3",
            "replications=2",
            "progress=false",
            f"hydra.sweep.dir={tmp_path}",
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    with (tmp_path / "sweep_summary.csv").open() as file:
        table = list(csv.DictReader(file))
    assert len(table) == len(grid)
    for row, (_, ours) in zip(table, grid.iterrows(), strict=True):
        for metric in ("seed", "replication", "startup_s_p95", "requests_total", "cost_usd"):
            assert float(row[metric]) == ours[metric], metric


def test_worker_processes_give_the_same_rows(grid: pd.DataFrame) -> None:
    parallel = sim.run_many(
        {"cluster.pools.node.count": [2, 3]},
        overrides=COMMON,
        replications=2,
        n_jobs=2,
        progress=False,
    )
    pd.testing.assert_frame_equal(parallel, grid)


def test_configs_are_labelled_and_replicated() -> None:
    vm = sim.load_config(["workload=poisson", "platform=vm", "horizon=5min"])
    container = sim.load_config(COMMON)
    frame = sim.run_many({"vm": vm, "container": container}, replications=2, progress=False)
    assert frame[["config", "replication"]].values.tolist() == [
        ["vm", 0],
        ["vm", 1],
        ["container", 0],
        ["container", 1],
    ]
    listed = sim.run_many([vm, container], progress=False)
    assert listed["config"].tolist() == [0, 1]
    assert listed["startup_s_p95"].tolist() == frame["startup_s_p95"].iloc[[0, 2]].tolist()
    assert (frame["startup_s_p95_vm"].iloc[:2] > 30).all()


def test_a_bad_point_anywhere_stops_everything_before_a_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[object] = []
    monkeypatch.setattr(many, "summary_of", lambda config: ran.append(config) or {})
    with pytest.raises(sim.ConfigError, match="platform: nosuch: one of"):
        sim.run_many({"platform": ["container", "nosuch"]}, overrides=COMMON[::2])
    with pytest.raises(sim.ConfigError, match="cluster.pools: no hosts"):
        sim.run_many({"cluster.pools.node.count": [2, 0]}, overrides=COMMON)
    assert ran == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"replications": 0}, "replications: 0: a whole number of runs, at least 1"),
        ({"n_jobs": 0}, "n_jobs: 0: a whole number of processes, at least 1, or -1"),
        ({"runs": {"platform": []}}, r"platform: \[\]: at least one value to run"),
        ({"runs": ["seed=interval(1,3)"]}, "run_many: seed=interval"),
    ],
)
def test_bad_arguments_are_named(arguments: dict[str, object], message: str) -> None:
    call = {"runs": {"seed": [1]}, "overrides": COMMON, **arguments}
    with pytest.raises(sim.ConfigError, match=message):
        sim.run_many(**call)  # type: ignore[arg-type]


def test_grid_values_keep_their_types() -> None:
    assert many.override_text("a", [1, 2.5, True, None, "3", "it's"]) == (
        "a=1,2.5,true,null,'3','it\\'s'"
    )
    assert many.grid_jobs([many.override_text("a", ["3", 3])]) == [[("a", "3")], [("a", 3)]]
