"""``lazy``: a remote snapshotter that starts a container before its layers have arrived.

Lazy pulling (eStargz with containerd's stargz snapshotter, AWS's SOCI, Nydus) rests on
Slacker's finding (Harter et al., "Slacker: Fast Distribution with Lazy Docker
Containers", FAST 2016): pulling takes 76 % of a container's start-up, yet only 6.4 % of
the image's data is read before the container is up. So a lazy pull fetches the manifest,
then for each missing layer its table of contents (which file lies where in the blob) and
the part the app reads at start-up, ``startup_read_fraction`` of the layer's bytes; the
container is created then. The rest of every layer streams in the background as network
flows, sharing links with everything else; a layer counts as stored ("Already exists" for
later pulls) only once it has fully arrived, after its parent.

The table of contents is modelled as ``toc_bytes`` per layer, fixed, and as part of the
blob (eStargz appends it to the layer's gzip stream), so the start-up part and the
background part of a layer add up to its blob exactly. Its real size grows
with the layer's file count: eStargz keeps a gzip-compressed JSON entry per file (and per
chunk of a large file) and finds it through a 51-byte footer (``estargz.FooterSize``);
SOCI keeps a zTOC per layer in a separate index. 64 KiB stands for a layer of a few
thousand files — an assumption, not a measured value; set it for the images at hand.

Simplifications: a lazy layer is not extracted (the snapshotter decompresses chunks as
they are read), so it takes its uncompressed size on disk from the start and no time to
extract; the start-up reads of all layers go out at once, not through the daemon's
download slots; the background streams start once every layer's start-up part is in
(the snapshotters fetch on-demand reads before background ones) and retry a failed
request until it succeeds; reads after start-up beyond the start-up part are not
modelled as stalls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.core.settings import Kind, setting
from sim.model.images.snapshotters import SnapshotterParams, build

SLACKER_STARTUP_READ_FRACTION = 0.064
"""The share of an image's data read at start-up, over 57 images (Slacker, FAST 2016)."""


@dataclass(frozen=True, slots=True)
class LazyParams(SnapshotterParams):
    toc_bytes: int = setting(
        64 * 1024, unit="size", doc="each layer's table of contents, fetched before the start"
    )
    startup_read_fraction: float = setting(
        SLACKER_STARTUP_READ_FRACTION,
        minimum=0,
        maximum=1,
        doc="share of each layer read before the start (Slacker: 6.4 %); per app too",
    )

    @property
    def lazy(self) -> bool:
        return True

    def startup_bytes(self, compressed_bytes: int, read_fraction: float | None) -> int:
        """The TOC and the start-up share of the layer, at most the whole blob."""
        fraction = self.startup_read_fraction if read_fraction is None else read_fraction
        return min(compressed_bytes, self.toc_bytes + math.ceil(fraction * compressed_bytes))


KIND = Kind("lazy", LazyParams, build, "start after the TOCs and start-up reads; stream the rest")
