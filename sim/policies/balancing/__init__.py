"""Load balancing: which ready replica a request goes to. One module per balancer.

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

Each balancer module declares ``KIND``; ``build(params)`` returns a fresh balancer (it
keeps state across calls). A service names its balancer (``balancer: round_robin``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from sim.core.settings import Family

BALANCING = Family(
    "balancer",
    __name__,
    summary="which ready replica a request goes to",
    homes={"random": "random_choice"},
)


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


def make_balancer(name: str) -> Balancer:
    """A fresh balancer of the kind a config names (one of `BALANCING`)."""
    kind = BALANCING[name]
    balancer: Balancer = kind.build(kind.params())
    return balancer
