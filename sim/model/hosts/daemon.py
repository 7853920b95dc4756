"""What a pull, and a cohort of pulls, use of a host's daemon (`sim.model.hosts.engine`)."""

from __future__ import annotations

from typing import Protocol

from sim.model.images.download import FetchSettings
from sim.model.images.lazy_download import LazyDaemon
from sim.model.images.snapshotters import SnapshotterParams


class PullSettings(FetchSettings, Protocol):
    """The daemon settings a pull follows."""

    @property
    def snapshotter(self) -> SnapshotterParams: ...


class FetchingDaemon(LazyDaemon, Protocol):
    """A daemon as the layer fetches of its pulls use it, with its pull settings."""

    @property
    def params(self) -> PullSettings: ...
