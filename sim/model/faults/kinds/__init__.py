"""Faults: what fails during a run, when, and for how long. One module per kind.

A run's ``faults`` root key lists fault specs; each chooses a kind (``kind: host-crash``)
and a ``target`` (a host, a pool, a zone, a registry, as the kind allows). A fault is
*scheduled* (``at``, lasting ``duration``) or *stochastic* (``mtbf``: the time to the
next failure, ``mttr``: the time to repair, both distributions): a stochastic fault on a
pool or zone fails each of its hosts independently. Every stochastic draw comes from the
fault's own named stream (``faults/<kind>/<target>/<host>``), so adding a fault shifts
no other stream, and a run without faults draws exactly what it drew before.

Each kind module holds its parameter dataclass (a `FaultParams`) and declares
``KIND = Kind(name, Params, build)``; ``build(params, world)`` returns the SimPy
process bodies that inject the fault into the `FaultWorld` (`sim.model.faults.resilience`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
import simpy

from sim.core.distributions import Distribution
from sim.core.errors import ConfigError
from sim.core.settings import Family, setting

FAULTS = Family(
    "fault",
    __name__,
    summary="what fails during a run, when and for how long (faults: [...])",
)


@dataclass(frozen=True, kw_only=True)
class FaultParams:
    """The settings every fault has: what it hits and when (SI units)."""

    target: str = setting(
        doc="what fails: a host, pool, zone, registry or the app, as its kind allows"
    )
    at_s: float | None = setting(None, unit="duration", doc="scheduled: when it fails")
    duration_s: float | None = setting(
        None, unit="duration", doc="scheduled: how long until it recovers (none: never)"
    )
    mtbf: Distribution | None = setting(None, doc="stochastic: time to each failure (s)")
    mttr: Distribution | None = setting(None, doc="stochastic: time to repair (s)")

    def __post_init__(self) -> None:
        if (self.at_s is None) == (self.mtbf is None):
            raise ConfigError(
                "at", "missing" if self.at_s is None else self.at_s, "either at or mtbf, not both"
            )
        if self.mttr is not None and self.mtbf is None:
            raise ConfigError("mttr", "set", "only with mtbf (a scheduled fault has duration)")

    @property
    def target_classes(self) -> tuple[str, ...]:
        """What its target may name: ``host``, ``pool``, ``zone``, ``registry``."""
        return ("host", "pool")


class FaultWorld(Protocol):
    """What a fault acts on (implemented by `sim.model.faults.resilience.Resilience`)."""

    env: simpy.Environment

    def hosts_of(self, target: str) -> Sequence[Any]:
        """The hosts a host, pool or zone target names, in order."""
        ...

    def stream(self, name: str) -> np.random.Generator:
        """The named random stream ``faults/<name>``."""
        ...

    def crash(self, hosts: Sequence[Any], fault: str, recovery: str) -> None:
        """The hosts fail now, together."""
        ...

    def recover(self, hosts: Sequence[Any], fault: str) -> None:
        """The hosts (down since a crash) are back."""
        ...

    def registry_down(self, registry: str, fault: str, down: bool) -> None:
        """The registry goes down (every request fails with 503) or comes back."""
        ...

    def fill_disk(
        self, host: Any, fault: str, fill_bytes: int, eviction_percent: float
    ) -> tuple[Any, int]:
        """Write up to `fill_bytes` to the disk of the host now in `host`'s place;
        returns that host and the bytes written."""
        ...

    def release_disk(
        self, host: Any, fault: str, filled_bytes: int, eviction_percent: float
    ) -> None:
        """Free what `fill_disk` wrote (on the host it returned)."""
        ...

    def link_down(self, ends: tuple[str, str], fault: str, down: bool) -> bool:
        """The link fails (cutting its flows) or works again; False when nothing changed."""
        ...

    def crash_containers(self, app: str, fault: str, restart: Distribution) -> None:
        """Every serving container of the app exits now."""
        ...

    def watch_containers(
        self, app: str, fault: str, lifetime: Distribution, restart: Distribution
    ) -> None:
        """Each container of the app exits a `lifetime` draw after it enters service."""
        ...


Process = Generator[simpy.Event, Any, None]


def fault_name(params: FaultParams, kind: str) -> str:
    """How events name a fault: ``host-crash:pool-2``."""
    return f"{kind}:{params.target}"


Held = TypeVar("Held")


def fault_windows(
    params: FaultParams,
    env: simpy.Environment,
    rng: np.random.Generator,
    begin: Callable[[], Held | None],
    end: Callable[[Held], object],
) -> Process:
    """A fault's windows: scheduled, one at ``at`` lasting ``duration``; stochastic, one
    after each ``mtbf`` draw lasting an ``mttr`` draw (drawn in that order). Without a
    length the first window never ends. `begin` starts a window and returns what `end`
    needs to close it, or None when the fault does not take (an overlapping one holds
    the target and will end it)."""
    while True:
        if params.at_s is not None:
            yield env.timeout(max(params.at_s - env.now, 0.0))
        else:
            assert params.mtbf is not None
            yield env.timeout(params.mtbf.sample(rng))
        held = begin()
        if held is None:
            return
        if params.at_s is not None:
            length_s = params.duration_s
        else:
            length_s = params.mttr.sample(rng) if params.mttr is not None else None
        if length_s is None:
            return
        yield env.timeout(length_s)
        end(held)
        if params.at_s is not None:
            return


def scheduled_or_stochastic(
    params: FaultParams,
    kind: str,
    world: FaultWorld,
    hosts: Sequence[Any],
    recovery: str,
    together: bool,
) -> list[Process]:
    """The processes of a host fault: one at its scheduled time on all `hosts`, or
    stochastic — one per host (`together`: one for all of them, a zone failing whole)."""
    name = fault_name(params, kind)
    if params.at_s is not None:
        return [_scheduled(params.at_s, params.duration_s, name, world, list(hosts), recovery)]
    groups = [list(hosts)] if together else [[host] for host in hosts]
    return [
        _stochastic(params, name, world, group, recovery, f"{kind}/{params.target}/{group[0].name}")
        for group in groups
    ]


def _scheduled(
    at_s: float,
    duration_s: float | None,
    name: str,
    world: FaultWorld,
    hosts: list[Any],
    recovery: str,
) -> Process:
    env = world.env
    yield env.timeout(max(at_s - env.now, 0.0))
    world.crash(hosts, name, recovery)
    if duration_s is None or recovery == "none":
        return
    yield env.timeout(duration_s)
    world.recover(hosts, name)


def _stochastic(
    params: FaultParams,
    name: str,
    world: FaultWorld,
    hosts: list[Any],
    recovery: str,
    stream: str,
) -> Process:
    env = world.env
    rng = world.stream(stream)
    assert params.mtbf is not None
    while True:
        yield env.timeout(params.mtbf.sample(rng))
        world.crash(hosts, name, recovery)
        if params.mttr is None or recovery == "none":
            return
        yield env.timeout(params.mttr.sample(rng))
        world.recover(hosts, name)


__all__ = [
    "FAULTS",
    "FaultParams",
    "FaultWorld",
    "Process",
    "fault_name",
    "fault_windows",
    "scheduled_or_stochastic",
]
