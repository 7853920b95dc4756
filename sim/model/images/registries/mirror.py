"""``mirror``: a pull-through cache of another registry: it serves what it holds and
fetches a miss from its upstream (the mirror is the upstream's client). ``preload`` names
catalog images it holds from the start.

``coalesce_misses`` says what happens when several clients miss the same manifest or blob
at once. True (the default): one upstream fetch, which every client waits for, then each
is served from the mirror — as Zot's on-demand sync does (one sync per image, later
requests wait on it: ``pkg/extensions/sync/on_demand.go``) and as Dragonfly does by design
(the first download of a task goes back to the source through one seed peer; later peers
fetch its pieces from peers). False: each concurrent miss goes upstream on its own, and
the blob is stored once the first fetch ends — as Docker Distribution's proxy mode
(``registry:2``, the Docker Hub pull-through cache) does: a blob already in flight is
"returned from the remote store directly" (``registry/proxy/proxyblobstore.go``, v3.0;
distribution/distribution#4664 corrects the docs that said otherwise), and as Harbor's
proxy-cache projects are reported to do (goharbor/harbor#22184, #22570, 2025). Before
v3.0 Distribution fetched even the first miss twice (once to store, once to serve) and
Harbor fetches each miss twice (a streamed copy and a background one); neither doubling is
modelled. Spegel is not a pull-through cache: it serves only what a node already holds,
and a layer no node has comes from the origin registry, once per pulling node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sim.core.settings import Kind, setting
from sim.model.images.image import Image
from sim.model.images.registries import RegistryParams, build


@dataclass(frozen=True, kw_only=True)
class MirrorParams(RegistryParams):
    upstream: str = setting(doc="the registry it mirrors")
    preload: tuple[str, ...] = setting((), doc="catalog images it holds from the start")
    coalesce_misses: bool = setting(
        True, doc="concurrent misses share one upstream fetch; false: each goes upstream"
    )

    @property
    def upstream_name(self) -> str | None:
        return self.upstream

    @property
    def coalesces_misses(self) -> bool:
        return self.coalesce_misses

    def published(self, catalog: Mapping[str, Image]) -> list[Image]:
        return [catalog[name] for name in self.preload]


KIND = Kind("mirror", MirrorParams, build, "a pull-through cache of another registry")
