"""``mirror``: a pull-through cache of another registry: it serves what it holds and
fetches a miss from its upstream once, however many clients wait for it (the mirror is
the upstream's client). ``preload`` names catalog images it holds from the start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sim.core.settings import Kind, setting
from sim.model.images import Image
from sim.model.registries import RegistryParams, build


@dataclass(frozen=True, kw_only=True)
class MirrorParams(RegistryParams):
    upstream: str = setting(doc="the registry it mirrors")
    preload: tuple[str, ...] = setting((), doc="catalog images it holds from the start")

    @property
    def upstream_name(self) -> str | None:
        return self.upstream

    def published(self, catalog: Mapping[str, Image]) -> list[Image]:
        return [catalog[name] for name in self.preload]


KIND = Kind("mirror", MirrorParams, build, "a pull-through cache of another registry")
