"""Building pods and nodes for the scheduler plugins' tables, as upstream's test helpers
(``st.MakePod``, ``st.MakeNode``) do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.policies.scheduling.objects import (
    LabelSelector,
    NodeInfo,
    PodInfo,
    Requirement,
    Resources,
)
from sim.policies.scheduling.plugin import FilterPlugin, Rejection, ScorePlugin, Skip


def make_pod(name: str = "p", labels: dict[str, str] | None = None, **fields: Any) -> PodInfo:
    """A pod with no requests unless given."""
    return PodInfo(name, labels=labels or {}, **fields)


def make_node(
    name: str,
    labels: dict[str, str] | None = None,
    pods: Sequence[PodInfo] = (),
    cpu: int = 4000,
    memory: int = 16 * 2**30,
    max_pods: int = 110,
    **fields: Any,
) -> NodeInfo:
    """A node without the automatic hostname label unless `labels` gives one (upstream's
    test nodes carry only the labels they are given)."""
    node = NodeInfo(name, labels, Resources(cpu, memory, max_pods), **fields)
    if labels is None or "kubernetes.io/hostname" not in labels:
        del node.labels["kubernetes.io/hostname"]
    return node.with_pods(pods)


def exists(key: str) -> LabelSelector:
    """A selector of pods that have label `key`."""
    return LabelSelector((), (Requirement(key, "Exists"),))


def labelled(key: str, node: str, count: int, prefix: str = "p") -> list[PodInfo]:
    """`count` pods labelled `key` (any value), named after `node`."""
    return [make_pod(f"{prefix}-{node}{i}", {key: ""}) for i in range(count)]


def run_filter(
    plugin: FilterPlugin, pod: PodInfo, nodes: Sequence[NodeInfo]
) -> dict[str, Rejection | None]:
    """Each node's filter answer, after the plugin's PreFilter over `nodes`."""
    state = plugin.pre_filter(pod, nodes)
    return {node.name: plugin.filter(pod, node, state) for node in nodes}


def run_score(
    plugin: ScorePlugin,
    pod: PodInfo,
    feasible: Sequence[NodeInfo],
    nodes: Sequence[NodeInfo] | None = None,
) -> dict[str, int]:
    """Each feasible node's normalised score (0 for all when the plugin skips)."""
    everyone = feasible if nodes is None else nodes
    state = plugin.pre_score(pod, feasible, everyone)
    if isinstance(state, Skip):
        return {node.name: 0 for node in feasible}
    raw = [plugin.score(pod, node, state) for node in feasible]
    normalized = plugin.normalize(pod, feasible, raw, state)
    return {node.name: score for node, score in zip(feasible, normalized, strict=True)}
