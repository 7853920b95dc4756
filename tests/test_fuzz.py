"""An adversary: random hostile overrides, random damage to a sweep's files.

Every outcome must be a normal result or a `ConfigError` (one line, naming the key), in
bounded time; sim-report must mark what does not read back and go on. In CI the
examples are derandomized (see conftest.py); a long local campaign runs the same tests
with ``FUZZ_EXAMPLES=20000``.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import signal
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
from sim.batch.runs import record_run
from sim.core.errors import ConfigError

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
