"""``public``: a Docker Hub-like registry: anyone may pull, usually within a pull-rate
limit per client address (Docker Hub: 100 anonymous pulls per 6 hours in the
documentation this model follows; set ``pull_limit``)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind
from sim.model.images.registries import RegistryParams, build


@dataclass(frozen=True, kw_only=True)
class PublicParams(RegistryParams):
    pass


KIND = Kind("public", PublicParams, build, "anyone may pull; a pull limit per client if set")
