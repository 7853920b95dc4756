"""Arrival processes: when requests arrive. One module per kind, found by listing.

An arrival process is a stream of arrival times. `ArrivalProcess.next_after` gives the
arrival that follows one at ``t_s`` (or the start of the run), ``math.inf`` when the
stream has ended; the traffic driver calls it once per request, so a process never holds
more than its own parameters. `rate_at` gives its intensity in requests per second (the
fluid traffic mode, plots and tests read it); a kind whose rate jumps or bends at known
times (an ``mmpp`` state's end, a trace's interval, a flash crowd's edges) also says when
the next such change comes (`RateChanges`), so the fluid mode cuts its pieces there.
Random processes draw from the generator they were given and own it: they use its
uniforms in order, one per draw, exactly as successive ``rng.random()`` calls would
return them, but fetched in blocks for speed (`sim.core.uniforms`); so the arrivals are
a pure function of the seed.

Each kind is a module of this package with a frozen parameter dataclass and
``KIND = Kind(name, Params, build)``, where ``build(params, rng)`` returns the process.
A config chooses one with ``arrivals: {kind: <name>, ...its settings}``.

A generated process begins when the service opens to traffic: its first arrival is
drawn from there. A *recorded* one (a trace of request times, `RecordedArrivals`) holds
requests at fixed times, some of which may come before the service opens; the traffic
counts those as dropped (``not started``) rather than losing them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from sim.core.settings import Family

ARRIVALS = Family(
    "arrivals",
    __name__,
    summary="when requests arrive (workload.traffic.arrivals)",
)


class ArrivalProcess(Protocol):
    """A stream of request arrival times, in simulated seconds."""

    def next_after(self, t_s: float) -> float:
        """The arrival following one at `t_s` (or the start at `t_s`); ``math.inf`` at the end.

        Later than `t_s` for generated processes; a replayed trace may repeat `t_s` when
        it recorded several requests at one instant.
        """
        ...

    def rate_at(self, t_s: float) -> float:
        """The arrival intensity at `t_s`, in requests per second."""
        ...


@runtime_checkable
class RecordedArrivals(Protocol):
    """An arrival process that replays requests recorded at fixed times."""

    def times_before(self, t_s: float) -> Sequence[float]:
        """The recorded arrival times strictly before `t_s`, in order."""
        ...


def recorded_before(arrivals: object, t_s: float) -> Sequence[float]:
    """The arrivals `arrivals` recorded before `t_s` (none for a generated process)."""
    return arrivals.times_before(t_s) if isinstance(arrivals, RecordedArrivals) else ()


class RateChanges(Protocol):
    """An arrival process whose rate changes (jumps or bends) at known times."""

    def next_change_after(self, t_s: float) -> float:
        """The first time after `t_s` at which the rate may jump or change slope;
        ``math.inf`` when it is constant or smooth from `t_s` on."""
        ...


def next_rate_change(process: ArrivalProcess, t_s: float) -> float:
    """When `process`'s rate next jumps or bends after `t_s` (``math.inf`` for a kind
    whose rate is constant or smooth: ``constant``, ``poisson``, ``diurnal``)."""
    changes = getattr(process, "next_change_after", None)
    return float(changes(t_s)) if changes is not None else math.inf


__all__ = [
    "ARRIVALS",
    "ArrivalProcess",
    "RateChanges",
    "RecordedArrivals",
    "next_rate_change",
    "recorded_before",
]
