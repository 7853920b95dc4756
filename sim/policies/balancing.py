"""Load balancing: which ready replica a request goes to.

A balancer sees the replicas that are ready, in a fixed order (the order they became
ready), as their numbers of outstanding requests — assigned and not yet finished — and
answers with an index into that order. It is called once per request, so it is cheap:
`RoundRobin` and `RandomChoice` only look at how many replicas there are, and the
loads they are given may be computed lazily, element by element.

* `RoundRobin`: replicas in turn, like an Elastic Load Balancer's round robin or
  nginx's default. A counter is kept across calls; when the ready set grows or shrinks
  the rotation continues from the counter modulo the new size.
* `LeastOutstanding`: the replica with the fewest outstanding requests (ALB's "least
  outstanding requests", nginx's ``least_conn``). Ties are broken in rotation: the
  search starts just after the replica chosen last, so idle replicas share the load
  instead of the first one taking every request at low load.
* `RandomChoice`: uniformly at random, one ``rng.random()`` draw per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Balancer(Protocol):
    """Chooses the replica a request goes to."""

    def choose(self, loads: Sequence[int], rng: np.random.Generator) -> int:
        """The index of the chosen replica.

        Args:
            loads: outstanding requests per ready replica, in the fixed ready order;
                never empty.
            rng: the balancing stream, for balancers that draw.
        """
        ...


class RoundRobin:
    """Each ready replica in turn."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = 0

    def choose(self, loads: Sequence[int], rng: np.random.Generator) -> int:
        index = self._next % len(loads)
        self._next = index + 1
        return index


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


class RandomChoice:
    """A replica uniformly at random."""

    __slots__ = ()

    def choose(self, loads: Sequence[int], rng: np.random.Generator) -> int:
        count = len(loads)
        return min(int(rng.random() * count), count - 1)


BALANCERS: dict[str, type[Balancer]] = {
    "round_robin": RoundRobin,
    "least_outstanding": LeastOutstanding,
    "random": RandomChoice,
}
"""The balancers a config can name, by name; each is built with no arguments."""
