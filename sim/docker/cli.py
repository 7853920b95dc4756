"""``sim-docker``: Docker's command line over a simulated host.

``sim-docker pull python:3.12-slim`` prints what ``docker pull`` prints, while the
simulated host pulls over the simulated network; every command advances the simulated
clock by what it costs, shown after its output. The host persists between commands in a
state file (``.sim-docker.json`` in the current folder, ``$SIM_DOCKER_STATE`` or
``--state FILE``): a journal
of the commands run so far, replayed on start, so the same commands and seed give the
same host, byte for byte. Commands also come from a file (``--script FILE``, ``-`` for
standard input) or a prompt (``sim-docker`` alone on a terminal).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.text import Text

from sim.cli import load_config, to_plain
from sim.config import ScenarioParams, scenario_params
from sim.core.errors import ConfigError
from sim.core.units import parse_duration
from sim.docker.daemon import (
    Container,
    Daemon,
    DockerError,
    LocalImage,
    RunOptions,
)
from sim.docker.dockerfile import DockerfileError, Instruction, Stage, read_dockerfile
from sim.docker.formatting import human_duration, human_size, short_id, table, timestamp
from sim.narrate import show

STATE_FORMAT = "sim-docker-state/1"
DEFAULT_STATE = ".sim-docker.json"
HOST_OVERRIDES = (
    "cluster.pools.node.count=1",
    "cluster.scaler.enabled=false",
    "platform=container",
    "workload.deployments=[]",
)
READ_ONLY = frozenset({"images", "ps", "logs", "inspect", "history", "help", "--help", "-h"})
READ_ONLY_PAIRS = frozenset({("volume", "ls"), ("volume", "inspect"), ("system", "df")})
ALIASES = {
    ("container", "ls"): "ps",
    ("container", "rm"): "rm",
    ("container", "inspect"): "inspect",
    ("image", "ls"): "images",
    ("image", "rm"): "rmi",
    ("image", "pull"): "pull",
    ("image", "inspect"): "inspect",
    ("image", "history"): "history",
    ("image", "build"): "build",
}
USAGE = """\
Usage:  sim-docker [--state FILE | --no-state] [--seed N] [--script FILE] [COMMAND]

Docker's commands over a simulated host (node-1 of the default cluster).

Commands:
  build     Build an image from a Dockerfile
  exec      Execute a command in a running container
  history   Show the history of an image
  images    List images
  inspect   Return low-level information on containers or images
  logs      Fetch the logs of a container
  ps        List containers
  pull      Download an image from a registry
  rm        Remove one or more containers
  rmi       Remove one or more images
  run       Create and run a new container from an image
  start     Start one or more stopped containers
  stop      Stop one or more running containers
  tag       Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
  wait      Block until one or more containers stop, then print their exit codes
  volume    Manage volumes (create, ls, inspect, rm)
  system    Manage Docker (df [-v])

Simulator:
  sleep     Let simulated time pass (sleep 30, sleep 2min): apps initialise, jobs run on"""


@dataclasses.dataclass
class Outcome:
    """What one command printed (to stdout and stderr, in order) and its exit status."""

    lines: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    status: int = 0

    def out(self, *lines: str) -> None:
        self.lines += [("out", line) for line in lines]

    def err(self, *lines: str) -> None:
        self.lines += [("err", line) for line in lines]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag as Docker does, instead of exiting."""

    def error(self, message: str) -> NoReturn:
        match = re.search(r"unrecognized arguments: (\S+)", message)
        verb = self.prog
        if match:
            raise DockerError(f"unknown flag: {match.group(1)}\nSee 'docker {verb} --help'.", 125)
        raise DockerError(
            f'"docker {verb}" {message.replace("the following arguments are required", "requires")}'
            f"\nSee 'docker {verb} --help'.",
            1,
        )


def _parser(verb: str) -> _Parser:
    return _Parser(prog=verb, add_help=False, allow_abbrev=False)


@functools.cache
def host_params(seed: int) -> ScenarioParams:
    """The simulated host's scenario: one node of the default cluster, nothing deployed."""
    return scenario_params(to_plain(load_config([*HOST_OVERRIDES, f"seed={seed}"])))


class Session:
    """A daemon, the journal of the commands it ran, and the verbs that drive it."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.daemon = Daemon(host_params(seed))
        self.journal: list[dict[str, Any]] = []

    def execute(self, argv: Sequence[str], recorded: dict[str, Any] | None = None) -> Outcome:
        """Run one command (its words after ``docker``); record it in the journal."""
        entry: dict[str, Any] = dict(recorded or {"argv": list(argv)})
        outcome = Outcome()
        started = self.daemon.now
        try:
            self._dispatch(list(argv), outcome, entry)
        except DockerError as error:
            outcome.out(*error.output)
            outcome.err(*str(error).splitlines())
            outcome.status = error.status
        if not _read_only(argv):
            self.journal.append(entry)
        self.elapsed = self.daemon.now - started
        return outcome

    def _dispatch(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        if not argv or argv[0] in ("help", "--help", "-h"):
            outcome.out(*USAGE.splitlines())
            return
        if argv[0] == "docker":
            argv = argv[1:] or ["help"]
        verb = ALIASES.get((argv[0], argv[1] if len(argv) > 1 else ""))
        arguments = argv[2:] if verb else argv[1:]
        verb = verb or argv[0]
        handler: Callable[[list[str], Outcome, dict[str, Any]], None] | None = getattr(
            self, f"_verb_{verb}", None
        )
        if handler is None or verb.startswith("_"):
            raise DockerError(f"docker: '{verb}' is not a docker command.\nSee 'docker --help'")
        handler(arguments, outcome, entry)

    # Images -------------------------------------------------------------------------

    def _verb_sleep(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        if len(argv) != 1:
            raise DockerError("usage: sleep DURATION (e.g. sleep 30, sleep 2min)")
        text = argv[0] if argv[0][-1:].isalpha() else f"{argv[0]}s"
        try:
            seconds = parse_duration(text, "sleep")
        except ConfigError:
            raise DockerError(f"sleep: invalid time interval '{argv[0]}'") from None
        self.daemon.advance(seconds)

    def _verb_pull(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("pull")
        parser.add_argument("image")
        options = parser.parse_args(argv)
        outcome.out(*self.daemon.pull(options.image))

    def _verb_images(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("images")
        parser.add_argument("-q", "--quiet", action="store_true")
        options = parser.parse_args(argv)
        images = sorted(
            self.daemon.images.values(),
            key=lambda local: -1.0 if local.created_s is None else local.created_s,
            reverse=True,
        )
        if options.quiet:
            outcome.out(*dict.fromkeys(short_id(local.id) for local in images))
            return
        rows = [("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")]
        for local in images:
            for tag in local.tags or ["<none>:<none>"]:
                repository, _, name = tag.rpartition(":")
                rows.append(
                    (
                        repository,
                        name,
                        short_id(local.id),
                        self._ago(local.created_s),
                        human_size(local.image.size_bytes, 3),
                    )
                )
        outcome.out(*table(rows))

    def _ago(self, time_s: float | None) -> str:
        if time_s is None:
            return "N/A"
        return f"{human_duration(self.daemon.now - time_s)} ago"

    def _verb_history(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("history")
        parser.add_argument("--no-trunc", action="store_true")
        parser.add_argument("image")
        options = parser.parse_args(argv)
        local = self._image(options.image)
        rows = [("IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT")]
        for index, step in enumerate(reversed(local.image.history)):
            created_by = step.created_by
            if not options.no_trunc and len(created_by) > 45:
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
        outcome.out(*table(rows))

    def _image(self, reference: str) -> LocalImage:
        local = self.daemon.find_image(reference)
        if local is None:
            raise DockerError(f"Error response from daemon: No such image: {reference}")
        return local

    def _verb_rmi(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("rmi")
        parser.add_argument("-f", "--force", action="store_true")
        parser.add_argument("images", nargs="+")
        options = parser.parse_args(argv)
        self._each(
            options.images, outcome, lambda ref: self.daemon.remove_image(ref, options.force)
        )

    def _verb_tag(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("tag")
        parser.add_argument("source")
        parser.add_argument("target")
        options = parser.parse_args(argv)
        self.daemon.tag(options.source, options.target)

    def _verb_build(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("build")
        parser.add_argument("-f", "--file")
        parser.add_argument("-t", "--tag", action="append", default=[])
        parser.add_argument("--build-arg", action="append", default=[])
        parser.add_argument("--no-cache", action="store_true")
        parser.add_argument("-q", "--quiet", action="store_true")
        parser.add_argument("context")
        options = parser.parse_args(argv)
        if "stages" in entry:
            stages = tuple(_stage(stage) for stage in entry["stages"])
            context_bytes = int(entry["context_bytes"])
        else:
            stages, context_bytes = self._read_build(options)
            entry["stages"] = [dataclasses.asdict(stage) for stage in stages]
            entry["context_bytes"] = context_bytes
        lines = self.daemon.build(stages, options.tag, context_bytes, options.no_cache)
        outcome.out(*([lines[-1 - len(options.tag)]] if options.quiet else lines))

    def _read_build(self, options: argparse.Namespace) -> tuple[tuple[Stage, ...], int]:
        context = Path(options.context)
        dockerfile = Path(options.file) if options.file else context / "Dockerfile"
        if not context.is_dir():
            raise DockerError(
                f"unable to prepare context: path {str(context)!r} not found".replace("'", '"')
            )
        try:
            text = dockerfile.read_text(encoding="utf-8")
        except OSError:
            raise DockerError(
                "unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
                f"lstat {dockerfile.absolute()}: no such file or directory"
            ) from None
        build_args = dict(item.partition("=")[::2] for item in options.build_arg)
        try:
            stages = read_dockerfile(text, context, build_args)
        except DockerfileError as error:
            raise DockerError(str(error)) from None
        context_bytes = sum(p.stat().st_size for p in context.rglob("*") if p.is_file())
        return stages, context_bytes

    # Containers ---------------------------------------------------------------------

    def _verb_run(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("run")
        parser.add_argument("-d", "--detach", action="store_true")
        parser.add_argument("-i", "--interactive", action="store_true")
        parser.add_argument("-t", "--tty", action="store_true")
        parser.add_argument("--rm", action="store_true")
        parser.add_argument("--name")
        parser.add_argument("-v", "--volume", action="append", default=[])
        parser.add_argument("-e", "--env", action="append", default=[])
        parser.add_argument("-p", "--publish", action="append", default=[])
        parser.add_argument("image")
        parser.add_argument("command", nargs=argparse.REMAINDER)
        options = parser.parse_args(_split_flags(argv, "dit"))
        ports = tuple(_published(spec) for spec in options.publish)
        lines, container = self.daemon.run(
            RunOptions(
                reference=options.image,
                command=tuple(options.command),
                name=options.name,
                detach=options.detach,
                volumes=tuple(options.volume),
                environment=tuple(options.env),
                ports=ports,
                auto_remove=options.rm,
            )
        )
        outcome.out(*lines)
        if not options.detach and container.state == "exited":
            outcome.status = container.exit_code

    def _verb_ps(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("ps")
        parser.add_argument("-a", "--all", action="store_true")
        parser.add_argument("-q", "--quiet", action="store_true")
        parser.add_argument("-s", "--size", action="store_true")
        options = parser.parse_args(_split_flags(argv, "aqs"))
        containers = [
            c
            for c in reversed(self.daemon.containers.values())
            if options.all or c.state == "running"
        ]
        if options.quiet:
            outcome.out(*(c.id[:12] for c in containers))
            return
        header = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
        rows = [header + (["SIZE"] if options.size else [])]
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
            if options.size:
                virtual = container.size_rw + container.image.image.size_bytes
                row.append(f"{human_size(container.size_rw, 3)} (virtual {human_size(virtual, 3)})")
            rows.append(row)
        outcome.out(*table(rows))

    def _image_column(self, container: Container) -> str:
        reference = container.image_reference
        if self.daemon.find_image(reference) is container.image:
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

    def _verb_logs(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("logs")
        parser.add_argument("-t", "--timestamps", action="store_true")
        parser.add_argument("container")
        options = parser.parse_args(argv)
        container = self.daemon.container(options.container)
        for time_s, line in container.logs:
            outcome.out(f"{timestamp(time_s)} {line}" if options.timestamps else line)

    def _verb_exec(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("exec")
        parser.add_argument("-i", "--interactive", action="store_true")
        parser.add_argument("-t", "--tty", action="store_true")
        parser.add_argument("container")
        parser.add_argument("command", nargs=argparse.REMAINDER)
        options = parser.parse_args(_split_flags(argv, "it"))
        if not options.command:
            raise DockerError(
                "\"docker exec\" requires at least 2 arguments.\nSee 'docker exec --help'."
            )
        lines, status = self.daemon.exec(options.container, options.command)
        outcome.out(*lines)
        outcome.status = status

    def _verb_start(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("start")
        parser.add_argument("containers", nargs="+")
        options = parser.parse_args(argv)
        self._each(options.containers, outcome, lambda ref: [self.daemon.start(ref)])

    def _verb_stop(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("stop")
        parser.add_argument("-t", "--time", type=float, default=10.0)
        parser.add_argument("containers", nargs="+")
        options = parser.parse_args(argv)
        self._each(options.containers, outcome, lambda ref: [self.daemon.stop(ref, options.time)])

    def _verb_rm(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("rm")
        parser.add_argument("-f", "--force", action="store_true")
        parser.add_argument("-v", "--volumes", action="store_true")
        parser.add_argument("containers", nargs="+")
        options = parser.parse_args(_split_flags(argv, "fv"))
        self._each(
            options.containers,
            outcome,
            lambda ref: [self.daemon.remove(ref, options.force, options.volumes)],
        )

    def _verb_wait(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("wait")
        parser.add_argument("containers", nargs="+")
        options = parser.parse_args(argv)
        self._each(options.containers, outcome, lambda ref: [str(self.daemon.wait(ref))])

    def _each(
        self, references: Iterable[str], outcome: Outcome, act: Callable[[str], list[str]]
    ) -> None:
        """Act on each reference in turn; an error is printed and the rest go on."""
        for reference in references:
            try:
                outcome.out(*act(reference))
            except DockerError as error:
                outcome.err(*str(error).splitlines())
                outcome.status = error.status

    def _verb_inspect(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("inspect")
        parser.add_argument("-s", "--size", action="store_true")
        parser.add_argument("-f", "--format")
        parser.add_argument("names", nargs="+")
        options = parser.parse_args(argv)
        documents = []
        for name in options.names:
            try:
                container = self.daemon.container(name)
                documents.append(self.daemon.inspect_container(container, options.size))
                continue
            except DockerError:
                pass
            local = self.daemon.find_image(name)
            if local is None:
                outcome.err(f"Error: No such object: {name}")
                outcome.status = 1
                continue
            documents.append(self.daemon.inspect_image(local))
        if options.format:
            outcome.out(*(_template(options.format, document) for document in documents))
        elif documents or outcome.status == 0:
            outcome.out(*json.dumps(documents, indent=4, ensure_ascii=False).splitlines())

    # Volumes and the disk ---------------------------------------------------------

    def _verb_volume(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        action, arguments = (argv[0], argv[1:]) if argv else ("", [])
        daemon = self.daemon
        if action == "create":
            volume = daemon.create_volume(arguments[0] if arguments else None)
            outcome.out(volume.name)
        elif action in ("ls", "list"):
            rows = [("DRIVER", "VOLUME NAME")]
            rows += [("local", name) for name in sorted(daemon.volumes)]
            outcome.out(*table(rows))
        elif action == "rm" and arguments:
            self._each(arguments, outcome, lambda name: [daemon.remove_volume(name)])
        elif action == "inspect" and arguments:
            documents = []
            for name in arguments:
                volume = daemon.volume(name)
                documents.append(
                    {
                        "CreatedAt": timestamp(volume.created_s),
                        "Driver": "local",
                        "Labels": {"com.docker.volume.anonymous": ""} if volume.anonymous else None,
                        "Mountpoint": f"/var/lib/docker/volumes/{name}/_data",
                        "Name": name,
                        "Options": None,
                        "Scope": "local",
                    }
                )
            outcome.out(*json.dumps(documents, indent=4).splitlines())
        else:
            raise DockerError(
                "Usage:  docker volume COMMAND\n\nCommands: create, inspect, ls, rm\n"
                "See 'docker volume --help'."
            )

    def _verb_system(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        if not argv or argv[0] != "df":
            raise DockerError("Usage:  docker system df [-v]\nSee 'docker system --help'.")
        parser = _parser("system df")
        parser.add_argument("-v", "--verbose", action="store_true")
        options = parser.parse_args(argv[1:])
        outcome.out(*(self._df_verbose() if options.verbose else self._df()))

    def _df(self) -> list[str]:
        """``system df`` as the CLI sums it up: an active image's shared layers count as
        reclaimable (Docker subtracts only active images' unique bytes)."""
        daemon = self.daemon
        images = list(daemon.images.values())
        active = [local for local in images if daemon.image_users(local)]
        layer_bytes = daemon.engine.store.layer_bytes()
        used_bytes = sum(local.image.size_bytes - self._shared_bytes(local) for local in active)
        containers = list(daemon.containers.values())
        volumes = list(daemon.volumes.values())
        used_volumes = [v for v in volumes if daemon.volume_users(v)]
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
            for other in self.daemon.images.values()
            if other is not local
            for chain in other.image.chain_ids
        }
        image = local.image
        return sum(
            layer.size_bytes
            for chain, layer in zip(image.chain_ids, image.layers, strict=True)
            if chain in others
        )

    def _df_verbose(self) -> list[str]:
        daemon = self.daemon
        images = sorted(
            daemon.images.values(),
            key=lambda local: -1.0 if local.created_s is None else local.created_s,
            reverse=True,
        )
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
        for local in images:
            shared = self._shared_bytes(local)
            for tag in local.tags or ["<none>:<none>"]:
                repository, _, name = tag.rpartition(":")
                rows.append(
                    (
                        repository,
                        name,
                        short_id(local.id),
                        self._ago(local.created_s),
                        human_size(local.image.size_bytes),
                        human_size(shared),
                        human_size(local.image.size_bytes - shared),
                        str(len(daemon.image_users(local))),
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
        for container in reversed(daemon.containers.values()):
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
            (name, str(len(daemon.volume_users(volume))), human_size(volume.size_bytes))
            for name, volume in sorted(daemon.volumes.items())
        ]
        lines += [*table(volume_rows), "", "Build cache usage: 0B"]
        return lines


def _read_only(argv: Sequence[str]) -> bool:
    """Whether a command only looks (then the journal leaves it out)."""
    words = [word for word in argv if word != "docker"]
    if not words:
        return True
    verb = ALIASES.get((words[0], words[1] if len(words) > 1 else ""), words[0])
    return verb in READ_ONLY or tuple(words[:2]) in READ_ONLY_PAIRS


def _reclaimable(size_bytes: int, total_bytes: int) -> str:
    percent = int(size_bytes * 100 / total_bytes) if total_bytes else 0
    text = human_size(size_bytes)
    return f"{text} ({percent}%)" if total_bytes else text


def _split_flags(argv: list[str], letters: str) -> list[str]:
    """``-it`` as ``-i -t``, the way Docker's flag parser reads combined short flags."""
    split: list[str] = []
    for index, word in enumerate(argv):
        if not word.startswith("-") or word.startswith("--") or len(word) < 3:
            split.append(word)
        elif set(word[1:]) <= set(letters):
            split += [f"-{letter}" for letter in word[1:]]
        else:
            split.append(word)
        if not word.startswith("-") and index > 0 and not argv[index - 1].startswith("-"):
            return split + argv[index + 1 :]
    return split


def _published(spec: str) -> str:
    host, _, container = spec.rpartition(":")
    if not container.isdigit() or (host and not host.isdigit()):
        raise DockerError(f'docker: invalid publish opts format "{spec}".', 125)
    return f"{host}->{container}" if host else container


def _quote_command(command: Sequence[str]) -> str:
    text = " ".join(command)
    if len(text) > 20:
        text = text[:19] + "…"
    return json.dumps(text, ensure_ascii=False)


def _template(template: str, document: dict[str, Any]) -> str:
    """The subset of Go templates ``--format`` uses here: ``{{.A.B}}`` and ``{{json .A}}``."""

    def value(match: re.Match[str]) -> str:
        as_json, path = match.group(1), match.group(2)
        found: Any = document
        for key in filter(None, path.split(".")):
            found = found.get(key) if isinstance(found, dict) else None
        if as_json or isinstance(found, dict | list):
            return json.dumps(found)
        return "<no value>" if found is None else str(found)

    return re.sub(r"\{\{\s*(json\s+)?(\.[\w.]*)\s*\}\}", value, template)


def _stage(document: dict[str, Any]) -> Stage:
    instructions = tuple(
        Instruction(**{**item, "flags": tuple(tuple(flag) for flag in item["flags"])})
        for item in document["instructions"]
    )
    return Stage(**{**document, "instructions": instructions})


# The journal ----------------------------------------------------------------------


def load_session(path: Path | None, seed: int | None) -> Session:
    """A session replaying the journal in `path`, or a new one."""
    if path is None or not path.exists():
        return Session(42 if seed is None else seed)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("format") != STATE_FORMAT:
            raise ValueError
        stored_seed = int(state["seed"])
        commands = list(state["commands"])
    except (ValueError, KeyError, TypeError, OSError):
        raise ConfigError(
            "--state", str(path), f"a state file written by sim-docker ({STATE_FORMAT})"
        ) from None
    if seed is not None and seed != stored_seed:
        raise ConfigError(
            "--seed", seed, f"the seed of {path} ({stored_seed}); remove the file to start over"
        )
    session = Session(stored_seed)
    for entry in commands:
        session.execute(entry["argv"], entry)
    return session


def save_session(session: Session, path: Path) -> None:
    """Write the journal atomically: the old state stays whole until the new is in place."""
    entries = ",\n  ".join(json.dumps(entry, sort_keys=True) for entry in session.journal)
    text = (
        f'{{"format": "{STATE_FORMAT}", "seed": {session.seed}, "commands": [\n  {entries}\n]}}\n'
    )
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# The command line ------------------------------------------------------------------


class Printer:
    """Prints outcomes: coloured on a terminal, plain when piped or with NO_COLOR."""

    def __init__(self, out: Console | None = None, err: Console | None = None) -> None:
        self.out = out or Console(highlight=False, soft_wrap=True)
        self.err = err or Console(highlight=False, soft_wrap=True, stderr=True)

    def command(self, argv: Sequence[str]) -> None:
        show([f"$ docker {shlex.join(argv)}"], self.out)

    def outcome(self, outcome: Outcome, elapsed_s: float, clock_s: float) -> None:
        for stream, line in outcome.lines:
            if stream == "err":
                show([line], self.err, "red")
            else:
                show([line], self.out)
        show([f"[{elapsed_s:.3f} s simulated; clock at {clock_s:.3f} s]"], self.out, "dim")


def _commands(lines: Iterable[str]) -> Iterable[tuple[int, list[str]]]:
    """The commands of a script: one per line, ``docker`` optional, ``#`` comments."""
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            words = shlex.split(text)
        except ValueError as error:
            raise ConfigError(f"line {number}", text, f"a command line ({error})") from None
        if words[:1] in (["docker"], ["sim-docker"]):
            words = words[1:]
        yield number, words


def _global_options(argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """sim-docker's own options (before the command), and the command."""
    state = os.environ.get("SIM_DOCKER_STATE") or DEFAULT_STATE
    options: dict[str, Any] = {"state": state, "no_state": False, "seed": None}
    options["script"] = None
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        word, _, value = argv[index].partition("=")
        key = word.removeprefix("--").replace("-", "_")
        if word in ("-h", "--help"):
            return options, ["help"]
        if word == "--no-state":
            options["no_state"] = True
            index += 1
            continue
        if key not in ("state", "seed", "script") or not word.startswith("--"):
            raise ConfigError(
                word, "unknown option", "--state FILE, --no-state, --seed N, --script FILE"
            )
        if not value:
            if index + 1 >= len(argv):
                raise ConfigError(word, "no value", "a value after it")
            value = argv[index + 1]
            index += 1
        index += 1
        if key == "seed":
            try:
                options[key] = int(value)
            except ValueError:
                raise ConfigError(word, value, "an integer") from None
        else:
            options[key] = value
    return options, argv[index:]


def main(argv: Sequence[str] | None = None, printer: Printer | None = None) -> int:
    """The ``sim-docker`` console script; returns (and, as a script, exits with) the status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    printer = printer or Printer()
    try:
        options, command = _global_options(arguments)
        state = None if options["no_state"] else Path(options["state"])
        session = load_session(state, options["seed"])
        if options["script"] is not None:
            status = _run_script(session, options["script"], printer, state)
        elif command:
            outcome = session.execute(command)
            if state is not None:
                save_session(session, state)
            printer.outcome(outcome, session.elapsed, session.daemon.now)
            status = outcome.status
        elif sys.stdin.isatty():
            status = _prompt(session, printer, state)
        else:
            status = _run_script(session, "-", printer, state)
    except ConfigError as error:
        printer.err.print(Text(f"sim-docker: {error}", style="red"))
        status = 2
    if argv is None:
        sys.exit(status)
    return status


def _run_script(session: Session, source: str, printer: Printer, state: Path | None) -> int:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError("--script", source, f"a readable file ({error.strerror})") from None
    status = 0
    for _, words in list(_commands(text.splitlines())):
        printer.command(words)
        outcome = session.execute(words)
        printer.outcome(outcome, session.elapsed, session.daemon.now)
        status = outcome.status
    if state is not None:
        save_session(session, state)
    return status


def _prompt(session: Session, printer: Printer, state: Path | None) -> int:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    printer.out.print(
        "sim-docker: Docker's commands on a simulated host. 'help' lists them; 'exit' ends."
    )
    status = 0
    while True:
        try:
            line = input(f"sim-docker [{session.daemon.now:.3f} s]$ ")
        except EOFError:
            printer.out.print()
            return status
        except KeyboardInterrupt:
            printer.out.print()
            continue
        if line.strip() in ("exit", "quit"):
            return status
        try:
            commands = list(_commands([line]))
        except ConfigError as error:
            printer.err.print(Text(f"sim-docker: {error}", style="red"))
            continue
        for _, words in commands:
            outcome = session.execute(words)
            printer.outcome(outcome, session.elapsed, session.daemon.now)
            status = outcome.status
            if state is not None:
                save_session(session, state)
