"""A node image with cached images (``cluster.cached_images``): every node holds them from
boot, the pools' hosts and the nodes a scaler launches, so a replica of such an image
starts without a pull; a bad name or images too big for a node's disk are refused."""

from __future__ import annotations

from node_scaling import deployments, of_kind, refused, run_world

from sim.scenario import Scenario

BASE = [
    "platform=container",
    "workload=constant",
    "autoscaler=none",
    "cluster.pools.node.count=1",
    "cluster.pools.node.instance_type=m5.2xlarge",
    "cluster.scaler.enabled=false",
    "+workload.apps.job={image: worker, vcpu: 1, memory: 2GiB}",
    "horizon=5min",
]
ONE_JOB = deployments("{app: job, replicas: 1, platform: container, at: 1min}")


def run(*overrides: str) -> Scenario:
    return run_world(BASE, ONE_JOB, *overrides)


def job_pulls(world: Scenario) -> list[str]:
    return [
        event.source
        for event in of_kind(world, "pull_requested")
        if event.detail("image") == "shop/worker:1.4.2"
    ]


def test_a_cached_image_starts_without_a_pull_and_its_layers_are_on_the_disk() -> None:
    cold = run()
    warm = run("cluster.cached_images=[worker]")
    assert job_pulls(cold) == ["node-1"]
    assert job_pulls(warm) == []
    [present] = [e for e in of_kind(warm, "image_present") if e.time_s >= 60.0]
    assert present.source == "node-1"
    host = warm.cluster.host("node-1")
    assert host.engine.store.has_image(warm.params.images["worker"])
    [job] = [r for r in warm.ledger.records if r.app == "job"]
    [cold_job] = [r for r in cold.ledger.records if r.app == "job"]
    assert job.pull_download_s == 0.0 and cold_job.pull_download_s > 0.0
    assert job.startup_s is not None and cold_job.startup_s is not None
    assert job.startup_s < cold_job.startup_s


def test_a_cached_image_costs_no_registry_bytes() -> None:
    """The service's image and the job's both cached: nothing is pulled at all."""
    warm = run("cluster.cached_images=[web, worker]")
    assert of_kind(warm, "pull_requested") == []
    assert sum(registry.bytes_served for registry in warm.cluster.registries.values()) == 0


def test_images_sharing_layers_are_stored_once() -> None:
    world = run("cluster.cached_images=[web, worker]")
    store = world.cluster.host("node-1").engine.store
    web, worker = world.params.images["web"], world.params.images["worker"]
    shared = set(web.chain_ids) & set(worker.chain_ids)
    assert shared  # both on python-3.12
    assert set(store.layers) == set(web.chain_ids) | set(worker.chain_ids)
    for chain_id in shared:
        assert store.layers[chain_id].users == 2  # one per image tagged over it


def test_nodes_a_scaler_launches_hold_the_cached_images() -> None:
    world = run_world(
        [
            "cluster/scaler=karpenter",
            "platform=container",
            "cluster.pools.node.count=1",
            "cluster.pools.node.instance_type=t3.medium",
            "cluster.scaler.provision=60s",
            "horizon=10min",
            "cluster.cached_images=[web]",
            "+workload.apps.big={image: web, vcpu: 3, memory: 4GiB}",
        ],
        deployments("{app: big, replicas: 1, platform: container}"),
    )
    [big] = [r for r in world.ledger.records if r.app == "big"]
    assert big.host.startswith("default-")
    assert big.pull_download_s == 0.0
    assert world.cluster.host(big.host).engine.store.has_image(world.params.images["web"])


def test_an_image_not_in_the_catalog_is_refused_in_one_line() -> None:
    error = refused([*BASE, "cluster.cached_images=[webb]"])
    assert str(error).startswith("cluster.cached_images: webb: ")
    assert "an image of the catalog" in str(error)


def test_images_larger_than_a_nodes_disk_are_refused() -> None:
    error = refused([*BASE, "cluster.pools.node.disk=100MB", "cluster.cached_images=[web]"])
    assert "cluster.cached_images" in str(error) and "fit on every node's disk" in str(error)
