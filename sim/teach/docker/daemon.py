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

import hashlib
import re
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from sim.config import ScenarioParams
from sim.core.records import EventLog
from sim.core.streams import RandomStreams
from sim.model.images import Image
from sim.model.runtime import ContainerRuntime, ContainerSettings
from sim.scenario import build_cluster
from sim.teach.docker.builder import Builder
from sim.teach.docker.dockerfile import Stage
from sim.teach.docker.formatting import short_id
from sim.teach.docker.objects import (
    NAME_PATTERN,
    Container,
    DockerError,
    LocalImage,
    RunOptions,
    familiar,
    format_port,
    parse_reference,
    tag_named,
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
from sim.teach.narrate import docker_lines

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


class Daemon:
    """The daemon of the cluster's first host.

    Args:
        params: a validated scenario; its first host, registries, network and image
            catalog are used, its deployments and traffic are not.
    """

    def __init__(self, params: ScenarioParams) -> None:
        self.params = params
        self.env = simpy.Environment()
        self.log = EventLog()
        self.streams = RandomStreams(params.seed)
        self.cluster = build_cluster(self.env, params, self.log, self.streams)
        self.host = self.cluster.hosts[0]
        self.engine = self.host.engine
        settings = next(
            platform
            for platform in params.platforms.values()
            if isinstance(platform, ContainerSettings)
        )
        self.rng = self.streams.generator("docker/runtime")
        self.runtime = ContainerRuntime(
            self.env,
            settings,
            self.cluster.source_for,
            self.rng,
            lambda app: self.streams.generator(f"app/{app}/init"),
            self.log,
            [],
        )
        self.names_rng = self.streams.generator("docker/names")
        self.catalog = {(image.repository, image.tag): image for image in params.images.values()}
        self.apps = {app.image.name: app for app in params.apps.values()}
        self.images: dict[str, LocalImage] = {}
        self.containers: dict[str, Container] = {}
        self.volumes: dict[str, Volume] = {}
        self.builder = Builder(self)
        self._ids = 0

    @property
    def now(self) -> float:
        return float(self.env.now)

    def new_id(self, kind: str) -> str:
        self._ids += 1
        return hashlib.sha256(f"{kind}|{self.params.seed}|{self._ids}".encode()).hexdigest()

    def advance(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass (what runs in the background goes on)."""
        self.env.run(until=self.env.now + seconds)

    def simulate(self, body: Generator[simpy.Event, Any, Any]) -> Any:
        """Run the simulation until `body` ends; return its value (or raise its error)."""
        return self.env.run(until=self.env.process(body))

    # Images -------------------------------------------------------------------------

    def find_image(self, reference: str) -> LocalImage | None:
        """A local image by tag, full ID or ID prefix (as the CLI accepts them)."""
        text = reference.removeprefix("sha256:")
        if re.fullmatch(r"[0-9a-f]{4,64}", text):
            for local in self.images.values():
                if local.id.removeprefix("sha256:").startswith(text):
                    return local
        try:
            repository, tag = parse_reference(reference)
        except DockerError:
            return None
        wanted = familiar(repository, tag)
        return next((image for image in self.images.values() if wanted in image.tags), None)

    def pull(self, reference: str) -> list[str]:
        """``docker pull``: fetch an image of the catalog from its registry."""
        lines: list[str] = self.simulate(self.pulling(reference))
        return lines

    def pulling(self, reference: str) -> Generator[simpy.Event, Any, list[str]]:
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
        present = self.engine.has_image(image)
        start = len(self.log)
        record = yield self.env.process(self.engine.pull(image, self.cluster.source_for(image)))
        lines = [
            line
            for event in list(self.log)[start:]
            if event.source == self.host.name
            for line in docker_lines(event)
            if not line.startswith("$ ") and not (present and line.endswith("Already exists"))
        ]
        if not record.ok:
            raise DockerError(lines[-1], 1, lines[:-1])
        local = self.images.get(image.image_id)
        if local is None:
            local = self.images[image.image_id] = LocalImage(image, [], pulled=True)
        self._retag(local, name)
        lines[-1] = (
            f"Status: Image is up to date for {name}"
            if present
            else f"Status: Downloaded newer image for {name}"
        )
        return lines

    def _retag(self, local: LocalImage, tag: str) -> None:
        for other in self.images.values():
            if tag in other.tags and other is not local:
                other.tags.remove(tag)
        if tag not in local.tags:
            local.tags.append(tag)

    def tag(self, source: str, target: str) -> None:
        """``docker tag``: another name for a local image."""
        local = self.local_image(source)
        self._retag(local, familiar(*parse_reference(target)))

    def local_image(self, reference: str) -> LocalImage:
        local = self.find_image(reference)
        if local is None:
            raise DockerError(f"Error response from daemon: No such image: {reference}")
        return local

    def _ensure_image(self, reference: str, output: list[str]) -> LocalImage:
        """The local image, pulled first if missing (as ``docker run`` does)."""
        local = self.find_image(reference)
        if local is not None:
            return local
        repository, tag = parse_reference(reference)
        output.append(f"Unable to find image '{familiar(repository, tag)}' locally")
        try:
            output += self.pull(reference)
        except DockerError as error:
            raise DockerError(f"docker: {error}", 125, output + error.output) from None
        return self.local_image(reference)

    def remove_image(self, reference: str, force: bool = False) -> list[str]:
        """``docker rmi``: untag; delete the image and free the layers nothing else holds."""
        local = self.local_image(reference)
        users = self.image_users(local)
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
        before = set(self.engine.store.layers)
        self.engine.store.remove_image(local.image.name)
        del self.images[local.id]
        lines.append(f"Deleted: {local.id}")
        lines += [
            f"Deleted: {chain_id}"
            for chain_id in reversed(local.image.chain_ids)
            if chain_id in before and chain_id not in self.engine.store.layers
        ]
        return lines

    # Volumes ------------------------------------------------------------------------

    def create_volume(self, name: str | None = None) -> Volume:
        """``docker volume create``: an empty named volume (an existing name is reused)."""
        if name is not None and not NAME_PATTERN.match(name):
            raise DockerError(
                f'Error response from daemon: create {name}: "{name}" includes invalid '
                'characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" '
                "are allowed. If you intended to pass a host directory, use absolute path"
            )
        if name is None:
            volume = Volume(self.new_id("volume"), self.now, anonymous=True)
        else:
            volume = self.volumes.get(name) or Volume(name, self.now)
        self.volumes[volume.name] = volume
        return volume

    def volume(self, name: str) -> Volume:
        volume = self.volumes.get(name)
        if volume is None:
            raise DockerError(f"Error response from daemon: get {name}: no such volume")
        return volume

    def volume_users(self, volume: Volume) -> list[Container]:
        return [c for c in self.containers.values() if any(m.volume is volume for m in c.mounts)]

    def remove_volume(self, name: str) -> str:
        """``docker volume rm``: refused while any container mounts it."""
        volume = self.volume(name)
        users = self.volume_users(volume)
        if users:
            raise DockerError(
                f"Error response from daemon: remove {name}: volume is in use - "
                f"[{', '.join(c.id for c in users)}]"
            )
        self.host.disk.free(volume.size_bytes)
        del self.volumes[name]
        return name

    # Containers ---------------------------------------------------------------------

    def container(self, reference: str) -> Container:
        """A container by name, full ID or ID prefix."""
        name = reference.removeprefix("/")
        for container in self.containers.values():
            if container.name == name or container.id == name:
                return container
        matches = [c for c in self.containers.values() if c.id.startswith(name)] if name else []
        if len(matches) == 1:
            return matches[0]
        raise DockerError(f"Error response from daemon: No such container: {reference}")

    def _container_name(self, name: str | None) -> str:
        if name is None:
            taken = {c.name for c in self.containers.values()}
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
        owner = next((c for c in self.containers.values() if c.name == name), None)
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
            volume = self.create_volume(source or None)
            mounts.append(Mount(volume, destination.rstrip("/") or "/", mode == "ro"))
        taken = {mount.destination for mount in mounts}
        for path in image.config.volumes:
            if path.rstrip("/") not in taken:
                mounts.append(Mount(self.create_volume(), path.rstrip("/")))
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
        local = self._ensure_image(options.reference, output)
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
            id=self.new_id("container"),
            name=name,
            image=local,
            image_reference=options.reference,
            command=command,
            service=service,
            environment=environment,
            ports=tuple(format_port(port) for port in options.ports or config.exposed_ports),
            created_s=self.now,
            mounts=self._mounts(options.volumes, image),
            auto_remove=options.auto_remove,
        )
        self.containers[container.id] = container
        if image.name in self.engine.store.images:
            self.runtime.create(self.host, image.name, 0)
        self.simulate(self._timed(self.runtime.create_time_s()))
        self._start(container)
        if options.detach:
            return output + [container.id], container
        return output + self._attach(container), container

    def _timed(self, seconds: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(seconds)

    def _start(self, container: Container) -> None:
        self.simulate(self._timed(self.runtime.start_time_s()))
        container.state = "running"
        container.started_s = self.now
        container.finished_s = None
        container.main = self.env.process(self._main(container))

    def _attach(self, container: Container) -> list[str]:
        """Follow a container's output until its command ends, or its app is ready."""
        first = len(container.logs)
        main = container.main
        assert main is not None
        if container.service:
            while container.ready_s is None and main.is_alive:
                self.env.step()
        else:
            self.env.run(until=main)
        lines = [line for _, line in container.logs[first:]]
        if container.service and main.is_alive:
            lines.append(
                f"sim-docker: {container.name} keeps running; detached "
                f"(docker stop {container.name} to stop it)"
            )
        return lines

    def _context(self, container: Container) -> Context:
        return Context(
            self.env,
            Filesystem(
                self.host.disk,
                container.upper,
                container.mounts,
                container.image.image.config.workdir,
            ),
            container.id[:12],
            container.environment,
            self.host.params.disk_write_bytes_s,
            lambda line: container.logs.append((self.now, line)),
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
        container.finished_s = self.now
        if container.auto_remove:
            self._discard(container, remove_anonymous=True)

    def _serve(self, container: Container) -> Generator[simpy.Event, Any, None]:
        say = container.logs.append
        app = self.apps.get(container.image.image.name)
        say((self.now, f"[sim] {' '.join(container.command)}: initialising"))
        if app is not None:
            rng: np.random.Generator = self.streams.generator(f"app/{app.name}/init")
            init_s = app.init.sample(rng)
            yield self.env.timeout(init_s)
        else:
            init_s = 0.0
        container.ready_s = self.now
        ports = ", ".join(container.ports)
        listening = f", listening on {ports}" if ports else ""
        say((self.now, f"[sim] ready after {init_s:.3g} s of initialisation{listening}"))
        yield self.env.event()

    def start(self, reference: str) -> str:
        """``docker start``: run a stopped container again, over the same writable layer."""
        container = self.container(reference)
        if container.state != "running":
            self._start(container)
        return reference

    def stop(self, reference: str, timeout_s: float = STOP_TIMEOUT_S) -> str:
        """``docker stop``: SIGTERM, then SIGKILL after the timeout.

        An app exits cleanly on SIGTERM (status 0) after a short shutdown; a shell
        program running as PID 1 has no handler for it, so it is killed when the
        timeout runs out (status 137): the well-known ten-second ``docker stop``.
        """
        container = self.container(reference)
        if container.state == "running" and container.main is not None:
            self.simulate(self._stop(container, timeout_s))
        return reference

    def _stop(self, container: Container, timeout_s: float) -> Generator[simpy.Event, Any, None]:
        main = container.main
        assert main is not None
        if container.service:
            yield self.env.timeout(float(self.rng.uniform(0.05, 0.3)))
            code = 0
        else:
            yield self.env.any_of([main, self.env.timeout(timeout_s)])
            code = 137
        if main.is_alive:
            main.interrupt(code)
        yield main

    def remove(self, reference: str, force: bool = False, volumes: bool = False) -> str:
        """``docker rm``: discard a stopped container and its writable layer."""
        container = self.container(reference)
        if container.state == "running":
            if not force:
                raise DockerError(
                    "Error response from daemon: cannot remove container "
                    f'"/{container.name}": container is running: stop the container before '
                    "removing or force remove"
                )
            assert container.main is not None
            container.main.interrupt(137)
            self.simulate(self._join(container.main))
        if container.id in self.containers:
            self._discard(container, volumes)
        return reference

    def _join(self, process: simpy.Process) -> Generator[simpy.Event, Any, None]:
        yield process

    def _discard(self, container: Container, remove_anonymous: bool) -> None:
        if container.image.image.name in self.engine.store.images:
            self.runtime.remove(self.host, container.image.image.name, container.size_rw)
        else:
            self.host.disk.free(container.size_rw)
        container.upper.clear()
        del self.containers[container.id]
        if remove_anonymous:
            for mount in container.mounts:
                if mount.volume.anonymous and not self.volume_users(mount.volume):
                    self.remove_volume(mount.volume.name)

    def exec(self, reference: str, command: Sequence[str]) -> tuple[list[str], int]:
        """``docker exec``: run a program in a running container; its output and status."""
        container = self.container(reference)
        if container.state != "running":
            raise DockerError(
                f"Error response from daemon: container {container.id} is not running"
            )
        lines: list[str] = []
        context = self._context(container)
        context.out = lines.append
        try:
            status = self.simulate(run(context, command))
        except ExecNotFound:
            raise DockerError(
                "OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{command[0]}": executable file not found in $PATH: unknown',
                126,
            ) from None
        return lines, int(status)

    def wait(self, reference: str) -> int:
        """``docker wait``: until the container stops; its exit status."""
        container = self.container(reference)
        if container.state == "running" and container.main is not None:
            self.simulate(self._join(container.main))
        return container.exit_code

    def build(
        self, stages: Sequence[Stage], tags: Sequence[str], context_bytes: int, no_cache: bool
    ) -> list[str]:
        """``docker build``: see `Builder`."""
        return self.builder.build(stages, tags, context_bytes, no_cache)

    # Views --------------------------------------------------------------------------

    def image_users(self, local: LocalImage) -> list[Container]:
        return [c for c in self.containers.values() if c.image is local]
