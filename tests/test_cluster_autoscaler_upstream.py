"""The Cluster Autoscaler's decisions against upstream's own test tables.

Each test restates cases of one upstream test file of kubernetes/autoscaler
(cluster-autoscaler 1.36) in our terms, named after it: upstream builds nodes with
``BuildTestNode(name, millicpu, memory bytes)`` and pods with ``BuildTestPod(name,
millicpu, memory bytes)``; here 1000 m is 1.0 vCPU and memory stays in bytes.
Upstream's cases that need what this model has no notion of (annotations, unready
nodes, GPUs, host ports, topology spread, mirror pods) are left out.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.policies.node_scaling import NodeShape, Pod
from sim.policies.node_scaling.cluster_autoscaler.backoff import Backoff
from sim.policies.node_scaling.cluster_autoscaler.balance import (
    GroupSize,
    GroupTemplate,
    balance_scale_up,
    similar_groups,
)
from sim.policies.node_scaling.cluster_autoscaler.eligibility import (
    NodeInUse,
    Unremovable,
    find_removable,
    unremovable_reason,
)
from sim.policies.node_scaling.cluster_autoscaler.estimator import estimate
from sim.policies.node_scaling.cluster_autoscaler.expanders import (
    Cluster,
    Option,
    choose,
    make_chain,
)
from sim.policies.node_scaling.cluster_autoscaler.expanders.least_waste import LeastWaste
from sim.policies.node_scaling.cluster_autoscaler.expanders.price import PriceExpander
from sim.policies.node_scaling.cluster_autoscaler.utilization import utilization

MiB = 2**20


def m(millicpu: float) -> float:
    return millicpu / 1000


def pod(name: str, millicpu: float, memory: int) -> Pod:
    return Pod(name, m(millicpu), memory)


# simulator/utilization/info_test.go: TestCalculate ----------------------------------


def test_calculate_the_larger_of_cpu_and_memory() -> None:
    """A 2000 m / 2,000,000 B node with two 100 m / 200,000 B pods and an empty one: CPU
    0.1, memory 0.2, so the node is at 0.2 (memory)."""
    p1, empty = pod("p1", 100, 200_000), pod("p2", 0, 0)
    used = utilization(m(2000), 2_000_000, [p1, p1, empty])
    assert used.cpu == pytest.approx(0.1)
    assert used.value == pytest.approx(0.2) and used.resource == "memory"


def test_calculate_ignoring_daemonsets_takes_them_off_both_sides() -> None:
    """Two DaemonSet pods of 100 m / 200,000 B ignored: 200 m of 1800 m, 400,000 B of
    1,600,000 B: 0.25. Counted (one of them): 0.2."""
    p1, empty = pod("p1", 100, 200_000), pod("p2", 0, 0)
    daemons = [pod("p3", 100, 200_000), pod("p4", 100, 200_000)]
    used = utilization(m(2000), 2_000_000, [p1, p1, empty], daemons, ignore_daemonsets=True)
    assert used.value == pytest.approx(2.5 / 10)
    counted = utilization(m(2000), 2_000_000, [p1, empty], daemons[:1])
    assert counted.value == pytest.approx(2.0 / 10)


def test_calculate_refuses_a_node_without_allocatable() -> None:
    with pytest.raises(ValueError):
        utilization(m(2000), 0, [])


# core/scaledown/eligibility/eligibility_test.go: TestFilterOutUnremovable -----------

REGULAR = "regular"


def regular(*pods: Pod, daemons: tuple[Pod, ...] = ()) -> NodeInUse:
    """Upstream's ``regular`` node: 1000 m CPU, 10 bytes of memory."""
    return NodeInUse(REGULAR, "ng1", m(1000), 10, tuple(pods), daemonsets=daemons)


BIG, SMALL, DAEMON = pod("bigPod", 600, 0), pod("smallPod", 100, 0), pod("dsPod", 500, 0)


@pytest.mark.parametrize(
    ("name", "node", "ignore", "stays"),
    [
        ("regular node stays", regular(), False, True),
        ("highly utilized node is filtered out", regular(BIG), False, False),
        ("underutilized node stays", regular(SMALL), False, True),
        (
            "high utilization daemonsets node is filtered out",
            regular(SMALL, daemons=(DAEMON,)),
            False,
            False,
        ),
        ("high utilization daemonsets node stays", regular(SMALL, daemons=(DAEMON,)), True, True),
    ],
)
def test_filter_out_unremovable(name: str, node: NodeInUse, ignore: bool, stays: bool) -> None:
    reason, _ = unremovable_reason(node, threshold=0.5, ignore_daemonsets=ignore)
    assert (reason is None) == stays, name


def test_a_node_exactly_at_the_threshold_is_not_underutilized() -> None:
    """``utilization >= threshold`` keeps the node: 500 m of 1000 m is not below 0.5."""
    reason, used = unremovable_reason(regular(pod("half", 500, 0)), threshold=0.5)
    assert reason is Unremovable.NOT_UNDERUTILIZED and used is not None and used.value == 0.5


def test_a_node_of_no_group_is_not_autoscaled() -> None:
    reason, _ = unremovable_reason(NodeInUse("n", None, 1.0, 10), threshold=0.5)
    assert reason is Unremovable.NOT_AUTOSCALED


# simulator/cluster.go and the FAQ's example of dependent removals --------------------


def test_pods_moved_in_simulation_take_room_from_the_next_candidate() -> None:
    """The FAQ's example: A, B, C below the threshold; A's and B's pods fit on X, C's on Y
    (C takes one pod at most, so B's pod cannot go there). A goes first and its pod takes X's
    room, so B's pod finds no place; C's still fits Y."""
    a = NodeInUse("A", "ng", 1.0, 1000, (pod("a", 300, 10),))
    b = NodeInUse("B", "ng", 1.0, 1000, (pod("b", 300, 10),))
    c = NodeInUse("C", "ng", 1.0, 1000, (pod("c", 150, 10),), max_pods=1)
    x = NodeInUse("X", None, 1.0, 1000, (pod("x", 600, 10),))
    y = NodeInUse("Y", None, 1.0, 1000, (pod("y", 800, 10),))
    removable, kept = find_removable([a, b, c], [x, y, a, b, c], threshold=0.5)
    assert [(r.node, r.moves) for r in removable] == [("A", (("a", "X"),)), ("C", (("c", "Y"),))]
    assert [(k.node, k.reason) for k in kept] == [("B", Unremovable.NO_PLACE_TO_MOVE_PODS)]


def test_a_node_another_candidate_moved_pods_onto_moves_them_on() -> None:
    """A's pod lands on B in the simulation; B then must move its own pod and A's."""
    a = NodeInUse("A", "ng", 1.0, 1000, (pod("a", 300, 100),))
    b = NodeInUse("B", "ng", 1.0, 1000, (pod("b", 200, 100),))
    z = NodeInUse("Z", None, 1.0, 1000)
    removable, kept = find_removable([a, b], [b, z], threshold=0.5)
    assert [(r.node, r.moves) for r in removable] == [
        ("A", (("a", "B"),)),
        ("B", (("b", "Z"), ("a", "Z"))),
    ]
    assert kept == []


def test_empty_and_recently_unremovable_nodes() -> None:
    empty = NodeInUse("E", "ng", 1.0, 1000, (), daemonsets=(pod("ds", 100, 10),))
    stuck = NodeInUse("S", "ng", 1.0, 1000, (pod("s", 100, 10),))
    removable, kept = find_removable(
        [empty, stuck], [empty, stuck], 0.5, recently_unremovable={"S"}
    )
    assert [(r.node, r.empty) for r in removable] == [("E", True)]
    assert [(k.node, k.reason) for k in kept] == [("S", Unremovable.RECENTLY_UNREMOVABLE)]


# estimator/binpacking_estimator_test.go: TestBinpackingEstimate ----------------------


def template(millicpu: float, memory_mib: int) -> NodeShape:
    return NodeShape("template", m(millicpu), memory_mib * MiB)


@pytest.mark.parametrize(
    ("name", "node", "groups", "max_nodes", "nodes", "pods"),
    [
        ("simple resource-based binpacking", (350 * 3 - 50, 2000), [(350, 1000, 10)], 100, 5, 10),
        ("limiter cuts binpacking", (1000, 5000), [(500, 1000, 20)], 5, 5, 10),
        (
            "decreasing ordered pods are processed first",
            (1000, 5000),
            [(50, 1000, 10), (500, 1000, 10)],
            5,
            5,
            10,
        ),
    ],
)
def test_binpacking_estimate(
    name: str,
    node: tuple[int, int],
    groups: list[tuple[int, int, int]],
    max_nodes: int,
    nodes: int,
    pods: int,
) -> None:
    pending = [
        pod(f"g{index}-{k}", millicpu, memory * MiB)
        for index, (millicpu, memory, count) in enumerate(groups)
        for k in range(count)
    ]
    result = estimate(pending, template(*node), max_nodes)
    assert (result.node_count, len(result.pods)) == (nodes, pods), name
    if name.startswith("decreasing"):
        assert all(p.name.startswith("g1-") for p in result.pods)


def test_a_pod_larger_than_the_template_adds_no_node() -> None:
    result = estimate([pod("huge", 3000, 10)], template(1000, 100), 10)
    assert (result.node_count, result.pods) == (0, ())


# expander/waste/waste_test.go: TestLeastWaste -----------------------------------------

CPU_PER_POD, MEMORY_PER_POD = 500, 1000 * MiB


def waste_option(group: str, millicpu: float, memory: int, pods: tuple[Pod, ...]) -> Option:
    shape = NodeShape(group, m(millicpu), memory)
    return Option(group, 1, pods, shape, m(millicpu), memory, 1.0)


def test_least_waste() -> None:
    """One 500 m / 1000 MiB pod: a balanced node (16 pods' worth of each) wastes more
    than a low-CPU one (8 pods' CPU), less than a high-memory one (32 pods' memory)."""
    one = (pod("p", CPU_PER_POD, MEMORY_PER_POD),)
    balanced = waste_option("balanced", 16 * CPU_PER_POD, 16 * MEMORY_PER_POD, one)
    highmem = waste_option("highmem", 16 * CPU_PER_POD, 32 * MEMORY_PER_POD, one)
    lowcpu = waste_option("lowcpu", 8 * CPU_PER_POD, 16 * MEMORY_PER_POD, one)
    expander, cluster = LeastWaste(), Cluster(3)
    assert expander.best_options([balanced], cluster) == [balanced]
    assert expander.best_options([balanced, highmem], cluster) == [balanced]
    assert expander.best_options([balanced, highmem, lowcpu], cluster) == [lowcpu]
    without_pods = waste_option("balanced", 16 * CPU_PER_POD, 16 * MEMORY_PER_POD, ())
    assert expander.best_options([without_pods], cluster) == [without_pods]


# expander/price/price_test.go: TestPriceExpander --------------------------------------

POD_PRICES = {"p1": 20.0, "p2": 10.0, "stabilize": 10.0}


def price_option(
    group: str, millicpu: float, count: int, pods: tuple[str, ...], usd: float
) -> Option:
    shape = NodeShape(group, m(millicpu), 1000)
    chosen = tuple(pod(name, 1000 if name == "p1" else 500, 0) for name in pods)
    return Option(group, count, chosen, shape, m(millicpu), 1000, usd)


def best_price(options: list[Option], preferred_millicpu: float) -> list[str]:
    expander = PriceExpander(lambda p: POD_PRICES[p.name], preferred=m(preferred_millicpu))
    return [option.group for option in expander.best_options(options, Cluster(2))]


@pytest.mark.parametrize(
    ("name", "options", "preferred", "best"),
    [
        (
            "first node group is cheaper",
            [("ng1", 1000, 2, ("p1", "p2"), 20.0), ("ng2", 4000, 1, ("p1", "p2"), 200.0)],
            2000,
            ["ng1"],
        ),
        (
            "first node group is cheaper, however, the second one is preferred",
            [("ng1", 1000, 2, ("p1", "p2"), 50.0), ("ng2", 4000, 1, ("p1", "p2"), 200.0)],
            4000,
            ["ng2"],
        ),
        (
            "first is cheaper, the second preferred, but there are lots of nodes to create",
            [("ng1", 1000, 80, ("p1", "p2"), 20.0), ("ng2", 4000, 40, ("p1", "p2"), 200.0)],
            4000,
            ["ng1"],
        ),
        (
            "second node group is cheaper",
            [("ng1", 1000, 2, ("p1", "p2"), 200.0), ("ng2", 4000, 1, ("p1", "p2"), 100.0)],
            2000,
            ["ng2"],
        ),
        (
            "both node groups are equally expensive, however 2 accept two pods",
            [("ng1", 1000, 2, ("p1",), 200.0), ("ng2", 4000, 1, ("p1", "p2"), 200.0)],
            2000,
            ["ng2"],
        ),
    ],
)
def test_price_expander(
    name: str,
    options: list[tuple[str, int, int, tuple[str, ...], float]],
    preferred: float,
    best: list[str],
) -> None:
    assert best_price([price_option(*option) for option in options], preferred) == best, name


def test_price_score_by_hand() -> None:
    """ng1 of the first case: (2 × 20 + 10) / (30 + 10) = 1.25; unfitness 2 (1 CPU for
    a preferred 2) suppressed by tanh(1/15): (2 − 1)(1 − 0.0666) + 1."""
    option = price_option("ng1", 1000, 2, ("p1", "p2"), 20.0)
    expander = PriceExpander(lambda p: POD_PRICES[p.name], preferred=2.0)
    assert expander.score(option, Cluster(2)) == pytest.approx(
        ((2 - 1) * (1 - math.tanh(1 / 15)) + 1) * 1.25
    )


def test_the_preferred_node_grows_with_the_cluster() -> None:
    from sim.policies.node_scaling.cluster_autoscaler.expanders.price import preferred_vcpu

    assert [preferred_vcpu(n) for n in (1, 2, 3, 6, 7, 20, 21, 60, 61, 200, 201)] == [
        1,
        1,
        2,
        2,
        4,
        4,
        8,
        8,
        16,
        16,
        32,
    ]


# expander/factory/chain_test.go and the FAQ's chains -----------------------------------


def chain_options() -> list[Option]:
    shape = NodeShape("t", 4.0, 16 * 2**30)
    two = (pod("a", 1000, MiB), pod("b", 1000, MiB))
    return [
        Option("big", 1, two, shape, 4.0, 16 * 2**30, 0.2, priority=10),
        Option("small-a", 2, two, shape, 4.0, 16 * 2**30, 0.1, priority=50),
        Option("small-b", 2, two, shape, 4.0, 16 * 2**30, 0.1, priority=50),
    ]


def test_a_chain_narrows_then_settles_ties_at_random() -> None:
    """``priority,least-nodes``: priority keeps the two small groups (50), least-nodes
    cannot tell them apart, so the random fallback picks one: the same one for the
    same stream."""
    options = chain_options()
    picks = {
        choose(
            options, make_chain(["priority", "least-nodes"]), Cluster(3), np.random.default_rng(s)
        )
        for s in range(20)
    }
    assert {p.group for p in picks if p is not None} == {"small-a", "small-b"}
    first = choose(options, make_chain(["priority"]), Cluster(3), np.random.default_rng(1))
    again = choose(options, make_chain(["priority"]), Cluster(3), np.random.default_rng(1))
    assert first == again


def test_one_expander_that_decides_ends_the_chain() -> None:
    options = chain_options()
    chosen = choose(
        options, make_chain(["least-nodes", "priority"]), Cluster(3), np.random.default_rng(0)
    )
    assert chosen is not None and chosen.group == "big"


def test_priority_ignores_groups_without_one_unless_none_has_one() -> None:
    options = chain_options()
    unranked = [Option(o.group, o.node_count, o.pods, o.template, 4.0, 1, 0.1) for o in options]
    chain = make_chain(["priority"])
    assert chain[0].best_options(unranked, Cluster(1)) == unranked
    mixed = [unranked[0], options[1]]
    assert chain[0].best_options(mixed, Cluster(1)) == [options[1]]


def test_most_pods_keeps_the_options_holding_the_most() -> None:
    options = chain_options()
    fewer = Option("few", 1, options[0].pods[:1], options[0].template, 4.0, 1, 0.1)
    assert make_chain(["most-pods"])[0].best_options([fewer, *options], Cluster(1)) == options


# processors/nodegroupset/balancing_processor_test.go ---------------------------------


def group(
    name: str, millicpu: float, memory: int, labels: dict[str, str] | None = None
) -> GroupTemplate:
    shape = NodeShape(name, m(millicpu), memory, labels or {})
    return GroupTemplate(name, m(millicpu), memory, shape)


def test_find_similar_node_groups() -> None:
    """n1 and n2 (1000 m / 1000 B) are alike; n3 (2000 m / 2000 B) is like neither."""
    ng1, ng2, ng3 = group("ng1", 1000, 1000), group("ng2", 1000, 1000), group("ng3", 2000, 2000)
    groups = [ng1, ng2, ng3]
    assert similar_groups(ng1, groups) == ["ng2"]
    assert similar_groups(ng2, groups) == ["ng1"]
    assert similar_groups(ng3, groups) == []


def test_zone_labels_do_not_make_groups_dissimilar_other_labels_do() -> None:
    a = group("a", 1000, 1000, {"topology.kubernetes.io/zone": "a", "team": "web"})
    b = group("b", 1000, 1000, {"topology.kubernetes.io/zone": "b", "team": "web"})
    c = group("c", 1000, 1000, {"topology.kubernetes.io/zone": "c", "team": "batch"})
    assert similar_groups(a, [a, b, c]) == ["b"]


def sizes(**groups: tuple[int, int]) -> list[GroupSize]:
    return [GroupSize(name, size, maximum) for name, (size, maximum) in groups.items()]


def test_balance_single_group() -> None:
    assert balance_scale_up(sizes(ng1=(1, 10)), 1) == {"ng1": 2}
    assert balance_scale_up(sizes(ng1=(1, 10)), 4) == {"ng1": 5}


def test_balance_under_max_size() -> None:
    groups = sizes(ng1=(1, 10), ng2=(3, 10), ng3=(5, 10), ng4=(5, 10))
    assert balance_scale_up(groups, 1) == {"ng1": 2}
    assert balance_scale_up(groups, 2) == {"ng1": 3}
    assert balance_scale_up(groups, 4) == {"ng1": 4, "ng2": 4}
    five = balance_scale_up(groups, 5)
    assert sorted(five) == ["ng1", "ng2"] and sorted(five.values()) == [4, 5]
    assert balance_scale_up(groups, 10) == {"ng1": 6, "ng2": 6, "ng3": 6, "ng4": 6}


def test_balance_hitting_max_size() -> None:
    all_groups = {
        "ng1": (1, 1),
        "ng2": (1, 3),
        "ng3": (3, 10),
        "ng4": (5, 7),
        "ng5": (6, 3),
    }

    def of(*names: str) -> list[GroupSize]:
        return sizes(**{name: all_groups[name] for name in names})

    assert balance_scale_up(of("ng1"), 1) == {}
    assert balance_scale_up(of("ng1", "ng2"), 1) == {"ng2": 2}
    assert balance_scale_up(of("ng1", "ng2"), 5) == {"ng2": 3}
    assert balance_scale_up(of("ng2", "ng3"), 4) == {"ng2": 3, "ng3": 5}
    assert balance_scale_up(of("ng2", "ng3", "ng4"), 9) == {"ng2": 3, "ng3": 8, "ng4": 7}
    assert balance_scale_up(of("ng2", "ng3", "ng4"), 900) == {"ng2": 3, "ng3": 10, "ng4": 7}
    assert balance_scale_up(of("ng2", "ng5"), 1) == {"ng2": 2}


# utils/backoff/exponential_backoff_test.go --------------------------------------------


def test_backoff_doubles_after_each_back_off_ends_and_resets_after_three_hours() -> None:
    backoff = Backoff()
    assert backoff.fail("ng", 0.0) == 300.0
    assert backoff.backed_off("ng", 299.0) and not backoff.backed_off("ng", 300.0)
    assert backoff.fail("ng", 100.0) == 400.0  # during the back-off: same duration
    assert backoff.fail("ng", 500.0) == 1100.0  # after it: doubled, 600 s
    assert backoff.fail("ng", 1200.0) == 2400.0
    assert backoff.fail("ng", 2500.0) == 4300.0  # capped at 30 minutes
    assert backoff.fail("ng", 4300.0 + 3 * 3600.0 + 1) == 4300.0 + 3 * 3600.0 + 1 + 300.0
    assert not backoff.backed_off("other", 0.0)
