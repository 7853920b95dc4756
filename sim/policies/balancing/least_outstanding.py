"""``least_outstanding``: the replica with the fewest outstanding requests"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.core.settings import Kind


@dataclass(frozen=True, slots=True)
class LeastOutstandingParams:
    pass


class LeastOutstanding:
    """The replica with the fewest outstanding requests; ties in rotation."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = -1

    def choose(self, loads: Sequence[int], rng: np.random.Generator) -> int:
        count = len(loads)
        first = (self._last + 1) % count
        best_index = first
        best_load = loads[first]
        for offset in range(1, count):
            if best_load == 0:
                break
            index = (first + offset) % count
            load = loads[index]
            if load < best_load:
                best_index, best_load = index, load
        self._last = best_index
        return best_index


def build(params: LeastOutstandingParams) -> LeastOutstanding:
    return LeastOutstanding()


KIND = Kind(
    "least_outstanding",
    LeastOutstandingParams,
    build,
    "the replica with the fewest outstanding requests",
)
