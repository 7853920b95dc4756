"""Preemption (kube-scheduler's DefaultPreemption) and the Cluster Autoscaler's
overprovisioning built on it: victims chosen and reprieved as upstream's
``preemption_test.go`` and ``default_preemption_test.go`` tables do (restated in our
terms), then whole runs where pause pods of priority -1 hold room for a real pod."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from node_scaling import deployments, of_kind, run_world

from sim.policies.scheduling.objects import NodeInfo, PodInfo, Resources
from sim.policies.scheduling.preemption import choose_preemption, victims_on

GIB = 2**30


def pod(name: str, milli_cpu: int, priority: int = 0) -> PodInfo:
    return PodInfo(name, milli_cpu=milli_cpu, memory_bytes=GIB, priority=priority)


def node(name: str, milli_cpu: int, *pods: PodInfo) -> NodeInfo:
    return NodeInfo(name, allocatable=Resources(milli_cpu, 64 * GIB, 110)).with_pods(pods)


def fits(candidate: PodInfo, where: NodeInfo) -> bool:
    return (
        where.requested_milli_cpu + candidate.request_milli_cpu <= where.allocatable.milli_cpu
        and where.requested_memory_bytes + candidate.request_memory_bytes
        <= where.allocatable.memory_bytes
    )


def everyone(_: PodInfo) -> bool:
    return True


def test_lower_priority_pods_are_victims_and_the_more_important_are_reprieved() -> None:
    """A 2-CPU pod on a full 4-CPU node of four 1-CPU pods (priorities 5, -1, -1, 3):
    all four lower pods go, then 5 and 3 come back (reprieved, the more important first)
    and the two of priority -1 stay victims."""
    full = node(
        "n", 4000, pod("a", 1000, 5), pod("b", 1000, -1), pod("c", 1000, -1), pod("d", 1000, 3)
    )
    victims = victims_on(pod("p", 2000, 10), full, fits, everyone)
    assert victims is not None
    assert [v.name for v in victims] == ["b", "c"]
    assert [p.name for p in full.pods] == ["a", "b", "c", "d"]  # the node is not changed


def test_equal_priorities_reprieve_the_earlier_placed() -> None:
    full = node("n", 2000, pod("old", 1000, -1), pod("new", 1000, -1))
    assert [v.name for v in victims_on(pod("p", 1000), full, fits, everyone) or ()] == ["new"]


def test_no_victims_where_evicting_every_lower_pod_is_not_enough() -> None:
    full = node("n", 4000, pod("high", 3000, 100), pod("low", 1000, -1))
    assert victims_on(pod("p", 2000, 10), full, fits, everyone) is None
    assert victims_on(pod("p", 1000, 10), full, fits, lambda other: False) is None
    # equal priority never preempts
    assert (
        victims_on(pod("p", 1000, 100), node("m", 1000, pod("same", 1000, 100)), fits, everyone)
        is None
    )


def test_the_node_with_the_lowest_highest_victim_wins() -> None:
    """pickOneNodeForPreemption: the lowest highest-priority victim, then the least sum,
    then the fewest victims, then the first node."""
    nodes = [
        node("n1", 2000, pod("n1-a", 2000, 5)),
        node("n2", 2000, pod("n2-a", 1000, 1), pod("n2-b", 1000, 1)),
        node("n3", 2000, pod("n3-a", 1000, 1), pod("n3-b", 1000, -3)),
        node("n4", 2000, pod("n4-a", 2000, 1)),
    ]
    chosen = choose_preemption(pod("p", 2000, 10), nodes, fits, everyone)
    assert chosen is not None
    # n2, n3, n4 have a highest victim of 1; sums 2, -2, 1: n3.
    assert (chosen.node, [v.name for v in chosen.victims]) == ("n3", ["n3-a", "n3-b"])
    nodes = [
        node("n2", 2000, pod("x", 1000, 1), pod("y", 1000, 0)),
        node("n4", 2000, pod("z", 2000, 1)),
    ]
    chosen = choose_preemption(pod("p", 2000, 10), nodes, fits, everyone)
    assert chosen is not None and chosen.node == "n4"  # sums 1 and 1: one victim, not two
    nodes = [node("a", 1000, pod("a1", 1000, 0)), node("b", 1000, pod("b1", 1000, 0))]
    chosen = choose_preemption(pod("p", 1000, 10), nodes, fits, everyone)
    assert chosen is not None and chosen.node == "a"


@given(
    st.lists(st.tuples(st.integers(1, 4), st.integers(-5, 5)), min_size=1, max_size=8),
    st.integers(1, 8),
    st.integers(-5, 6),
)
def test_after_eviction_the_pod_fits_and_no_victim_could_have_stayed(
    sizes: list[tuple[int, int]], wanted: int, priority: int
) -> None:
    placed = [pod(f"p{i}", 1000 * cpu, prio) for i, (cpu, prio) in enumerate(sizes)]
    capacity = max(8000, sum(p.request_milli_cpu for p in placed))
    where = node("n", capacity, *placed)
    preemptor = pod("x", 1000 * wanted, priority)
    victims = victims_on(preemptor, where, fits, everyone)
    if victims is None:
        return
    names = {v.name for v in victims}
    assert all(v.priority < priority for v in victims)
    left = node("n", capacity, *(p for p in placed if p.name not in names))
    assert fits(preemptor, left)
    for victim in victims:  # minimal: bringing any one back breaks the fit
        assert not fits(preemptor, node("n", capacity, *left.pods, victim))


BASE = [
    "cluster/scaler=cluster-autoscaler",
    "platform=container",
    "cluster.pools.node.count=1",
    "cluster.pools.node.instance_type=t3.medium",
    "cluster.scaler.provision=60s",
    "platform.container.runtime_start=500ms",
    "platform.container.create=50ms",
    "horizon=20min",
    "+images.pause={registry: ecr, repository: pause, tag: '3.9', "
    "steps: [{ADD: pause /, size: 700kB, compressed: 300kB}]}",
    "+workload.apps.pause={image: pause, vcpu: 1, memory: 1GiB, priority: -1}",
    "+workload.apps.job={image: web, vcpu: 1, memory: 1GiB}",
]


@pytest.fixture(scope="module")
def overprovisioned():  # type: ignore[no-untyped-def]
    """Two pause pods fill the t3.medium (2 vCPU); at 5 min two jobs of the same size
    come and preempt them, one each, and the pause pods' replacements, pending, make the
    autoscaler add a node for them."""
    return run_world(
        BASE,
        deployments(
            "{app: pause, replicas: 2, platform: container}",
            "{app: job, replicas: 2, platform: container, at: 5min}",
        ),
    )


def scheduled(world, app: str) -> dict[str, tuple[float, str]]:  # type: ignore[no-untyped-def]
    """When and where each replica of `app` was placed."""
    return {
        event.source: (event.time_s, event.detail("host"))
        for event in of_kind(world, "replica_state")
        if event.source.startswith(f"{app}-") and event.detail("state") == "scheduled"
    }


def test_real_pods_take_the_pause_pods_room_at_once(overprovisioned) -> None:  # type: ignore[no-untyped-def]
    world = overprovisioned
    assert scheduled(world, "job") == {
        "job-container-1": (300.0, "node-1"),
        "job-container-2": (300.0, "node-1"),
    }
    preempted = [(e.time_s, e.source, e.detail("victims")) for e in of_kind(world, "preempted")]
    assert preempted == [
        (300.0, "job-container-1", "pause-container-2"),  # the later placed goes first
        (300.0, "job-container-2", "pause-container-1"),
    ]
    assert world.cluster.scheduler.preemptions == 2


def test_evicted_pause_pods_make_the_autoscaler_add_a_node(overprovisioned) -> None:  # type: ignore[no-untyped-def]
    world = overprovisioned
    [up] = of_kind(world, "node_scale_up")
    assert (up.time_s, up.detail("pods")) == (310.0, 2)  # the next scan after 300 s
    pauses = scheduled(world, "pause")
    assert {name: where for name, (_, where) in pauses.items()} == {
        "pause-container-1": "node-1",
        "pause-container-2": "node-1",
        "pause-container-3": "memory-1",
        "pause-container-4": "memory-1",
    }
    assert pauses["pause-container-3"][0] == 370.0  # scan + 60 s provisioning


def test_without_priorities_nothing_is_preempted() -> None:
    world = run_world(
        [*BASE[:-2], "+workload.apps.pause={image: web, vcpu: 1, memory: 1GiB}", BASE[-1]],
        deployments(
            "{app: pause, replicas: 2, platform: container}",
            "{app: job, replicas: 2, platform: container, at: 5min}",
        ),
    )
    assert of_kind(world, "preempted") == []
    assert {time for time, _ in scheduled(world, "job").values()} == {370.0}  # a new node
