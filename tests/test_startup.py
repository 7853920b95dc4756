"""How the command-line programs start: their entry points, the collector paused while
they import, and what a sim-docker host leaves unloaded."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tomllib
import weakref
from pathlib import Path

import pytest

from sim.cli import launch
from sim.core.collection import collection_paused

ROOT = Path(__file__).resolve().parent.parent


def test_the_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_restored_after_an_error() -> None:
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("inside")
    assert gc.isenabled()


def test_a_paused_collector_stays_paused() -> None:
    gc.disable()
    try:
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


class _Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_the_cycles_a_paused_block_leaves_are_collected_when_the_next_begins() -> None:
    with collection_paused():
        cycle = weakref.ref(_Node())
    assert cycle() is not None
    with collection_paused():
        assert cycle() is None


def test_every_console_script_starts_its_program_through_the_launcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert sorted(scripts) == sorted(launch.PROGRAMS)
    for script, target in scripts.items():
        module_name, _, function = target.partition(":")
        assert module_name == "sim.cli.launch"
        program_module, program_function = launch.PROGRAMS[script]
        module = __import__(program_module, fromlist=[program_function])
        seen: list[bool] = []

        def program(seen: list[bool] = seen) -> str:
            seen.append(gc.isenabled())
            return "ran"

        monkeypatch.setattr(module, program_function, program)
        assert getattr(launch, function)() == "ran"
        assert seen == [True]  # the collector runs again once the imports are done


def test_one_blas_thread_unless_the_environment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sim.cli.kinds.main", lambda: 0)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "")  # restored as it was after the test
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    launch.launch("sim-kinds")
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    launch.launch("sim-kinds")
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"


SERVING = (
    "sim.model.service.service",
    "sim.model.service.fleet",
    "sim.model.service.autoscaler",
    "sim.model.service.traffic",
    "sim.model.service.requests",
    "sim.model.service.fluid",
    "sim.model.faults.resilience",
    "sim.output.summary",
    "hydra",
    "matplotlib",
    "networkx",
    "pandas",
)
"""Modules (and top-level packages) a docker host has no use for."""


def test_a_sim_docker_verb_on_a_saved_host_loads_no_serving_machinery(tmp_path: Path) -> None:
    """A verb on a saved host builds a cluster's first node: the service, its traffic and
    autoscaler, faults, the summary, Hydra, matplotlib, networkx and pandas stay
    unloaded."""
    from sim.teach.docker.cli import main

    state = tmp_path / "host.json"
    assert main(["--state", str(state), "volume", "create", "data"]) == 0
    code = (
        "import sys\n"
        "from sim.teach.docker.cli import main\n"
        f"status = main(['--state', {str(state)!r}, 'volume', 'ls'])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('sim', 'hydra',"
        " 'matplotlib', 'networkx', 'pandas'))\n"
        "print(status, ' '.join(loaded))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()[-1]
    status, *loaded = output.split()
    assert status == "0"
    assert "sim.model.cluster.cluster" in loaded
    assert [name for name in loaded if name.split(".")[0] in SERVING or name in SERVING] == []


def test_every_kind_is_found_in_its_own_module_without_listing_the_family() -> None:
    """A config's kind loads only its module: each kind lives in the module named after
    it or in its family's `homes`, so no lookup falls back to listing the package."""
    from sim.cli.kinds import FAMILIES
    from sim.core.settings import Family

    for family in FAMILIES:
        for name, kind in family.kinds.items():
            fresh = Family(
                family.name,
                family.package,
                family.selector,
                declared=family.declared,
                homes=family.homes,
            )
            assert fresh[name] is kind
            assert fresh.kind_of(object.__new__(kind.params)) is kind
            assert fresh._kinds is None, f"{family.name}: {name} needed the listing"


def test_reading_a_config_loads_only_the_kinds_it_chooses() -> None:
    code = (
        "import sys\n"
        "from sim.core.schema import read_kind\n"
        "from sim.policies.autoscaling import AUTOSCALING\n"
        "hpa = {'policy': 'hpa', 'max_capacity': 3, 'target_utilization': 50}\n"
        "read_kind(AUTOSCALING, hpa, 'autoscaler')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('sim.policies'))))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    policies = {name.rsplit(".", 1)[-1] for name in output if name.count(".") == 3}
    assert "hpa" in policies
    assert not policies & {"step", "simple", "target_tracking", "composite"}


def test_an_unknown_kind_names_every_kind() -> None:
    from sim.core.errors import ConfigError
    from sim.core.schema import read_kind
    from sim.policies.autoscaling import AUTOSCALING

    with pytest.raises(ConfigError) as error:
        read_kind(AUTOSCALING, {"policy": "nosuch"}, "autoscaler")
    assert str(error.value) == (
        "autoscaler.policy: nosuch: one of beanstalk, composite, hpa, none, simple, step, "
        "target_tracking"
    )
