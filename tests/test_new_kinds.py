"""Kinds added as one module + one preset each: the fargate platform and the quota
registry, with exact expectations."""

from __future__ import annotations

import pytest

import sim
from sim.core.errors import ConfigError
from sim.model.images.registries import REGISTRIES
from sim.model.platforms import PLATFORMS
from sim.model.platforms.fargate import GB, task_size

FARGATE = [
    "platform=[container,fargate]",
    "workload.deployments=[{app: web, replicas: 2, platform: fargate}]",
    "cluster.pools.node.count=1",
    "cluster.scaler.enabled=false",
]


def test_both_kinds_are_found_by_listing_their_packages() -> None:
    assert "fargate" in PLATFORMS and "quota" in REGISTRIES


@pytest.mark.parametrize(
    ("vcpu", "memory_gb", "size"),
    [
        (0.25, 0.5, (0.25, 0.5)),
        (0.25, 3.0, (0.5, 3.0)),
        (1.0, 1.0, (1.0, 2.0)),
        (1.0, 8.0, (1.0, 8.0)),
        (1.5, 1.0, (2.0, 4.0)),
        (4.0, 30.5, (8.0, 32.0)),
        (16.0, 120.0, (16.0, 120.0)),
        (16.5, 1.0, None),
        (16.0, 121.0, None),
    ],
)
def test_a_task_is_the_smallest_fargate_size_that_holds_the_request(
    vcpu: float, memory_gb: float, size: tuple[float, float] | None
) -> None:
    assert task_size(vcpu, int(memory_gb * GB)) == size


def test_fargate_tasks_pull_every_time_and_bill_their_task_size() -> None:
    result = sim.simulate(sim.load_config(FARGATE))
    tasks = [r for r in result.replicas if r.platform == "fargate"]
    assert [r.state for r in tasks] == ["ready", "ready"]
    assert all(r.host.endswith("-task") and r.pull_download_s > 0 for r in tasks)
    assert result.summary["layers_already_exists"] == 0  # no cache between tasks
    # The web app asks for 1 vCPU and 1 GiB: the task is 1 vCPU with 2 GB (the least
    # Fargate allows with 1 vCPU), at 0.04048 + 2 x 0.004445 USD per hour.
    task_usd_per_hour = 0.04048 + 2 * 0.004445
    host_usd_per_hour = 0.384  # the one m5.2xlarge node
    end_s = result.summary["sim_time_s"]
    billed_s = [max(60.0, end_s - launched) for launched in (0.0, 0.0)]
    expected = host_usd_per_hour * max(60.0, end_s) / 3600 + sum(
        task_usd_per_hour * seconds / 3600 for seconds in billed_s
    )
    assert result.summary["cost_usd_instances"] == pytest.approx(expected, rel=1e-12)


def test_an_app_larger_than_any_fargate_task_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as raised:
        sim.simulate(sim.load_config([*FARGATE, "workload.apps.web.vcpu=32"]))
    assert raised.value.key == "workload.apps.web"
    assert raised.value.allowed == "at most 16 vCPU and 120 GB: the largest Fargate task"


QUOTA = [
    "images=storm",
    "workload=storm",
    "registry=quota",
    "~cluster.registry_mirrors",
    "cluster.pools.node.count=3",
    "cluster.scaler.enabled=false",
    "registry.hub.quotas.manifest_per_s=1",
    "registry.hub.quotas.blob_per_s=1000",
]


def test_a_quota_registry_throttles_and_the_daemons_retry_with_linear_backoff() -> None:
    result = sim.simulate(sim.load_config(QUOTA))
    # Three manifests at one instant against a bucket of one token refilling at 1/s:
    # the first passes; 5 s later (attempt 1 waits 5 s) one of the two others; 10 s
    # after that (attempt 2 waits 10 s) the last. Each retry is one more round trip:
    # 0.1 ms each way on the registry's link and on the host's.
    throttled = [e for e in result.events if e.kind == "request_throttled"]
    assert len(throttled) == 3
    assert result.summary["pull_retries"] == 3
    assert result.summary["pulls_completed"] == 3
    retried = [e.time_s for e in result.events if e.kind == "manifest_received"]
    round_trip_s = 2 * (0.0001 + 0.0001)
    assert [t - retried[0] for t in retried] == pytest.approx(
        [0.0, 5.0 + round_trip_s, 15.0 + 2 * round_trip_s], abs=1e-9
    )


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("~registry.hub.quotas", "registry.hub.quotas"),
        ("+registry.hub.pull_limit={count: 1, window: 1h}", "registry.hub.pull_limit"),
    ],
)
def test_a_quota_registry_needs_quotas_and_no_pull_limit(override: str, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        sim.simulate(sim.load_config([*QUOTA, override]))
    assert raised.value.key == key
