"""ImageLocality: prefer nodes that already hold the pod's images.

After ``pkg/scheduler/framework/plugins/imagelocality/image_locality.go``. For each of
the pod's images a node holds, its size times the share of all nodes holding it (the
``spread``, which keeps every pod from heading for the one node that pulled first) is
summed, clamped to [23 MiB, 1000 MiB x containers] and scaled to 0-100:
``100 * (sum - 23 MiB) / (1000 MiB x containers - 23 MiB)``, in integers.

Which images a node holds is what it reports (`NodeInfo.images`): in the model, the
images its layer store holds whole (see `sim.model.images.store.ReportedImages`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sim.policies.scheduling.objects import NodeInfo, PodInfo
from sim.policies.scheduling.plugin import MAX_NODE_SCORE, RawScores

NAME = "ImageLocality"
MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def image_score(sum_scores: int, containers: int) -> int:
    """The node's score from its summed image scores (``calculatePriority``)."""
    max_threshold = MAX_CONTAINER_THRESHOLD * containers
    clamped = min(max(sum_scores, MIN_THRESHOLD), max_threshold)
    return MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


@dataclass(frozen=True, slots=True)
class ImageLocality(RawScores):
    """The ImageLocality plugin: a score."""

    name: str = NAME

    def pre_score(
        self, pod: PodInfo, feasible: Sequence[NodeInfo], nodes: Sequence[NodeInfo]
    ) -> Any:
        """How many of all the cluster's nodes hold each of the pod's images."""
        holders = {image: 0 for image in pod.images}
        for node in nodes:
            for image in holders:
                if image in node.images:
                    holders[image] += 1
        return holders, len(nodes)

    def score(self, pod: PodInfo, node: NodeInfo, state: Any) -> int:
        holders, total = state
        summed = 0
        for image in pod.images:
            size = node.images.get(image)
            if size is not None:
                summed += int(size * (holders[image] / total))
        return image_score(summed, max(len(pod.images), 1))
