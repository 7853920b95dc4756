"""``sim-kinds``: every family of kinds, every kind, and each kind's settings.

``sim-kinds`` lists them all; ``sim-kinds <family>`` only that family (``platform``,
``registry``, ``arrivals``, ``autoscaler``, ``composite-member``, ``placement``,
``balancer``, ``snapshotter``, ``traffic-mode``, ``fault``, ``node-scaler``), or one section of
settings that is not a kind (``cluster``: pools with their reserves, DaemonSets, engine).
Each setting shows its config
key, its default exactly as a config writes it (or ``(required)``), what it may be (unit,
range, words) and what it does — all read from the kinds' parameter dataclasses, the one
place defaults live.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from sim.config.reference import family_lines, settings_lines
from sim.config.sections import ClusterSpec, PoolSpec
from sim.core.settings import Family
from sim.model.cluster.scalers import NODE_SCALERS
from sim.model.faults.kinds import FAULTS
from sim.model.images.registries import REGISTRIES
from sim.model.images.snapshotters import SNAPSHOTTERS
from sim.model.platforms import PLATFORMS
from sim.model.service.arrivals import ARRIVALS
from sim.model.service.traffic_modes import TRAFFIC_MODES
from sim.policies.autoscaling import AUTOSCALING
from sim.policies.autoscaling.composite import COMPOSABLE
from sim.policies.balancing import BALANCING
from sim.policies.placement import PLACEMENT

FAMILIES: tuple[Family, ...] = (
    PLATFORMS,
    REGISTRIES,
    ARRIVALS,
    AUTOSCALING,
    COMPOSABLE,
    PLACEMENT,
    BALANCING,
    SNAPSHOTTERS,
    TRAFFIC_MODES,
    FAULTS,
    NODE_SCALERS,
)
"""Every family of kinds a config chooses from, in the order `sim-kinds` lists them."""

USAGE = "usage: sim-kinds [FAMILY | cluster]"


def cluster_lines() -> list[str]:
    """The cluster section's settings, each pool's below them."""
    return [
        "cluster: host pools, their reserves, DaemonSets, engine and node scaler (not a kind;"
        " the scaler's kinds: sim-kinds node-scaler)",
        *settings_lines(ClusterSpec, "  "),
        "cluster.pools.<name>: a pool of identical hosts",
        *settings_lines(PoolSpec, "  "),
    ]


def command_name(family: Family) -> str:
    """The name `sim-kinds` takes for a family (its name, spaces as dashes)."""
    return family.name.replace(" ", "-")


def kinds_lines(arguments: Sequence[str]) -> list[str]:
    """What ``sim-kinds`` prints for its arguments.

    Raises:
        ValueError: a usage error, as its one line.
    """
    names = {command_name(family): family for family in FAMILIES}
    if len(arguments) > 1 or (arguments and arguments[0].startswith("-")):
        if arguments and arguments[0] in ("-h", "--help"):
            return [USAGE, "", (__doc__ or "").strip()]
        raise ValueError(f"{USAGE} (one family at most: {', '.join(names)})")
    if arguments == ["cluster"]:
        return cluster_lines()
    if arguments and arguments[0] not in names:
        raise ValueError(f"family: {arguments[0]!r}: one of {', '.join(names)}, cluster")
    chosen = [names[arguments[0]]] if arguments else list(FAMILIES)
    lines: list[str] = []
    for family in chosen:
        if lines:
            lines.append("")
        lines += family_lines(family)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        lines = kinds_lines(arguments)
    except ValueError as error:
        print(f"sim-kinds: {error}", file=sys.stderr)
        return 2
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:  # a reader such as `head` stopped reading: nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
