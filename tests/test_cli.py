"""The command line's pre-check: every override Hydra accepts is applied as Hydra applies
it, and every mistake — in the config, in Hydra's own settings, in the output folder —
ends with one line and exit 2 before anything is written."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sim.cli.main as cli
from sim.core.errors import ConfigError

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """Runs ``sim <arguments>`` in this process from an empty folder; returns (exit
    status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*arguments: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sim", *arguments])
        status = 0
        try:
            cli.main()
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else 1
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def one_config_error(status: int, out: str, err: str) -> str:
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("config error: ")
    assert "Traceback" not in out + err
    return lines[0]


DEPLOY_ONE = "workload.deployments=[{app: web, replicas: 1, platform: container}]"


def test_a_deleted_key_is_deleted_in_the_pre_check(run_cli: Run, tmp_path: Path) -> None:
    # The default deployments ask for a VM; deleting them makes platform=container valid.
    status, out, err = run_cli(
        "~workload.deployments", "platform=container", "hydra.run.dir=run", "progress=false"
    )
    assert status == 0, err
    assert (tmp_path / "run" / "summary.json").is_file()


def test_a_deletion_that_breaks_the_config_stops_before_any_folder(
    run_cli: Run, tmp_path: Path
) -> None:
    line = one_config_error(*run_cli("~images"))
    assert line == "config error: images: missing: a value is required"
    assert list(tmp_path.iterdir()) == []


def test_a_deletion_in_a_sweep_stops_before_the_first_job(run_cli: Run, tmp_path: Path) -> None:
    one_config_error(*run_cli("-m", "~images", "seed=1,2", "hydra.sweep.dir=sweep"))
    assert list(tmp_path.iterdir()) == []


def test_a_distribution_can_change_kind_by_deleting_and_adding_it() -> None:
    settings = cli.validate_overrides(
        [
            "workload=poisson",
            "platform=container",
            "~workload.traffic.request.cpu",
            "+workload.traffic.request.cpu={dist: lognormal, median: 50ms, sigma: 0.5}",
        ]
    )
    assert "run" in settings
    cfg = cli.load_config(
        [
            "workload=poisson",
            "~workload.traffic.request.cpu",
            "+workload.traffic.request.cpu={dist: lognormal, median: 50ms, sigma: 0.5}",
        ]
    )
    assert dict(cfg.workload.traffic.request.cpu) == {
        "dist": "lognormal",
        "median": "50ms",
        "sigma": 0.5,
    }


def test_a_mapping_merged_into_another_kind_says_why_and_how() -> None:
    with pytest.raises(ConfigError) as raised:
        cli.validate_overrides(
            ["workload=poisson", "workload.traffic.request.cpu={dist: lognormal, median: 1s}"]
        )
    assert raised.value.key == "workload.traffic.request.cpu"
    assert "has no key 'median'" in raised.value.allowed
    assert "'~workload.traffic.request.cpu'" in raised.value.allowed


@pytest.mark.parametrize(
    ("overrides", "key", "value", "allowed"),
    [
        (["~nosuch"], "~nosuch", "(delete)", "an existing key to delete"),
        (["~seed=3"], "~seed", "3", "its value (42) to delete it"),
        (["++seed=7,x"], "seed", "x", "an integer, not a string"),
        (
            ["hydra/launcher=nosuch"],
            "hydra/launcher",
            "nosuch",
            "one of basic, joblib, ray, ray_aws",
        ),
        (
            ["hydra/launcher=joblib", "hydra.launcher.n_jobs=abc"],
            "hydra.launcher.n_jobs",
            "abc",
            "Value 'abc' of type 'str' could not be converted to Integer",
        ),
    ],
)
def test_every_kind_of_override_is_checked(
    overrides: list[str], key: str, value: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        cli.validate_overrides(overrides)
    assert (raised.value.key, str(raised.value.value), raised.value.allowed) == (
        key,
        value,
        allowed,
    )


def test_hydras_own_settings_fail_with_one_line(run_cli: Run, tmp_path: Path) -> None:
    line = one_config_error(*run_cli("hydra/launcher=nosuch"))
    assert line.startswith("config error: hydra/launcher: nosuch: one of basic, joblib")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_flag_is_one_line(run_cli: Run) -> None:
    line = one_config_error(*run_cli("--nosuch"))
    assert "unrecognized arguments: --nosuch" in line


@pytest.mark.parametrize(
    ("argument", "reason"),
    [
        ("hydra.run.dir=/proc/sim-run", "No such file or directory"),
        ("hydra.run.dir={file}/run", "is not a folder"),
    ],
)
def test_an_unwritable_run_folder_is_refused_before_the_run(
    run_cli: Run, tmp_path: Path, argument: str, reason: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    line = one_config_error(*run_cli(argument.format(file=blocker)))
    assert line.startswith("config error: hydra.run.dir: ")
    assert reason in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_an_unwritable_sweep_folder_is_refused_before_the_sweep(run_cli: Run) -> None:
    line = one_config_error(*run_cli("-m", "seed=1,2", "hydra.sweep.dir=/proc/sim-sweep"))
    assert line.startswith("config error: hydra.sweep.dir: /proc/sim-sweep: a folder that")


def test_printing_the_config_applies_deletions(run_cli: Run) -> None:
    status, out, err = run_cli("--cfg", "job", "~images")
    assert status == 0, err
    assert not re.search(r"^images:", out, re.MULTILINE) and "seed: 42" in out


@pytest.mark.parametrize("key", ["images", "workload.apps", "cluster.registry_mirrors"])
def test_an_empty_mapping_merged_into_one_that_has_entries_is_refused(key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        cli.validate_overrides([f"{key}={{}}"])
    assert (raised.value.key, raised.value.value) == (key, "{}")
    assert raised.value.allowed == (
        f"an empty mapping merges into {key} and changes nothing "
        f"(to empty it: '~{key}' '+{key}={{}}')"
    )


def test_emptied_apps_are_named_as_none() -> None:
    with pytest.raises(ConfigError) as raised:
        cli.validate_overrides(["~workload.apps", "+workload.apps={}"])
    assert raised.value.line() == (
        "config error: workload.deployments[0].app: web: an app of workload.apps (none)"
    )


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("[1,2]", 'a tag such as "1.4.2" (a string; quote it), not a list'),
        ("1.10", 'a tag such as "1.4.2" (a string; quote it), not a number'),
        ("'-rc1'", "letters, digits, _ . - (at most 128, not starting with . or -)"),
    ],
)
def test_an_image_tag_is_a_tag(value: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as raised:
        cli.validate_overrides([f"images.web.tag={value}"])
    assert (raised.value.key, raised.value.allowed) == ("images.web.tag", allowed)


def test_a_whole_number_tag_reads_as_yaml_gives_it() -> None:
    cli.validate_overrides(["images.redis.tag=7"])


@pytest.mark.parametrize(
    ("overrides", "read"),
    [
        (
            ["cluster.engine.max_concurrent_downloads=5"],
            lambda p: p.engine.max_concurrent_downloads,
        ),
        (
            [
                "workload=poisson",
                "platform=container",
                "autoscaler=simple",
                "autoscaler.cooldown=10min",
            ],
            lambda p: p.autoscaler.cooldown_s,
        ),
        (["network.uplink.bandwidth=100Gbps"], lambda p: p.network.uplink.bandwidth_bytes_s),
    ],
)
def test_a_setting_no_preset_names_is_set_without_a_plus(overrides: list[str], read: Any) -> None:
    from sim.config import scenario_params

    default = read(scenario_params(cli.to_plain(cli.load_config(overrides[:-1]))))
    changed = read(scenario_params(cli.to_plain(cli.load_config(overrides))))
    assert changed != default


def test_a_distribution_given_whole_replaces_the_default_of_another_kind() -> None:
    from sim.config import scenario_params
    from sim.core.distributions import LogNormal

    overrides = ["platform.vm.boot={dist: lognormal, median: 30s, sigma: 0.2}"]
    params = scenario_params(cli.to_plain(cli.load_config(overrides)))
    assert params.platforms["vm"].boot == LogNormal(30.0, 0.2)


@pytest.mark.parametrize(
    ("arguments", "line"),
    [
        (
            ("-m", "seed=interval(1,3)", "hydra.sweep.dir=sweep"),
            "config error: seed: interval(1,3): values the basic sweeper can list: a,b,c, "
            "range(start,stop[,step]), choice(a,b) or glob(pattern) for a group (Can only "
            "enumerate CHOICE and RANGE sweeps, type is ValueType.INTERVAL_SWEEP)",
        ),
        (
            ("seed=choice(1,3)",),
            "config error: seed: choice(1,3): one value in a single run (a sweep runs with sim -m)",
        ),
        (
            ("-m", "workload=glob(nothing*)", "hydra.sweep.dir=sweep"),
            "config error: workload: glob(nothing*): a sweep of at least one value",
        ),
        (
            ("hydra.job_logging.root.level=LOUD",),
            "config error: hydra.job_logging.root.level: LOUD: a logging level in capitals "
            "(CRITICAL, ERROR, WARNING, INFO, DEBUG, NOTSET) or a number",
        ),
    ],
)
def test_sweeps_and_settings_hydra_cannot_run_are_one_line(
    run_cli: Run, tmp_path: Path, arguments: tuple[str, ...], line: str
) -> None:
    assert one_config_error(*run_cli(*arguments)) == line
    assert list(tmp_path.iterdir()) == []


def test_a_sweep_over_a_glob_of_group_options_runs_each(run_cli: Run, tmp_path: Path) -> None:
    status, out, err = run_cli(
        "-m",
        "workload=glob(po*)",
        "platform=container",
        "horizon=1min",
        "progress=false",
        "hydra.sweep.dir=sweep",
    )
    assert status == 0, err
    assert (tmp_path / "sweep" / "0" / "summary.json").is_file()
    assert (
        "workload=poisson" in (tmp_path / "sweep" / "0" / ".hydra" / "overrides.yaml").read_text()
    )


def test_joining_a_running_ray_cluster_with_the_launchers_store_size_is_one_line(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ray.init refuses to size the store of a cluster it joins; the Ray launcher asks
    for 75 MiB unless told null: refused before anything runs, naming the setting."""
    pytest.importorskip("hydra_plugins.hydra_ray_launcher")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:6379")
    line = one_config_error(
        *run_cli("-m", "seed=1,2", "hydra/launcher=ray", "hydra.sweep.dir=sweep")
    )
    assert line == (
        "config error: hydra.launcher.ray.init.object_store_memory: 78643200 (the launcher's "
        "default): null when joining a running Ray cluster, which keeps its own "
        "(+hydra.launcher.ray.init.object_store_memory=null)"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_launcher_that_is_not_installed_names_the_extra_that_brings_it() -> None:
    from hydra.errors import MissingConfigException

    from sim.api import _missing_option

    missing = MissingConfigException(
        "Could not find 'hydra/launcher/joblib'", "hydra/launcher/joblib", ["basic"]
    )
    error = _missing_option(missing, ["hydra/launcher=joblib"])
    assert error.line() == (
        "config error: hydra/launcher: joblib: one of basic (joblib comes with the parallel "
        "extra: pip install 'sim[parallel]')"
    )


def test_runs_started_in_the_same_second_get_folders_of_their_own(
    run_cli: Run, tmp_path: Path
) -> None:
    """A time-stamped run folder (here by the year, so both runs share its name, as two
    runs in one second share the default's) is never shared: the second is suffixed."""
    for seed in (1, 2):
        status, out, err = run_cli(
            f"seed={seed}", "horizon=1min", "progress=false", "hydra.run.dir=out/${now:%Y}"
        )
        assert status == 0, err
    year = next((tmp_path / "out").iterdir()).name.split("-")[0]
    folders = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert folders == [year, f"{year}-1"]
    seeds = [
        json.loads((tmp_path / "out" / name / "summary.json").read_text())["seed"]
        for name in folders
    ]
    assert seeds == [1, 2]
