"""The daemon's volumes: ``docker volume create``, ``ls``, ``inspect``, ``rm``.

A volume is a directory on the node's disk outside any container's writable layer: what
containers write there outlives them, and its bytes are the disk's until it is removed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sim.teach.docker.node import Node
from sim.teach.docker.objects import NAME_PATTERN, DockerError
from sim.teach.docker.shell import Volume


class VolumeService:
    """The node's volumes.

    Args:
        node: the host and its clock.
        users: the containers mounting a volume (which keep it from being removed).
    """

    def __init__(self, node: Node, users: Callable[[Volume], Sequence[Any]]) -> None:
        self.node = node
        self._users = users
        self.by_name: dict[str, Volume] = {}

    def create(self, name: str | None = None) -> Volume:
        """``docker volume create``: an empty named volume (an existing name is reused);
        without a name, an anonymous one."""
        if name is not None and not NAME_PATTERN.match(name):
            raise DockerError(
                f'Error response from daemon: create {name}: "{name}" includes invalid '
                'characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" '
                "are allowed. If you intended to pass a host directory, use absolute path"
            )
        if name is None:
            volume = Volume(self.node.new_id("volume"), self.node.now, anonymous=True)
        else:
            volume = self.by_name.get(name) or Volume(name, self.node.now)
        self.by_name[volume.name] = volume
        return volume

    def get(self, name: str) -> Volume:
        """A volume by name, or Docker's error for a missing one."""
        volume = self.by_name.get(name)
        if volume is None:
            raise DockerError(f"Error response from daemon: get {name}: no such volume")
        return volume

    def remove(self, name: str) -> str:
        """``docker volume rm``: refused while any container mounts it."""
        volume = self.get(name)
        users = self._users(volume)
        if users:
            raise DockerError(
                f"Error response from daemon: remove {name}: volume is in use - "
                f"[{', '.join(c.id for c in users)}]"
            )
        self.node.host.disk.free(volume.size_bytes)
        del self.by_name[name]
        return name
