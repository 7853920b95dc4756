"""``overlayfs``: every missing layer is downloaded whole, then extracted in layer order,
before the container is created (Docker's ``overlay2`` and containerd's ``overlayfs``
snapshotter, their defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind
from sim.model.images.snapshotters import SnapshotterParams, build


@dataclass(frozen=True, slots=True)
class OverlayfsParams(SnapshotterParams):
    pass


KIND = Kind("overlayfs", OverlayfsParams, build, "whole layers, extracted before the start")
