"""``docker inspect``: the documents Docker returns, with the fields a lesson looks at.

A container's ``GraphDriver`` shows the overlay mount that makes copy-on-write: the
image's layers as read-only ``LowerDir``s, the container's own ``UpperDir`` on top.
"""

from __future__ import annotations

from typing import Any

from sim.model.images.image import Image
from sim.teach.docker.formatting import timestamp
from sim.teach.docker.objects import Container, LocalImage


def image_document(local: LocalImage) -> dict[str, Any]:
    """``docker image inspect``: the fields a lesson looks at, as Docker names them."""
    image = local.image
    config = image.config
    repository = image.repository.removeprefix("library/")
    return {
        "Id": local.id,
        "RepoTags": list(local.tags),
        "RepoDigests": [f"{repository}@{image.manifest_digest}"] if local.pulled else [],
        "Created": timestamp(local.created_s) if local.created_s is not None else "",
        "Config": {
            "Env": [f"{key}={value}" for key, value in config.env],
            "Cmd": list(config.cmd) or None,
            "Entrypoint": list(config.entrypoint) or None,
            "WorkingDir": "" if config.workdir == "/" else config.workdir,
            "ExposedPorts": {port: {} for port in config.exposed_ports} or None,
            "Volumes": {volume: {} for volume in config.volumes} or None,
            "Labels": dict(config.labels) or None,
        },
        "Architecture": "amd64",
        "Os": "linux",
        "Size": image.size_bytes,
        "GraphDriver": {"Name": "overlay2", "Data": _layer_dirs(image)},
        "RootFS": {"Type": "layers", "Layers": [layer.diff_id for layer in image.layers]},
    }


def _layer_dirs(image: Image) -> dict[str, str]:
    directories = [_overlay_dir(chain_id) for chain_id in reversed(image.chain_ids)]
    if not directories:
        return {}
    return {
        "LowerDir": ":".join(directories[1:]),
        "UpperDir": directories[0],
        "MergedDir": directories[0].replace("/diff", "/merged"),
        "WorkDir": directories[0].replace("/diff", "/work"),
    }


def container_document(container: Container, size: bool = False) -> dict[str, Any]:
    """``docker container inspect``: state, the overlay directories, the mounts."""
    image = container.image.image
    upper = f"/var/lib/docker/overlay2/{container.id[:25]}"
    lower = ":".join(_overlay_dir(chain_id) for chain_id in reversed(image.chain_ids))
    document: dict[str, Any] = {
        "Id": container.id,
        "Created": timestamp(container.created_s),
        "Path": container.command[0] if container.command else "",
        "Args": list(container.command[1:]),
        "State": {
            "Status": container.state,
            "Running": container.state == "running",
            "ExitCode": container.exit_code,
            "StartedAt": timestamp(container.started_s or 0.0),
            "FinishedAt": timestamp(container.finished_s or 0.0),
        },
        "Image": container.image.id,
        "Name": f"/{container.name}",
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {
                "LowerDir": f"{upper}-init/diff:{lower}",
                "UpperDir": f"{upper}/diff",
                "MergedDir": f"{upper}/merged",
                "WorkDir": f"{upper}/work",
            },
        },
        "Mounts": [
            {
                "Type": "volume",
                "Name": mount.volume.name,
                "Source": f"/var/lib/docker/volumes/{mount.volume.name}/_data",
                "Destination": mount.destination,
                "Driver": "local",
                "RW": not mount.read_only,
            }
            for mount in container.mounts
        ],
        "Config": {
            "Hostname": container.id[:12],
            "Env": [f"{key}={value}" for key, value in container.environment.items()],
            "Cmd": list(container.command),
            "Image": container.image_reference,
        },
    }
    if size:
        document["SizeRw"] = container.size_rw
        document["SizeRootFs"] = container.size_rw + image.size_bytes
    return document


def _overlay_dir(chain_id: str) -> str:
    return f"/var/lib/docker/overlay2/{chain_id.removeprefix('sha256:')[:25]}/diff"
