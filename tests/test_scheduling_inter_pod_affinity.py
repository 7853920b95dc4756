"""InterPodAffinity's anti-affinity, after upstream's cases
(``interpodaffinity/filtering_test.go`` TestRequiredAffinitySingleNode and
TestRequiredAffinityMultipleNodes, ``scoring_test.go`` TestPreferredAffinity: the
anti-affinity cases, restated with hand-computed expectations; pod affinity is not
modelled)."""

from __future__ import annotations

from typing import Any

from scheduling_helpers import make_node, make_pod, run_filter, run_score

from sim.policies.scheduling.inter_pod_affinity import (
    ANTI_AFFINITY,
    EXISTING_ANTI_AFFINITY,
    InterPodAffinity,
)
from sim.policies.scheduling.objects import (
    HOSTNAME,
    LabelSelector,
    PodAffinityTerm,
    PodInfo,
    WeightedPodAffinityTerm,
)
from sim.policies.scheduling.plugin import Rejection

WEB = LabelSelector((("app", "web"),))


def web(name: str, **fields: Any) -> PodInfo:
    return make_pod(name, {"app": "web"}, **fields)


def test_a_pod_avoids_the_host_of_a_pod_its_required_term_selects() -> None:
    incoming = web("p", required_anti_affinity=(PodAffinityTerm(WEB, HOSTNAME),))
    nodes = [
        make_node("node1", {HOSTNAME: "node1"}, [web("w1")]),
        make_node("node2", {HOSTNAME: "node2"}, [make_pod("db", {"app": "db"})]),
        make_node("node3", {}),  # no hostname label: the term does not apply
    ]

    assert run_filter(InterPodAffinity(), incoming, nodes) == {
        "node1": Rejection((ANTI_AFFINITY,)),
        "node2": None,
        "node3": None,
    }


def test_an_existing_pods_required_term_keeps_the_incoming_pod_out_of_its_zone() -> None:
    """The term is symmetric: a pod already running with anti-affinity to `app: web` in
    its zone keeps every web pod out of that zone."""
    loner = make_pod("loner", {"app": "db"}, required_anti_affinity=(PodAffinityTerm(WEB, "zone"),))
    nodes = [
        make_node("a1", {"zone": "a"}, [loner]),
        make_node("a2", {"zone": "a"}),
        make_node("b1", {"zone": "b"}),
    ]

    answers = run_filter(InterPodAffinity(), web("p"), nodes)

    assert answers == {
        "a1": Rejection((EXISTING_ANTI_AFFINITY,)),
        "a2": Rejection((EXISTING_ANTI_AFFINITY,)),
        "b1": None,
    }


def test_preferred_anti_affinity_lowers_the_zone_of_matching_pods() -> None:
    """Zone a holds two web pods (weight 5 each: -10), zone b one (-5), zone c none:
    rescaled between the lowest and the highest, 0, 50 and 100."""
    incoming = web(
        "p", preferred_anti_affinity=(WeightedPodAffinityTerm(5, PodAffinityTerm(WEB, "zone")),)
    )
    nodes = [
        make_node("a1", {"zone": "a"}, [web("w1"), web("w2")]),
        make_node("b1", {"zone": "b"}, [web("w3")]),
        make_node("c1", {"zone": "c"}),
    ]

    assert run_score(InterPodAffinity(), incoming, nodes) == {"a1": 0, "b1": 50, "c1": 100}


def test_an_existing_pods_preferred_term_counts_against_its_host() -> None:
    sitter = make_pod(
        "sitter",
        {"app": "cache"},
        preferred_anti_affinity=(WeightedPodAffinityTerm(10, PodAffinityTerm(WEB, HOSTNAME)),),
    )
    nodes = [
        make_node("node1", {HOSTNAME: "node1"}, [sitter]),
        make_node("node2", {HOSTNAME: "node2"}),
    ]

    assert run_score(InterPodAffinity(), web("p"), nodes) == {"node1": 0, "node2": 100}


def test_no_anti_affinity_anywhere_leaves_every_node_equal() -> None:
    nodes = [make_node("node1", {}, [web("w")]), make_node("node2", {})]

    assert run_score(InterPodAffinity(), web("p"), nodes) == {"node1": 0, "node2": 0}
    assert run_filter(InterPodAffinity(), web("p"), nodes) == {"node1": None, "node2": None}
