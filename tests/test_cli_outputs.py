"""The command line's provenance, messages, help and completion: ``--version`` on every
script, version and seed in ``run.json`` and the resume check that heeds them, messages
in ``sim.log`` (``-v``, ``-q``), ``sim --help`` from the project's template, shell
completion, figures in a format, ``sim-report``'s options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sim.cli.logs import verbosity_overrides
from sim.cli.main import completions
from sim.cli.pages import report_options
from sim.config.reference import settings_rows
from sim.config.sections import RootSpec
from sim.core.provenance import version

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WARNS = ["workload.apps.web.vcpu=1000", "horizon=2min"]
"""A run whose replicas never fit: it warns, twice."""


def sim(
    *arguments: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "sim"), *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_every_console_script_names_the_simulator_and_its_version() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for script in scripts:
        for flag in ("--version", "-V"):
            completed = subprocess.run(
                [str(BIN / script), flag], capture_output=True, text=True, check=True
            )
            expected = f"sim {version()}" if script == "sim" else f"{script} (sim {version()})"
            assert completed.stdout == expected + "\n"


@pytest.fixture(scope="module")
def warned(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("warned")
    completed = sim(
        *WARNS,
        "progress=false",
        "figures=svg",
        "figure_dpi=40",
        f"hydra.run.dir={folder / 'run'}",
        cwd=folder,
    )
    assert completed.returncode == 0, completed.stderr
    return folder / "run", completed


def test_a_run_records_its_version_and_seed(
    warned: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    record = json.loads((warned[0] / "run.json").read_text())
    assert (record["version"], record["seed"], record["status"]) == (version(), 42, "complete")


def test_warnings_print_as_before_and_everything_goes_to_the_log(
    warned: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, completed = warned
    warnings = [line for line in completed.stderr.splitlines() if line]
    assert len(warnings) == 2
    assert all(line.startswith("warning: web-") and "never fits" in line for line in warnings)
    log = (folder / "sim.log").read_text().splitlines()
    assert (
        f"[sim.cli.main][INFO] - sim {version()}, seed 42, replication 0, config sha256 " in log[0]
    )
    assert "[INFO] - complete: simulated 2 min" in log[1]
    assert [line.partition("[WARNING] - ")[2] for line in log[2:]] == [
        line.removeprefix("warning: ") for line in warnings
    ]


def test_figures_in_the_format_asked(warned: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    folder = warned[0]
    for name in ("timeline", "topology", "registry_egress"):
        assert (folder / f"{name}.svg").read_bytes().startswith(b"<?xml")
        assert not (folder / f"{name}.png").exists()


def test_quiet_hides_warnings_and_verbose_shows_what_the_log_gets(tmp_path: Path) -> None:
    quiet = sim(*WARNS, "-q", "progress=false", f"hydra.run.dir={tmp_path / 'q'}", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert "never fits" in (tmp_path / "q" / "sim.log").read_text()
    loud = sim(
        *WARNS, "--verbose", "progress=false", f"hydra.run.dir={tmp_path / 'v'}", cwd=tmp_path
    )
    lines = loud.stderr.splitlines()
    assert lines[0].startswith(f"sim {version()}, seed 42") and lines[1].startswith("complete:")
    assert sum(line.startswith("warning: ") for line in lines) == 2 and len(lines) == 4
    same = json.loads((tmp_path / "q" / "run.json").read_text())["config_hash"]
    assert json.loads((tmp_path / "v" / "run.json").read_text())["config_hash"] == same


def test_verbosity_flags_become_hydra_settings_the_last_winning() -> None:
    assert verbosity_overrides(["-v", "seed=1", "-q"]) == (
        ["seed=1"],
        ["hydra.job_logging.handlers.terminal.level=ERROR"],
    )
    assert verbosity_overrides(["-v"])[1] == [
        "hydra.job_logging.handlers.terminal.level=INFO",
        "hydra.verbose=[sim]",
    ]


def test_a_run_another_version_made_runs_again_unless_told(tmp_path: Path) -> None:
    run = tmp_path / "run"
    arguments = ("workload.deployments=[]", "progress=false", f"hydra.run.dir={run}")
    assert sim(*arguments, cwd=tmp_path).returncode == 0
    assert "skipped" in sim(*arguments, cwd=tmp_path).stdout
    record = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**record, "version": "0.0.1"}))
    kept = sim(*arguments, "resume=any_version", cwd=tmp_path)
    assert "complete for this config, skipped" in kept.stdout
    again = sim(*arguments, cwd=tmp_path)
    assert again.returncode == 0 and "skipped" not in again.stdout
    assert again.stderr.splitlines() == [
        f"warning: {run}: complete for this config but made by sim 0.0.1, so it runs again "
        f"with {version()} (resume=any_version keeps it)"
    ]
    assert json.loads((run / "run.json").read_text())["version"] == version()
    del record["version"]
    (run / "run.json").write_text(json.dumps(record))
    assert "made by sim unknown" in sim(*arguments, cwd=tmp_path).stderr


def test_help_is_the_projects_own_at_80_columns(tmp_path: Path) -> None:
    completed = sim("--help", cwd=tmp_path)
    assert completed.returncode == 0
    text = completed.stdout
    lines = text.splitlines()
    assert lines[0] == f"sim {version()}: a discrete-event simulator of container orchestration."
    assert max(len(line) for line in lines) <= 80 and len(lines) < 80
    assert "_cluster" not in text and "kinds/" not in text and "Hydra (https" not in text
    groups = lines[lines.index("Groups (GROUP=OPTION; several with GROUP=[A,B]):") + 1 :]
    named = [line.split()[0] for line in groups[: groups.index("")] if not line.startswith("   ")]
    assert named == sorted(
        [
            "autoscaler",
            "cluster",
            "experiment",
            "images",
            "network",
            "platform",
            "pricing",
            "registry",
            "workload",
        ]
    )
    for key, shown, _ in settings_rows(RootSpec):
        if key != "hydra":
            assert f"  {key}={shown}" in text
    assert "sim-kinds" in text and "docs/" in text


def test_shell_completion_installs_and_offers_no_internal_groups(tmp_path: Path) -> None:
    script = sim("-sc", "install=bash", cwd=tmp_path)
    assert script.returncode == 0 and "complete -o nospace" in script.stdout
    env = {**os.environ, "COMP_LINE": "sim cluster=", "COMP_POINT": "12"}
    assert sim("-sc", "query=bash", cwd=tmp_path, env=env).stdout.split() == [
        "cluster=large",
        "cluster=small",
    ]


def test_completions_drop_internal_words() -> None:
    words = "kinds/ cluster=_pool cluster=small platform/_x platform= seed="
    assert completions(lambda: print(words)) == ["cluster=small", "platform=", "seed="]


@pytest.mark.parametrize(
    ("arguments", "parsed"),
    [
        (["sweep"], ("sweep", False, "png", 120.0)),
        (["--html", "--figures", "pdf", "--dpi", "72", "x"], ("x", True, "pdf", 72.0)),
        (["--figures", "jpg", "x"], None),
        (["--dpi", "0", "x"], None),
        (["a", "b"], None),
        ([], None),
        (["--nosuch", "x"], None),
    ],
)
def test_sim_report_options(arguments: list[str], parsed: tuple[object, ...] | None) -> None:
    options = report_options(arguments)
    if parsed is None:
        assert options is None
    else:
        assert options is not None
        assert (str(options.folder), options.html, options.figures, options.dpi) == parsed


def test_sim_report_help_and_usage(tmp_path: Path) -> None:
    shown = subprocess.run([str(BIN / "sim-report"), "--help"], capture_output=True, text=True)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: sim-report [--html]")
    refused = subprocess.run(
        [str(BIN / "sim-report"), "--html", str(tmp_path)], capture_output=True, text=True
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith(f"{tmp_path}: holds no sweep (no numbered run folders)")
