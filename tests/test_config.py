"""Configs: every shipped config composes and validates; bad input gives one line, exit 2."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli.main import load_config, to_plain, validate_overrides
from sim.config import scenario_params
from sim.core.errors import ConfigError

CONFIGS = importlib.resources.files("sim.conf")
GROUPS = {
    group: sorted(
        entry.name.removesuffix(".yaml")
        for entry in (CONFIGS / group).iterdir()
        if entry.name.endswith(".yaml")
    )
    for group in (
        "cluster",
        "network",
        "registry",
        "images",
        "platform",
        "workload",
        "autoscaler",
        "pricing",
    )
}


def params_for(*overrides: str):
    return scenario_params(to_plain(load_config(list(overrides))))


def test_default_config_validates() -> None:
    params = params_for()
    assert params.seed == 42
    assert [host.name for host in params.hosts] == ["node-1", "node-2", "node-3"]
    assert set(params.platforms) == {"container", "vm"}
    assert params.images["web"].parent == "python-3.12"
    assert params.registry_mirrors == (("hub", "mirror"),)
    assert params.hosts[0].memory_bytes == 32 * 2**30
    assert params.hosts[0].disk_bytes == 100 * 10**9


@pytest.mark.parametrize("group", ["cluster", "network", "platform"])
def test_every_option_of_a_group_validates_with_the_defaults(group: str) -> None:
    for option in GROUPS[group]:
        overrides = [f"{group}={option}"]
        if group == "platform":
            overrides = [f"platform=[container,vm,{option}]"]
        params_for(*overrides)


@pytest.mark.parametrize("workload", ["constant", "poisson", "diurnal", "flash_crowd"])
@pytest.mark.parametrize(
    "autoscaler", ["none", "beanstalk", "simple", "step", "target_tracking", "hpa"]
)
def test_every_workload_validates_with_every_autoscaler(workload: str, autoscaler: str) -> None:
    params = params_for(f"workload={workload}", "platform=container", f"autoscaler={autoscaler}")
    assert params.service is not None and params.service.app == "web"
    assert (params.autoscaler is None) == (autoscaler == "none")


def test_groups_hold_the_options_the_docs_and_studies_use() -> None:
    # A new kind brings its preset without editing this list: it checks what others
    # rely on, and every option of every group composes and validates (above, below).
    assert {"beanstalk", "hpa", "none", "simple", "step", "target_tracking"} <= set(
        GROUPS["autoscaler"]
    )
    assert {"default", "single", "quota"} <= set(GROUPS["registry"])
    assert {"catalog", "storm"} <= set(GROUPS["images"])
    assert {"container", "vm", "microvm", "beanstalk-docker", "fargate"} <= set(GROUPS["platform"])
    assert {
        "bursty",
        "constant",
        "demo",
        "diurnal",
        "flash_crowd",
        "poisson",
        "storm",
        "trace",
    } <= set(GROUPS["workload"])


def test_storm_images_and_workload_validate_together() -> None:
    params = params_for(
        "images=storm", "workload=storm", "registry=single", "~cluster.registry_mirrors"
    )
    assert params.deployments[0].per_host
    assert params.images["storm-app"].compressed_bytes == 350 * 10**6


BAD = [
    (["cluster.pools.node.disk=12parsecs"], "cluster.pools.node.disk", "12parsecs"),
    (["cluster.pools.node.disk=-5GB"], "cluster.pools.node.disk", "-5GB"),
    (["cluster.pools.node.count=three"], "cluster.pools.node.count", "three"),
    (["cluster.pools.node.count=-1"], "cluster.pools.node.count", "-1"),
    (["+cluster.pools.node.colour=blue"], "cluster.pools.node.colour", "blue"),
    (["cluster.nonsense=1"], "cluster.nonsense", "1"),
    (["cluster=large", "cluster.scaler.colour=blue"], "cluster.scaler.colour", "blue"),
    (["network=ring"], "network", "ring"),
    (["network.topology=ring"], "network.topology", "ring"),
    (["network.host_link.bandwidth=fast"], "network.host_link.bandwidth", "fast"),
    (["network.host_link.bandwidth=0Gbps"], "network.host_link.bandwidth", "0Gbps"),
    (["registry.hub.kind=secret"], "registry.hub.kind", "secret"),
    (["registry.mirror.upstream=nowhere"], "registry.mirror.upstream", "nowhere"),
    (["images.web.registry=nowhere"], "images.web.registry", "nowhere"),
    (["images.web.steps.0.FROM=nothing"], "images.web.steps[0]", "FROM nothing"),
    (["workload.apps.web.image=ghost"], "workload.apps.web.image", "ghost"),
    (["workload.apps.web.memory=1GHz"], "workload.apps.web.memory", "1GHz"),
    (["workload.deployments.0.app=ghost"], "workload.deployments[0].app", "ghost"),
    (["workload.deployments.0.at=soon"], "workload.deployments[0].at", "soon"),
    (["platform=container"], "workload.deployments[3].platform", "vm"),
    (["platform.container.placement=random"], "platform.container.placement", "random"),
    (["platform.vm.disk_mode=thin"], "platform.vm.disk_mode", "thin"),
    (
        ["platform.container.runtime_start.dist=weibull"],
        "platform.container.runtime_start.dist",
        "weibull",
    ),
    (["cluster.engine.max_concurrent_downloads=0"], "cluster.engine.max_concurrent_downloads", "0"),
    (
        ["cluster.engine.serialize_image_pulls=maybe"],
        "cluster.engine.serialize_image_pulls",
        "maybe",
    ),
    (["cluster.engine.image_gc.low_percent=90"], "cluster.engine.image_gc.low_percent", "90"),
    (["cluster.registry_mirrors.hub=ecr"], "cluster.registry_mirrors.hub", "ecr"),
    (["seed=-3"], "seed", "-3"),
    (
        [
            "workload=poisson",
            "platform=container",
            "autoscaler=beanstalk",
            "autoscaler.metric=DiskReadOps",
        ],
        "autoscaler.metric",
        "DiskReadOps",
    ),
    (
        ["workload=poisson", "platform=container", "workload.traffic.arrivals.kind=storm"],
        "workload.traffic.arrivals.kind",
        "storm",
    ),
    (
        ["workload=poisson", "platform=container", "workload.service.balancer=fastest"],
        "workload.service.balancer",
        "fastest",
    ),
    (["horizon=0s"], "horizon", "0s"),
    (["log=verbose"], "log", "verbose"),
    (
        ["images=storm", "workload=storm", "workload.deployments.0.stagger=-10ms"],
        "workload.deployments[0].stagger",
        "-10ms",
    ),
    (
        ["images=storm", "workload=storm", "workload.deployments.0.stagger=often"],
        "workload.deployments[0].stagger",
        "often",
    ),
    (  # the service's own replicas under a second owner: the same names, twice
        [
            "workload=poisson",
            "platform=fargate",
            "workload.deployments=[{app: web, replicas: 2, platform: fargate}]",
        ],
        "workload.deployments[0]",
        "app web on fargate",
    ),
]


def test_the_log_key_names_its_choices() -> None:
    with pytest.raises(ConfigError) as raised:
        validate_overrides(["log=verbose"])
    assert raised.value.line() == "config error: log: verbose: one of full, summary"
    assert params_for().log == "full"
    assert params_for("log=summary").log == "summary"


def test_a_deployment_may_stagger_its_replicas() -> None:
    params = params_for("images=storm", "workload=storm", "workload.deployments.0.stagger=10ms")
    assert params.deployments[0].stagger_s == 0.01
    assert params_for("images=storm", "workload=storm").deployments[0].stagger_s == 0.0


@pytest.mark.parametrize(("overrides", "key", "value"), BAD)
def test_bad_configs_name_key_and_value(overrides: list[str], key: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        validate_overrides(overrides)
    assert raised.value.key == key
    assert str(raised.value.value) == value
    assert raised.value.allowed
    assert "\n" not in raised.value.line()


def test_a_bad_value_inside_a_sweep_is_found() -> None:
    with pytest.raises(ConfigError) as raised:
        validate_overrides(["cluster.pools.node.count=2,3,many"])
    assert raised.value.value == "many"


@pytest.mark.parametrize(
    "overrides", [["cluster.pools.node.disk=12parsecs"], ["network=ring"], ["+workload.extra=1"]]
)
def test_cli_prints_one_line_and_exits_2(overrides: list[str], tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "sim", *overrides],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("config error: ")
    assert "Traceback" not in completed.stderr + completed.stdout
    assert not (tmp_path / "outputs").exists()


@pytest.mark.parametrize(
    "experiment",
    sorted(
        entry.name.removesuffix(".yaml")
        for entry in (CONFIGS / "experiment").iterdir()
        if entry.name.endswith(".yaml")
    ),
)
def test_every_experiment_preset_validates(experiment: str) -> None:
    params = params_for(f"+experiment={experiment}")
    assert params.hosts


def test_the_shipped_trace_is_found_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    params = params_for("workload=trace", "platform=container")
    assert params.service is not None
    assert params.service.arrivals.path.endswith("workload/traces/rates.csv")


def test_a_trace_in_the_working_folder_wins_over_a_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "traces").mkdir()
    (tmp_path / "traces" / "rates.csv").write_text("timestamp_s\n0\n1.5\n")
    params = params_for("workload=trace", "platform=container")
    assert params.service is not None
    assert params.service.arrivals.path == "traces/rates.csv"


def test_a_missing_trace_names_both_places_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        params_for("workload=trace", "platform=container", "workload.traffic.arrivals.path=x.csv")
    assert raised.value.key == "workload.traffic.arrivals.path"
    assert raised.value.allowed.startswith(f"a trace file (looked in {tmp_path} and in ")


def test_the_resilience_preset_carries_the_faults_its_comment_names() -> None:
    """``sim +experiment=resilience`` alone: hosts crash on their own (mean 4 h, back
    after 15 min), zone a is out from 45 to 65 min, and the SLO judges the periods."""
    params = params_for("+experiment=resilience")
    crash, outage = params.faults
    assert (crash.target, crash.mtbf.mean(), crash.mttr.mean()) == ("node", 4 * 3600.0, 900.0)
    assert (outage.target, outage.at_s, outage.duration_s) == ("a", 2700.0, 1200.0)
    assert sorted({host.zone for host in params.hosts}) == ["a", "b", "c"]
    assert params.slo is not None and params.slo.latency_p95_s == 2.0
