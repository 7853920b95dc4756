"""``lazy``: a remote snapshotter that starts a container before its layers have arrived.

Lazy pulling (eStargz with containerd's stargz snapshotter, AWS's SOCI, Nydus) rests on
Slacker's finding (Harter et al., "Slacker: Fast Distribution with Lazy Docker
Containers", FAST 2016): pulling takes 76 % of a container's start-up, yet only 6.4 % of
the image's data is read before the container is up. So a lazy pull fetches the manifest,
then for each missing layer its table of contents (which file lies where in the blob) and
the part it *prefetches*; the container is created then. The rest of every layer streams
in the background as network flows, sharing links with everything else; a layer counts
as stored ("Already exists" for later pulls) only once it has fully arrived, after its
parent.

What the app reads while it initialises, ``startup_read_fraction`` of each layer (its
read set: Slacker's 6.4 % unless the app sets its own), is either prefetched or read on
demand. ``prefetch`` is the share of the read set fetched before the container starts,
in one ranged request per layer: 1 is an eStargz image optimised with a prefetch
landmark (the files read at start-up, recorded by a profiling run, come first in each
layer and are fetched at mount), 0 is SOCI or an unoptimised image (nothing is fetched
ahead). The rest of the read set is read on demand (`sim.model.hosts.lazy_reads`): the
app's init stalls on each ``chunk_size`` range of a layer that has not fully arrived
yet, one ranged request at a time, each paying the request's round trip. That cost is
what production reports show: Grab found eStargz images took 25 s to start Airflow where
overlayfs took 5 s, and lazy pulling cut p95 start-up by 30-40 % rather than by the
pull's whole share ("Docker lazy loading at Grab", Grab engineering blog, 2025).

The rest of each layer streams in the background ``background_delay`` after the
container may start: stargz-snapshotter holds its background fetches until 5 s after
its last prioritised task (mounting and prefetching the layers; on-demand reads do not
hold them), so an init shorter than that reads everything it needs on demand.

``{prefetch: 1, background_delay: 0s}`` is the model before read costs were added:
every byte the app reads arrives before it starts, in one request per layer at the
link's full rate, nothing stalls, and the rest streams at once. It is an upper bound on
lazy pulling's gain for a given read set.

``chunk_size`` is stargz-snapshotter's default fetch granularity for on-demand reads
(``BlobConfig.ChunkSize``, 50,000 bytes, ``fs/config/config.go``; SOCI's spans are
larger, 4 MiB by default). The table of contents is modelled as ``toc_bytes`` per layer,
fixed, and as part of the blob (eStargz appends it to the layer's gzip stream), so the
start-up part and the background part of a layer add up to its blob exactly. Its real
size grows with the layer's file count: eStargz keeps a gzip-compressed JSON entry per
file (and per chunk of a large file) and finds it through a 51-byte footer
(``estargz.FooterSize``); SOCI keeps a zTOC per layer in a separate index. 64 KiB
stands for a layer of a few thousand files — an assumption, not a measured value; set it
for the images at hand.

Simplifications: a lazy layer is not extracted (the snapshotter decompresses chunks as
they are read), so it takes its uncompressed size on disk from the start and no time to
extract; the prefetches of all layers go out at once, not through the daemon's download
slots; the background streams start ``background_delay`` after every layer's prefetch
is in (a later mount on the host does not hold a stream already going) and retry a
failed request until it succeeds; a layer's background stream is one flow, so a layer
counts as arrived only when all of it has (reads of a partly streamed layer go to the
registry), and a range read on demand is fetched again by the stream (its bytes count
twice in ``lazy_background_bytes``); on-demand reads are sequential (one reading thread)
and spread evenly over the app's init.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.core.settings import Kind, setting
from sim.model.images.snapshotters import SnapshotterParams, build

SLACKER_STARTUP_READ_FRACTION = 0.064
"""The share of an image's data read at start-up, over 57 images (Slacker, FAST 2016)."""


ESTARGZ_CHUNK_BYTES = 50_000
"""stargz-snapshotter's default on-demand fetch granularity (``BlobConfig.ChunkSize``)."""

ESTARGZ_SILENCE_S = 5.0
"""How long stargz-snapshotter holds background fetches after its last prioritised task
(a mount, a layer's resolution or prefetch): ``task.NewBackgroundTaskManager(2,
5*time.Second)`` in ``fs/fs.go``."""


@dataclass(frozen=True, slots=True)
class LazyParams(SnapshotterParams):
    toc_bytes: int = setting(
        64 * 1024, unit="size", doc="each layer's table of contents, fetched before the start"
    )
    startup_read_fraction: float = setting(
        SLACKER_STARTUP_READ_FRACTION,
        minimum=0,
        maximum=1,
        doc="share of each layer the app reads as it starts (Slacker: 6.4 %); per app too",
    )
    prefetch: float = setting(
        0.0,
        minimum=0,
        maximum=1,
        doc="share of those reads fetched before the start (1: eStargz landmark, an upper "
        "bound; 0: SOCI); the rest stalls init, range by range",
    )
    chunk_size: int = setting(
        ESTARGZ_CHUNK_BYTES, unit="size", above=0, doc="bytes per ranged request on demand"
    )
    background_delay: float = setting(
        ESTARGZ_SILENCE_S,
        unit="duration",
        doc="the rest streams this long after the start (stargz: 5 s of silence)",
    )

    @property
    def background_delay_s(self) -> float:
        return self.background_delay

    @property
    def lazy(self) -> bool:
        return True

    def _read_set(self, compressed_bytes: int, read_fraction: float | None) -> tuple[int, int]:
        """The layer's bytes the app reads, and of those the prefetched ones."""
        fraction = self.startup_read_fraction if read_fraction is None else read_fraction
        read = math.ceil(fraction * compressed_bytes)
        return read, math.ceil(self.prefetch * read)

    def startup_bytes(self, compressed_bytes: int, read_fraction: float | None) -> int:
        """The TOC and the prefetched reads of the layer, at most the whole blob."""
        _, prefetched = self._read_set(compressed_bytes, read_fraction)
        return min(compressed_bytes, self.toc_bytes + prefetched)

    def on_demand_bytes(self, compressed_bytes: int, read_fraction: float | None) -> int:
        """The reads of the layer not prefetched: what init fetches on demand if the
        layer has not arrived (at most what the start-up part leaves of the blob)."""
        read, prefetched = self._read_set(compressed_bytes, read_fraction)
        left = compressed_bytes - self.startup_bytes(compressed_bytes, read_fraction)
        return min(read - prefetched, left)


KIND = Kind("lazy", LazyParams, build, "start after the TOCs and prefetch; read on demand; stream")
