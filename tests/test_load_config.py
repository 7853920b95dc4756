"""`sim.load_config` inside a user's own Hydra application, and with a user's folder of
configs: the caller's Hydra is left as it was, the folder joins the packaged tree."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

import sim


@pytest.fixture()
def user_configs(tmp_path: Path) -> Path:
    """A user's folder: a primary config of its own, a new workload option and a
    primary config that builds on the packaged one."""
    folder = tmp_path / "conf"
    (folder / "workload").mkdir(parents=True)
    (folder / "app.yaml").write_text("learning_rate: 0.1\n")
    (folder / "workload" / "mine.yaml").write_text("defaults:\n  - poisson\n  - _self_\n")
    (folder / "study.yaml").write_text(
        "defaults:\n  - config\n  - override workload: mine\n  - override platform: container\n"
        "  - _self_\nseed: 7\n"
    )
    return folder


def test_the_callers_hydra_still_composes_afterwards(user_configs: Path) -> None:
    with initialize_config_dir(config_dir=str(user_configs), version_base="1.3"):
        before = GlobalHydra.instance().hydra
        assert compose("app").learning_rate == 0.1
        assert sim.load_config(["seed=3"]).seed == 3
        assert GlobalHydra.instance().hydra is before
        assert compose("app", ["learning_rate=0.2"]).learning_rate == 0.2
    assert not GlobalHydra.instance().is_initialized()


def test_without_a_caller_hydra_is_left_uninitialised() -> None:
    assert not GlobalHydra.instance().is_initialized()
    sim.load_config()
    assert not GlobalHydra.instance().is_initialized()
    with pytest.raises(sim.ConfigError):
        sim.load_config(["nosuch=1"])
    assert not GlobalHydra.instance().is_initialized()


def test_inside_a_hydra_main_application(user_configs: Path, tmp_path: Path) -> None:
    """The case the issue met: an app's next ``hydra.compose`` after ``sim.load_config``
    failed with "GlobalHydra is not initialized"; its run's HydraConfig stays too."""
    script = tmp_path / "app.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import hydra
            from hydra.core.hydra_config import HydraConfig
            import sim

            @hydra.main(version_base="1.3", config_path={str(user_configs)!r}, config_name="app")
            def main(cfg):
                result = sim.simulate(sim.load_config(["horizon=1min", "platform=container",
                                                       "workload=poisson"]))
                again = hydra.compose("app", ["learning_rate=0.5"])
                print(cfg.learning_rate, again.learning_rate, HydraConfig.get().job.name,
                      result.summary["seed"])

            main()
            """
        )
    )
    completed = subprocess.run(
        [sys.executable, str(script), f"hydra.run.dir={tmp_path / 'out'}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["0.1", "0.5", "app", "42"]


def test_a_config_folder_adds_its_options_and_primary_configs(user_configs: Path) -> None:
    mine = sim.load_config(["workload=mine", "platform=container"], config_dir=user_configs)
    assert mine.workload.traffic.arrivals.kind == "poisson"
    study = sim.load_config(config_name="study", config_dir=str(user_configs))
    assert (study.seed, list(study.platform)) == (7, ["container"])
    assert sim.simulate(study).summary["seed"] == 7
    packaged = sim.load_config(config_dir=user_configs)
    assert packaged == sim.load_config()


def test_a_config_folder_that_is_not_one_is_named(tmp_path: Path) -> None:
    with pytest.raises(sim.ConfigError, match="config_dir: .*nosuch: a folder of configs"):
        sim.load_config(config_dir=tmp_path / "nosuch")
    with pytest.raises(sim.ConfigError, match="workload: mine: one of bursty,"):
        sim.load_config(["workload=mine"])
