"""The simulated Docker daemon of one host: images, containers, volumes and builds.

It drives the same model as every run — the host's container engine pulls from the
configured registries over the simulated network, layers are stored once by ChainID
on the host's disk — and keeps what ``dockerd`` keeps on top: tagged images, containers
with their writable layers, volumes, and a build cache. Each operation runs the
simulation until it is done, so simulated time advances by what the operation costs
(a pull, a container's create and start, a ``dd`` in it, a build step) and anything
left running (a service initialising, a ``sleep``) goes on in the background.

Deviations from Docker, for teaching's sake: a container started in the foreground
with a long-running command detaches once its app is ready (it does not hold the
prompt forever); the simulator knows only the files containers write, not those inside
image layers; stages of a multi-stage build other than the last are not kept as
dangling images.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.config import ScenarioParams
from sim.teach.docker.builder import Builder
from sim.teach.docker.containers import ContainerService
from sim.teach.docker.dockerfile import Stage
from sim.teach.docker.images import ImageService
from sim.teach.docker.node import Node
from sim.teach.docker.volumes import VolumeService


class Daemon:
    """The daemon of the cluster's first host: its images, containers, volumes and builds.

    Args:
        params: a validated scenario; its first host, registries, network and image
            catalog are used, its deployments and traffic are not.
    """

    def __init__(self, params: ScenarioParams) -> None:
        self.node = Node(params)
        self.host = self.node.host
        self.engine = self.node.engine
        self.images = ImageService(
            self.node,
            {(image.repository, image.tag): image for image in params.images.values()},
            lambda local: self.containers.using_image(local),
        )
        self.volumes = VolumeService(self.node, lambda volume: self.containers.using_volume(volume))
        self.containers = ContainerService(
            self.node,
            self.images,
            self.volumes,
            {app.image.name: app for app in params.apps.values()},
            self.node.streams.generator("docker/names"),
        )
        self.builder = Builder(self.node, self.images)

    @property
    def now(self) -> float:
        return self.node.now

    def advance(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass (what runs in the background goes on)."""
        self.node.advance(seconds)

    def build(
        self, stages: Sequence[Stage], tags: Sequence[str], context_bytes: int, no_cache: bool
    ) -> list[str]:
        """``docker build``: see `Builder`."""
        return self.builder.build(stages, tags, context_bytes, no_cache)
