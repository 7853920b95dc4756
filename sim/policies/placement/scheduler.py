"""``scheduler``: kube-scheduler's framework with the cluster's profile (``cluster.scheduler``):
every filter, then the weighted scores of the profile's plugins, ties at random."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind
from sim.policies.placement import ProfilePlacement


@dataclass(frozen=True, slots=True)
class SchedulerPlacementParams:
    pass


def build(params: SchedulerPlacementParams) -> ProfilePlacement:
    return ProfilePlacement()


KIND = Kind(
    "scheduler",
    SchedulerPlacementParams,
    build,
    "kube-scheduler's filters and weighted scores (the profile cluster.scheduler)",
)
