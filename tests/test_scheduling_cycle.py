"""The scheduling cycle: filters, the share of nodes searched, weighted scores, ties,
the words of a pending pod, and filters on a node that does not exist yet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from sim.core.errors import ConfigError
from sim.model.cluster.scheduling.cycle import SchedulingCycle, num_feasible_nodes_to_find
from sim.model.cluster.scheduling.profile import Profile, SchedulerParams
from sim.model.hosts.host import HostParams, node_of
from sim.policies.scheduling.node_resources_fit import ResourceFit
from sim.policies.scheduling.objects import INSTANCE_TYPE, ZONE, NodeInfo, PodInfo, Resources
from sim.policies.scheduling.plugin import FilterPlugin, Rejection, ScorePlugin

GIB = 2**30


def node(name: str, cpu: int = 4000, memory: int = 16 * GIB, max_pods: int = 110) -> NodeInfo:
    return NodeInfo(name, allocatable=Resources(cpu, memory, max_pods))


def pod(cpu: int = 500, memory: int = GIB, name: str = "p") -> PodInfo:
    return PodInfo(name, milli_cpu=cpu, memory_bytes=memory)


def fit_profile(percentage: int = 0) -> Profile:
    return Profile((ResourceFit(),), ((ResourceFit(), 1),), percentage)


@pytest.mark.parametrize(
    ("nodes", "percentage", "expected"),
    [
        (10, 0, 10),
        (99, 0, 99),
        (100, 0, 100),  # 50 - 100/125 = 50 %: 50 nodes, raised to the minimum of 100
        (1000, 0, 420),  # 50 - 8 = 42 %
        (5000, 0, 500),  # 50 - 40 = 10 %
        (6000, 0, 300),  # 50 - 48 = 2 %, raised to 5 %
        (1000, 30, 300),
        (200, 10, 100),  # never fewer than 100
    ],
)
def test_how_many_feasible_nodes_a_cycle_looks_for(
    nodes: int, percentage: int, expected: int
) -> None:
    """schedule_one.go numFeasibleNodesToFind (and its test, TestNumFeasibleNodesToFind)."""
    assert num_feasible_nodes_to_find(nodes, percentage) == expected


def test_the_least_allocated_node_wins_and_one_feasible_node_needs_no_score() -> None:
    cycle = SchedulingCycle(fit_profile(), np.random.default_rng(0))
    busy = node("busy").with_pods([pod(3000, name="held")])
    idle = node("idle")

    chosen = cycle.schedule(pod(), [busy, idle])
    alone = cycle.schedule(pod(), [busy, node("full", cpu=100)])

    assert chosen.node is idle and chosen.totals == {"busy": 49, "idle": 90}
    assert alone.node is busy and alone.totals == {}


def test_ties_are_broken_at_random_from_the_stream_and_reproducibly() -> None:
    nodes = [node(f"n{i}") for i in range(4)]

    def picks(seed: int) -> list[str]:
        cycle = SchedulingCycle(fit_profile(), np.random.default_rng(seed))
        return [cycle.schedule(pod(), nodes).node.name for _ in range(400)]  # type: ignore[union-attr]

    counts = Counter(picks(1))

    assert picks(1) == picks(1)
    assert set(counts) == {"n0", "n1", "n2", "n3"}
    # Uniform among the four: each near 100 of 400 (binomial sd 8.7; 5 sd either side).
    assert all(56 < count < 144 for count in counts.values())


def test_a_pod_that_fits_nowhere_is_reported_as_the_scheduler_reports_it() -> None:
    cycle = SchedulingCycle(fit_profile(), np.random.default_rng(0))
    nodes = [
        node("small", cpu=100),
        node("crowded", max_pods=1).with_pods([pod(name="held")]),
        node("tiny", cpu=100, memory=GIB // 2),
    ]

    decision = cycle.schedule(pod(), nodes)

    assert decision.node is None
    assert decision.message() == (
        "0/3 nodes are available: 1 Insufficient memory, 1 Too many pods, 2 Insufficient cpu."
    )


def test_a_large_cluster_is_searched_from_where_the_last_cycle_stopped() -> None:
    nodes = [node(f"n{i:03}") for i in range(250)]
    cycle = SchedulingCycle(fit_profile(percentage=40), np.random.default_rng(0))

    first = cycle.schedule(pod(), nodes)
    second = cycle.schedule(pod(), nodes)

    assert len(first.totals) == 100 and min(first.totals) == "n000"
    assert len(second.totals) == 100 and min(second.totals) == "n100"
    assert cycle.next_start == 200


@dataclass(frozen=True)
class Counting:
    """A filter that rejects nodes holding `limit` or more pods cluster-wide, to check
    that a hypothetical node's filter sees the cluster with that node in it."""

    limit: int
    name: str = "Counting"

    def pre_filter(self, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Any:
        return len(nodes)

    def filter(self, pod: PodInfo, node: NodeInfo, state: Any) -> Rejection | None:
        return Rejection((f"{state} nodes",)) if state >= self.limit else None


def test_filters_run_on_a_template_node_that_is_not_in_the_cluster() -> None:
    """A node autoscaler builds a node from an instance type and asks the filters."""
    template = node_of(
        HostParams(
            "template-m5.large",
            vcpu=2,
            memory_bytes=8 * GIB,
            disk_bytes=0,
            principal="",
            disk_write_bytes_s=1.0,
            instance_type="m5.large",
            zone="a",
            overhead_vcpu=0.07,
            overhead_memory_bytes=574 * 2**20,
            labels=(("pool", "spot"),),
            max_pods=29,
        )
    )
    cluster = [node("n1", cpu=100)]
    filters: tuple[FilterPlugin, ...] = (ResourceFit(), Counting(limit=3))
    scores: tuple[tuple[ScorePlugin, int], ...] = ()
    cycle = SchedulingCycle(Profile(filters, scores), np.random.default_rng(0))

    assert template.allocatable == Resources(1930, 8 * GIB - 574 * 2**20, 29)
    assert template.labels == {
        "kubernetes.io/hostname": "template-m5.large",
        ZONE: "a",
        INSTANCE_TYPE: "m5.large",
        "pool": "spot",
    }
    assert cycle.filter(pod(1500), template, cluster) is None
    assert cycle.filter(pod(2000), template, cluster) == Rejection(("Insufficient cpu",))
    assert cycle.filter(pod(1), template, [*cluster, node("n2")]) == Rejection(("3 nodes",))
    assert template.pods == []


def test_the_default_profile_is_kube_schedulers() -> None:
    profile = SchedulerParams().profile()

    assert [plugin.name for plugin in profile.filters] == [
        "NodeUnschedulable",
        "TaintToleration",
        "NodeAffinity",
        "NodeResourcesFit",
        "PodTopologySpread",
        "InterPodAffinity",
    ]
    assert [(plugin.name, weight) for plugin, weight in profile.scores] == [
        ("TaintToleration", 3),
        ("NodeAffinity", 2),
        ("NodeResourcesFit", 1),
        ("PodTopologySpread", 2),
        ("InterPodAffinity", 2),
        ("NodeResourcesBalancedAllocation", 1),
        ("ImageLocality", 1),
    ]


def test_a_profile_turns_plugins_off_and_reweighs_them() -> None:
    params = SchedulerParams(
        filters={"TaintToleration": False},
        scores={"ImageLocality": 0, "NodeResourcesFit": 5},
        scoring_strategy="MostAllocated",
    )
    profile = params.profile()

    assert "TaintToleration" not in [plugin.name for plugin in profile.filters]
    weights = {plugin.name: weight for plugin, weight in profile.scores}
    assert "ImageLocality" not in weights and weights["NodeResourcesFit"] == 5
    fit = next(plugin for plugin, _ in profile.scores if plugin.name == "NodeResourcesFit")
    assert fit.strategy == "MostAllocated"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"scores": {"Imagelocality": 1}}, "scores.Imagelocality"),
        ({"filters": {"NodePorts": True}}, "filters.NodePorts"),
        ({"scores": {"ImageLocality": 101}}, "scores.ImageLocality"),
        ({"resources": {"gpu": 1}}, "resources.gpu"),
        ({"shape": ()}, "shape"),
    ],
)
def test_a_profile_refuses_unknown_plugins_and_bad_weights(
    fields: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        SchedulerParams(**fields)
    assert caught.value.key == key
