"""``docker build`` as the classic builder does it, over the simulated daemon.

Each step runs on the image the previous step made: ``RUN`` in a temporary container for
its run time plus the time to write its layer, ``COPY``/``ADD`` for the time to write
theirs, metadata steps only recording configuration. Every step's image is cached by its
parent and its content (the instruction, its flags, the copied files' digest, the
sizes), so a rebuild reuses steps until the first that changed. Only the last stage is
tagged; earlier stages' layers are freed unless the result shares them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Sequence
from typing import Any

import simpy

from sim.core.errors import ConfigError
from sim.model.images.image import LAYER_INSTRUCTIONS, BuildStep, Image, ImageSpec, build_image
from sim.model.images.store import DiskFull
from sim.teach.docker.dockerfile import Instruction, Stage
from sim.teach.docker.formatting import human_size, short_id
from sim.teach.docker.images import ImageService
from sim.teach.docker.node import Node
from sim.teach.docker.objects import DockerError, familiar, parse_reference


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
        self.cache: dict[str, Image] = {}

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
            image, inherited = self.node.simulate(self._build(stages, no_cache, output, leases))
            if image is None:
                raise DockerError("sim-docker: an image needs at least one layer")
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
    ) -> Generator[simpy.Event, Any, tuple[Image | None, int]]:
        """Build every stage; the last stage's image and how many history steps it inherits."""
        steps = sum(1 + len(stage.instructions) for stage in stages)
        number = 0
        inherited = 0
        built: dict[str, Image | None] = {}
        image: Image | None = None
        for stage in stages:
            number += 1
            output.append(f"Step {number}/{steps} : {stage.from_text}")
            image = yield from self._base(stage, built, output, leases)
            inherited = len(image.history) if image is not None else 0
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
        self, stage: Stage, built: dict[str, Image | None], output: list[str], leases: list[str]
    ) -> Generator[simpy.Event, Any, Image | None]:
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
        parent: Image | None,
        instruction: Instruction,
        no_cache: bool,
        output: list[str],
        leases: list[str],
    ) -> Generator[simpy.Event, Any, Image]:
        key = _cache_key(parent, instruction)
        cached = self.cache.get(key)
        store = self.node.engine.store
        if (
            cached is not None
            and not no_cache
            and store.present_prefix(cached) == len(cached.layers)
        ):
            output.append(" ---> Using cache")
            for chain_id in cached.chain_ids[len(parent.layers) if parent else 0 :]:
                store.hold(chain_id)
                leases.append(chain_id)
            return cached
        step = BuildStep(
            instruction.instruction,
            instruction.argument,
            instruction.size_bytes,
            instruction.compressed_bytes,
            instruction.content,
        )
        try:
            image = build_image(ImageSpec(f"build-{key}", "", "", "", (step,)), parent, "build")
        except ConfigError:
            raise DockerError(
                f"sim-docker: {instruction.text}: an image from scratch needs a layer first"
            ) from None
        container = self.node.new_id("build")[:12]
        if instruction.instruction not in ("COPY", "ADD"):
            output.append(f" ---> Running in {container}")
            yield self.node.env.timeout(self.node.runtime.create_time_s())
        if instruction.instruction in LAYER_INSTRUCTIONS:
            self._store_top_layer(image, instruction.text, leases)
            write_s = image.layers[-1].size_bytes / self.node.host.params.disk_write_bytes_s
            yield self.node.env.timeout(instruction.duration_s + write_s)
        if instruction.instruction not in ("COPY", "ADD"):
            output.append(f"Removing intermediate container {container}")
        self.cache[key] = image
        return image

    def _store_top_layer(self, image: Image, text: str, leases: list[str]) -> None:
        """Write a step's new layer to the host's disk (or reuse it if stored), leased."""
        store = self.node.engine.store
        layer, chain_id = image.layers[-1], image.chain_ids[-1]
        if store.has_layer(chain_id):
            store.hold(chain_id)
        else:
            try:
                self.node.host.disk.allocate(layer.size_bytes)
            except DiskFull:
                raise DockerError(
                    f"Error response from daemon: {text}: no space left on device"
                ) from None
            parent = image.chain_ids[-2] if len(image.layers) > 1 else None
            store.add_layer(chain_id, layer, parent)
        leases.append(chain_id)


def _cache_key(parent: Image | None, instruction: Instruction) -> str:
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
