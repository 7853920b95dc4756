"""Kinds from other packages: a plugin package installed beside sim adds a kind through
the ``sim.kinds`` entry points, with no change to the project.

The plugin (tests/plugins/sim-proportional) is installed with pip into a temporary folder
(no network: no index, no build isolation), and sim runs in subprocesses that see it on
their path, as they would after ``pip install sim-proportional``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).parent / "plugins" / "sim-proportional"


@pytest.fixture(scope="module")
def plugged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a process that has the plugin installed."""
    site = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(site),
            str(PLUGIN),
        ],
        check=True,
        cwd=build,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return {**os.environ, "PYTHONPATH": str(site)}


def command(env: dict[str, str], *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    return subprocess.run(
        [str(bin_dir / arguments[0]), *arguments[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_sim_kinds_lists_the_plugin_kind_with_its_package(
    plugged: dict[str, str], tmp_path: Path
) -> None:
    listed = command(plugged, "sim-kinds", "autoscaler", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    entry = next(line for line in lines if line.startswith("  proportional"))
    assert entry.endswith("(from sim-proportional)")
    assert "requests_per_replica" in listed.stdout
    # The simulator's own kinds carry no source.
    assert any(line.startswith("  hpa - ") and "(from" not in line for line in lines)


def test_a_scenario_runs_with_the_plugin_policy(plugged: dict[str, str], tmp_path: Path) -> None:
    """Constant traffic at 20 requests/s on 2 replicas: 1,200 requests in each whole
    minute at 300 per replica need 4 replicas, never more."""
    run = command(
        plugged,
        "sim",
        "workload=constant",
        "platform=container",
        "autoscaler=proportional",
        "+autoscaler.requests_per_replica=300",
        "horizon=5min",
        f"hydra.run.dir={tmp_path}/run",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    events = (tmp_path / "run" / "events.csv").read_text().splitlines()
    assert any("1200 requests need 4" in line for line in events)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["replicas_max"] == 4
    assert summary["requests_total"] == (
        summary["requests_served"]
        + summary["requests_in_flight"]
        + summary["requests_dropped"]
        + summary["requests_failed"]
    )


def test_an_unknown_kind_lists_the_plugin_kind(plugged: dict[str, str], tmp_path: Path) -> None:
    run = command(
        plugged,
        "sim",
        "workload=poisson",
        "platform=container",
        "autoscaler.policy=nosuch",
        "horizon=1min",
        f"hydra.run.dir={tmp_path}/run",
        cwd=tmp_path,
    )
    assert run.returncode == 2
    message = run.stderr.strip().splitlines()
    assert len(message) == 1
    assert "nosuch" in message[0] and "proportional" in message[0]


def test_a_broken_entry_point_is_one_line(tmp_path: Path) -> None:
    """A package whose entry point names a module that is not there."""
    info = tmp_path / "site" / "broken_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[sim.kinds]\nautoscaler.gone = no_such_module\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    listed = command(env, "sim-kinds", "autoscaler", cwd=tmp_path)
    assert listed.returncode == 2
    assert listed.stderr.count("\n") == 1
    assert "autoscaler.gone = no_such_module (package broken-plugin)" in listed.stderr
    assert "ModuleNotFoundError" in listed.stderr
