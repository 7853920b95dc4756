"""Snapshotters: how a host's container engine lays out image layers, and so when a
container may start. One module per kind.

* ``overlayfs`` (the default): every missing layer is downloaded whole and extracted,
  in layer order, before the container is created — as Docker's and containerd's
  default overlay storage does;
* ``lazy``: a remote snapshotter (eStargz, SOCI, Nydus): the container starts once the
  manifest, each missing layer's table of contents and its prefetched part have arrived;
  the app reads the rest of what it needs on demand, range by range, while each layer
  streams in the background.

Each kind module holds its parameter dataclass (a `SnapshotterParams`) and declares
``KIND``. A config chooses one with ``cluster.engine.snapshotter: lazy`` (or
``{kind: lazy, startup_read_fraction: 0.1, prefetch: 1}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.core.settings import Family

SNAPSHOTTERS = Family(
    "snapshotter",
    __name__,
    summary="how an engine stores layers and when a container may start "
    "(cluster.engine.snapshotter)",
)


@dataclass(frozen=True, slots=True)
class SnapshotterParams:
    """What the engine asks a snapshotter: whether it pulls lazily and, if so, how many
    bytes of a layer a container needs before it starts."""

    @property
    def lazy(self) -> bool:
        """Whether a container starts before its layers have fully arrived."""
        return False

    def startup_bytes(self, compressed_bytes: int, read_fraction: float | None) -> int:
        """The bytes of a layer (`compressed_bytes` in all) fetched before the start.

        Args:
            compressed_bytes: the layer's blob size.
            read_fraction: the app's own share read at start-up, or None for the
                snapshotter's.
        """
        return compressed_bytes

    def on_demand_bytes(self, compressed_bytes: int, read_fraction: float | None) -> int:
        """The bytes of a layer the app reads on demand while the layer streams."""
        return 0

    @property
    def background_delay_s(self) -> float:
        """How long after a container may start its layers' rest begins to stream."""
        return 0.0


def build(params: SnapshotterParams, **context: Any) -> SnapshotterParams:
    """A snapshotter contributes its parameters; the engine does the work."""
    return params


__all__ = ["SNAPSHOTTERS", "SnapshotterParams", "build"]
