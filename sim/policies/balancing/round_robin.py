"""``round_robin``: each ready replica in turn"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.core.settings import Kind


@dataclass(frozen=True, slots=True)
class RoundRobinParams:
    pass


class RoundRobin:
    """Each ready replica in turn."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = 0

    def choose(self, loads: Sequence[int], rng: np.random.Generator) -> int:
        index = self._next % len(loads)
        self._next = index + 1
        return index


def build(params: RoundRobinParams) -> RoundRobin:
    return RoundRobin()


KIND = Kind("round_robin", RoundRobinParams, build, "each ready replica in turn")
