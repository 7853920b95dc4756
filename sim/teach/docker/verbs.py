"""The verbs of ``sim-docker``: Docker's command-line words parsed as Docker parses
them, carried out on the simulated daemon, and printed as Docker prints them.

A `Session` keeps a daemon and the journal of the commands that changed it (listing
commands are left out), which is all it takes to rebuild the same host later.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sim.api import compose, parameters
from sim.core.errors import ConfigError
from sim.core.units import parse_duration
from sim.teach.docker.daemon import Daemon
from sim.teach.docker.dockerfile import DockerfileError, Instruction, Stage, read_dockerfile
from sim.teach.docker.formatting import table, timestamp
from sim.teach.docker.inspect import container_document, image_document
from sim.teach.docker.objects import DockerError, RunOptions
from sim.teach.docker.shell import INTERPRETERS
from sim.teach.docker.views import Views

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


def host_config(seed: int) -> dict[str, Any]:
    """The simulated host's configuration: one node of the default cluster, nothing
    deployed (composed once per process)."""
    return compose([*HOST_OVERRIDES, f"seed={seed}"])


class Session:
    """A daemon, the journal of the commands it ran, and the verbs that drive it.

    Args:
        seed: the root seed of the host's simulation.
        config: the composed configuration of the host (plain values); by default the
            packaged one (`host_config`). A resumed host brings the one it was made with,
            so it needs no composing and does not change when the packaged one does.
    """

    def __init__(self, seed: int, config: Mapping[str, Any] | None = None) -> None:
        self.seed = seed
        self.config = dict(config) if config is not None else host_config(seed)
        self.daemon = Daemon(parameters(self.config))
        self.journal: list[dict[str, Any]] = []
        self.elapsed = 0.0
        self.views = Views(self.daemon)

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
        outcome.out(*self.daemon.images.pull(options.image))

    def _verb_images(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("images")
        parser.add_argument("-q", "--quiet", action="store_true")
        options = parser.parse_args(argv)
        outcome.out(*self.views.images(options.quiet))

    def _verb_history(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("history")
        parser.add_argument("--no-trunc", action="store_true")
        parser.add_argument("image")
        options = parser.parse_args(argv)
        local = self.daemon.images.get(options.image)
        outcome.out(*self.views.history(local, options.no_trunc))

    def _verb_rmi(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("rmi")
        parser.add_argument("-f", "--force", action="store_true")
        parser.add_argument("images", nargs="+")
        options = parser.parse_args(argv)
        self._each(
            options.images, outcome, lambda ref: self.daemon.images.remove(ref, options.force)
        )

    def _verb_tag(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("tag")
        parser.add_argument("source")
        parser.add_argument("target")
        options = parser.parse_args(argv)
        self.daemon.images.tag(options.source, options.target)

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
            # Docker reads the Dockerfile as bytes; what is not UTF-8 reaches the parser
            # as U+FFFD and fails there, with the parser's own words.
            text = dockerfile.read_bytes().decode("utf-8", errors="replace")
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
        options = parser.parse_args(argv)
        if options.interactive or options.tty:
            _refuse_interactive(options.command or self._default_command(options.image))
        ports = tuple(_published(spec) for spec in options.publish)
        lines, container = self.daemon.containers.run(
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

    def _default_command(self, reference: str) -> tuple[str, ...]:
        local = self.daemon.images.find(reference)
        config = local.image.config if local is not None else None
        return (config.entrypoint + config.cmd) if config is not None else ()

    def _verb_ps(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("ps")
        parser.add_argument("-a", "--all", action="store_true")
        parser.add_argument("-q", "--quiet", action="store_true")
        parser.add_argument("-s", "--size", action="store_true")
        options = parser.parse_args(argv)
        outcome.out(*self.views.ps(options.all, options.quiet, options.size))

    def _verb_logs(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("logs")
        parser.add_argument("-t", "--timestamps", action="store_true")
        parser.add_argument("container")
        options = parser.parse_args(argv)
        container = self.daemon.containers.get(options.container)
        for time_s, line in container.logs:
            outcome.out(f"{timestamp(time_s)} {line}" if options.timestamps else line)

    def _verb_exec(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("exec")
        parser.add_argument("-i", "--interactive", action="store_true")
        parser.add_argument("-t", "--tty", action="store_true")
        parser.add_argument("container")
        parser.add_argument("command", nargs=argparse.REMAINDER)
        options = parser.parse_args(argv)
        if options.interactive or options.tty:
            _refuse_interactive(options.command)
        if not options.command:
            raise DockerError(
                "\"docker exec\" requires at least 2 arguments.\nSee 'docker exec --help'."
            )
        lines, status = self.daemon.containers.exec(options.container, options.command)
        outcome.out(*lines)
        outcome.status = status

    def _verb_start(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("start")
        parser.add_argument("containers", nargs="+")
        options = parser.parse_args(argv)
        self._each(options.containers, outcome, lambda ref: [self.daemon.containers.start(ref)])

    def _verb_stop(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("stop")
        parser.add_argument("-t", "--time", type=float, default=10.0)
        parser.add_argument("containers", nargs="+")
        options = parser.parse_args(argv)
        self._each(
            options.containers,
            outcome,
            lambda ref: [self.daemon.containers.stop(ref, options.time)],
        )

    def _verb_rm(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("rm")
        parser.add_argument("-f", "--force", action="store_true")
        parser.add_argument("-v", "--volumes", action="store_true")
        parser.add_argument("containers", nargs="+")
        options = parser.parse_args(argv)
        self._each(
            options.containers,
            outcome,
            lambda ref: [self.daemon.containers.remove(ref, options.force, options.volumes)],
        )

    def _verb_wait(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        parser = _parser("wait")
        parser.add_argument("containers", nargs="+")
        options = parser.parse_args(argv)
        self._each(options.containers, outcome, lambda ref: [str(self.daemon.containers.wait(ref))])

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
                container = self.daemon.containers.get(name)
                documents.append(container_document(container, options.size))
                continue
            except DockerError:
                pass
            local = self.daemon.images.find(name)
            if local is None:
                outcome.err(f"Error: No such object: {name}")
                outcome.status = 1
                continue
            documents.append(image_document(local))
        if options.format:
            lines: list[str] = []
            for document in documents:
                try:
                    lines.append(_template(options.format, document))
                except TemplateError as error:
                    raise DockerError(f"template parsing error: {error}", 1, lines) from None
            outcome.out(*lines)
        elif documents or outcome.status == 0:
            outcome.out(*json.dumps(documents, indent=4, ensure_ascii=False).splitlines())

    # Volumes and the disk ---------------------------------------------------------

    def _verb_volume(self, argv: list[str], outcome: Outcome, entry: dict[str, Any]) -> None:
        action, arguments = (argv[0], argv[1:]) if argv else ("", [])
        daemon = self.daemon
        if action == "create":
            volume = daemon.volumes.create(arguments[0] if arguments else None)
            outcome.out(volume.name)
        elif action in ("ls", "list"):
            rows = [("DRIVER", "VOLUME NAME")]
            rows += [("local", name) for name in sorted(daemon.volumes.by_name)]
            outcome.out(*table(rows))
        elif action == "rm" and arguments:
            self._each(arguments, outcome, lambda name: [daemon.volumes.remove(name)])
        elif action == "inspect" and arguments:
            documents = []
            for name in arguments:
                volume = daemon.volumes.get(name)
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
        views = self.views
        outcome.out(*(views.disk_usage_verbose() if options.verbose else views.disk_usage()))


def _read_only(argv: Sequence[str]) -> bool:
    """Whether a command only looks (then the journal leaves it out)."""
    words = [word for word in argv if word != "docker"]
    if not words:
        return True
    verb = ALIASES.get((words[0], words[1] if len(words) > 1 else ""), words[0])
    return verb in READ_ONLY or tuple(words[:2]) in READ_ONLY_PAIRS


def _refuse_interactive(command: Sequence[str]) -> None:
    """``-it`` with a shell or an interpreter would wait for a person to type into it."""
    if len(command) == 1 and command[0].rsplit("/", 1)[-1] in INTERPRETERS:
        raise DockerError(
            f"sim-docker: an interactive {command[0]} is not simulated; give it a command "
            f"instead, e.g. sh -c 'ls /data && cat /data/todo.txt'"
        )


_PORT_MAX = 65535


def _published(spec: str) -> str:
    """``-p [HOST:]CONTAINER``, checked as Docker's port parser checks it."""
    host, _, container = spec.rpartition(":")
    if not container.isdigit() or (host and not host.isdigit()):
        raise DockerError(f'docker: invalid publish opts format "{spec}".', 125)
    if int(container) > _PORT_MAX:
        raise DockerError(f"docker: invalid containerPort: {container}.", 125)
    if host and int(host) > _PORT_MAX:
        raise DockerError(f"docker: invalid hostPort: {host}.", 125)
    return f"{host}->{container}" if host else container


class TemplateError(Exception):
    """A ``--format`` template that cannot be executed on a document."""


_ACTION = re.compile(r"\{\{\s*(json\s+)?(\.[\w.]*)\s*\}\}")


def _go_type(value: Any) -> str:
    """The Go type a JSON value decodes to (as Docker's inspect decodes it)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "json.Number"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


def _template(template: str, document: dict[str, Any]) -> str:
    """The subset of Go templates ``--format`` uses here: ``{{.A.B}}`` and ``{{json .A}}``.

    As Docker's inspect runs a template over the raw JSON with ``missingkey=error``, a
    field the document lacks is an error, worded as Go's text/template words it.

    Raises:
        TemplateError: a field that is not there.
    """

    def value(match: re.Match[str]) -> str:
        as_json, path = match.group(1), match.group(2)
        keys = [key for key in path.split(".") if key]
        line = template.count("\n", 0, match.start()) + 1
        line_start = template.rfind("\n", 0, match.start()) + 1
        # Go reports a chain of fields at its second field, a single field at itself.
        first_field = match.start(2) - line_start
        column = first_field + len(keys[0]) + 1 if len(keys) > 1 else first_field
        found: Any = document
        for key in keys:
            where = f'template: :{line}:{column}: executing "" at <{path}>'
            if found is None:
                raise TemplateError(f"{where}: nil pointer evaluating interface {{}}.{key}")
            if not isinstance(found, dict):
                raise TemplateError(
                    f"{where}: can't evaluate field {key} in type {_go_type(found)}"
                )
            if key not in found:
                raise TemplateError(f'{where}: map has no entry for key "{key}"')
            found = found[key]
        if found is None and not as_json:
            return "<no value>"
        if as_json or not isinstance(found, str):
            return json.dumps(found)  # Go prints true, false and numbers as JSON does
        return found

    return _ACTION.sub(value, template)


def _stage(document: dict[str, Any]) -> Stage:
    instructions = tuple(
        Instruction(**{**item, "flags": tuple(tuple(flag) for flag in item["flags"])})
        for item in document["instructions"]
    )
    return Stage(**{**document, "instructions": instructions})
