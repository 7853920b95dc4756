"""``binpack``: Kubernetes MostAllocated: hosts fill one after another, so empty ones can
be scaled away."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.core.settings import Kind
from sim.policies.placement import (
    HostView,
    PlacementRequest,
    Rank,
    best_ranked,
    used_fraction_after,
)


@dataclass(frozen=True, slots=True)
class BinPackParams:
    pass


class BinPack:
    """The fitting host with the most in use after placement.

    Ties go to the earlier host in the sequence, so identical hosts fill in order.
    """

    name = "binpack"

    def rank(self, request: PlacementRequest, host: HostView) -> Rank:
        return (-used_fraction_after(request, host),)

    def choose(self, request: PlacementRequest, hosts: Sequence[HostView]) -> str | None:
        return best_ranked(self, request, hosts)


def build(params: BinPackParams) -> BinPack:
    return BinPack()


KIND = Kind("binpack", BinPackParams, build, "the host with the most in use (MostAllocated)")
