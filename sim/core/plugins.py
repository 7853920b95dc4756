"""Kinds from other installed packages, through the ``sim.kinds`` entry-point group.

A package adds a kind to any family by declaring an entry point in the group
``sim.kinds``, named ``<family>.<label>`` after the family's name as ``sim-kinds`` shows it
(``autoscaler``, ``platform``, ``traffic-mode``...) and pointing at a module that declares
its kinds as the simulator's own modules do (``KIND = Kind(...)``, or ``KINDS``), or at a
`Kind` object itself (``module:ATTRIBUTE``)::

    [project.entry-points."sim.kinds"]
    "autoscaler.queue" = "sim_queue_policy.queue_length"

Nothing is imported until a family is asked for a kind its own package does not hold, or
is listed whole (``sim-kinds``, an unknown kind's error), so an installed plugin costs a
command nothing that does not use it.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sim.core.errors import ConfigError

GROUP = "sim.kinds"
"""The entry-point group through which other packages add kinds."""


@dataclass(frozen=True, slots=True)
class Declared:
    """What one entry point declares: the object it names, and the distribution that
    installed it (the kind's source package)."""

    target: ModuleType | Any
    source: str


def declared_for(family: str) -> list[Declared]:
    """What the installed packages declare for the family named `family`, in the order of
    their distribution and entry-point names (so listings do not depend on the order in
    which packages were installed).

    Raises:
        ConfigError: an entry point names a module or attribute that does not load (one
            line naming the entry point and the package that declared it).
    """
    points = [
        point
        for point in importlib.metadata.entry_points(group=GROUP)
        if point.name.split(".", 1)[0] == family
    ]
    points.sort(key=lambda point: (_source(point), point.name))
    declared = []
    for point in points:
        try:
            target = point.load()
        except Exception as error:
            raise ConfigError(
                GROUP,
                f"{point.name} = {point.value} (package {_source(point)})",
                f"an entry point that loads, not {type(error).__name__}: {error}",
            ) from None
        declared.append(Declared(target, _source(point)))
    return declared


def _source(point: importlib.metadata.EntryPoint) -> str:
    return point.dist.name if point.dist is not None else "?"
