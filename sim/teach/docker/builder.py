"""``docker build`` as the classic builder does it, over the simulated daemon.

Each step runs on the image the previous step made: ``RUN`` in a temporary container for
its run time plus the time to write its layer, ``COPY``/``ADD`` for the time to write
theirs, metadata steps only recording configuration. Every step's image is cached by its
parent and its content (the instruction, its flags, the copied files' digest, the
sizes), so a rebuild reuses steps until the first that changed. Only the last stage is
tagged; earlier stages' layers are freed unless the result shares them.

A step's image is a `StepImage`: its own layer, configuration and history entry over its
parent's, and its image ID kept as a running hash (`sim.model.images.ImageIdDigest`).
Only the images a build ends with are written out whole (`StepImage.image`), so a build
of n steps costs O(n) time and memory, where n images each holding all their layers
would cost O(n²): a 10,000-step Dockerfile builds in seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Sequence
from typing import Any

import simpy

from sim.model.images.image import (
    LAYER_INSTRUCTIONS,
    BuildStep,
    HistoryEntry,
    Image,
    ImageConfig,
    ImageIdDigest,
    Layer,
    apply_config_step,
    chain_id_over,
    layer_of,
)
from sim.model.images.store import DiskFull
from sim.teach.docker.dockerfile import Instruction, Stage
from sim.teach.docker.formatting import human_size, short_id
from sim.teach.docker.images import ImageService
from sim.teach.docker.node import Node
from sim.teach.docker.objects import DockerError, familiar, parse_reference


class StepImage:
    """The image a build step makes, sharing everything below it with its parent.

    A plain slotted class rather than a frozen dataclass: a long build makes one per
    step, and replaying a saved host makes them all again, so creating one is kept cheap.
    Treat it as immutable.

    Attributes:
        name: the image's name in the layer store (``build-<cache key>``).
        parent: the image the step ran on: another step's, a pulled base, or None
            (``FROM scratch``).
        layer: the layer the step added (None for a step that changes the config only).
        chain_id: the ChainID of the top layer (None while there is none).
        layer_count: the layers of the image, the parent's included.
        history_count: its history entries, the parent's included.
        config: its runtime configuration.
        created_by: the step as its history entry records it (``RUN echo hi``).
        size_bytes: the size of the step's layer (0 without one).
        digest: its image ID as a running hash, extended by the next step.
        image_id: ``sha256:<hex>``.
    """

    __slots__ = (
        "name",
        "parent",
        "layer",
        "chain_id",
        "layer_count",
        "history_count",
        "config",
        "created_by",
        "size_bytes",
        "digest",
        "image_id",
    )

    def __init__(
        self,
        name: str,
        parent: StepImage | Image | None,
        layer: Layer | None,
        chain_id: str | None,
        layer_count: int,
        history_count: int,
        config: ImageConfig,
        created_by: str,
        size_bytes: int,
        digest: ImageIdDigest,
    ) -> None:
        self.name = name
        self.parent = parent
        self.layer = layer
        self.chain_id = chain_id
        self.layer_count = layer_count
        self.history_count = history_count
        self.config = config
        self.created_by = created_by
        self.size_bytes = size_bytes
        self.digest = digest
        self.image_id = digest.image_id()

    def image(self) -> Image:
        """The whole image: its layers, ChainIDs and history walked down to the base.

        A built image has no manifest until it is pushed (Docker shows no RepoDigests
        for it), so its ``manifest_digest`` is empty.
        """
        layers: list[Layer] = []
        chain: list[str] = []
        history: list[HistoryEntry] = []
        below: StepImage | Image | None = self
        while isinstance(below, StepImage):
            if below.layer is not None and below.chain_id is not None:
                layers.append(below.layer)
                chain.append(below.chain_id)
            history.append(HistoryEntry(below.created_by, below.size_bytes, below.layer is None))
            below = below.parent
        layers.reverse()
        chain.reverse()
        history.reverse()
        parent = self.parent
        return Image(
            name=self.name,
            repository="",
            tag="",
            registry="",
            layers=(*(below.layers if below is not None else ()), *layers),
            chain_ids=(*(below.chain_ids if below is not None else ()), *chain),
            config=self.config,
            parent=parent.name if parent is not None else None,
            image_id=self.image_id,
            history=(*(below.history if below is not None else ()), *history),
        )


def _top_chain_id(image: StepImage | Image | None) -> str | None:
    if isinstance(image, StepImage):
        return image.chain_id
    return image.chain_ids[-1] if image is not None and image.chain_ids else None


def _digest_of(image: StepImage | Image | None) -> tuple[ImageConfig, ImageIdDigest, int, int]:
    """The configuration, running image ID and layer and history counts under a step."""
    if isinstance(image, StepImage):
        return image.config, image.digest, image.layer_count, image.history_count
    if image is None:
        return ImageConfig(), ImageIdDigest(ImageConfig(), ()), 0, 0
    diff_ids = [layer.diff_id for layer in image.layers]
    return image.config, ImageIdDigest(image.config, diff_ids), len(diff_ids), len(image.history)


def next_image(parent: StepImage | Image | None, instruction: Instruction, name: str) -> StepImage:
    """The image one step makes on `parent`, in O(1) but for a configuration change
    (which hashes the DiffIDs below again, as the image ID requires).

    Raises:
        DockerError: a configuration step with no layer below it (an image needs one).
    """
    config, digest, layer_count, history_count = _digest_of(parent)
    kind, argument = instruction.instruction, instruction.argument
    layer = None
    chain_id = _top_chain_id(parent)
    if kind in LAYER_INSTRUCTIONS:
        layer = layer_of(
            kind,
            argument,
            instruction.size_bytes,
            instruction.compressed_bytes,
            instruction.content,
        )
        chain_id = chain_id_over(chain_id, layer.diff_id)
        digest = digest.extended(layer.diff_id)
        layer_count += 1
    else:
        changed = apply_config_step(config, BuildStep(kind, argument))
        if changed != config:
            config = changed
            digest = ImageIdDigest(config, _diff_ids(parent))
    if layer_count == 0:
        raise DockerError(
            f"sim-docker: {instruction.text}: an image from scratch needs a layer first"
        )
    return StepImage(
        name,
        parent,
        layer,
        chain_id,
        layer_count,
        history_count + 1,
        config,
        f"{kind} {argument}",
        instruction.size_bytes,
        digest,
    )


def _diff_ids(image: StepImage | Image | None) -> list[str]:
    """The DiffIDs of an image's layers, bottom-up."""
    ids: list[str] = []
    while isinstance(image, StepImage):
        if image.layer is not None:
            ids.append(image.layer.diff_id)
        image = image.parent
    ids.reverse()
    return [layer.diff_id for layer in image.layers] + ids if image is not None else ids


class Builder:
    """Builds images on the node, with a step cache that lasts as long as the daemon.

    Args:
        node: the host and its clock.
        images: the local images (a build's base is pulled there if missing; its result
            is kept and tagged there).
    """

    def __init__(self, node: Node, images: ImageService) -> None:
        self.node = node
        self.images = images
        self.cache: dict[str, StepImage] = {}

    def build(
        self, stages: Sequence[Stage], tags: Sequence[str], context_bytes: int, no_cache: bool
    ) -> list[str]:
        """``docker build`` (the classic builder's output): one image per step, each step
        cached by its parent and its content, the last stage tagged."""
        for tag in tags:
            parse_reference(tag)
        output = [f"Sending build context to Docker daemon  {human_size(context_bytes)}"]
        leases: list[str] = []
        try:
            built, inherited = self.node.simulate(self._build(stages, no_cache, output, leases))
            if built is None:
                raise DockerError("sim-docker: an image needs at least one layer")
            image = built.image() if isinstance(built, StepImage) else built
            self.node.engine.store.tag_image(image, self.node.now)
        except DockerError as error:
            raise DockerError(str(error), error.status, output + error.output) from None
        finally:
            for chain_id in leases:
                self.node.engine.store.release(chain_id)
        local = self.images.built(image, inherited)
        output.append(f"Successfully built {short_id(image.image_id)}")
        for tag in tags:
            name = familiar(*parse_reference(tag))
            self.images.name(local, name)
            output.append(f"Successfully tagged {name}")
        return output

    def _build(
        self, stages: Sequence[Stage], no_cache: bool, output: list[str], leases: list[str]
    ) -> Generator[simpy.Event, Any, tuple[StepImage | Image | None, int]]:
        """Build every stage; the last stage's image and how many history steps it inherits."""
        steps = sum(1 + len(stage.instructions) for stage in stages)
        number = 0
        inherited = 0
        built: dict[str, StepImage | Image | None] = {}
        image: StepImage | Image | None = None
        for stage in stages:
            number += 1
            output.append(f"Step {number}/{steps} : {stage.from_text}")
            image = yield from self._base(stage, built, output, leases)
            inherited = _digest_of(image)[3]
            if image is not None:
                output.append(f" ---> {short_id(image.image_id)}")
            for instruction in stage.instructions:
                number += 1
                output.append(f"Step {number}/{steps} : {instruction.text}")
                image = yield from self._step(image, instruction, no_cache, output, leases)
                output.append(f" ---> {short_id(image.image_id)}")
            built[str(stage.index)] = image
            if stage.name:
                built[stage.name] = image
        return image, inherited

    def _base(
        self,
        stage: Stage,
        built: dict[str, StepImage | Image | None],
        output: list[str],
        leases: list[str],
    ) -> Generator[simpy.Event, Any, StepImage | Image | None]:
        if stage.base_is_stage:
            return built[stage.base.lower()]
        if stage.base == "scratch":
            return None
        local = self.images.find(stage.base)
        if local is None:
            output += yield from self.images.pulling(stage.base)
            local = self.images.get(stage.base)
        for chain_id in local.image.chain_ids:
            self.node.engine.store.hold(chain_id)
            leases.append(chain_id)
        return local.image

    def _step(
        self,
        parent: StepImage | Image | None,
        instruction: Instruction,
        no_cache: bool,
        output: list[str],
        leases: list[str],
    ) -> Generator[simpy.Event, Any, StepImage]:
        key = _cache_key(parent, instruction)
        cached = self.cache.get(key)
        store = self.node.engine.store
        # The parent is present (a base pulled, or the step before), so the cached image
        # is present when its own layer is.
        if cached is not None and not no_cache and self._present(cached):
            output.append(" ---> Using cache")
            if cached.layer is not None and cached.chain_id is not None:
                store.hold(cached.chain_id)
                leases.append(cached.chain_id)
            return cached
        image = next_image(parent, instruction, f"build-{key}")
        container = self.node.new_id("build")[:12]
        if instruction.instruction not in ("COPY", "ADD"):
            output.append(f" ---> Running in {container}")
            yield self.node.env.timeout(self.node.runtime.create_time_s())
        if image.layer is not None:
            self._store_top_layer(image, parent, instruction.text, leases)
            write_s = image.layer.size_bytes / self.node.host.params.disk_write_bytes_s
            yield self.node.env.timeout(instruction.duration_s + write_s)
        if instruction.instruction not in ("COPY", "ADD"):
            output.append(f"Removing intermediate container {container}")
        self.cache[key] = image
        return image

    def _present(self, cached: StepImage) -> bool:
        if cached.layer is None or cached.chain_id is None:
            return True
        stored = self.node.engine.store.layers.get(cached.chain_id)
        return stored is not None and stored.complete

    def _store_top_layer(
        self, image: StepImage, parent: StepImage | Image | None, text: str, leases: list[str]
    ) -> None:
        """Write a step's new layer to the host's disk (or reuse it if stored), leased."""
        store = self.node.engine.store
        layer, chain_id = image.layer, image.chain_id
        assert layer is not None and chain_id is not None
        if store.has_layer(chain_id):
            store.hold(chain_id)
        else:
            try:
                self.node.host.disk.allocate(layer.size_bytes)
            except DiskFull:
                raise DockerError(
                    f"Error response from daemon: {text}: no space left on device"
                ) from None
            store.add_layer(chain_id, layer, _top_chain_id(parent))
        leases.append(chain_id)


def _cache_key(parent: StepImage | Image | None, instruction: Instruction) -> str:
    """A step's identity for the build cache: its parent image and its whole content."""
    parts = (
        parent.image_id if parent else "scratch",
        instruction.instruction,
        instruction.argument,
        repr(instruction.flags),
        instruction.content,
        str(instruction.size_bytes),
        str(instruction.compressed_bytes),
    )
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
