"""TaintToleration against upstream's tables
(``pkg/scheduler/framework/plugins/tainttoleration/taint_toleration_test.go``:
TestTaintTolerationScore and TestTaintTolerationFilter), restated."""

from __future__ import annotations

import pytest
from scheduling_helpers import make_node, make_pod, run_filter, run_score

from sim.policies.scheduling.objects import Taint, Toleration
from sim.policies.scheduling.plugin import Rejection
from sim.policies.scheduling.taint_toleration import TaintToleration

PREFER = "PreferNoSchedule"

SCORE = [
    (
        "node with taints tolerated by the pod, gets a higher score than those node with "
        "intolerable taints",
        [Toleration("foo", "Equal", "bar", PREFER)],
        {"nodeA": [Taint("foo", "bar", PREFER)], "nodeB": [Taint("foo", "blah", PREFER)]},
        {"nodeA": 100, "nodeB": 0},
    ),
    (
        "the nodes that all of their taints are tolerated by the pod, get the same score, no "
        "matter how many tolerable taints a node has",
        [
            Toleration("cpu-type", "Equal", "arm64", PREFER),
            Toleration("disk-type", "Equal", "ssd", PREFER),
        ],
        {
            "nodeA": [],
            "nodeB": [Taint("cpu-type", "arm64", PREFER)],
            "nodeC": [Taint("cpu-type", "arm64", PREFER), Taint("disk-type", "ssd", PREFER)],
        },
        {"nodeA": 100, "nodeB": 100, "nodeC": 100},
    ),
    (
        "the more intolerable taints a node has, the lower score it gets.",
        [Toleration("foo", "Equal", "bar", PREFER)],
        {
            "nodeA": [],
            "nodeB": [Taint("cpu-type", "arm64", PREFER)],
            "nodeC": [Taint("cpu-type", "arm64", PREFER), Taint("disk-type", "ssd", PREFER)],
        },
        {"nodeA": 100, "nodeB": 50, "nodeC": 0},
    ),
    (
        "only taints and tolerations that have effect PreferNoSchedule are checked by "
        "prioritizeTaint function",
        [
            Toleration("cpu-type", "Equal", "arm64", "NoSchedule"),
            Toleration("disk-type", "Equal", "ssd", "NoSchedule"),
        ],
        {
            "nodeA": [],
            "nodeB": [Taint("cpu-type", "arm64", "NoSchedule")],
            "nodeC": [Taint("cpu-type", "arm64", PREFER), Taint("disk-type", "ssd", PREFER)],
        },
        {"nodeA": 100, "nodeB": 100, "nodeC": 0},
    ),
    (
        "Default behaviour No taints and tolerations, lands on node with no taints",
        [],
        {"nodeA": [], "nodeB": [Taint("cpu-type", "arm64", PREFER)]},
        {"nodeA": 100, "nodeB": 0},
    ),
]


@pytest.mark.parametrize(
    ("name", "tolerations", "taints", "expected"), SCORE, ids=[c[0] for c in SCORE]
)
def test_taint_toleration_score(
    name: str,
    tolerations: list[Toleration],
    taints: dict[str, list[Taint]],
    expected: dict[str, int],
) -> None:
    nodes = [make_node(node, taints=tuple(node_taints)) for node, node_taints in taints.items()]
    pod = make_pod(tolerations=tuple(tolerations))

    assert run_score(TaintToleration(), pod, nodes) == expected


UNTOLERATED = "node(s) had untolerated taint {dedicated: user1}"
FILTER = [
    (
        "A pod having no tolerations can't be scheduled onto a node with nonempty taints",
        [],
        [Taint("dedicated", "user1", "NoSchedule")],
        UNTOLERATED,
    ),
    (
        "A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule",
        [Toleration("dedicated", "Equal", "user1", "NoSchedule")],
        [Taint("dedicated", "user1", "NoSchedule")],
        None,
    ),
    (
        "A pod which can't be scheduled on a dedicated node assigned to user2 with effect "
        "NoSchedule",
        [Toleration("dedicated", "Equal", "user2", "NoSchedule")],
        [Taint("dedicated", "user1", "NoSchedule")],
        UNTOLERATED,
    ),
    (
        "A pod can be scheduled onto the node, with a toleration uses operator Exists that "
        "tolerates the taints on the node",
        [Toleration("foo", "Exists", "", "NoSchedule")],
        [Taint("foo", "bar", "NoSchedule")],
        None,
    ),
    (
        "A pod has multiple tolerations, node has multiple taints, all the taints are "
        "tolerated, pod can be scheduled onto the node",
        [
            Toleration("dedicated", "Equal", "user2", "NoSchedule"),
            Toleration("foo", "Exists", "", "NoSchedule"),
        ],
        [Taint("dedicated", "user2", "NoSchedule"), Taint("foo", "bar", "NoSchedule")],
        None,
    ),
    (
        "A pod has a toleration that keys and values match the taint on the node, but "
        "(non-empty) effect doesn't match, can't be scheduled onto the node",
        [Toleration("foo", "Equal", "bar", PREFER)],
        [Taint("foo", "bar", "NoSchedule")],
        "node(s) had untolerated taint {foo: bar}",
    ),
    (
        "The pod has a toleration that keys and values match the taint on the node, the "
        "effect of toleration is empty, and the effect of taint is NoSchedule. Pod can be "
        "scheduled onto the node",
        [Toleration("foo", "Equal", "bar", "")],
        [Taint("foo", "bar", "NoSchedule")],
        None,
    ),
    (
        "The pod has a toleration that key and value don't match the taint on the node, but "
        "the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
        [Toleration("dedicated", "Equal", "user2", "NoSchedule")],
        [Taint("dedicated", "user1", PREFER)],
        None,
    ),
    (
        "The pod has no toleration, but the effect of taint on node is PreferNoSchedule. Pod "
        "can be scheduled onto the node",
        [],
        [Taint("dedicated", "user1", PREFER)],
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "tolerations", "taints", "reason"), FILTER, ids=[c[0] for c in FILTER]
)
def test_taint_toleration_filter(
    name: str, tolerations: list[Toleration], taints: list[Taint], reason: str | None
) -> None:
    node = make_node("nodeA", taints=tuple(taints))
    pod = make_pod(tolerations=tuple(tolerations))

    expected = None if reason is None else Rejection((reason,), unresolvable=True)
    assert run_filter(TaintToleration(), pod, [node]) == {"nodeA": expected}


def test_an_empty_key_with_exists_tolerates_every_taint() -> None:
    everything = Toleration("", "Exists")

    assert all(
        everything.tolerates(taint)
        for taint in (Taint("a", "b", "NoSchedule"), Taint("c", "", "NoExecute"))
    )
