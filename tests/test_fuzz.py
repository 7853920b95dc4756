"""An adversary: random hostile overrides, random damage to a sweep's files, configs of
any size, odd traces, concurrent processes on one folder or state file, and every
experiment preset alone (every Python block of the pages runs in test_docs.py).

Every outcome must be a normal result or a `ConfigError` (one line, naming the key), in
bounded time; sim-report must mark what does not read back and go on; every request
is counted; nothing one process writes is lost to another. In CI the
examples are derandomized (see conftest.py); a long local campaign runs the same tests
with ``FUZZ_EXAMPLES=20000``.
"""

from __future__ import annotations

import csv
import importlib.resources
import json
import math
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
import sim.cli.main as cli
from sim.batch.runs import read_run, record_run
from sim.core.errors import ConfigError
from sim.core.files import FolderLock

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
SECONDS_PER_EXAMPLE = 60

BASES = (
    ("platform=container",),
    ("workload=poisson", "platform=container"),
    ("workload=flash_crowd", "autoscaler=hpa", "platform=container"),
    ("workload=diurnal", "autoscaler=beanstalk", "platform=beanstalk-docker"),
)
SHORT = ("horizon=10min",)
# Keys that set how long a run is: held fixed, so each example stays short by design.
LENGTH_KEYS = ("horizon", "workload.horizon")


def _leaves(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if "." in str(key):
                continue  # a key with a dot (an instance type) is not an override path
            yield from _leaves(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, f"{prefix}.{index}")
        yield prefix
    else:
        yield prefix


def _keys() -> list[str]:
    keys: dict[str, None] = {}
    for base in BASES:
        composed = cli.to_plain(sim.load_config(list(base)))
        for key in _leaves(composed, ""):
            if not key.startswith(LENGTH_KEYS) and key not in ("progress", "figures"):
                keys[key] = None
    return sorted(keys)


KEYS = _keys()

HOSTILE_VALUES = (
    "0",
    "-1",
    "-5s",
    "1e308",
    "1e400",
    "-1e308",
    "10000000000000000000000000000000",
    "nan",
    "inf",
    "-inf",
    "''",
    "null",
    "true",
    "12parsecs",
    "5min",
    "0.0001ms",
    "1e18GB",
    "1Tbps",
    "3.7",
    "[1,2]",
    "[]",
    "{}",
    "{a: 1}",
    "{dist: lognormal, median: 1s, sigma: 1e18}",
    "{dist: normal, mean: -1s, sd: 1s}",
    "{dist: uniform, low: 5s, high: 1s}",
    "ñandú",
    "'\u202e\u0000x'",
    "🐳",
    "'a,b'",
    "m5.large",
    "container",
    "hub",
    "web",
)


@contextmanager
def time_bound(seconds: int) -> Iterator[None]:
    """Fail the example (TimeoutError) if it runs longer than `seconds`."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"example ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@st.composite
def hostile_overrides(draw: st.DrawFn) -> list[str]:
    overrides = []
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(KEYS))
        form = draw(st.sampled_from(["set", "set", "set", "delete", "add"]))
        if form == "delete":
            overrides.append(f"~{key}")
        elif form == "add":
            overrides.append(f"+{key}.extra={draw(st.sampled_from(HOSTILE_VALUES))}")
        else:
            overrides.append(f"{key}={draw(st.sampled_from(HOSTILE_VALUES))}")
    return overrides


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(BASES), hostile_overrides())
def test_hostile_overrides_give_a_result_or_one_config_error(
    base: tuple[str, ...], overrides: list[str]
) -> None:
    arguments = [*base, *SHORT, *overrides]
    with time_bound(SECONDS_PER_EXAMPLE):
        try:
            cli.validate_overrides(arguments)
            result = sim.simulate(sim.load_config(arguments))
        except ConfigError as error:
            assert error.key and error.allowed
            assert "\n" not in error.line()
            return
    summary = result.summary
    assert summary["sim_time_s"] <= 600.0 + 1e-9
    assert summary["requests_total"] == (
        summary["requests_served"] + summary["requests_in_flight"] + summary["requests_dropped"]
    )
    assert summary["pulls_requested"] == (
        summary["pulls_completed"] + summary["pulls_failed"] + summary["pulls_unfinished"]
    )
    for key, value in summary.items():
        assert not (isinstance(value, float) and math.isnan(value)), key


# sim-report over damaged sweeps -------------------------------------------------------

DAMAGE = (
    b"",
    b"{",
    b"[]",
    b"null",
    b'{"status": "complete"}',
    b'{"status": "failed", "config_hash": 1}',
    b'{"cost_usd": NaN, "x": [1]}',
    b"\xff\xfe\x00garbage",
    b"- [unclosed\n",
    b"- seed=1\n- {a: 1}\n",
)
FILES = ("run.json", "summary.json", "events.csv", ".hydra/overrides.yaml")


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz-sweep")
    result = sim.simulate(
        sim.load_config(
            [
                "platform=container",
                "workload.deployments=[{app: web, replicas: 1, platform: container}]",
            ]
        )
    )
    for number in range(3):
        folder = root / str(number)
        result.write(folder)
        (folder / ".hydra").mkdir()
        (folder / ".hydra" / "overrides.yaml").write_text(f"- seed={number}\n")
        record_run(folder, "digest", "complete", overrides=[f"seed={number}"])
    return root


damages = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.sampled_from(FILES),
        st.one_of(st.sampled_from(DAMAGE), st.just(None), st.just(b"dir")),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(damages)
def test_sim_report_marks_damaged_runs_and_goes_on(
    small_sweep: Path, tmp_path_factory: pytest.TempPathFactory, damage: list[Any]
) -> None:
    sweep = tmp_path_factory.mktemp("damaged")
    shutil.rmtree(sweep)
    shutil.copytree(small_sweep, sweep)
    for run, name, content in damage:
        path = sweep / str(run) / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        if content == b"dir":
            path.mkdir(parents=True)
        elif content is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    argv = sys.argv
    sys.argv = ["sim-report", str(sweep)]
    try:
        with time_bound(SECONDS_PER_EXAMPLE):
            cli.report_main()
    finally:
        sys.argv = argv
    with (sweep / "sweep_summary.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["run"] for row in rows] == ["0", "1", "2"]
    for row in rows:
        assert row["status"] in ("complete", "failed", "missing")
        if row["status"] == "complete":
            assert row["cost_usd"] != ""


# Odd traces: every row is counted ----------------------------------------------------

TRACE_HORIZON_S = 90.0


@st.composite
def odd_traces(draw: st.DrawFn) -> tuple[bytes, list[float]]:
    """A timestamp trace with rows before traffic starts (about 25 s), duplicates, rows
    past the horizon, blank lines, CRLF line ends and a byte order mark."""
    times = sorted(
        draw(
            st.lists(
                st.one_of(
                    st.integers(0, 120).map(float),
                    st.floats(0, 120, allow_nan=False).map(lambda t: round(t, 3)),
                ),
                max_size=40,
            )
        )
    )
    end = draw(st.sampled_from(["\n", "\r\n"]))
    lines = ["timestamp_s"]
    for time_s in times:
        lines.append(repr(time_s))
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append("")
    text = end.join(lines) + end
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + text).encode("utf-8"), times


@settings(max_examples=min(EXAMPLES, 12), deadline=None, suppress_health_check=list(HealthCheck))
@given(odd_traces(), st.sampled_from(["requests", "fluid"]))
def test_every_trace_row_before_the_horizon_is_counted(
    tmp_path_factory: pytest.TempPathFactory, trace: tuple[bytes, list[float]], mode: str
) -> None:
    """The rows before traffic starts are dropped, not started, in both modes; in the
    requests mode every row before the horizon is a request (the fluid mode counts the
    rest as the integral of the trace's rate, an expectation)."""
    content, times = trace
    path = tmp_path_factory.mktemp("trace") / "trace.csv"
    path.write_bytes(content)
    with time_bound(SECONDS_PER_EXAMPLE):
        result = sim.simulate(
            sim.load_config(
                [
                    "workload=trace",
                    "platform=container",
                    f"horizon={TRACE_HORIZON_S}",
                    f"workload.traffic.mode={mode}",
                    "workload.traffic.arrivals={kind: trace, path: " + str(path) + "}",
                ]
            )
        )
    summary = result.summary
    (start_s,) = [e.time_s for e in result.events if e.kind == "traffic_started"]
    assert summary["requests_dropped_not_started"] == sum(time_s < start_s for time_s in times)
    if mode == "requests":
        assert summary["requests_total"] == sum(time_s < TRACE_HORIZON_S for time_s in times)
    assert summary["requests_total"] == (
        summary["requests_served"]
        + summary["requests_in_flight"]
        + summary["requests_dropped"]
        + summary["requests_failed"]
    )
    dropped = [v for k, v in summary.items() if k.startswith("requests_dropped_")]
    assert sum(dropped) == summary["requests_dropped"]


# Predicted sizes: refused up front, whatever the numbers ------------------------------

SIZES = st.sampled_from([0, 1, 3, 10**3, 10**6, 10**7, 10**9, 10**12, 10**18])


@settings(max_examples=min(EXAMPLES, 10), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(
        [
            "cluster.pools.node.count",
            "workload.deployments.0.replicas",
            "cluster.scaler.max_hosts",
            "horizon",
            "sample_period",
            "workload.traffic.arrivals.rate_per_s",
        ]
    ),
    SIZES,
    st.sampled_from(["", "us", "s", "d"]),
)
def test_a_config_of_any_size_is_checked_in_bounded_time(key: str, size: int, unit: str) -> None:
    """Ten million hosts, an hour at one sample a microsecond, a horizon of 10^18 days:
    the pre-check answers in seconds, with a result or one line, before building any."""
    base = ["workload=poisson", "platform=container"] if "arrivals" in key else []
    value = f"{size}{unit}" if key in ("horizon", "sample_period") and unit else str(size)
    with time_bound(20):
        try:
            cli.validate_overrides([*base, f"{key}={value}"])
        except ConfigError as error:
            assert "\n" not in error.line()
            if error.allowed.startswith("at most "):
                assert "(limits." in error.allowed and "to allow it: limits." in error.allowed


# Concurrent processes on one folder or state file -------------------------------------


def _program(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def test_runs_started_together_each_get_a_folder_of_their_own(tmp_path: Path) -> None:
    """Three sim runs started at once in one folder (the same second, the same default
    outputs/<date>/<time>): three folders, each with complete results of its seed."""
    processes = [
        subprocess.Popen(
            [_program("sim"), f"seed={seed}", "horizon=1min", "progress=false"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2, 3)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    folders = sorted(tmp_path.glob("outputs/*/*"))
    assert len(folders) == 3
    seeds = sorted(json.loads((folder / "summary.json").read_text())["seed"] for folder in folders)
    assert seeds == [1, 2, 3]
    assert all(read_run(folder).status == "complete" for folder in folders)


def test_a_run_into_a_folder_another_process_writes_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    held = FolderLock.take(folder)  # this process is the other writer
    try:
        completed = subprocess.run(
            [_program("sim"), "horizon=1min", f"hydra.run.dir={folder}"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        held.release()
    assert completed.returncode == 2
    assert completed.stderr == (
        f"config error: hydra.run.dir: {folder}: a folder no other sim run is writing into "
        "(wait for it to end, or choose another)\n"
    )
    assert list(folder.iterdir()) == []


def test_sim_docker_commands_at_once_on_one_state_keep_every_change(tmp_path: Path) -> None:
    names = ["data-a", "data-b", "data-c"]
    processes = [
        subprocess.Popen(
            [_program("sim-docker"), "volume", "create", name],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    for process in processes:
        process.communicate(timeout=300)
    assert [process.returncode for process in processes] == [0, 0, 0]
    listed = subprocess.run(
        [_program("sim-docker"), "volume", "ls"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    rows = [line.split() for line in listed.stdout.splitlines()[1:] if line.startswith("local")]
    assert sorted(row[1] for row in rows) == names


# Every preset alone -----------------------------------------------------------------

PRESETS = sorted(
    entry.name.removesuffix(".yaml")
    for entry in (importlib.resources.files("sim.conf") / "experiment").iterdir()
    if entry.name.endswith(".yaml")
)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_experiment_preset_runs_alone(preset: str) -> None:
    """``sim +experiment=<name>`` with nothing else: a result, every request and pull
    accounted for, no warning."""
    with time_bound(SECONDS_PER_EXAMPLE):
        result = sim.simulate(sim.load_config([f"+experiment={preset}", "horizon=5min"]))
    summary = result.summary
    assert summary["requests_total"] == (
        summary["requests_served"]
        + summary["requests_in_flight"]
        + summary["requests_dropped"]
        + summary["requests_failed"]
    )
    assert summary["pulls_requested"] == (
        summary["pulls_completed"] + summary["pulls_failed"] + summary["pulls_unfinished"]
    )
    assert result.warnings == ()
