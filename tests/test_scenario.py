"""Whole runs: the default scenario, conservation of replicas and pulls, reproducibility."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.output.results import Result
from sim.output.summary import keys as summary_keys
from sim.scenario import run_scenario

MiB = 2**20


@pytest.fixture(scope="module")
def default_run() -> Result:
    return sim.simulate(sim.load_config())


def test_default_scenario_counts_add_up(default_run: Result) -> None:
    summary = default_run.summary
    assert summary["replicas_requested"] == 12
    assert (
        summary["replicas_started"] + summary["replicas_failed"] + summary["replicas_unfinished"]
        == 12
    )
    assert summary["replicas_started"] == 12
    assert (
        summary["pulls_completed"] + summary["pulls_failed"] + summary["pulls_unfinished"]
        == (summary["pulls_requested"])
    )
    assert summary["pulls_failed"] == 0


def test_the_summary_has_every_documented_key_in_order(default_run: Result) -> None:
    platforms = {r.platform for r in default_run.replicas}
    per_platform = {
        f"startup_s_{stat}_{platform}"
        for stat in ("mean", "p50", "p95", "max")
        for platform in platforms
    }
    found = [key for key in default_run.summary if key not in per_platform]
    assert found == summary_keys()
    assert len(default_run.summary) == len(found) + 4 * len(platforms)


def test_bytes_from_registry_are_the_missing_layers(default_run: Result) -> None:
    """Every completed pull moved exactly the compressed layers it downloaded."""
    params = scenario_params(to_plain(sim.load_config()))
    downloaded = 0
    for event in default_run.events:
        if event.kind == "layer_downloaded":
            downloaded += int(event.detail("bytes"))  # type: ignore[arg-type]
    assert default_run.summary["bytes_from_registry"] == downloaded
    web = params.images["web"]
    worker = params.images["worker"]
    base_layers = len(params.images["python-3.12"].layers)
    per_host = web.compressed_bytes + sum(
        layer.compressed_bytes for layer in worker.layers[base_layers:]
    )
    redis_hosts = len({r.host for r in default_run.replicas if r.app == "cache"})
    expected = 3 * per_host + redis_hosts * params.images["redis"].compressed_bytes
    assert downloaded == expected


def test_warm_starts_are_faster_than_cold_ones(default_run: Result) -> None:
    web = [r for r in default_run.replicas if r.app == "web" and r.platform == "container"]
    cold = [r.startup_s for r in web if r.requested_s == 0.0]
    warm = [r.startup_s for r in web if r.requested_s == 300.0]
    assert len(cold) == 3 and len(warm) == 3
    assert max(warm) < min(cold)  # type: ignore[type-var]
    assert all(r.pull_download_s == 0.0 for r in web if r.requested_s == 300.0)


def test_worker_finds_the_shared_base_already_there(default_run: Result) -> None:
    worker_pulls = [p for p in default_run.pulls if p.image == "worker"]
    assert len(worker_pulls) == 3
    assert all(p.layers_already_exists == 4 and p.layers_downloaded == 2 for p in worker_pulls)


def test_vm_reserves_guest_memory_plus_kvm_overhead() -> None:
    params = scenario_params(to_plain(sim.load_config()))
    vm = params.platforms["vm"]
    app = params.apps["web"]
    guest = app.memory_bytes + 512 * MiB
    assert vm.memory_overhead_bytes(app) == round(0.002 * guest + 218 * MiB + 8 * MiB * 1)


def test_vm_starts_slower_than_a_cold_container(default_run: Result) -> None:
    vm = [r for r in default_run.replicas if r.platform == "vm"]
    assert len(vm) == 1 and vm[0].boot_s > 0 and vm[0].provision_s > 16  # 8 GiB copy at 500 MB/s
    assert default_run.summary["startup_s_p50_vm"] > default_run.summary["startup_s_p50_container"]


def test_files_written(default_run: Result, tmp_path: Path) -> None:
    default_run.write(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "events.csv",
        "pulls.csv",
        "replicas.csv",
        "summary.json",
        "timeseries.csv",
        "world.json",
    ]
    header = (tmp_path / "events.csv").read_text().splitlines()[0]
    assert header == "time_s,source,kind,details"


SCRIPT = """
import sys, sim
result = sim.simulate(sim.load_config(sys.argv[2:]))
result.write(sys.argv[1])
"""


def test_same_seed_same_bytes_in_two_processes(tmp_path: Path) -> None:
    folders = []
    for run, hash_seed in enumerate(["1", "2"]):
        folder = tmp_path / f"run{run}"
        subprocess.run(
            [sys.executable, "-c", SCRIPT, str(folder), "seed=7"],
            check=True,
            cwd=tmp_path,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
            timeout=120,
        )
        folders.append(folder)
    for name in (
        "summary.json",
        "events.csv",
        "timeseries.csv",
        "replicas.csv",
        "pulls.csv",
        "world.json",
    ):
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name


def test_another_seed_changes_start_up_times() -> None:
    first = sim.simulate(sim.load_config(["seed=1"])).summary
    second = sim.simulate(sim.load_config(["seed=2"])).summary
    assert first["startup_s_mean"] != second["startup_s_mean"]
    assert first["bytes_from_registry"] == second["bytes_from_registry"]


def test_a_run_asked_for_figures_draws_its_timeline(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "figures=true",
            f"hydra.run.dir={tmp_path / 'run'}",
            "progress=false",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    for name in ("timeline.png", "topology.png", "registry_egress.png"):
        figure = tmp_path / "run" / name
        assert figure.stat().st_size > 10_000
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "results in" in completed.stdout


def test_links_carry_exactly_the_bytes_registries_served(default_run: Result) -> None:
    """Every blob crosses its registry's access link once: the bytes leaving each
    registry node add up to what the registries served (mirror fills included)."""
    leaving = sum(
        forward if role_u == "registry" else backward
        for _, _, role_u, role_v, forward, backward, _ in default_run.links
        if "registry" in (role_u, role_v)
    )
    served = default_run.summary["bytes_from_registry"] + default_run.summary["bytes_from_upstream"]
    assert leaving == pytest.approx(served, rel=1e-9)


STORM = [
    "cluster=large",
    "cluster.pools.node.count=4",
    "cluster.engine.extraction=off",
    "network=star",
    "network.host_link.bandwidth=1Gbps",
    "registry=single",
    "registry.hub.bandwidth=1Gbps",
    "images=storm",
    "workload=storm",
    "platform=container",
    "horizon=1d",
]


def test_a_staggered_deployment_requests_replica_k_at_k_times_the_stagger() -> None:
    result = sim.simulate(sim.load_config([*STORM, "workload.deployments.0.stagger=10ms"]))

    requested = [
        (event.time_s, event.source)
        for event in result.events
        if event.detail_or("state") == "requested"
    ]
    assert requested == [
        (0.0, "storm-container-1"),
        (0.01, "storm-container-2"),
        (0.02, "storm-container-3"),
        (0.03, "storm-container-4"),
    ]
    assert sorted((r.replica, r.host, r.requested_s) for r in result.replicas) == [
        ("storm-container-1", "node-1", 0.0),
        ("storm-container-2", "node-2", 0.01),
        ("storm-container-3", "node-3", 0.02),
        ("storm-container-4", "node-4", 0.03),
    ]
    deployment = next(event for event in result.events if event.kind == "deployment")
    assert deployment.details == (
        ("app", "storm"),
        ("replicas", 4),
        ("platform", "container"),
        ("stagger_s", 0.01),
    )
    # The registry's 125 MB/s link is busy from the first blob on (manifest and blob
    # round trips and the links' latency: 1 ms) until all 4 x 350 MB have crossed it.
    last_download = max(e.time_s for e in result.events if e.kind == "layer_downloaded")
    assert last_download == pytest.approx(0.001 + 4 * 350 / 125, rel=1e-12)
    assert result.summary["replicas_started"] == 4


def test_log_summary_keeps_every_result_but_the_events() -> None:
    full = sim.simulate(sim.load_config(STORM))
    summary_only = sim.simulate(sim.load_config([*STORM, "log=summary"]))

    assert summary_only.summary == full.summary
    assert summary_only.replicas == full.replicas
    assert summary_only.pulls == full.pulls
    assert summary_only.timeseries == full.timeseries
    assert len(full.events) == 4 * 25 + 1
    assert list(summary_only.events) == []


def test_a_run_pauses_the_cyclic_garbage_collector_and_leaves_it_as_it_was() -> None:
    params = scenario_params(to_plain(sim.load_config(["horizon=2min"])))
    enabled_during: list[bool] = []

    def progress(now_s: float, horizon_s: float) -> None:
        enabled_during.append(gc.isenabled())

    run_scenario(params, progress)
    assert enabled_during and not any(enabled_during)
    assert gc.isenabled()
    gc.disable()
    try:
        run_scenario(params, progress)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_replicas_still_starting_at_the_end_are_recorded_with_their_state_and_why() -> None:
    result = sim.simulate(sim.load_config(["workload.apps.web.vcpu=1000", "horizon=10min"]))
    unfinished = [r for r in result.replicas if r.state not in ("ready", "failed")]
    assert [(r.replica, r.state) for r in unfinished] == [
        ("web-container-1", "pending"),
        ("web-container-2", "pending"),
        ("web-container-3", "pending"),
        ("web-vm-1", "pending"),
        ("web-container-4", "pending"),
        ("web-container-5", "pending"),
        ("web-container-6", "pending"),
    ]
    assert all(r.reason.startswith("never fits: needs 1000 vCPU") for r in unfinished)
    assert [r.wait_s for r in unfinished[:4]] == [600.0] * 4
    assert result.summary["replicas_unfinished"] == 7
    assert result.summary["replicas_requested"] == 12
    assert result.warnings == (
        "web-container-1 (and replicas like it) never fits: needs 1000 vCPU and 1.07 GB of "
        "memory; the largest host has 8 vCPU and 34.4 GB; the cluster scaler adds "
        "m5.2xlarge (8 vCPU, 34.4 GB)",
        "web-vm-1 (and replicas like it) never fits: needs 1000 vCPU and 10.2 GB of memory; "
        "the largest host has 8 vCPU and 34.4 GB; the cluster scaler adds m5.2xlarge "
        "(8 vCPU, 34.4 GB)",
    )


def test_a_replica_pulling_when_the_run_ends_says_so_and_one_that_will_fit_is_no_warning() -> None:
    result = sim.simulate(
        sim.load_config(
            [
                "platform=container",
                "workload.deployments=[{app: web, replicas: 30, platform: container}]",
                "registry.ecr.bandwidth=1Mbps",
                "horizon=60s",
            ]
        )
    )
    states = {r.state for r in result.replicas}
    assert states == {"pulling", "pending"}
    pulling = [r for r in result.replicas if r.state == "pulling"]
    assert pulling and all(r.host and r.ready_s is None for r in pulling)
    assert result.warnings == ()  # the pending ones wait for the scaler's hosts


def test_the_summary_table_lists_replicas_not_ready_at_the_end() -> None:
    import io

    from rich.console import Console

    from sim.output.report import print_summary

    result = sim.simulate(sim.load_config(["workload.apps.web.vcpu=1000", "horizon=10min"]))
    out = io.StringIO()
    print_summary(result, console=Console(file=out, width=400))
    text = out.getvalue()
    assert "Not ready when the run ended" in text
    assert "web / container          6   pending   never fits: needs 1000 vCPU" in text


def test_memory_used_is_the_apps_working_set_when_it_has_one() -> None:
    """A replica holds its memory request but uses its working set: memory used over
    reserved is their ratio for containers (600 MiB of 1 GiB)."""
    overrides = ["+experiment=resource_cost", "horizon=20min"]
    plain = sim.simulate(sim.load_config(overrides)).summary
    assert plain["memory_byte_seconds_used"] == plain["memory_byte_seconds_reserved"]
    summary = sim.simulate(
        sim.load_config([*overrides, "+workload.apps.web.working_set=600MiB"])
    ).summary
    assert summary["memory_byte_seconds_reserved"] == plain["memory_byte_seconds_reserved"]
    assert summary["memory_byte_seconds_used"] == pytest.approx(
        summary["memory_byte_seconds_reserved"] * 600 / 1024, rel=1e-12
    )
