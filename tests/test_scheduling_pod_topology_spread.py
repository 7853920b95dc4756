"""PodTopologySpread against upstream's tables
(``pkg/scheduler/framework/plugins/podtopologyspread/``: filtering_test.go
TestSingleConstraint and TestMultipleConstraints, scoring_test.go
TestPodTopologySpreadScore), restated. Namespaces and terminating pods are not modelled,
so the cases about them are left out."""

from __future__ import annotations

import pytest
from scheduling_helpers import exists, labelled, make_node, make_pod, run_filter, run_score

from sim.policies.scheduling.objects import (
    HOSTNAME,
    LabelSelector,
    NodeInfo,
    NodeSelectorTerm,
    PodInfo,
    Requirement,
    SpreadConstraint,
)
from sim.policies.scheduling.pod_topology_spread import MISSING_LABEL, SKEWED, PodTopologySpread

FOO = exists("foo")


def hard(skew: int, key: str, selector: LabelSelector = FOO) -> SpreadConstraint:
    return SpreadConstraint(skew, key, "DoNotSchedule", selector)


def soft(skew: int, key: str, selector: LabelSelector = FOO) -> SpreadConstraint:
    return SpreadConstraint(skew, key, "ScheduleAnyway", selector)


def zoned(counts: dict[str, int], zones: dict[str, str] | None = None) -> list[NodeInfo]:
    """node-a, node-b in zone1 and node-x, node-y in zone2, with `counts` foo pods."""
    zones = zones or {"node-a": "zone1", "node-b": "zone1", "node-x": "zone2", "node-y": "zone2"}
    return [
        make_node(
            name, {"zone": zone, "node": name}, labelled("foo", name[-1], counts.get(name, 0))
        )
        for name, zone in zones.items()
    ]


def codes(answers: dict[str, object]) -> dict[str, str]:
    return {
        name: "Success"
        if answer is None
        else ("UnschedulableAndUnresolvable" if answer.unresolvable else "Unschedulable")  # type: ignore[attr-defined]
        for name, answer in answers.items()
    }


OK, NO, NEVER = "Success", "Unschedulable", "UnschedulableAndUnresolvable"
SINGLE = [
    (
        "no existing pods",
        make_pod(labels={"foo": ""}, spread_constraints=(hard(1, "zone"),)),
        zoned({}),
        dict.fromkeys(["node-a", "node-b", "node-x", "node-y"], OK),
    ),
    (
        "no existing pods, incoming pod doesn't match itself",
        make_pod(labels={"foo": ""}, spread_constraints=(hard(1, "zone", exists("bar")),)),
        zoned({}),
        dict.fromkeys(["node-a", "node-b", "node-x", "node-y"], OK),
    ),
    (
        "pods spread across zones as 3/3, all nodes fit",
        make_pod(labels={"foo": ""}, spread_constraints=(hard(1, "zone"),)),
        zoned({"node-a": 2, "node-b": 1, "node-y": 3}),
        dict.fromkeys(["node-a", "node-b", "node-x", "node-y"], OK),
    ),
    (
        "pod cannot be scheduled as all nodes don't have label 'rack'",
        make_pod(labels={"foo": ""}, spread_constraints=(hard(1, "rack"),)),
        zoned({}, {"node-a": "zone1", "node-x": "zone2"}),
        {"node-a": NEVER, "node-x": NEVER},
    ),
    (
        "pods spread across nodes as 2/1/0/3, only node-x fits",
        make_pod(labels={"foo": ""}, spread_constraints=(hard(1, "node"),)),
        zoned({"node-a": 2, "node-b": 1, "node-y": 3}),
        {"node-a": NO, "node-b": NO, "node-x": OK, "node-y": NO},
    ),
    (
        "pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit",
        make_pod(labels={"foo": ""}, spread_constraints=(hard(2, "node"),)),
        zoned({"node-a": 2, "node-b": 1, "node-y": 3}),
        {"node-a": NO, "node-b": OK, "node-x": OK, "node-y": NO},
    ),
    (
        "pods spread across nodes as 2/1/0/3, but pod doesn't match itself",
        make_pod(labels={"bar": ""}, spread_constraints=(hard(1, "node"),)),
        zoned({"node-a": 2, "node-b": 1, "node-y": 3}),
        {"node-a": NO, "node-b": OK, "node-x": OK, "node-y": NO},
    ),
    (
        "incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits",
        make_pod(
            labels={"foo": ""},
            spread_constraints=(hard(1, "node"),),
            required_node_terms=(
                NodeSelectorTerm((Requirement("node", "In", ("node-a", "node-y")),)),
            ),
        ),
        zoned({"node-a": 2, "node-b": 1, "node-y": 3}),
        {"node-a": OK, "node-b": OK, "node-x": OK, "node-y": NO},
    ),
    (
        "two Constraints on zone and node, spreads = [3/3, 2/1/0/3]",
        make_pod(labels={"foo": ""}, spread_constraints=(hard(1, "zone"), hard(1, "node"))),
        zoned({"node-a": 2, "node-b": 1, "node-y": 3}),
        {"node-a": NO, "node-b": NO, "node-x": OK, "node-y": NO},
    ),
]


@pytest.mark.parametrize(("name", "pod", "nodes", "expected"), SINGLE, ids=[c[0] for c in SINGLE])
def test_filtering(
    name: str, pod: PodInfo, nodes: list[NodeInfo], expected: dict[str, str]
) -> None:
    assert codes(run_filter(PodTopologySpread(), pod, nodes)) == expected


def test_a_node_without_the_zone_label_is_rejected_as_unresolvable() -> None:
    """filtering_test.go: "pods spread across zones as 1/2 due to absence of label 'zone'
    on node-b"."""
    pod = make_pod(labels={"foo": ""}, spread_constraints=(hard(1, "zone"),))
    nodes = zoned({"node-a": 1, "node-b": 1, "node-x": 1, "node-y": 1})
    nodes[1].labels["zon"] = nodes[1].labels.pop("zone")

    answers = run_filter(PodTopologySpread(), pod, nodes)

    assert codes(answers) == {"node-a": OK, "node-b": NEVER, "node-x": NO, "node-y": NO}
    assert answers["node-b"].reasons == (MISSING_LABEL,)  # type: ignore[union-attr]
    assert answers["node-x"].reasons == (SKEWED,)  # type: ignore[union-attr]


def test_min_domains_counts_the_missing_domains_as_empty() -> None:
    """With minDomains 3 and two zones, the global minimum is 0: zone1 at 1 pod may not
    take another at maxSkew 1."""
    constraint = SpreadConstraint(1, "zone", "DoNotSchedule", FOO, min_domains=3)
    pod = make_pod(labels={"foo": ""}, spread_constraints=(constraint,))

    answers = codes(run_filter(PodTopologySpread(), pod, zoned({"node-a": 1, "node-x": 1})))

    assert answers == dict.fromkeys(["node-a", "node-b", "node-x", "node-y"], NO)


def hosts(counts: dict[str, int], key: str = HOSTNAME) -> list[NodeInfo]:
    return [
        make_node(name, {key: name}, labelled("foo", name[-1], n)) for name, n in counts.items()
    ]


SCORE_POD = make_pod("p", {"foo": ""}, spread_constraints=(soft(1, HOSTNAME),))
SCORES = [
    (
        "one constraint on node, no existing pods",
        SCORE_POD,
        hosts({"node-a": 0, "node-b": 0}),
        2,
        {"node-a": 100, "node-b": 100},
    ),
    (
        "one constraint on node, only one node is candidate",
        SCORE_POD,
        hosts({"node-a": 2, "node-b": 1}),
        1,
        {"node-a": 100},
    ),
    (
        "one constraint on node, all nodes have the same number of matching pods",
        SCORE_POD,
        hosts({"node-a": 1, "node-b": 1}),
        2,
        {"node-a": 100, "node-b": 100},
    ),
    (
        "one constraint on node, all 4 nodes are candidates",
        SCORE_POD,
        hosts({"node-a": 2, "node-b": 1, "node-c": 0, "node-d": 3}),
        4,
        {"node-a": 20, "node-b": 60, "node-c": 100, "node-d": 0},
    ),
    (
        "one constraint on node, all 4 nodes are candidates, maxSkew=2",
        make_pod("p", {"foo": ""}, spread_constraints=(soft(2, HOSTNAME),)),
        hosts({"node-a": 2, "node-b": 1, "node-c": 0, "node-d": 3}),
        4,
        {"node-a": 33, "node-b": 66, "node-c": 100, "node-d": 16},
    ),
    (
        "one constraint on node, all 4 nodes are candidates, maxSkew=3",
        make_pod("p", {"foo": ""}, spread_constraints=(soft(3, HOSTNAME),)),
        hosts({"node-a": 4, "node-b": 3, "node-c": 2, "node-d": 1}),
        4,
        {"node-a": 44, "node-b": 66, "node-c": 77, "node-d": 100},
    ),
    (
        "system defaulting, nodes don't have zone, pods match service",
        make_pod("p", {"foo": ""}, default_spread_selector=LabelSelector((("foo", ""),))),
        hosts({"node-a": 4, "node-b": 3, "node-c": 2, "node-d": 1}),
        4,
        {"node-a": 44, "node-b": 66, "node-c": 77, "node-d": 100},
    ),
    (
        "one constraint on node, 3 out of 4 nodes are candidates",
        SCORE_POD,
        hosts({"node-a": 4, "node-b": 2, "node-x": 1, "node-y": 3}),
        3,
        {"node-a": 33, "node-b": 83, "node-x": 100},
    ),
]


@pytest.mark.parametrize(
    ("name", "pod", "nodes", "candidates", "expected"), SCORES, ids=[c[0] for c in SCORES]
)
def test_scoring(
    name: str, pod: PodInfo, nodes: list[NodeInfo], candidates: int, expected: dict[str, int]
) -> None:
    assert run_score(PodTopologySpread(), pod, nodes[:candidates], nodes) == expected


def test_scoring_a_candidate_without_the_topology_key() -> None:
    """scoring_test.go: "one constraint on node, 3 out of 4 nodes are candidates, one node
    doesn't match topology key"."""
    nodes = hosts({"node-a": 4, "node-b": 2, "node-x": 1, "node-y": 3})
    nodes[1].labels = {"n": "node-b"}

    assert run_score(PodTopologySpread(), SCORE_POD, nodes[:3], nodes) == {
        "node-a": 16,
        "node-b": 0,
        "node-x": 100,
    }


def test_scoring_one_constraint_on_zone() -> None:
    """scoring_test.go: "one constraint on zone, 3 out of 4 nodes are candidates"."""
    counts = {"node-a": 4, "node-b": 2, "node-x": 1, "node-y": 3}
    zones = {"node-a": "zone1", "node-b": "zone1", "node-x": "zone2", "node-y": "zone2"}
    nodes = [
        make_node(n, {"zone": zones[n], HOSTNAME: n}, labelled("foo", n[-1], c))
        for n, c in counts.items()
    ]
    pod = make_pod("p", {"foo": ""}, spread_constraints=(soft(1, "zone"),))

    assert run_score(PodTopologySpread(), pod, nodes[:3], nodes) == {
        "node-a": 75,
        "node-b": 75,
        "node-x": 100,
    }


def test_a_pod_without_constraints_or_controller_is_not_spread() -> None:
    nodes = hosts({"node-a": 3, "node-b": 0})

    assert run_score(PodTopologySpread(), make_pod("p", {"foo": ""}), nodes) == {
        "node-a": 0,
        "node-b": 0,
    }
    defaulted = make_pod("p", {"foo": ""}, default_spread_selector=LabelSelector((("foo", ""),)))
    assert run_score(PodTopologySpread("None"), defaulted, nodes) == {"node-a": 0, "node-b": 0}
