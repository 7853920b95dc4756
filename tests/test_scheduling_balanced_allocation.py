"""NodeResourcesBalancedAllocation against upstream's table
(``noderesources/balanced_allocation_test.go``, TestNodeResourcesBalancedAllocation),
restated: each node's CPU and memory fractions after the pod, the score ``(1 - sd) x
100`` with ``sd`` half their difference. Volumes and extended resources are not
modelled."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scheduling_helpers import make_node, make_pod, run_score

from sim.policies.scheduling.balanced_allocation import BalancedAllocation, balanced_score
from sim.policies.scheduling.objects import NodeInfo, PodInfo

CPU_ONLY = (3000, 0)  # upstream: containers of 1000 m and 2000 m CPU, no memory
CPU_AND_MEMORY = (3000, 5000)  # upstream: (1000 m, 2000) + (2000 m, 3000)


def pod(requests: tuple[int, int], name: str = "p") -> PodInfo:
    return make_pod(name, milli_cpu=requests[0], memory_bytes=requests[1])


def nodes(*shapes: tuple[int, int, list[tuple[int, int]]]) -> list[NodeInfo]:
    return [
        make_node(
            f"node{i + 1}",
            cpu=cpu,
            memory=memory,
            pods=[pod(r, f"e{i}{j}") for j, r in enumerate(held)],
        )
        for i, (cpu, memory, held) in enumerate(shapes)
    ]


CASES = [
    # node1: 3000/4000 = 0.75 and 5000/10000 = 0.5, sd 0.125 -> 87; node2: 0.5 and 0.5 -> 100
    (
        "nothing scheduled, resources requested, differently sized machines",
        CPU_AND_MEMORY,
        nodes((4000, 10000, []), (6000, 10000, [])),
        [87, 100],
    ),
    # node1: 0.6 and 0.25, sd 0.175 -> 82; node2: 0.6 and 0.5, sd 0.05 -> 95
    (
        "resources requested, pods scheduled with resources",
        CPU_AND_MEMORY,
        nodes((10000, 20000, [CPU_ONLY]), (10000, 20000, [CPU_AND_MEMORY])),
        [82, 95],
    ),
    # node2: 0.6 and 10000/50000 = 0.2, sd 0.2 -> 80
    (
        "resources requested, pods scheduled with resources, differently sized machines",
        CPU_AND_MEMORY,
        nodes((10000, 20000, [CPU_ONLY]), (10000, 50000, [CPU_AND_MEMORY])),
        [82, 80],
    ),
    # CPU 6000/4000 is capped at 1: node1 1 and 0 -> 50; node2 1 and 0.5 -> 75
    (
        "requested resources exceed node capacity",
        CPU_ONLY,
        nodes((4000, 10000, [CPU_ONLY]), (4000, 10000, [CPU_AND_MEMORY])),
        [50, 75],
    ),
    # no resource with allocatable: no fraction, sd 0
    (
        "zero node resources, pods scheduled with resources",
        CPU_ONLY,
        nodes((0, 0, [CPU_ONLY]), (0, 0, [CPU_AND_MEMORY])),
        [100, 100],
    ),
]


@pytest.mark.parametrize(
    ("name", "requests", "candidates", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_balanced_allocation(
    name: str, requests: tuple[int, int], candidates: list[NodeInfo], expected: list[int]
) -> None:
    scores = run_score(BalancedAllocation(), pod(requests), candidates)

    assert list(scores.values()) == expected


def test_upstream_prefers_the_balanced_node2() -> None:
    """ "resources requested, pods scheduled with resources": LeastAllocated alone prefers
    node1 (57 against 45); balanced allocation prefers node2 (95 against 82)."""
    scores = run_score(BalancedAllocation(), pod(CPU_AND_MEMORY), CASES[1][2])

    assert max(scores, key=scores.__getitem__) == "node2"


def test_a_pod_that_requests_nothing_is_not_scored() -> None:
    """balanced_allocation.go PreScore: a best-effort pod is skipped (kubernetes#129138)."""
    candidates = nodes((4000, 10000, [CPU_ONLY]), (4000, 10000, []))

    assert run_score(BalancedAllocation(), pod((0, 0)), candidates) == {"node1": 0, "node2": 0}


@given(st.lists(st.floats(0, 3), min_size=1, max_size=4))
def test_the_score_is_100_less_the_standard_deviation_of_capped_fractions(
    fractions: list[float],
) -> None:
    capped = [min(f, 1.0) for f in fractions]
    mean = sum(capped) / len(capped)
    deviation = (sum((f - mean) ** 2 for f in capped) / len(capped)) ** 0.5

    assert abs(balanced_score(fractions) - (1 - deviation) * 100) < 1 + 1e-9
    assert 0 <= balanced_score(fractions) <= 100
