"""The tables the Docker CLI prints — ``images``, ``history``, ``ps``, ``system df`` —
built from the simulated daemon's state, with Docker's columns, sizes and ages."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sim.teach.docker.daemon import Daemon
from sim.teach.docker.formatting import human_duration, human_size, short_id, table
from sim.teach.docker.objects import Container, LocalImage


class Views:
    """What the listing verbs print about one daemon."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    def images(self, quiet: bool) -> list[str]:
        """``docker images``: one row per tag, newest first."""
        tagged = self._tagged()
        if quiet:
            return list(dict.fromkeys(short_id(local.id) for local, _, _ in tagged))
        rows = [("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")]
        rows += [
            self._image_columns(local, repository, tag, 3) for local, repository, tag in tagged
        ]
        return table(rows)

    def _tagged(self) -> list[tuple[LocalImage, str, str]]:
        """(image, repository, tag) for each tag, newest image first; untagged as <none>."""
        images = sorted(
            self.daemon.images.by_id.values(),
            key=lambda local: -1.0 if local.created_s is None else local.created_s,
            reverse=True,
        )
        return [
            (local, *tag.rpartition(":")[::2])
            for local in images
            for tag in local.tags or ["<none>:<none>"]
        ]

    def _image_columns(
        self, local: LocalImage, repository: str, tag: str, digits: int
    ) -> tuple[str, str, str, str, str]:
        return (
            repository,
            tag,
            short_id(local.id),
            self._ago(local.created_s),
            human_size(local.image.size_bytes, digits),
        )

    def history(self, local: LocalImage, no_trunc: bool) -> list[str]:
        """``docker history``: every step, newest first, metadata-only ones at 0B."""
        rows = [("IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT")]
        for index, step in enumerate(reversed(local.image.history)):
            created_by = step.created_by
            if not no_trunc and len(created_by) > 45:
                created_by = created_by[:44] + "…"
            rows.append(
                (
                    short_id(local.id) if index == 0 else "<missing>",
                    self._ago(local.created_s if index < local.built_steps else None),
                    created_by,
                    human_size(step.size_bytes, 3),
                    "",
                )
            )
        return table(rows)

    def ps(self, show_all: bool, quiet: bool, size: bool) -> list[str]:
        """``docker ps``: running containers (all with `show_all`), newest first."""
        containers = [
            c
            for c in reversed(self.daemon.containers.by_id.values())
            if show_all or c.state == "running"
        ]
        if quiet:
            return [c.id[:12] for c in containers]
        header = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
        rows = [header + (["SIZE"] if size else [])]
        for container in containers:
            row = [
                container.id[:12],
                self._image_column(container),
                _quote_command(container.command),
                f"{human_duration(self.daemon.now - container.created_s)} ago",
                self._status(container),
                ", ".join(container.ports) if container.state == "running" else "",
                container.name,
            ]
            if size:
                virtual = container.size_rw + container.image.image.size_bytes
                row.append(f"{human_size(container.size_rw, 3)} (virtual {human_size(virtual, 3)})")
            rows.append(row)
        return table(rows)

    def _ago(self, time_s: float | None) -> str:
        if time_s is None:
            return "N/A"
        return f"{human_duration(self.daemon.now - time_s)} ago"

    def _image_column(self, container: Container) -> str:
        reference = container.image_reference
        if self.daemon.images.find(reference) is container.image:
            return reference
        return short_id(container.image.id)

    def _status(self, container: Container) -> str:
        now = self.daemon.now
        if container.state == "running":
            return f"Up {human_duration(now - (container.started_s or now))}"
        if container.state == "exited":
            ago = human_duration(now - (container.finished_s or now))
            return f"Exited ({container.exit_code}) {ago} ago"
        return "Created"

    def disk_usage(self) -> list[str]:
        """``system df`` as the CLI sums it up: an active image's shared layers count as
        reclaimable (Docker subtracts only active images' unique bytes)."""
        daemon = self.daemon
        images = list(daemon.images.by_id.values())
        active = [local for local in images if daemon.containers.using_image(local)]
        layer_bytes = daemon.engine.store.layer_bytes()
        used_bytes = sum(local.image.size_bytes - self._shared_bytes(local) for local in active)
        containers = list(daemon.containers.by_id.values())
        volumes = list(daemon.volumes.by_name.values())
        used_volumes = [v for v in volumes if daemon.containers.using_volume(v)]
        volume_bytes = sum(v.size_bytes for v in volumes)
        rows = [
            ("TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"),
            (
                "Images",
                str(len(images)),
                str(len(active)),
                human_size(layer_bytes),
                _reclaimable(max(layer_bytes - used_bytes, 0), layer_bytes),
            ),
            (
                "Containers",
                str(len(containers)),
                str(sum(c.state == "running" for c in containers)),
                human_size(sum(c.size_rw for c in containers)),
                _reclaimable(
                    sum(c.size_rw for c in containers if c.state != "running"),
                    sum(c.size_rw for c in containers),
                ),
            ),
            (
                "Local Volumes",
                str(len(volumes)),
                str(len(used_volumes)),
                human_size(volume_bytes),
                _reclaimable(volume_bytes - sum(v.size_bytes for v in used_volumes), volume_bytes),
            ),
            ("Build Cache", "0", "0", "0B", "0B"),
        ]
        return table(rows)

    def _shared_bytes(self, local: LocalImage) -> int:
        """Bytes of the image's layers that another local image also uses (SharedSize)."""
        others = {
            chain
            for other in self.daemon.images.by_id.values()
            if other is not local
            for chain in other.image.chain_ids
        }
        image = local.image
        return sum(
            layer.size_bytes
            for chain, layer in zip(image.chain_ids, image.layers, strict=True)
            if chain in others
        )

    def disk_usage_verbose(self) -> list[str]:
        daemon = self.daemon
        rows = [
            (
                "REPOSITORY",
                "TAG",
                "IMAGE ID",
                "CREATED",
                "SIZE",
                "SHARED SIZE",
                "UNIQUE SIZE",
                "CONTAINERS",
            )
        ]
        for local, repository, tag in self._tagged():
            shared = self._shared_bytes(local)
            rows.append(
                (
                    *self._image_columns(local, repository, tag, 4),
                    human_size(shared),
                    human_size(local.image.size_bytes - shared),
                    str(len(daemon.containers.using_image(local))),
                )
            )
        lines = ["Images space usage:", "", *table(rows), "", "Containers space usage:", ""]
        container_rows = [
            (
                "CONTAINER ID",
                "IMAGE",
                "COMMAND",
                "LOCAL VOLUMES",
                "SIZE",
                "CREATED",
                "STATUS",
                "NAMES",
            )
        ]
        for container in reversed(daemon.containers.by_id.values()):
            container_rows.append(
                (
                    container.id[:12],
                    self._image_column(container),
                    _quote_command(container.command),
                    str(len(container.mounts)),
                    human_size(container.size_rw),
                    f"{human_duration(daemon.now - container.created_s)} ago",
                    self._status(container),
                    container.name,
                )
            )
        lines += [*table(container_rows), "", "Local Volumes space usage:", ""]
        volume_rows = [("VOLUME NAME", "LINKS", "SIZE")]
        volume_rows += [
            (name, str(len(daemon.containers.using_volume(volume))), human_size(volume.size_bytes))
            for name, volume in sorted(daemon.volumes.by_name.items())
        ]
        lines += [*table(volume_rows), "", "Build cache usage: 0B"]
        return lines


def _reclaimable(size_bytes: int, total_bytes: int) -> str:
    percent = int(size_bytes * 100 / total_bytes) if total_bytes else 0
    text = human_size(size_bytes)
    return f"{text} ({percent}%)" if total_bytes else text


def _quote_command(command: Sequence[str]) -> str:
    text = " ".join(command)
    if len(text) > 20:
        text = text[:19] + "…"
    return json.dumps(text, ensure_ascii=False)
