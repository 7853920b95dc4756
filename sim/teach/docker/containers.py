"""The daemon's containers: ``docker run``, ``start``, ``stop``, ``rm``, ``exec``, ``wait``.

A container is created and started by the node's container runtime — the same steps,
times and disk accounting as a replica in a run (a thin writable layer over its image,
the image's use count and last-used time kept by the layer store) — and then runs its
command: a program of the simulated shell, which ends, or the image's app, which
initialises (drawing from the app's stream, as in a run) and serves until stopped.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any

import numpy as np
import simpy

from sim.model.hosts.replica import App
from sim.model.images.image import Image
from sim.teach.docker.images import ImageService
from sim.teach.docker.node import Node
from sim.teach.docker.objects import (
    NAME_PATTERN,
    Container,
    DockerError,
    LocalImage,
    RunOptions,
    format_port,
)
from sim.teach.docker.shell import (
    INTERPRETERS,
    PROGRAMS,
    SHELLS,
    Context,
    ExecNotFound,
    Filesystem,
    Mount,
    Volume,
    run,
)
from sim.teach.docker.volumes import VolumeService

STOP_TIMEOUT_S = 10.0
_ADJECTIVES = (
    "brave",
    "calm",
    "eager",
    "fond",
    "gentle",
    "happy",
    "jolly",
    "keen",
    "kind",
    "lucid",
    "merry",
    "nifty",
    "proud",
    "quiet",
    "sharp",
    "stoic",
    "tender",
    "vibrant",
    "wise",
    "zealous",
)
_SCIENTISTS = (
    "babbage",
    "curie",
    "darwin",
    "euler",
    "faraday",
    "hopper",
    "kepler",
    "lamarr",
    "lovelace",
    "meitner",
    "newton",
    "noether",
    "pascal",
    "ramanujan",
    "shannon",
    "tesla",
    "turing",
    "volta",
    "wozniak",
    "yonath",
)


class ContainerService:
    """The node's containers.

    Args:
        node: the host and its clock.
        images: the local images containers are created from.
        volumes: the volumes they mount.
        apps: the applications, by image name (an image's app serves until stopped).
        names_rng: the stream random container names are drawn from.
    """

    def __init__(
        self,
        node: Node,
        images: ImageService,
        volumes: VolumeService,
        apps: Mapping[str, App],
        names_rng: np.random.Generator,
    ) -> None:
        self.node = node
        self.images = images
        self.volumes = volumes
        self.apps = apps
        self.names_rng = names_rng
        self.by_id: dict[str, Container] = {}

    def get(self, reference: str) -> Container:
        """A container by name, full ID or ID prefix."""
        name = reference.removeprefix("/")
        for container in self.by_id.values():
            if container.name == name or container.id == name:
                return container
        matches = [c for c in self.by_id.values() if c.id.startswith(name)] if name else []
        if len(matches) == 1:
            return matches[0]
        raise DockerError(f"Error response from daemon: No such container: {reference}")

    def _container_name(self, name: str | None) -> str:
        if name is None:
            taken = {c.name for c in self.by_id.values()}
            while True:
                adjective = _ADJECTIVES[int(self.names_rng.integers(len(_ADJECTIVES)))]
                scientist = _SCIENTISTS[int(self.names_rng.integers(len(_SCIENTISTS)))]
                if f"{adjective}_{scientist}" not in taken:
                    return f"{adjective}_{scientist}"
        if not NAME_PATTERN.match(name):
            raise DockerError(
                f"docker: Error response from daemon: Invalid container name ({name}), only "
                "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed.",
                125,
            )
        owner = next((c for c in self.by_id.values() if c.name == name), None)
        if owner is not None:
            raise DockerError(
                f'docker: Error response from daemon: Conflict. The container name "/{name}" '
                f'is already in use by container "{owner.id}". You have to remove (or rename) '
                "that container to be able to reuse that name.",
                125,
            )
        return name

    def _mounts(self, specs: Sequence[str], image: Image) -> list[Mount]:
        mounts = []
        for spec in specs:
            source, _, rest = spec.partition(":")
            destination, _, mode = rest.partition(":")
            if not rest:
                source, destination = "", source
            if source.startswith(("/", ".")):
                raise DockerError(
                    "sim-docker: bind mounts (a host path) are not simulated; use a named "
                    "volume, -v NAME:/path",
                    125,
                )
            if not destination.startswith("/") or mode not in ("", "ro", "rw"):
                raise DockerError(
                    f'docker: Error response from daemon: invalid mount config: "{spec}": '
                    "the destination must be an absolute path, the mode ro or rw.",
                    125,
                )
            volume = self.volumes.create(source or None)
            mounts.append(Mount(volume, destination.rstrip("/") or "/", mode == "ro"))
        taken = {mount.destination for mount in mounts}
        for path in image.config.volumes:
            if path.rstrip("/") not in taken:
                mounts.append(Mount(self.volumes.create(), path.rstrip("/")))
        return mounts

    def _is_service(self, image: Image, command: tuple[str, ...]) -> bool:
        """Whether the command runs until stopped (the image's app), or is a program that
        ends (a shell program, or an interpreter with nothing to read)."""
        if not command:
            return False
        program = command[0].rsplit("/", 1)[-1]
        if (
            program in PROGRAMS
            or program in SHELLS
            or (program in INTERPRETERS and len(command) == 1)
        ):
            return False
        default = image.config.entrypoint + image.config.cmd
        if default and command[0] == default[0]:
            return True
        raise ExecNotFound(command[0])

    def run(self, options: RunOptions) -> tuple[list[str], Container]:
        """``docker run``: pull if needed, create, start; in the foreground, wait for a
        command to end or an app to be ready."""
        output: list[str] = []
        local = self.images.ensure(options.reference, output)
        image = local.image
        config = image.config
        command = options.command
        if command and config.entrypoint:
            command = config.entrypoint + command
        command = command or (config.entrypoint + config.cmd)
        name = self._container_name(options.name)
        try:
            service = self._is_service(image, command)
        except ExecNotFound as missing:
            raise DockerError(
                "docker: Error response from daemon: failed to create task for container: "
                "failed to create shim task: OCI runtime create failed: runc create failed: "
                f'unable to start container process: exec: "{missing}": executable file not '
                "found in $PATH: unknown.",
                127,
                output,
            ) from None
        environment = dict(config.env)
        environment.update(item.partition("=")[::2] for item in options.environment)
        container = Container(
            id=self.node.new_id("container"),
            name=name,
            image=local,
            image_reference=options.reference,
            command=command,
            service=service,
            environment=environment,
            ports=tuple(format_port(port) for port in options.ports or config.exposed_ports),
            created_s=self.node.now,
            mounts=self._mounts(options.volumes, image),
            auto_remove=options.auto_remove,
        )
        self.by_id[container.id] = container
        if image.name in self.node.engine.store.images:
            self.node.runtime.create(self.node.host, image.name, 0)
        self.node.wait(self.node.runtime.create_time_s())
        self._start(container)
        if options.detach:
            return output + [container.id], container
        return output + self._attach(container), container

    def _start(self, container: Container) -> None:
        self.node.wait(self.node.runtime.start_time_s())
        container.state = "running"
        container.started_s = self.node.now
        container.finished_s = None
        container.main = self.node.env.process(self._main(container))

    def _attach(self, container: Container) -> list[str]:
        """Follow a container's output until its command ends, or its app is ready."""
        first = len(container.logs)
        main = container.main
        assert main is not None
        if container.service:
            while container.ready_s is None and main.is_alive:
                self.node.env.step()
        else:
            self.node.env.run(until=main)
        lines = [line for _, line in container.logs[first:]]
        if container.service and main.is_alive:
            lines.append(
                f"sim-docker: {container.name} keeps running; detached "
                f"(docker stop {container.name} to stop it)"
            )
        return lines

    def _context(self, container: Container) -> Context:
        return Context(
            self.node.env,
            Filesystem(
                self.node.host.disk,
                container.upper,
                container.mounts,
                container.image.image.config.workdir,
            ),
            container.id[:12],
            container.environment,
            self.node.host.params.disk_write_bytes_s,
            lambda line: container.logs.append((self.node.now, line)),
        )

    def _main(self, container: Container) -> Generator[simpy.Event, Any, None]:
        """A container's main process: its command, or its app until stopped."""
        try:
            if container.service:
                yield from self._serve(container)
                code = 0
            else:
                code = yield from run(self._context(container), container.command)
        except simpy.Interrupt as signal:
            code = int(signal.cause or 0)
        container.state = "exited"
        container.exit_code = code
        container.finished_s = self.node.now
        if container.auto_remove:
            self._discard(container, remove_anonymous=True)

    def _serve(self, container: Container) -> Generator[simpy.Event, Any, None]:
        say = container.logs.append
        app = self.apps.get(container.image.image.name)
        say((self.node.now, f"[sim] {' '.join(container.command)}: initialising"))
        if app is not None:
            rng: np.random.Generator = self.node.init_rng(app.name)
            init_s = app.init.sample(rng)
            yield self.node.env.timeout(init_s)
        else:
            init_s = 0.0
        container.ready_s = self.node.now
        ports = ", ".join(container.ports)
        listening = f", listening on {ports}" if ports else ""
        say((self.node.now, f"[sim] ready after {init_s:.3g} s of initialisation{listening}"))
        yield self.node.env.event()

    def start(self, reference: str) -> str:
        """``docker start``: run a stopped container again, over the same writable layer."""
        container = self.get(reference)
        if container.state != "running":
            self._start(container)
        return reference

    def stop(self, reference: str, timeout_s: float = STOP_TIMEOUT_S) -> str:
        """``docker stop``: SIGTERM, then SIGKILL after the timeout.

        An app exits cleanly on SIGTERM (status 0) after a short shutdown; a shell
        program running as PID 1 has no handler for it, so it is killed when the
        timeout runs out (status 137): the well-known ten-second ``docker stop``.
        """
        container = self.get(reference)
        if container.state == "running" and container.main is not None:
            self.node.simulate(self._stop(container, timeout_s))
        return reference

    def _stop(self, container: Container, timeout_s: float) -> Generator[simpy.Event, Any, None]:
        main = container.main
        assert main is not None
        if container.service:
            yield self.node.env.timeout(float(self.node.rng.uniform(0.05, 0.3)))
            code = 0
        else:
            yield self.node.env.any_of([main, self.node.env.timeout(timeout_s)])
            code = 137
        if main.is_alive:
            main.interrupt(code)
        yield main

    def remove(self, reference: str, force: bool = False, volumes: bool = False) -> str:
        """``docker rm``: discard a stopped container and its writable layer."""
        container = self.get(reference)
        if container.state == "running":
            if not force:
                raise DockerError(
                    "Error response from daemon: cannot remove container "
                    f'"/{container.name}": container is running: stop the container before '
                    "removing or force remove"
                )
            assert container.main is not None
            container.main.interrupt(137)
            self.node.join(container.main)
        if container.id in self.by_id:
            self._discard(container, volumes)
        return reference

    def _discard(self, container: Container, remove_anonymous: bool) -> None:
        if container.image.image.name in self.node.engine.store.images:
            self.node.runtime.remove(self.node.host, container.image.image.name, container.size_rw)
        else:
            self.node.host.disk.free(container.size_rw)
        container.upper.clear()
        del self.by_id[container.id]
        if remove_anonymous:
            for mount in container.mounts:
                if mount.volume.anonymous and not self.using_volume(mount.volume):
                    self.volumes.remove(mount.volume.name)

    def exec(self, reference: str, command: Sequence[str]) -> tuple[list[str], int]:
        """``docker exec``: run a program in a running container; its output and status."""
        container = self.get(reference)
        if container.state != "running":
            raise DockerError(
                f"Error response from daemon: container {container.id} is not running"
            )
        lines: list[str] = []
        context = self._context(container)
        context.out = lines.append
        try:
            status = self.node.simulate(run(context, command))
        except ExecNotFound:
            raise DockerError(
                "OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{command[0]}": executable file not found in $PATH: unknown',
                126,
            ) from None
        return lines, int(status)

    def wait(self, reference: str) -> int:
        """``docker wait``: until the container stops; its exit status."""
        container = self.get(reference)
        main = container.main if container.state == "running" else None
        if main is not None and not self.node.join(main):
            raise DockerError(
                f"sim-docker: {container.name} runs until it is stopped, so docker wait would "
                f"wait for ever (stop it first: sim-docker stop {container.name})"
            )
        return container.exit_code

    def using_image(self, local: LocalImage) -> list[Container]:
        """The containers created from `local`."""
        return [c for c in self.by_id.values() if c.image is local]

    def using_volume(self, volume: Volume) -> list[Container]:
        """The containers mounting `volume`."""
        return [c for c in self.by_id.values() if any(m.volume is volume for m in c.mounts)]
