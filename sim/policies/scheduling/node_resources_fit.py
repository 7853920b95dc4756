"""NodeResourcesFit: whether a node has room for a pod, and how full it would be.

After ``pkg/scheduler/framework/plugins/noderesources/fit.go`` and its scoring
strategies (``least_allocated.go``, ``most_allocated.go``,
``requested_to_capacity_ratio.go``, ``resource_allocation.go``).

Filter: the node must have room for one more pod (``Too many pods``: its pods plus this
one above its allocatable pod count, the kubelet's ``maxPods``), and, unless the pod
requests nothing, the CPU and memory it requests on top of what the node's pods request
(``Insufficient cpu``, ``Insufficient memory``; both when both are short).

Score, per resource with allocatable above 0 (a resource the node has none of is left
out), weighted by the strategy's resource weights, in integers:

* ``LeastAllocated``: ``(allocatable - requested) * 100 / allocatable``, 0 when over;
* ``MostAllocated``: ``requested * 100 / allocatable``, 100 when over;
* ``RequestedToCapacityRatio``: a broken-linear function of the utilisation
  (``requested * 100 / allocatable``, 100 when over) through the shape's points, whose
  scores (0-10) are scaled to 0-100; only resources that score above 0 count in the
  weighted mean, which is rounded.

``requested`` is the node's pods plus this pod, each pod counting a missing request as
100 m CPU and 200 MiB (``NonZeroRequested``). The node's score is the weighted mean,
rounded down (rounded for ``RequestedToCapacityRatio``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sim.policies.scheduling.objects import NodeInfo, PodInfo
from sim.policies.scheduling.plugin import MAX_NODE_SCORE, NoPreFilter, RawScores, Rejection

NAME = "NodeResourcesFit"

Strategy = Literal["LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"]
STRATEGIES: tuple[str, ...] = ("LeastAllocated", "MostAllocated", "RequestedToCapacityRatio")

MAX_CUSTOM_PRIORITY_SCORE = 10
"""The top of a shape's score scale (``config.MaxCustomPriorityScore``)."""

DEFAULT_SHAPE: tuple[tuple[int, int], ...] = ((0, 10), (100, 0))
"""RequestedToCapacityRatio's default shape: utilisation 0 scores 10, 100 scores 0."""


def insufficient_resources(pod: PodInfo, node: NodeInfo) -> tuple[str, ...]:
    """Upstream's reasons why `pod` does not fit on `node` (``fitsRequest``), in its
    order: pods, then CPU, then memory; empty when it fits."""
    reasons: list[str] = []
    if len(node.pods) + 1 > node.allocatable.pods:
        reasons.append("Too many pods")
    cpu, memory = pod.request_milli_cpu, pod.request_memory_bytes
    if cpu == 0 and memory == 0:
        return tuple(reasons)
    if node.allocatable.milli_cpu < cpu + node.requested_milli_cpu:
        reasons.append("Insufficient cpu")
    if node.allocatable.memory_bytes < memory + node.requested_memory_bytes:
        reasons.append("Insufficient memory")
    return tuple(reasons)


def least_requested_score(requested: int, capacity: int) -> int:
    """The share of `capacity` left once `requested` is taken, 0-100 (0 when over)."""
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def most_requested_score(requested: int, capacity: int) -> int:
    """The share of `capacity` taken by `requested`, 0-100 (100 when over)."""
    if capacity == 0:
        return 0
    return min(requested, capacity) * MAX_NODE_SCORE // capacity


def _go_division(numerator: int, denominator: int) -> int:
    """Integer division rounding toward zero, as Go's ``/`` on integers."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def broken_linear(shape: Sequence[tuple[int, int]], utilization: int) -> int:
    """The piecewise-linear function through the shape's (utilisation, score) points,
    flat beyond them, in Go's integer arithmetic (``helper.BuildBrokenLinearFunction``)."""
    for index, (point, score) in enumerate(shape):
        if utilization <= point:
            if index == 0:
                return score
            previous_point, previous_score = shape[index - 1]
            step = _go_division(
                (score - previous_score) * (utilization - previous_point), point - previous_point
            )
            return previous_score + step
    return shape[-1][1]


def _round_half_away(value: float) -> int:
    """Go's ``math.Round``: halves away from zero."""
    whole = int(abs(value) + 0.5)
    return whole if value >= 0 else -whole


@dataclass(frozen=True, slots=True)
class ResourceFit(NoPreFilter, RawScores):
    """The NodeResourcesFit plugin: a filter and a score.

    Args:
        strategy: how nodes are scored.
        resources: the weight of each resource (``cpu``, ``memory``) in the score.
        shape: RequestedToCapacityRatio's (utilisation, score 0-10) points, ascending.
    """

    strategy: Strategy = "LeastAllocated"
    resources: Mapping[str, int] | None = None
    shape: tuple[tuple[int, int], ...] = DEFAULT_SHAPE
    name: str = NAME

    def filter(self, pod: PodInfo, node: NodeInfo, state: Any) -> Rejection | None:
        reasons = insufficient_resources(pod, node)
        return Rejection(reasons) if reasons else None

    def pre_score(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo]
    ) -> Any:
        return None

    def _weights(self) -> Mapping[str, int]:
        return self.resources if self.resources is not None else {"cpu": 1, "memory": 1}

    def score(self, pod: PodInfo, node: NodeInfo, state: Any) -> int:
        """The node's score for `pod` under the strategy (see the module docstring)."""
        pairs = []
        for resource, weight in self._weights().items():
            if resource == "cpu":
                allocatable = node.allocatable.milli_cpu
                requested = node.non_zero_milli_cpu + pod.non_zero_milli_cpu
            elif resource == "memory":
                allocatable = node.allocatable.memory_bytes
                requested = node.non_zero_memory_bytes + pod.non_zero_memory_bytes
            else:
                continue
            if allocatable:
                pairs.append((requested, allocatable, weight))
        if self.strategy == "RequestedToCapacityRatio":
            return self._ratio_score(pairs)
        scorer = (
            least_requested_score if self.strategy == "LeastAllocated" else most_requested_score
        )
        weight_sum = sum(weight for _, _, weight in pairs)
        if weight_sum == 0:
            return 0
        return sum(scorer(r, a) * w for r, a, w in pairs) // weight_sum

    def _ratio_score(self, pairs: Sequence[tuple[int, int, int]]) -> int:
        scale = MAX_NODE_SCORE // MAX_CUSTOM_PRIORITY_SCORE
        shape = tuple((point, score * scale) for point, score in self.shape)
        node_score = weight_sum = 0
        for requested, allocatable, weight in pairs:
            utilization = (
                MAX_NODE_SCORE
                if requested >= allocatable
                else max(requested, 0) * MAX_NODE_SCORE // allocatable
            )
            resource_score = broken_linear(shape, utilization)
            if resource_score > 0:
                node_score += resource_score * weight
                weight_sum += weight
        if weight_sum == 0:
            return 0
        return _round_half_away(node_score / weight_sum)
