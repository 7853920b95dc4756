"""What the simulated daemon keeps: local images, containers, their options, and errors
in Docker's words; and how a typed image reference is read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import simpy

from sim.model.images.image import Image
from sim.teach.docker.shell import File, Mount

NAME_PATTERN = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


class DockerError(Exception):
    """What Docker would refuse: the lines it prints (`output` first) and its exit status."""

    def __init__(self, message: str, status: int = 1, output: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.output = list(output)


def familiar(repository: str, tag: str) -> str:
    """``repository:tag`` as the CLI shows it (Docker Hub's ``library/`` left out)."""
    return f"{repository.removeprefix('library/')}:{tag}"


def parse_reference(reference: str) -> tuple[str, str]:
    """A reference the user typed as (full repository, tag), with Docker's defaults."""
    name, _, tag = (
        reference.rpartition(":")
        if ":" in reference.split("/")[-1]
        else (
            reference,
            "",
            "latest",
        )
    )
    name = name.removeprefix("docker.io/")
    if not name or name != name.lower() or not re.fullmatch(r"[a-z0-9._/-]+", name):
        raise DockerError(
            f"invalid reference format: repository name ({name}) must be lowercase", 125
        )
    return (name if "/" in name else f"library/{name}"), tag


@dataclass(slots=True)
class LocalImage:
    """An image on the host, its tags, and its creation time if it was built here."""

    image: Image
    tags: list[str]
    created_s: float | None = None
    pulled: bool = False
    built_steps: int = 0

    @property
    def id(self) -> str:
        return self.image.image_id


@dataclass(slots=True)
class Container:
    """A container: its writable layer's files, its mounts, its state and its logs."""

    id: str
    name: str
    image: LocalImage
    image_reference: str
    command: tuple[str, ...]
    service: bool
    environment: dict[str, str]
    ports: tuple[str, ...]
    created_s: float
    mounts: list[Mount]
    upper: dict[str, File] = field(default_factory=dict)
    state: str = "created"
    exit_code: int = 0
    started_s: float | None = None
    finished_s: float | None = None
    ready_s: float | None = None
    logs: list[tuple[float, str]] = field(default_factory=list)
    auto_remove: bool = False
    main: simpy.Process | None = None

    @property
    def size_rw(self) -> int:
        """Bytes in the writable layer (``SizeRw``)."""
        return sum(file.size_bytes for file in self.upper.values())


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What ``docker run`` was asked for."""

    reference: str
    command: tuple[str, ...] = ()
    name: str | None = None
    detach: bool = False
    volumes: tuple[str, ...] = ()
    environment: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()
    auto_remove: bool = False


def format_port(port: str) -> str:
    """A port as ``ps`` shows it: ``8000/tcp``, or ``0.0.0.0:8080->8000/tcp`` if published."""
    if "->" in port:
        host, container = port.split("->")
        return f"0.0.0.0:{host}->{container}/tcp"
    return port if "/" in port else f"{port}/tcp"


def tag_named(reference: str, local: LocalImage) -> str | None:
    """The tag of `local` that `reference` names (None when it names the image by ID)."""
    try:
        name = familiar(*parse_reference(reference))
    except DockerError:
        return None
    return name if name in local.tags else None
