"""The daemon's images: ``docker pull``, ``tag``, ``rmi`` and the local image list.

A local image is an image of the model stored on the node by its layers' ChainIDs,
with the names it is tagged by; pulling goes through the node's container engine, from
the image's registry (or its mirror) over the simulated network, and prints what the
engine logged in Docker's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

import simpy

from sim.model.images.image import Image
from sim.teach.docker.formatting import short_id
from sim.teach.docker.node import Node
from sim.teach.docker.objects import DockerError, LocalImage, familiar, parse_reference, tag_named
from sim.teach.narrate import docker_lines


class ImageService:
    """The node's local images.

    Args:
        node: the host and its clock.
        catalog: the images registries serve, by (repository, tag).
        users: the containers using a local image (which keep it from being deleted).
    """

    def __init__(
        self,
        node: Node,
        catalog: Mapping[tuple[str, str], Image],
        users: Callable[[LocalImage], Sequence[Any]],
    ) -> None:
        self.node = node
        self.catalog = catalog
        self._users = users
        self.by_id: dict[str, LocalImage] = {}

    def find(self, reference: str) -> LocalImage | None:
        """A local image by tag, full ID or ID prefix (as the CLI accepts them)."""
        text = reference.removeprefix("sha256:")
        if re.fullmatch(r"[0-9a-f]{4,64}", text):
            for local in self.by_id.values():
                if local.id.removeprefix("sha256:").startswith(text):
                    return local
        try:
            repository, tag = parse_reference(reference)
        except DockerError:
            return None
        wanted = familiar(repository, tag)
        return next((image for image in self.by_id.values() if wanted in image.tags), None)

    def get(self, reference: str) -> LocalImage:
        """A local image, or Docker's error for a missing one."""
        local = self.find(reference)
        if local is None:
            raise DockerError(f"Error response from daemon: No such image: {reference}")
        return local

    def pull(self, reference: str) -> list[str]:
        """``docker pull``: fetch an image of the catalog from its registry."""
        lines: list[str] = self.node.simulate(self.pulling(reference))
        return lines

    def pulling(self, reference: str) -> Generator[simpy.Event, Any, list[str]]:
        """The pull as a SimPy process body (a build's ``FROM`` pulls inside its own)."""
        node = self.node
        repository, tag = parse_reference(reference)
        image = self.catalog.get((repository, tag))
        name = familiar(repository, tag)
        if image is None:
            if any(repo == repository for repo, _ in self.catalog):
                raise DockerError(
                    f"Error response from daemon: manifest for {name} not found: "
                    "manifest unknown: manifest unknown"
                )
            raise DockerError(
                "Error response from daemon: pull access denied for "
                f"{repository.removeprefix('library/')}, repository does not exist or may "
                "require 'docker login': denied: requested access to the resource is denied"
            )
        present = node.engine.has_image(image)
        start = len(node.log)
        record = yield node.env.process(node.engine.pull(image, node.cluster.source_for(image)))
        lines = [
            line
            for event in list(node.log)[start:]
            if event.source == node.host.name
            for line in docker_lines(event)
            if not line.startswith("$ ") and not (present and line.endswith("Already exists"))
        ]
        if not record.ok:
            raise DockerError(lines[-1], 1, lines[:-1])
        local = self.by_id.get(image.image_id)
        if local is None:
            local = self.by_id[image.image_id] = LocalImage(image, [], pulled=True)
        self.name(local, name)
        lines[-1] = (
            f"Status: Image is up to date for {name}"
            if present
            else f"Status: Downloaded newer image for {name}"
        )
        return lines

    def name(self, local: LocalImage, tag: str) -> None:
        """Give `local` the name `tag`, taking it from any image that had it."""
        for other in self.by_id.values():
            if tag in other.tags and other is not local:
                other.tags.remove(tag)
        if tag not in local.tags:
            local.tags.append(tag)

    def tag(self, source: str, target: str) -> None:
        """``docker tag``: another name for a local image."""
        self.name(self.get(source), familiar(*parse_reference(target)))

    def built(self, image: Image, inherited: int) -> LocalImage:
        """The local image of a build's result (kept if it was built before)."""
        local = self.by_id.get(image.image_id)
        if local is None:
            local = self.by_id[image.image_id] = LocalImage(
                image, [], created_s=self.node.now, built_steps=len(image.history) - inherited
            )
        return local

    def ensure(self, reference: str, output: list[str]) -> LocalImage:
        """The local image, pulled first if missing (as ``docker run`` does)."""
        local = self.find(reference)
        if local is not None:
            return local
        repository, tag = parse_reference(reference)
        output.append(f"Unable to find image '{familiar(repository, tag)}' locally")
        try:
            output += self.pull(reference)
        except DockerError as error:
            raise DockerError(f"docker: {error}", 125, output + error.output) from None
        return self.get(reference)

    def remove(self, reference: str, force: bool = False) -> list[str]:
        """``docker rmi``: untag; delete the image and free the layers nothing else holds."""
        local = self.get(reference)
        users = self._users(local)
        tag = tag_named(reference, local)
        if tag is not None and len(local.tags) > 1:
            local.tags.remove(tag)
            return [f"Untagged: {tag}"]
        if users and not force:
            what = f'repository reference "{reference}"' if tag else f"{short_id(local.id)}"
            raise DockerError(
                f"Error response from daemon: conflict: unable to remove {what} (must force) - "
                f"container {short_id(users[0].id)} is using its referenced image "
                f"{short_id(local.id)}"
            )
        lines = [f"Untagged: {name}" for name in local.tags]
        if local.pulled:
            repository = local.image.repository.removeprefix("library/")
            lines.append(f"Untagged: {repository}@{local.image.manifest_digest}")
        if users:
            local.tags.clear()
            return lines
        store = self.node.engine.store
        before = set(store.layers)
        store.remove_image(local.image.name)
        del self.by_id[local.id]
        lines.append(f"Deleted: {local.id}")
        lines += [
            f"Deleted: {chain_id}"
            for chain_id in reversed(local.image.chain_ids)
            if chain_id in before and chain_id not in store.layers
        ]
        return lines
