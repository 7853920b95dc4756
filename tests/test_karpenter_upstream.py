"""Karpenter's decisions against upstream's tests and documented examples.

Cases restate tests of kubernetes-sigs/karpenter v1.14 (``pkg/apis/v1/nodepool_budgets_test``,
``pkg/controllers/disruption/consolidation_test.go``, ``emptiness_test.go``,
``pkg/controllers/provisioning/scheduling``) and aws/karpenter-provider-aws v1.14
(``pkg/providers/instance``, the disruption docs' consolidation mechanisms) on the
simulator's pricing catalogue, named after them. Upstream's fake cloud provider has its
own instance types; the numbers here are the catalogue's.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sim.policies.node_scaling import NodeShape, Pod
from sim.policies.node_scaling.fit import Room
from sim.policies.node_scaling.karpenter.catalogue import (
    ON_DEMAND,
    SPOT,
    InstanceTypeInfo,
    Offering,
    Requirements,
    launch_choice,
)
from sim.policies.node_scaling.karpenter.disruption import (
    WHEN_EMPTY,
    Candidate,
    Command,
    Simulate,
)
from sim.policies.node_scaling.karpenter.disruption.budgets import (
    Budget,
    allowed_disruptions,
    budget_mapping,
)
from sim.policies.node_scaling.karpenter.disruption.emptiness import Emptiness
from sim.policies.node_scaling.karpenter.disruption.multi_node import MultiNodeConsolidation
from sim.policies.node_scaling.karpenter.disruption.single_node import SingleNodeConsolidation
from sim.policies.node_scaling.karpenter.scheduling import (
    PoolTemplate,
    Remaining,
    Results,
    pod_order,
    solve,
)

GiB = 2**30
CATALOGUE = [
    InstanceTypeInfo("t3.medium", 2, 4 * GiB, 0.0416),
    InstanceTypeInfo("m5.large", 2, 8 * GiB, 0.096),
    InstanceTypeInfo("m5.xlarge", 4, 16 * GiB, 0.192),
    InstanceTypeInfo("m5.2xlarge", 8, 32 * GiB, 0.384),
    InstanceTypeInfo("m5.4xlarge", 16, 64 * GiB, 0.768),
    InstanceTypeInfo("c5.large", 2, 4 * GiB, 0.085),
    InstanceTypeInfo("c5.xlarge", 4, 8 * GiB, 0.17),
    InstanceTypeInfo("r5.large", 2, 16 * GiB, 0.126),
    InstanceTypeInfo("m7g.large", 2, 8 * GiB, 0.0816, "arm64"),
]
TYPES = {it.name: it for it in CATALOGUE}


def offering(name: str, capacity: str = ON_DEMAND, fraction: float = 0.3) -> Offering:
    it = TYPES[name]
    price = it.usd_per_hour * (fraction if capacity == SPOT else 1.0)
    return Offering(it, capacity, price, NodeShape(name, it.vcpu, it.memory_bytes))


def offerings(requirements: Requirements) -> tuple[Offering, ...]:
    return tuple(
        offering(it.name, capacity)
        for it in CATALOGUE
        if requirements.allows(it)
        for capacity in requirements.capacity_types
    )


ANY = Requirements()


def pool(requirements: Requirements = ANY, name: str = "default") -> PoolTemplate:
    return PoolTemplate(name, offerings(requirements))


def pods(count: int, vcpu: float, memory_gib: float = 1.0, prefix: str = "p") -> list[Pod]:
    return [Pod(f"{prefix}{i}", vcpu, int(memory_gib * GiB)) for i in range(count)]


# The catalogue: requirements and the launch's choice ----------------------------------


def test_requirements_allow_by_family_size_type_and_architecture() -> None:
    allowed = Requirements(families=("m5", "c5"), sizes=("xlarge",))
    assert [it.name for it in CATALOGUE if allowed.allows(it)] == ["m5.xlarge", "c5.xlarge"]
    arm = Requirements(architectures=("arm64",))
    assert [it.name for it in CATALOGUE if arm.allows(it)] == ["m7g.large"]
    assert all(Requirements().allows(it) for it in CATALOGUE)


def test_spot_is_chosen_before_on_demand_when_both_are_allowed() -> None:
    """getCapacityType: spot first; the cheapest spot offering."""
    both = [offering("m5.large"), offering("m5.large", SPOT), offering("m5.xlarge", SPOT)]
    chosen = launch_choice(both)
    assert chosen is not None and (chosen.name, chosen.capacity_type) == ("m5.large", SPOT)


def test_spot_dearer_than_the_cheapest_on_demand_is_dropped() -> None:
    """spotOfferingFilter: a spot price above the cheapest on-demand price is not taken."""
    choices = [offering("c5.large"), offering("m5.xlarge", SPOT, fraction=0.9)]
    chosen = launch_choice(choices)
    assert chosen is not None and (chosen.name, chosen.capacity_type) == ("c5.large", ON_DEMAND)


# The provisioning scheduler --------------------------------------------------------------


def test_pods_are_taken_largest_first() -> None:
    small, large, medium = Pod("s", 0.5, GiB), Pod("l", 2.0, GiB), Pod("m", 1.0, 2 * GiB)
    assert [p.name for p in pod_order([small, large, medium])] == ["l", "m", "s"]


def test_pending_pods_are_bin_packed_onto_the_cheapest_type_that_holds_them() -> None:
    """Six 1-vCPU / 1 GiB pods: one NodeClaim whose options narrow as pods join; the
    launch takes the cheapest option that still holds all six (m5.2xlarge... no: the
    only options holding 6 vCPU are the 8- and 16-vCPU m5s, and m5.2xlarge is cheaper)."""
    results = solve(pods(6, 1.0), [], [pool()])
    [claim] = results.new_claims
    assert len(claim.pods) == 6
    assert [o.name for o in claim.offerings] == ["m5.2xlarge", "m5.4xlarge"]
    assert claim.launch is not None and claim.launch.name == "m5.2xlarge"


def test_a_pod_goes_to_an_existing_node_first() -> None:
    node = Room.empty(NodeShape("node-1", 2.0, 8 * GiB))
    results = solve(pods(3, 1.0), [node], [pool()])
    assert results.existing == {"node-1": tuple(pods(3, 1.0)[:2])}
    [claim] = results.new_claims
    assert [p.name for p in claim.pods] == ["p2"]
    assert claim.launch is not None and claim.launch.name == "t3.medium"


def test_in_flight_claims_with_fewest_pods_take_pods_first() -> None:
    """Two 3-vCPU pods fill two c5.xlarge-sized claims (a claim's options must hold all
    its pods: no option holds 6 vCPU and 16 GiB... here requirements allow only 4-vCPU
    types); a 1-vCPU pod then joins the claim with fewer pods (the first, on a tie)."""
    four = Requirements(sizes=("xlarge",))
    results = solve([Pod("a", 3.0, GiB), Pod("b", 3.0, GiB), Pod("c", 1.0, GiB)], [], [pool(four)])
    assert [[p.name for p in claim.pods] for claim in results.new_claims] == [["a", "c"], ["b"]]


def test_limits_stop_new_claims_and_weights_order_pools() -> None:
    """The heavier pool is tried first until its node limit is spent, then the other."""
    heavy = PoolTemplate("heavy", offerings(Requirements(families=("c5",))), weight=10)
    light = PoolTemplate("light", offerings(Requirements(families=("r5",))), weight=1)
    results = solve(pods(3, 3.0), [], [light, heavy], {"heavy": Remaining(nodes=2)})
    assert [(claim.pool, len(claim.pods)) for claim in results.new_claims] == [
        ("heavy", 1),
        ("heavy", 1),
    ]
    assert [p.name for p in results.unscheduled] == ["p2"]  # r5.large has 2 vCPU


def test_a_cpu_limit_counts_each_claims_largest_option() -> None:
    """subtractMax: a claim of m5.xlarge or m5.2xlarge charges 8 vCPU of a 10-vCPU
    limit; the next claim may then take 2 vCPU at most."""
    m5 = Requirements(families=("m5",), sizes=("xlarge", "2xlarge"))
    results = solve(pods(2, 3.0), [], [pool(m5)], {"default": Remaining(vcpu=10.0)})
    assert len(results.new_claims) == 1 and len(results.new_claims[0].pods) == 2
    blocked = solve(pods(3, 3.0), [], [pool(m5)], {"default": Remaining(vcpu=10.0)})
    assert len(blocked.new_claims) == 1 and [p.name for p in blocked.unscheduled] == ["p2"]


# pkg/apis/v1/nodepool_budgets_test.go and the budget tests of consolidation_test.go ---------


@pytest.mark.parametrize(
    ("nodes", "budget", "allowed"),
    [
        ("30%", 10, 3),
        ("100%", 10, 10),
        ("0%", 10, 0),
        ("10%", 10, 1),
        ("10%", 11, 2),  # percentages round up
        ("10%", 0, 0),
        ("5", 3, 5),
    ],
)
def test_allowed_disruptions(nodes: str, budget: int, allowed: int) -> None:
    assert allowed_disruptions([Budget(nodes)], budget, "Empty") == allowed


def test_the_most_restrictive_budget_for_the_reason_wins() -> None:
    budgets = [Budget("50%"), Budget("1", reasons=("Underutilized",))]
    assert allowed_disruptions(budgets, 10, "Underutilized") == 1
    assert allowed_disruptions(budgets, 10, "Empty") == 5
    assert budget_mapping({"a": budgets}, {"a": 10}, {"a": 3}, "Empty") == {"a": 2}
    assert budget_mapping({"a": budgets}, {"a": 10}, {"a": 7}, "Empty") == {"a": 0}


# Consolidation: a small cluster and its simulation --------------------------------------


def node(name: str, instance: str, placed: Sequence[Pod], capacity: str = ON_DEMAND) -> Candidate:
    return Candidate(name, "default", offering(instance, capacity), tuple(placed))


def simulator(
    nodes: Sequence[Candidate], pools: Sequence[PoolTemplate], pending: Sequence[Pod] = ()
) -> Simulate:
    """Where the candidates' pods would go: the other nodes as they are (their pods on
    them), then new NodeClaims of `pools`."""

    def simulate(candidates: Sequence[Candidate]) -> Results:
        gone = {c.node for c in candidates}
        rooms = []
        for other in nodes:
            if other.node in gone:
                continue
            room = Room.empty(other.offering.shape, other.node)
            for placed in other.pods:
                room.take(placed)
            rooms.append(room)
        moving = [p for c in candidates for p in c.pods]
        return solve([*moving, *pending], rooms, pools)

    return simulate


def budgets(allowed: int = 10) -> dict[str, int]:
    return {"default": allowed}


def test_can_delete_nodes() -> None:
    """consolidation_test "can delete nodes": a node's pods fit on the other node."""
    a = node("a", "m5.xlarge", pods(1, 1.0, prefix="a"))
    b = node("b", "m5.xlarge", pods(1, 1.0, prefix="b"))
    command = SingleNodeConsolidation().compute([a, b], budgets(), simulator([a, b], [pool()]))
    assert command is not None and command.decision == "delete"
    assert [c.node for c in command.candidates] == ["a"]


def test_the_issues_example_two_half_empty_2xlarge_become_one_xlarge() -> None:
    """Two m5.2xlarge, each with two 1-vCPU / 2 GiB pods (a quarter used, under half):
    the four pods fit one m5.xlarge ($0.192 < 2 x $0.384): multi-node consolidation
    replaces both by it, saving $0.576 an hour."""
    a = node("a", "m5.2xlarge", pods(2, 1.0, 2.0, prefix="a"))
    b = node("b", "m5.2xlarge", pods(2, 1.0, 2.0, prefix="b"))
    m5 = pool(Requirements(families=("m5",)))
    command = MultiNodeConsolidation().compute([a, b], budgets(), simulator([a, b], [m5]))
    assert command is not None and command.decision == "replace"
    assert [c.node for c in command.candidates] == ["a", "b"]
    assert command.replacement is not None and command.replacement.name == "m5.xlarge"
    assert command.savings_usd_per_hour == pytest.approx(0.576)


def test_can_merge_3_nodes_into_1() -> None:
    """Three m5.large with one 0.9-vCPU pod each. The binary search tries the first two
    (one pod fits the third node, the other a t3.medium: valid), then all three: 2.7
    vCPU on one m5.xlarge, $0.192 < 3 x $0.096: the longest prefix wins."""
    nodes = [node(n, "m5.large", pods(1, 0.9, prefix=n)) for n in "abc"]
    m5 = pool(Requirements(families=("m5", "t3")))
    command = MultiNodeConsolidation().compute(nodes, budgets(), simulator(nodes, [m5]))
    assert command is not None and len(command.candidates) == 3
    assert command.replacement is not None and command.replacement.name == "m5.xlarge"


def test_wont_merge_2_nodes_into_1_of_the_same_type() -> None:
    """Two m5.large and an m5.2xlarge's pods need an m5.2xlarge again: replacing them by
    one is only deleting (filterOutSameInstanceType), and a replacement must be cheaper
    than the cheapest candidate of its type; no cheaper option holds the pods."""
    big = node("big", "m5.2xlarge", pods(1, 3.0, prefix="x"))
    small_a = node("sa", "m5.large", pods(1, 1.5, prefix="a"))
    small_b = node("sb", "m5.large", pods(1, 1.5, prefix="b"))
    m5 = pool(Requirements(families=("m5",), sizes=("large", "2xlarge")))
    nodes = [big, small_a, small_b]
    command = MultiNodeConsolidation().compute(nodes, budgets(), simulator(nodes, [m5]))
    assert command is None


def test_wont_replace_on_demand_node_if_on_demand_replacement_is_more_expensive() -> None:
    """A c5.large's 1.5-vCPU / 3 GiB pod fits nothing cheaper among the pool's types."""
    only = node("a", "c5.large", pods(1, 1.5, 3.0))
    pools = [pool(Requirements(instance_types=("c5.large", "m5.large")))]
    assert SingleNodeConsolidation().compute([only], budgets(), simulator([only], pools)) is None


def test_can_replace_node_with_a_cheaper_one() -> None:
    """An m5.2xlarge with one 1-vCPU pod is replaced by the cheapest type holding it."""
    only = node("a", "m5.2xlarge", pods(1, 1.0))
    command = SingleNodeConsolidation().compute([only], budgets(), simulator([only], [pool()]))
    assert command is not None and command.replacement is not None
    assert command.replacement.name == "t3.medium"


def test_on_demand_replaced_by_spot_when_the_pool_allows_both() -> None:
    both = pool(Requirements(capacity_types=(ON_DEMAND, SPOT)))
    only = node("a", "m5.2xlarge", pods(1, 1.0))
    command = SingleNodeConsolidation().compute([only], budgets(), simulator([only], [both]))
    assert command is not None and command.replacement is not None
    assert (command.replacement.name, command.replacement.capacity_type) == ("t3.medium", SPOT)


def test_spot_to_spot_consolidation_is_off_by_default() -> None:
    """consolidation_test "cannot replace spot with spot if the spotToSpotConsolidation is
    disabled": a spot node is not replaced by a cheaper spot node (deleting still works)."""
    spot_pool = pool(Requirements(capacity_types=(SPOT,)))
    only = node("a", "m5.2xlarge", pods(1, 1.0), SPOT)
    assert (
        SingleNodeConsolidation().compute([only], budgets(), simulator([only], [spot_pool])) is None
    )


def test_wont_delete_nodes_if_it_would_make_a_pod_go_pending() -> None:
    a = node("a", "m5.large", pods(1, 1.5, prefix="a"))
    b = node("b", "m5.large", pods(1, 1.5, prefix="b"))
    no_new_nodes = PoolTemplate("default", ())
    simulate = simulator([a, b], [no_new_nodes])
    assert SingleNodeConsolidation().compute([a, b], budgets(), simulate) is None
    assert MultiNodeConsolidation().compute([a, b], budgets(), simulate) is None


def test_budgets_limit_how_many_empty_nodes_go() -> None:
    """ "should only allow 3 empty nodes to be disrupted": 10 empty nodes, a 30 % budget."""
    nodes = [node(f"n{i}", "m5.large", ()) for i in range(10)]
    allowed = budget_mapping({"default": [Budget("30%")]}, {"default": 10}, {}, "Empty")
    command = Emptiness().compute(nodes, allowed, simulator(nodes, [pool()]))
    assert command is not None and len(command.candidates) == 3
    assert Emptiness().compute(nodes, {"default": 0}, simulator(nodes, [pool()])) is None


def test_consolidation_candidates_follow_the_policy_and_consolidate_after() -> None:
    busy = node("a", "m5.large", pods(1, 1.0))
    empty = node("b", "m5.large", ())
    when_empty = Candidate("c", "default", offering("m5.large"), busy.pods, policy=WHEN_EMPTY)
    waiting = Candidate("d", "default", offering("m5.large"), busy.pods, consolidatable=False)
    never = Candidate("e", "default", offering("m5.large"), (), consolidation=False)
    single, multi, emptiness = SingleNodeConsolidation(), MultiNodeConsolidation(), Emptiness()
    assert [
        c.node for c in (busy, empty, when_empty, waiting, never) if single.should_disrupt(c)
    ] == ["a"]
    assert [c.node for c in (busy, empty, when_empty) if multi.should_disrupt(c)] == ["a"]
    assert [c.node for c in (busy, empty, never) if emptiness.should_disrupt(c)] == ["b"]


def test_the_node_with_the_best_savings_ratio_goes_first() -> None:
    """ "should consolidate the node with best savings ratio first": price over (1 + pods)."""
    cheap = node("cheap", "m5.large", pods(1, 0.5, prefix="c"))  # 0.096 / 2
    dear = node("dear", "m5.xlarge", pods(1, 0.5, prefix="d"))  # 0.192 / 2
    command = SingleNodeConsolidation().compute(
        [cheap, dear], budgets(), simulator([cheap, dear], [pool()])
    )
    assert isinstance(command, Command) and command.candidates[0].node == "dear"
