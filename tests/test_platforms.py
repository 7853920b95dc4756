"""Replica start-up on the container and VM platforms, phase by phase."""

from __future__ import annotations

import pytest

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.scenario import Scenario

MiB = 2**20


def run(*overrides: str) -> Scenario:
    world = Scenario(scenario_params(to_plain(sim.load_config(list(overrides)))))
    world.run()
    return world


def one_app(*extra: str) -> list[str]:
    return [
        "workload.deployments=[{app: web, replicas: 1, platform: container}]",
        "platform=container",
        *extra,
    ]


def test_denied_pulls_back_off_like_the_kubelet_then_fail() -> None:
    world = run(
        *one_app(
            "cluster.principal=someone-else",
            "platform.container.image_pull_backoff.attempts=3",
        )
    )
    [replica] = world.ledger.records
    assert replica.state == "failed" and replica.reason.startswith("denied")
    assert [p.ok for p in world.pulls] == [False, False, False]
    backoffs = [e.detail("backoff_s") for e in world.log if e.detail_or("state") == "pull_backoff"]
    assert backoffs == [10.0, 20.0]
    starts = [p.started_s for p in world.pulls]
    assert starts[1] - world.pulls[0].finished_s == pytest.approx(10.0)
    assert starts[2] - world.pulls[1].finished_s == pytest.approx(20.0)


def test_unlimited_backoff_leaves_the_replica_unfinished_at_the_horizon() -> None:
    world = run(*one_app("cluster.principal=someone-else", "horizon=10min"))
    summary_unfinished = world.requested - len(world.ledger.records)
    assert summary_unfinished == 1
    # 10, 20, 40, 80, 160 s back-offs, then 300 s: attempts start at about 0, 10, 30, 70, 150, 310
    assert len(world.pulls) == 6


def test_binpack_fills_one_host_first_and_spread_uses_all() -> None:
    deploy = "workload.deployments=[{app: worker, replicas: 4, platform: container}]"
    packed = run(deploy, "platform=container", "platform.container.placement=binpack")
    spread = run(deploy, "platform=container", "platform.container.placement=spread")
    assert {r.host for r in packed.ledger.records} == {"node-1"}
    assert {r.host for r in spread.ledger.records} == {"node-1", "node-2", "node-3"}
    assert (
        len(packed.pulls) == 4 and sum(p.ok and p.bytes_downloaded > 0 for p in packed.pulls) == 1
    )


def test_vm_clone_holds_the_base_once_per_host_and_copy_per_vm() -> None:
    deploy = "workload.deployments=[{app: web, replicas: 2, platform: vm}]"
    copied = run(deploy, "platform=vm", "platform.vm.placement=binpack")
    cloned = run(
        deploy, "platform=vm", "platform.vm.placement=binpack", "platform.vm.disk_mode=clone"
    )
    gib8 = 8 * 2**30
    assert copied.hosts[0].disk.used_bytes == 2 * gib8
    assert cloned.hosts[0].disk.used_bytes == gib8 + 2 * 200 * 10**6
    vm = copied.params.platforms["vm"]
    app = copied.params.apps["web"]
    reserved = 2 * (app.memory_bytes + 512 * MiB + vm.memory_overhead_bytes(app))
    assert copied.hosts[0].memory_reserved_bytes == reserved
    # the copy is written at 500 MB/s: provisioning takes at least 8 GiB / 500 MB/s
    assert min(r.provision_s for r in copied.ledger.records) > gib8 / 500e6


def test_two_tier_topology_routes_through_the_spine() -> None:
    world = run("network=two_tier", "network.hosts_per_rack=2")
    assert world.cluster.network.path("ecr", "node-3") == ("ecr", "spine", "rack-2", "node-3")
    assert world.cluster.network.path("ecr", "node-1") == ("ecr", "spine", "rack-1", "node-1")
    assert all(r.state == "ready" for r in world.ledger.records)


def test_timeseries_rows_are_regular_and_end_at_the_end() -> None:
    world = Scenario(scenario_params(to_plain(sim.load_config(["sample_period=30s"]))))
    result = world.run()
    times = [row["time_s"] for row in result.timeseries]
    assert times[:3] == [0.0, 30.0, 60.0]
    assert times[-1] == result.summary["sim_time_s"]
    last = result.timeseries[-1]
    assert last["replicas_ready"] == result.summary["replicas_started"]
    assert last["disk_bytes_used"] == sum(host.disk.used_bytes for host in world.hosts)


def test_beanstalk_docker_boots_an_instance_then_pulls_cold() -> None:
    world = run(
        "platform=[beanstalk-docker]",
        "workload.deployments=[{app: web, replicas: 2, platform: beanstalk-docker}]",
    )
    assert [r.state for r in world.ledger.records] == ["ready", "ready"]
    for replica in world.ledger.records:
        assert replica.provision_s > 0 and replica.boot_s > 0 and replica.pull_download_s > 0
        assert replica.host == f"{replica.replica}-instance"
    pulls = [p for p in world.pulls if p.ok]
    assert len(pulls) == 2 and all(p.layers_already_exists == 0 for p in pulls)
    assert {r.host for r in world.ledger.records} <= set(world.cluster.cloud.records)
    assert world.cluster.cloud.records[world.ledger.records[0].host].instance_type == "m5.large"
    assert world.cluster.cloud.running_max == 3 + 2


def test_beanstalk_instances_count_in_the_disk_peak_and_the_pulled_bytes() -> None:
    # Each instance pulls the image into an empty cache: every layer's compressed blob
    # and its extracted bytes are taken at once, the blobs freed as each is extracted.
    deploy = "workload.deployments=[{app: web, replicas: 2, platform: beanstalk-docker}]"
    overrides = ["platform=[beanstalk-docker]", deploy]
    world = Scenario(scenario_params(to_plain(sim.load_config(overrides))))
    summary = world.run().summary
    image = world.params.apps["web"].image
    instances = world.cluster.cloud.launched
    assert {host.name for host in instances} == {r.host for r in world.ledger.records}
    assert all(
        host.disk.peak_bytes == image.size_bytes + image.compressed_bytes for host in instances
    )
    writable = world.params.platforms["beanstalk-docker"].writable_layer_bytes
    assert all(host.disk.used_bytes == image.size_bytes + writable for host in instances)
    assert all(host.disk.peak_bytes == 0 for host in world.hosts)
    assert summary["disk_bytes_peak"] == image.size_bytes + image.compressed_bytes
    assert summary["bytes_from_registry"] == 2 * image.compressed_bytes
    assert summary["bytes_from_registry"] == sum(p.bytes_downloaded for p in world.pulls)
    assert summary["layers_downloaded"] == 2 * len(image.layers)


def test_vm_instances_are_launched_per_replica_with_an_instance_type() -> None:
    world = run(
        "platform=vm",
        "+platform.vm.instance_type=m5.large",
        "workload.deployments=[{app: web, replicas: 2, platform: vm}]",
    )
    hosts = {r.host for r in world.ledger.records}
    assert hosts == {"web-vm-1-instance", "web-vm-2-instance"}
    assert all(world.cluster.cloud.records[h].usd_per_hour == 0.096 for h in hosts)
    assert all(host.replicas == 0 for host in world.hosts)


def test_a_replica_that_fits_nowhere_stays_pending() -> None:
    world = run(
        "platform=container",
        "workload.apps.web.vcpu=9",
        "workload.deployments=[{app: web, replicas: 1, platform: container}]",
        "horizon=10min",
    )
    assert world.ledger.records == []
    pending = [e for e in world.log if e.detail_or("state") == "pending"]
    assert len(pending) == 1
    assert pending[0].detail("reason") == (
        "never fits: needs 9 vCPU and 1.07 GB of memory; the largest host has 8 vCPU and "
        "34.4 GB; the cluster scaler adds m5.2xlarge (8 vCPU, 34.4 GB)"
    )


def test_a_stopped_replicas_image_is_collected_to_make_room_for_the_next_pull() -> None:
    """web lives 5 min on a 600 MB disk; api at 10 min does not fit beside web's image,
    so the kubelet removes the now unused web image first (and only because it stopped)."""
    common = [
        "platform=container",
        "cluster.pools.node.count=1",
        "cluster.pools.node.disk=600MB",
        "cluster.scaler.enabled=false",
    ]
    kept = run(
        *common,
        "workload.deployments=[{app: web, replicas: 1, platform: container},"
        " {app: api, replicas: 1, platform: container, at: 10min}]",
        "+workload.apps.api={image: api, vcpu: 1, memory: 1GiB, init: 1s}",
        "platform.container.image_pull_backoff.attempts=1",
    )
    stopped = run(
        *common,
        "workload.deployments=[{app: web, replicas: 1, platform: container,"
        " lifetime: 5min}, {app: api, replicas: 1, platform: container, at: 10min}]",
        "+workload.apps.api={image: api, vcpu: 1, memory: 1GiB, init: 1s}",
        "platform.container.image_pull_backoff.attempts=1",
    )
    assert [r.state for r in kept.ledger.records] == ["ready", "failed"]
    assert kept.ledger.records[1].reason.startswith("no space left on device")
    assert [r.state for r in stopped.ledger.records] == ["ready", "ready"]
    removed = [e for e in stopped.log if e.kind == "image_removed"]
    assert [e.detail("image") for e in removed] == ["web"]
    assert [e.time_s for e in stopped.log if e.detail_or("state") == "removed"] == [
        stopped.ledger.records[0].ready_s + 300.0
    ]


def test_a_terminated_instance_s_disk_leaves_the_disk_in_use() -> None:
    # The flash crowd scales the Beanstalk environment out, then in.
    overrides = ["workload=flash_crowd", "autoscaler=beanstalk", "platform=beanstalk-docker"]
    world = Scenario(scenario_params(to_plain(sim.load_config(overrides))))
    result = world.run()
    records = world.cluster.cloud.records
    hosts = world.cluster.every_host()
    gone = [h for h in hosts if h.name in records and records[h.name].terminated_s is not None]
    alive = [h for h in hosts if h not in gone]
    assert any(h.disk.used_bytes > 0 for h in gone)
    assert result.timeseries[-1]["disk_bytes_used"] == sum(h.disk.used_bytes for h in alive)
