"""``random``: a replica uniformly at random"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.core.settings import Kind


@dataclass(frozen=True, slots=True)
class RandomParams:
    pass


class RandomChoice:
    """A replica uniformly at random."""

    __slots__ = ()

    def choose(self, loads: Sequence[int], rng: np.random.Generator) -> int:
        count = len(loads)
        return min(int(rng.random() * count), count - 1)


def build(params: RandomParams) -> RandomChoice:
    return RandomChoice()


KIND = Kind("random", RandomParams, build, "a replica uniformly at random")
