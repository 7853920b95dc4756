"""The egress link (a NAT gateway or uplink): registries beyond it share it, a mirror
inside the cluster does not."""

from __future__ import annotations

from typing import Any

import pytest

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.core.errors import ConfigError
from sim.model.network.topology import (
    EGRESS,
    SWITCH,
    EgressParams,
    LinkParams,
    NetworkParams,
    build_topology,
)
from sim.scenario import Scenario

IMAGE_BYTES = 350_000_000  # storm-app, compressed
EGRESS_BYTES_S = 125_000_000  # 1 Gbit/s
HOSTS = 8
BEHIND_NAT = (
    f"cluster.pools.node.count={HOSTS}",
    "registry.hub.bandwidth=100Gbps",  # a CDN: far faster than the way out to it
    "+network.egress={bandwidth: 1Gbps, latency: 5ms, registries: [hub]}",
)


class Registry:
    def __init__(self, name: str, bandwidth_bytes_s: float) -> None:
        self.name = name
        self.bandwidth_bytes_s = bandwidth_bytes_s
        self.latency_s = 0.001


def test_registries_behind_the_egress_hang_off_its_far_side() -> None:
    params = NetworkParams(
        "star",
        LinkParams(1e9),
        egress=EgressParams(EGRESS_BYTES_S, 0.005, ("hub",)),
    )
    graph = build_topology(params, ["node-1"], [Registry("hub", 1e10), Registry("mirror", 1e9)])
    assert graph.edges[SWITCH, EGRESS] == {"bandwidth_bytes_s": EGRESS_BYTES_S, "latency_s": 0.005}
    assert list(graph.adj["hub"]) == [EGRESS]
    assert list(graph.adj["mirror"]) == [SWITCH]
    plain = NetworkParams("star", LinkParams(1e9))
    assert EGRESS not in build_topology(plain, ["node-1"], [Registry("hub", 1e10)]).nodes


def storm(*overrides: str) -> tuple[dict[str, Any], Scenario]:
    world = Scenario(
        scenario_params(to_plain(sim.load_config(["+experiment=registry_storm", *overrides])))
    )
    return world.run().summary, world


def test_a_storm_through_one_nat_link_is_bound_by_n_copies_over_it() -> None:
    summary, world = storm(*BEHIND_NAT, "~cluster.registry_mirrors")
    assert summary["replicas_started"] == HOSTS and summary["pulls_failed"] == 0
    assert world.cluster.network.link_bytes(EGRESS, SWITCH) == HOSTS * IMAGE_BYTES
    assert summary["startup_s_max"] >= HOSTS * IMAGE_BYTES / EGRESS_BYTES_S


def test_a_mirror_inside_the_cluster_sends_one_copy_through_the_nat_link() -> None:
    summary, world = storm(*BEHIND_NAT)
    assert summary["replicas_started"] == HOSTS
    assert world.cluster.network.link_bytes(EGRESS, SWITCH) == IMAGE_BYTES
    assert summary["bytes_from_upstream"] == IMAGE_BYTES
    assert summary["startup_s_max"] < HOSTS * IMAGE_BYTES / EGRESS_BYTES_S


def test_a_registry_behind_the_egress_must_be_one_of_the_runs() -> None:
    with pytest.raises(
        ConfigError, match=r"^network.egress.registries.0: nope: a registry: hub, mirror, ecr$"
    ):
        storm("+network.egress={bandwidth: 1Gbps, registries: [nope]}")
