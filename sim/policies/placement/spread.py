"""``spread``: Kubernetes LeastAllocated: replicas spread out, so one host failing takes
few of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.core.settings import Kind
from sim.policies.placement import (
    HostView,
    PlacementRequest,
    Rank,
    best_ranked,
    free_fraction_after,
)


@dataclass(frozen=True, slots=True)
class SpreadParams:
    pass


class Spread:
    """The fitting host with the most left free after placement.

    Ties go to the host with fewer replicas, then to the earlier one in the sequence, so
    identical hosts take replicas in turn.
    """

    name = "spread"

    def rank(self, request: PlacementRequest, host: HostView) -> Rank:
        return (-free_fraction_after(request, host), host.replicas)

    def choose(self, request: PlacementRequest, hosts: Sequence[HostView]) -> str | None:
        return best_ranked(self, request, hosts)


def build(params: SpreadParams) -> Spread:
    return Spread()


KIND = Kind("spread", SpreadParams, build, "the host with the most left free (LeastAllocated)")
