"""NodeAffinity against upstream's cases (``nodeaffinity/node_affinity_test.go``:
TestNodeAffinity for the filter, TestNodeAffinityPriority for the score), restated for
the operators modelled (node selector and match expressions; no match fields)."""

from __future__ import annotations

import pytest
from scheduling_helpers import make_node, make_pod, run_filter, run_score

from sim.policies.scheduling.node_affinity import REASON, NodeAffinity
from sim.policies.scheduling.objects import NodeSelectorTerm, PreferredTerm, Requirement
from sim.policies.scheduling.plugin import Rejection


def term(*requirements: Requirement) -> NodeSelectorTerm:
    return NodeSelectorTerm(requirements)


FILTER = [
    ("no selector", {}, (), {"foo": "bar"}, True),
    ("missing labels", {"foo": "bar"}, (), {}, False),
    ("same labels", {"foo": "bar"}, (), {"foo": "bar"}, True),
    ("node labels are superset", {"foo": "bar"}, (), {"foo": "bar", "baz": "blah"}, True),
    ("node labels are subset", {"foo": "bar", "baz": "blah"}, (), {"foo": "bar"}, False),
    (
        "Pod with matchExpressions using In operator that matches the existing node",
        {},
        (term(Requirement("foo", "In", ("bar", "value2"))),),
        {"foo": "bar"},
        True,
    ),
    (
        "Pod with matchExpressions using Gt operator that matches the existing node",
        {},
        (term(Requirement("kernel-version", "Gt", ("0204",))),),
        {"kernel-version": "0206"},
        True,
    ),
    (
        "Pod with matchExpressions using NotIn operator that matches the existing node",
        {},
        (term(Requirement("mem-type", "NotIn", ("DDR", "DDR2"))),),
        {"mem-type": "DDR3"},
        True,
    ),
    (
        "Pod with matchExpressions using Exists operator that matches the existing node",
        {},
        (term(Requirement("GPU", "Exists")),),
        {"GPU": "NVIDIA-GRID-K1"},
        True,
    ),
    (
        "Pod with affinity that don't match node's labels won't schedule onto the node",
        {},
        (term(Requirement("foo", "In", ("value1", "value2"))),),
        {"foo": "bar"},
        False,
    ),
    (
        "Pod with a nil []NodeSelectorTerm in affinity, can't match the node's labels and won't "
        "schedule onto the node",
        {},
        (term(),),
        {"foo": "bar"},
        False,
    ),
    (
        "Pod with multiple matchExpressions ANDed that matches the existing node",
        {},
        (term(Requirement("GPU", "Exists"), Requirement("GPU", "NotIn", ("AMD", "INTER"))),),
        {"GPU": "NVIDIA-GRID-K1"},
        True,
    ),
    (
        "Pod with multiple matchExpressions ANDed that doesn't match the existing node",
        {},
        (term(Requirement("GPU", "Exists"), Requirement("GPU", "In", ("AMD", "INTER"))),),
        {"GPU": "NVIDIA-GRID-K1"},
        False,
    ),
    (
        "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels and will "
        "schedule onto the node",
        {},
        (
            term(Requirement("foo", "In", ("bar", "value2"))),
            term(Requirement("diffkey", "In", ("wrong", "value2"))),
        ),
        {"foo": "bar"},
        True,
    ),
    (
        "Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating) "
        "both are satisfied, will schedule onto the node",
        {"foo": "bar"},
        (term(Requirement("foo", "Exists")),),
        {"foo": "bar"},
        True,
    ),
    (
        "Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing "
        "that we are deprecating) is not satisfied, won't schedule onto the node",
        {"foo": "bar"},
        (term(Requirement("foo", "Exists")),),
        {"foo": "barrrrrr"},
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "selector", "terms", "labels", "fits"), FILTER, ids=[c[0] for c in FILTER]
)
def test_node_affinity_filter(
    name: str,
    selector: dict[str, str],
    terms: tuple[NodeSelectorTerm, ...],
    labels: dict[str, str],
    fits: bool,
) -> None:
    pod = make_pod(node_selector=tuple(selector.items()), required_node_terms=terms)
    expected = None if fits else Rejection((REASON,), unresolvable=True)

    assert run_filter(NodeAffinity(), pod, [make_node("n", labels)]) == {"n": expected}


LABEL1 = {"foo": "bar"}
LABEL2 = {"key": "value"}
LABEL3 = {"az": "az1"}
LABEL4 = {"abc": "az11", "def": "az22"}
LABEL5 = {"foo": "bar", "key": "value", "az": "az1"}
AFFINITY1 = (PreferredTerm(2, term(Requirement("foo", "In", ("bar",)))),)
AFFINITY2 = (
    PreferredTerm(2, term(Requirement("foo", "In", ("bar",)))),
    PreferredTerm(4, term(Requirement("key", "In", ("value",)))),
    PreferredTerm(
        5,
        term(
            Requirement("foo", "In", ("bar",)),
            Requirement("key", "In", ("value",)),
            Requirement("az", "In", ("az1",)),
        ),
    ),
)
PRIORITY = [
    ("all nodes are same priority as NodeAffinity is nil", (), [LABEL1, LABEL2, LABEL3], [0, 0, 0]),
    (
        "no node matches preferred scheduling requirements in NodeAffinity of pod so all nodes' "
        "priority is zero",
        AFFINITY1,
        [LABEL4, LABEL2, LABEL3],
        [0, 0, 0],
    ),
    (
        "only node1 matches the preferred scheduling requirements of pod",
        AFFINITY1,
        [LABEL1, LABEL2, LABEL3],
        [100, 0, 0],
    ),
    (
        "all machines matches the preferred scheduling requirements of pod but with different "
        "priorities ",
        AFFINITY2,
        [LABEL1, LABEL5, LABEL2],
        [18, 100, 36],
    ),
]


@pytest.mark.parametrize(
    ("name", "preferred", "labels", "expected"), PRIORITY, ids=[c[0] for c in PRIORITY]
)
def test_node_affinity_priority(
    name: str,
    preferred: tuple[PreferredTerm, ...],
    labels: list[dict[str, str]],
    expected: list[int],
) -> None:
    nodes = [make_node(f"node{i + 1}", node_labels) for i, node_labels in enumerate(labels)]
    pod = make_pod(preferred_node_terms=preferred)

    assert list(run_score(NodeAffinity(), pod, nodes).values()) == expected
