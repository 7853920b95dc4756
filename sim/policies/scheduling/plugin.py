"""The two kinds of scheduler plugin and what they share.

A *filter* plugin says whether a pod may go to a node (``Filter``), after looking once
at the whole cluster for the pod (``PreFilter``: what a filter of each node needs, such
as topology spread counts). A *score* plugin rates each node that passed every filter
with an integer (``Score``), after looking once at the candidates (``PreScore``), and
may rescale the scores of all candidates to 0..100 (``NormalizeScore``). The framework
multiplies each plugin's normalised scores by the plugin's weight in the profile and
adds them up (``pkg/scheduler/framework/interface.go``; ``runtime/framework.go``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sim.policies.scheduling.objects import NodeInfo, PodInfo

MAX_NODE_SCORE = 100
"""The highest score a plugin gives a node after normalisation."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a filter keeps a pod off a node.

    Attributes:
        reasons: upstream's reason strings (``Insufficient cpu``, ``Too many pods``).
        unresolvable: no change to other pods can make the node fit
            (``UnschedulableAndUnresolvable``: a missing label, an untolerated taint).
    """

    reasons: tuple[str, ...]
    unresolvable: bool = False


class Skip:
    """A pre-score answer: the plugin has nothing to say about this pod (``Skip``);
    its scores are left out of the sum."""

    def __repr__(self) -> str:
        return "SKIP"


SKIP = Skip()


class FilterPlugin(Protocol):
    """A plugin that keeps pods off nodes."""

    @property
    def name(self) -> str:
        """The plugin's name in profiles (``NodeResourcesFit``)."""
        ...

    def pre_filter(self, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Any:
        """What `filter` needs about the whole cluster for `pod` (None if nothing)."""
        ...

    def filter(self, pod: PodInfo, node: NodeInfo, state: Any) -> Rejection | None:
        """Why `pod` may not go to `node`, or None when it may."""
        ...


class ScorePlugin(Protocol):
    """A plugin that rates the nodes a pod may go to."""

    @property
    def name(self) -> str:
        """The plugin's name in profiles."""
        ...

    def pre_score(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo]
    ) -> Any:
        """What `score` and `normalize` need (`SKIP` to leave the plugin out).

        Args:
            pod: the pod being scheduled.
            feasible: the nodes that passed every filter, to be scored.
            nodes: every node of the cluster.
        """
        ...

    def score(self, pod: PodInfo, node: NodeInfo, state: Any) -> int:
        """The node's raw score."""
        ...

    def normalize(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], scores: list[int], state: Any
    ) -> list[int]:
        """The scores rescaled to 0..100 (the raw scores for a plugin without
        ``ScoreExtensions``)."""
        ...


def default_normalize_score(scores: Sequence[int], reverse: bool = False) -> list[int]:
    """Scores rescaled so the highest is 100 (``helper.DefaultNormalizeScore``).

    With `reverse`, the highest raw score gets 0. All zero: every node gets 0, or 100
    with `reverse`.
    """
    highest = max(scores, default=0)
    if highest == 0:
        return [MAX_NODE_SCORE if reverse else 0 for _ in scores]
    scaled = [MAX_NODE_SCORE * score // highest for score in scores]
    return [MAX_NODE_SCORE - score for score in scaled] if reverse else scaled


class NoPreFilter:
    """A filter plugin mixin for plugins that need no cluster-wide state."""

    def pre_filter(self, pod: PodInfo, nodes: Sequence[NodeInfo]) -> Any:
        return None


class RawScores:
    """A score plugin mixin for plugins whose raw scores are final (no normalisation)."""

    def normalize(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], scores: list[int], state: Any
    ) -> list[int]:
        return scores
