"""NodeResourcesFit, against upstream's own tables (kubernetes/kubernetes,
``pkg/scheduler/framework/plugins/noderesources/``), restated case by case.

Upstream's test nodes and pods are written in whole CPUs and bytes; scores are ratios, so
the numbers are used here as millicores and bytes unchanged. Only the CPU and memory
cases are restated: extended resources, ephemeral storage, init containers and pod
overhead are not modelled.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.policies.scheduling.node_resources_fit import (
    ResourceFit,
    broken_linear,
    insufficient_resources,
)
from sim.policies.scheduling.objects import NodeInfo, PodInfo, Resources


def pod(cpu: int | None = 0, memory: int | None = 0, name: str = "p") -> PodInfo:
    return PodInfo(name, milli_cpu=cpu, memory_bytes=memory)


def node(
    name: str, cpu: int, memory: int, pods: list[PodInfo] | None = None, max_pods: int = 110
) -> NodeInfo:
    return NodeInfo(name, allocatable=Resources(cpu, memory, max_pods)).with_pods(pods or [])


def scores(plugin: ResourceFit, incoming: PodInfo, nodes: list[NodeInfo]) -> list[int]:
    state = plugin.pre_score(incoming, nodes, nodes)
    return [plugin.score(incoming, each, state) for each in nodes]


# fit_test.go TestEnoughRequests: a node of 10 m CPU, 20 B of memory and 32 pods, holding
# one pod of the given size.
ENOUGH = [
    ("no resources requested always fits", pod(), (10, 20), ()),
    (
        "too many resources fails",
        pod(1, 1),
        (10, 20),
        ("Insufficient cpu", "Insufficient memory"),
    ),
    ("both resources fit", pod(1, 1), (5, 5), ()),
    ("one resource memory fits", pod(2, 1), (9, 5), ("Insufficient cpu",)),
    ("one resource cpu fits", pod(1, 2), (5, 19), ("Insufficient memory",)),
    ("equal edge case", pod(5, 1), (5, 19), ()),
]


@pytest.mark.parametrize(
    ("name", "incoming", "held", "reasons"), ENOUGH, ids=[c[0] for c in ENOUGH]
)
def test_enough_requests(
    name: str, incoming: PodInfo, held: tuple[int, int], reasons: tuple[str, ...]
) -> None:
    target = node("n", 10, 20, [pod(*held, name="held")], max_pods=32)

    assert insufficient_resources(incoming, target) == reasons


# fit_test.go TestNotEnoughRequests: the node allows one pod and has one.
NOT_ENOUGH = [
    (
        "even without specified resources predicate fails when there's no space for additional pod",
        pod(),
        (10, 20),
    ),
    (
        "even if both resources fit predicate fails when there's no space for additional pod",
        pod(1, 1),
        (5, 5),
    ),
    (
        "even for equal edge case predicate fails when there's no space for additional pod",
        pod(5, 1),
        (5, 19),
    ),
]


@pytest.mark.parametrize(("name", "incoming", "held"), NOT_ENOUGH, ids=[c[0] for c in NOT_ENOUGH])
def test_not_enough_requests(name: str, incoming: PodInfo, held: tuple[int, int]) -> None:
    target = node("n", 10, 20, [pod(*held, name="held")], max_pods=1)

    rejection = ResourceFit().filter(incoming, target, None)

    assert rejection is not None and rejection.reasons == ("Too many pods",)


# least_allocated_test.go TestLeastAllocatedScoringStrategy.
TWO_CONTAINERS = pod(3000, 5000)  # upstream: requests (1000, 2000) + (2000, 3000)
LEAST = [
    (
        "nothing scheduled, nothing requested",
        pod(),
        [(4000, 10000, []), (4000, 10000, [])],
        None,
        [100, 100],
    ),
    (
        "nothing scheduled, resources requested, differently sized nodes",
        TWO_CONTAINERS,
        [(4000, 10000, []), (6000, 10000, [])],
        None,
        [37, 50],
    ),
    (
        "no resources requested, pods scheduled",
        pod(),
        [(4000, 10000, [pod(), pod()]), (4000, 10000, [pod(), pod()])],
        None,
        [100, 100],
    ),
    (
        "no resources requested, pods scheduled with resources",
        pod(),
        [
            (10000, 20000, [pod(3000, 0), pod(3000, 0)]),
            (10000, 20000, [pod(3000, 0), pod(3000, 5000)]),
        ],
        None,
        [70, 57],
    ),
    (
        "resources requested, pods scheduled with resources",
        TWO_CONTAINERS,
        [(10000, 20000, [pod(3000, 0)]), (10000, 20000, [pod(3000, 5000)])],
        None,
        [57, 45],
    ),
    (
        "resources requested, pods scheduled with resources, differently sized nodes",
        TWO_CONTAINERS,
        [(10000, 20000, [pod(3000, 0)]), (10000, 50000, [pod(3000, 5000)])],
        None,
        [57, 60],
    ),
    (
        "requested resources exceed node capacity",
        pod(3000, 0),
        [(4000, 10000, [pod(3000, 0)]), (4000, 10000, [pod(3000, 5000)])],
        None,
        [50, 25],
    ),
    (
        "zero node resources, pods scheduled with resources",
        pod(),
        [(0, 0, [pod(3000, 0)]), (0, 0, [pod(3000, 5000)])],
        None,
        [0, 0],
    ),
    (
        "nothing scheduled, resources requested with different weight on CPU and memory, "
        "differently sized nodes",
        TWO_CONTAINERS,
        [(4000, 10000, []), (6000, 10000, [])],
        {"memory": 2, "cpu": 1},
        [41, 50],
    ),
]

# most_allocated_test.go TestMostAllocatedScoringStrategy.
MOST = [
    (
        "nothing scheduled, nothing requested",
        pod(),
        [(4000, 10000, []), (4000, 10000, [])],
        None,
        [0, 0],
    ),
    (
        "nothing scheduled, resources requested, differently sized nodes",
        TWO_CONTAINERS,
        [(4000, 10000, []), (6000, 10000, [])],
        None,
        [62, 50],
    ),
    (
        "no resources requested, pods scheduled with resources",
        pod(),
        [
            (10000, 20000, [pod(3000, 0), pod(3000, 0)]),
            (10000, 20000, [pod(3000, 0), pod(3000, 5000)]),
        ],
        None,
        [30, 42],
    ),
    (
        "resources requested, pods scheduled with resources",
        TWO_CONTAINERS,
        [(10000, 20000, [pod(3000, 0)]), (10000, 20000, [pod(3000, 5000)])],
        None,
        [42, 55],
    ),
    (
        "resources requested equal node capacity",
        pod(5000, 9000),
        [(5000, 10000, []), (10000, 9000, [])],
        None,
        [95, 75],
    ),
    (
        "nothing scheduled, resources requested, differently sized nodes (weighted)",
        TWO_CONTAINERS,
        [(4000, 10000, []), (6000, 10000, [])],
        {"memory": 2, "cpu": 1},
        [58, 50],
    ),
    # A container without requests counts as 100 m and 200 MiB when nodes are scored.
    (
        "no resources requested, pods scheduled, nonzero request for resource",
        pod(None, None),
        [(250, 1000 * 2**20, [pod(None, None), pod(None, None)]), (250, 1000 * 2**20, [])],
        None,
        [80, 30],
    ),
]

# requested_to_capacity_ratio_test.go TestRequestedToCapacityRatioScoringStrategy, with the
# shape utilisation 0 -> 10, 100 -> 0.
RATIO = [
    (
        "nothing scheduled, nothing requested (default - least requested nodes have priority)",
        pod(),
        [(4000, 10000, [pod(), pod()]), (4000, 10000, [])],
        None,
        [100, 100],
    ),
    (
        "nothing scheduled, resources requested, differently sized nodes (default - least "
        "requested nodes have priority)",
        TWO_CONTAINERS,
        [(4000, 10000, [pod(), pod()]), (6000, 10000, [])],
        None,
        [38, 50],
    ),
    (
        "no resources requested, pods scheduled with resources (default - least requested nodes "
        "have priority)",
        pod(),
        [(4000, 10000, [pod(3000, 5000)]), (6000, 10000, [pod(3000, 5000)])],
        None,
        [38, 50],
    ),
]

STRATEGY_CASES = [
    *[("LeastAllocated", *case) for case in LEAST],
    *[("MostAllocated", *case) for case in MOST],
    *[("RequestedToCapacityRatio", *case) for case in RATIO],
]


@pytest.mark.parametrize(
    ("strategy", "name", "incoming", "shapes", "weights", "expected"),
    STRATEGY_CASES,
    ids=[f"{c[0]}: {c[1]}" for c in STRATEGY_CASES],
)
def test_scoring_strategies(
    strategy: str,
    name: str,
    incoming: PodInfo,
    shapes: list[tuple[int, int, list[PodInfo]]],
    weights: dict[str, int] | None,
    expected: list[int],
) -> None:
    nodes = [
        node(f"node{i + 1}", cpu, memory, pods) for i, (cpu, memory, pods) in enumerate(shapes)
    ]
    plugin = ResourceFit(strategy, weights)  # type: ignore[arg-type]

    assert scores(plugin, incoming, nodes) == expected


# requested_to_capacity_ratio_test.go TestBrokenLinearFunction.
BROKEN_LINEAR = [
    (
        ((10, 1), (90, 9)),
        [
            (-10, 1),
            (0, 1),
            (9, 1),
            (10, 1),
            (15, 1),
            (19, 1),
            (20, 2),
            (89, 8),
            (90, 9),
            (99, 9),
            (100, 9),
            (110, 9),
        ],
    ),
    (
        ((0, 2), (40, 10), (100, 0)),
        [(-10, 2), (0, 2), (20, 6), (30, 8), (40, 10), (70, 5), (100, 0), (110, 0)],
    ),
    (
        ((0, 2), (40, 2), (100, 2)),
        [(-10, 2), (0, 2), (20, 2), (30, 2), (40, 2), (70, 2), (100, 2), (110, 2)],
    ),
]


@pytest.mark.parametrize(("shape", "points"), BROKEN_LINEAR)
def test_broken_linear_function(
    shape: tuple[tuple[int, int], ...], points: list[tuple[int, int]]
) -> None:
    assert [broken_linear(shape, p) for p, _ in points] == [score for _, score in points]


@given(
    st.integers(0, 8000),
    st.integers(0, 2**34),
    st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 2**33)), max_size=6),
    st.integers(1, 8),
)
def test_fits_exactly_when_requests_stay_within_allocatable(
    cpu: int, memory: int, held: list[tuple[int, int]], max_pods: int
) -> None:
    incoming = pod(cpu, memory)
    target = node(
        "n",
        8000,
        2**35,
        [pod(c, m, name=f"h{i}") for i, (c, m) in enumerate(held)],
        max_pods=max_pods,
    )
    within = (
        cpu + sum(c for c, _ in held) <= 8000
        and memory + sum(m for _, m in held) <= 2**35
        or cpu == memory == 0
    )

    assert (not insufficient_resources(incoming, target)) == (within and len(held) + 1 <= max_pods)
