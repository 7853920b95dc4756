"""A real Dockerfile read into the build stages of a simulated ``docker build``.

BuildKit's own Go parser (the `dockerfile` package) splits the file into instructions, so
continuations, JSON forms, flags and heredocs read exactly as Docker reads them. This
module adds what the parser leaves to the builder: stages and their bases, ``ARG`` and
``ENV`` substitution, Docker's error lines, and what each layer costs. The simulator runs
no commands, so a layer's costs come from a comment right above its instruction (any run
of comment lines directly above counts: ``# sim: size=120MB compressed=45MB time=30s``),
from the files of the build context for ``COPY``/``ADD``, or from these assumptions:

=================================  ===========================  ======
layer                              size                         time
=================================  ===========================  ======
``RUN``                            10 MB                        2 s
``COPY``/``ADD`` from the context  bytes of the files copied    0 s
``ADD`` of an http(s) URL          10 MB per URL                0 s
``COPY --from``                    10 MB                        0 s
=================================  ===========================  ======

The compressed size is 40 % of the size, rounded, unless annotated (then it may exceed it).
Times are a build container's run time; the daemon adds the time to write the layer.

Deviations from Docker: substitution knows ``$VAR``, ``${VAR}``, ``${VAR:-word}``,
``${VAR-word}``, ``${VAR:+word}`` and ``${VAR+word}`` and refuses other modifiers; quotes
neither stop it nor leave ``argument`` (``ENV`` values lose only enclosing quotes); ``\\$``
is the escape even under ``# escape=```. A base image's own ``ENV`` and BuildKit's
automatic platform ``ARG``\\ s are unknown. A ``..`` leaving the context is refused, as
the classic builder does (BuildKit clamps it). ``.dockerignore`` lines follow Go's
``filepath.Match`` plus ``**``; a line matching a directory excludes its tree, ``!``
re-includes, the last matching line wins. Sizes count file bytes (symbolic links as
links), not tar headers; an archive ``ADD`` unpacks counts packed. A heredoc's ``text`` is
its first line.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import dockerfile

from sim.core.errors import ConfigError
from sim.core.units import parse_duration, parse_size
from sim.model.images.image import CONFIG_INSTRUCTIONS, LAYER_INSTRUCTIONS

DEFAULT_LAYER_BYTES = 10_000_000
DEFAULT_RUN_S = 2.0
SUBSTITUTED = frozenset(
    {"FROM", "ENV", "ARG", "LABEL", "WORKDIR", "EXPOSE", "USER", "VOLUME", "COPY", "ADD"}
    | {"STOPSIGNAL"}
)
_REFERENCE = re.compile(
    r"\\(?P<escaped>[\\$])"
    r"|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:(?P<modifier>:?[-+])(?P<word>(?:[^{}]|\{[^{}]*\})*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<unsupported>\$\{[^}]*\}?)"
)
_ANNOTATION = re.compile(r"(?:^|\s)sim:(.*)")
_ANNOTATION_PARSERS = {"size": parse_size, "compressed": parse_size, "time": parse_duration}

# (relative path, bytes, sha256 of the bytes) of one file a COPY or ADD puts in its layer.
_Entry = tuple[str, int, str]


class _Annotation(NamedTuple):
    """The ``# sim:`` settings above an instruction: first line, pairs as written, values."""

    line: int
    text: str
    values: dict[str, Any]


class DockerfileError(Exception):
    """A Dockerfile the builder refuses; str(error) is the one line Docker would print."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction of a stage, with the layer it adds (all costs 0 when it adds none)."""

    line: int
    instruction: str
    text: str
    argument: str
    flags: tuple[tuple[str, str], ...]
    size_bytes: int = 0
    compressed_bytes: int = 0
    duration_s: float = 0.0
    content: str = ""


@dataclass(frozen=True, slots=True)
class Stage:
    """One ``FROM`` and the instructions after it, up to the next ``FROM``."""

    index: int
    name: str | None
    base: str
    base_is_stage: bool
    from_text: str
    instructions: tuple[Instruction, ...]


def read_dockerfile(
    text: str, context: Path | None = None, build_args: Mapping[str, str] | None = None
) -> tuple[Stage, ...]:
    """Parse and check a Dockerfile; sizes of COPY/ADD measured in `context` unless annotated.

    Raises:
        DockerfileError: with the line Docker would print for the same mistake.
    """
    commands = _parse(text)
    known = LAYER_INSTRUCTIONS | CONFIG_INSTRUCTIONS | {"FROM"}
    for command in commands:
        for word in filter(None, (command.cmd, command.sub_cmd)):
            if word.upper() not in known:
                raise _parse_error(command.start_line, f"unknown instruction: {word.upper()}")
    lines = [line.rstrip("\r") for line in text.removeprefix("\ufeff").split("\n")]
    overrides = dict(build_args or {})
    files = _context_files(context) if context is not None else None
    meta_args: dict[str, str] = {}
    stages: list[Stage] = []
    bodies: list[list[Instruction]] = []
    # ARGs end with their stage; ENVs live on in the image, so later stages inherit them.
    stage_env: list[dict[str, str]] = []
    args: dict[str, str] = {}
    for command in commands:
        instruction, line = command.cmd.upper(), command.start_line
        annotation = _annotation(lines, line)
        if annotation and instruction not in LAYER_INSTRUCTIONS:
            raise DockerfileError(
                f"Dockerfile line {annotation.line}: sim annotation above {instruction} on line "
                f"{line}: {instruction} adds no layer (only RUN, COPY and ADD do)"
            )
        if instruction == "FROM":
            stage, base = _stage(command, stages, meta_args)
            stages.append(stage)
            bodies.append([])
            stage_env.append(dict(stage_env[base.index]) if base else {})
            args = {}
            continue
        if not stages and instruction != "ARG":
            raise DockerfileError("failed to solve: no build stage in current context")
        variables = {**args, **stage_env[-1]} if stages else dict(meta_args)
        if stages:
            bodies[-1].append(_instruction(command, variables, args, stages, annotation, files))
        if instruction == "ARG":
            declared = args if stages else meta_args
            for item in command.value:
                name, has_default, default = item.partition("=")
                if name in overrides:
                    declared[name] = overrides[name]
                elif has_default:
                    declared[name] = _unquote(_substitute(default, variables, line))
                elif stages and name in meta_args:
                    declared[name] = meta_args[name]
        elif instruction == "ENV":
            pairs = command.value
            for name, raw in zip(pairs[::2], pairs[1::2], strict=True):
                stage_env[-1][name] = _unquote(_substitute(raw, variables, line))
    return tuple(
        replace(stage, instructions=tuple(body)) for stage, body in zip(stages, bodies, strict=True)
    )


def _parse(text: str) -> tuple[Any, ...]:
    """BuildKit's parse of `text`, its errors worded as ``docker build`` prints them."""
    try:
        return tuple(dockerfile.parse_string(text))
    except dockerfile.GoParseError as error:
        message = str(error)
        if message != "file with no instructions":
            found = re.search(r"\bline (\d+)", message)
            raise _parse_error(
                int(found[1]) if found else _failing_line(text, message), message
            ) from None
    raise DockerfileError("the Dockerfile cannot be empty")


def _failing_line(text: str, message: str) -> int:
    """The first line at which `text` fails with `message`; the parser does not say."""
    lines = text.split("\n")
    for count in range(1, len(lines) + 1):
        try:
            dockerfile.parse_string("\n".join(lines[:count]))
        except dockerfile.GoParseError as error:
            if str(error) == message:
                return count
    return len(lines)


def _parse_error(line: int, message: str) -> DockerfileError:
    return DockerfileError(f"dockerfile parse error on line {line}: {message}")


def _annotation(lines: list[str], line: int) -> _Annotation | None:
    """(line, text, values) of the ``sim:`` settings in the comments right above `line`."""
    first = line - 1
    while first > 0 and lines[first - 1].lstrip().startswith("#"):
        first -= 1
    values: dict[str, Any] = {}
    pairs: list[tuple[int, str]] = []
    for number in range(first, line):
        found = _ANNOTATION.search(lines[number - 1].lstrip()[1:])
        pairs += [(number, pair) for pair in (found[1].split() if found else ())]
    for number, pair in pairs:
        key, _, value = pair.partition("=")
        where = f"Dockerfile line {number}: sim annotation {key}={value}"
        if key not in _ANNOTATION_PARSERS:
            raise DockerfileError(f"{where}: the keys are size, compressed and time")
        try:
            values[key] = _ANNOTATION_PARSERS[key](value, key)
        except ConfigError as error:
            raise DockerfileError(f"{where}: {error.allowed}") from None
    return _Annotation(pairs[0][0], " ".join(pair for _, pair in pairs), values) if pairs else None


def _stage(
    command: Any, stages: list[Stage], meta_args: dict[str, str]
) -> tuple[Stage, Stage | None]:
    """The stage a ``FROM`` opens, and the earlier stage it builds on (None for an image)."""
    value, line = command.value, command.start_line
    if len(value) not in (1, 3) or (len(value) == 3 and value[1].lower() != "as"):
        raise _parse_error(line, "FROM requires either one or three arguments")
    base = _substitute(value[0], meta_args, line)
    if not base:
        raise _parse_error(line, f"base name ({value[0]}) should not be blank")
    name = value[2].lower() if len(value) == 3 else None
    if name is not None and any(stage.name == name for stage in stages):
        raise _parse_error(line, f'duplicate stage name "{name}"')
    earlier = _earlier_stage(base, stages)
    base = base.lower() if earlier else base
    return Stage(len(stages), name, base, earlier is not None, command.original, ()), earlier


def _earlier_stage(reference: str, stages: list[Stage]) -> Stage | None:
    """The stage `reference` names, by name (any case) or index; None for an image."""
    for stage in stages:
        if stage.name == reference.lower() or str(stage.index) == reference:
            return stage
    return None


def _unquote(value: str) -> str:
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'"
    return value[1:-1] if quoted else value


def _substitute(word: str, variables: Mapping[str, str], line: int) -> str:
    """`word` with Docker's variable references replaced; ``\\$`` stays a literal ``$``."""

    def replacement(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$" if match["escaped"] == "$" else match[0]
        if match["unsupported"]:
            raise _parse_error(
                line,
                f'failed to process "{word}": unsupported substitution {match[0]} (known: '
                "$VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, ${VAR+word})",
            )
        value = variables.get(match["braced"] or match["bare"])
        modifier = match["modifier"] or ""
        is_set = value is not None and (value != "" or not modifier.startswith(":"))
        if modifier.endswith("-") and not is_set or modifier.endswith("+") and is_set:
            return _substitute(match["word"], variables, line)
        return "" if modifier.endswith("+") else value or ""

    return _REFERENCE.sub(replacement, word)


def _instruction(
    command: Any,
    variables: Mapping[str, str],
    args: Mapping[str, str],
    stages: list[Stage],
    annotation: _Annotation | None,
    files: dict[str, Path | None] | None,
) -> Instruction:
    """One instruction after ``FROM``, its variables substituted and its layer costed."""
    instruction, line = command.cmd.upper(), command.start_line
    substituted = instruction in SUBSTITUTED
    words = [_substitute(word, variables, line) if substituted else word for word in command.value]
    if command.json and instruction not in {"HEALTHCHECK", "ONBUILD"}:
        argument = json.dumps(words)
    else:
        rest = "".join(command.original.split("\n", 1)[0].split(None, 1)[1:])
        for flag in command.flags:
            rest = rest.lstrip().removeprefix(flag)
        argument = _substitute(rest.strip(), variables, line) if substituted else rest.strip()
    flags = []
    for flag in command.flags:
        key, has_value, value = flag.removeprefix("--").partition("=")
        value = _substitute(value, variables, line) if has_value and substituted else value
        from_stage = key == "from" and _earlier_stage(value, stages[:-1])
        flags.append((key, value.lower() if from_stage else value if has_value else "true"))
    text = command.original.split("\n", 1)[0] if command.heredocs else command.original
    plain = Instruction(line, instruction, text, argument, tuple(flags))
    if instruction == "RUN":
        # Docker's cache key for RUN starts with the ARGs in scope: a new value, a new layer.
        in_scope = sorted(args.items())
        arg_prefix = f"|{len(in_scope)} " + "".join(f"{k}={v} " for k, v in in_scope)
        heredocs = "".join(heredoc.content for heredoc in command.heredocs)
        size_bytes, duration_s = DEFAULT_LAYER_BYTES, DEFAULT_RUN_S
        content = (arg_prefix if in_scope else "") + text + heredocs
    elif instruction in LAYER_INSTRUCTIONS:
        size_bytes, content = _copied(plain, words, command.heredocs, annotation, files)
        duration_s = 0.0
    else:
        return plain
    values = annotation.values if annotation else {}
    size_bytes = values.get("size", size_bytes)
    compressed_bytes = values.get("compressed", (4 * size_bytes + 5) // 10)
    duration_s = values.get("time", duration_s)
    return replace(
        plain,
        size_bytes=size_bytes,
        compressed_bytes=compressed_bytes,
        duration_s=duration_s,
        content=content,
    )


def _copied(
    plain: Instruction,
    words: list[str],
    heredocs: Iterable[Any],
    annotation: _Annotation | None,
    files: dict[str, Path | None] | None,
) -> tuple[int, str]:
    """Bytes and content fingerprint of what a COPY or ADD puts in its layer.

    The fingerprint covers the instruction (sources, destination, flags) and each copied
    file's path, size and bytes: an edited file makes a new layer, an unchanged one not.
    """
    if len(words) < 2:
        raise _parse_error(
            plain.line,
            f"{plain.instruction} requires at least two arguments, but only one was "
            "provided. Destination could not be determined.",
        )
    identity = " ".join(
        [plain.instruction, *(f"--{k}={v}" for k, v in plain.flags), plain.argument]
    )
    if annotation and "size" in annotation.values:
        return 0, f"{identity} # sim: {annotation.text}"
    if any(key == "from" for key, _ in plain.flags):
        return DEFAULT_LAYER_BYTES, identity
    inline = iter(heredocs)
    entries: set[_Entry] = set()
    for source in words[:-1]:
        if source.startswith("<<") and (heredoc := next(inline, None)):
            body = heredoc.content.encode()
            entries.add((source, len(body), hashlib.sha256(body).hexdigest()))
        elif plain.instruction == "ADD" and source.startswith(("http://", "https://")):
            entries.add((source, DEFAULT_LAYER_BYTES, ""))
        elif files is None:
            raise DockerfileError(
                f"Dockerfile line {plain.line}: {plain.instruction} {source} needs a build "
                "context to measure, or a `# sim: size=` annotation above it"
            )
        else:
            entries.update(_matching(files, source, plain.instruction))
    fingerprint = hashlib.sha256(identity.encode())
    for path, size_bytes, digest in sorted(entries):
        fingerprint.update(f"\n{path}\0{size_bytes}\0{digest}".encode())
    return sum(entry[1] for entry in entries), "sha256:" + fingerprint.hexdigest()


def _context_files(root: Path) -> dict[str, Path | None]:
    """Every relative path of the context that ``.dockerignore`` keeps; None for a directory."""
    if not root.is_dir():
        raise DockerfileError(f'unable to prepare context: path "{root}" not found')
    ignore_file = root / ".dockerignore"
    ignore = []
    for raw in ignore_file.read_text("utf-8").splitlines() if ignore_file.is_file() else ():
        line = raw.strip()
        if line and not line.startswith("#"):
            glob = posixpath.normpath(line.removeprefix("!").strip()).lstrip("/")
            ignore.append((line.startswith("!"), _pattern(glob)))
    prune = not any(exception for exception, _ in ignore)
    files: dict[str, Path | None] = {}
    for directory, subdirectories, filenames in os.walk(root):
        prefix = Path(directory).relative_to(root).as_posix()
        for name in [*subdirectories, *filenames]:
            relative = posixpath.join(prefix, name).removeprefix("./")
            excluded = False
            for exception, pattern in ignore:
                excluded = not exception if _matches(pattern, relative) else excluded
            path = Path(directory, name)
            if not excluded:
                files[relative] = None if path.is_dir() and not path.is_symlink() else path
            elif prune and name in subdirectories:
                subdirectories.remove(name)
    return dict(sorted(files.items()))


def _file_entry(relative: str, path: Path) -> _Entry:
    """A file's entry; a symbolic link is copied as a link, so its bytes are its target."""
    if path.is_symlink():
        target = os.readlink(path).encode()
        return relative, len(target), hashlib.sha256(target).hexdigest()
    with path.open("rb") as file:
        return relative, path.stat().st_size, hashlib.file_digest(file, "sha256").hexdigest()


def _matching(files: dict[str, Path | None], source: str, instruction: str) -> list[_Entry]:
    """The files `source` copies: those it matches and those under a directory it matches."""
    relative = posixpath.normpath(source.lstrip("/") or ".")
    if relative == ".." or relative.startswith("../"):
        raise DockerfileError(
            f"{instruction} failed: forbidden path outside the build context: {source}"
        )
    pattern = _pattern(relative)
    matched = [path for path in files if relative == "." or _matches(pattern, path)]
    if not matched:
        raise DockerfileError(
            f"{instruction} failed: file not found in build context or excluded by "
            f".dockerignore: stat {source}: file does not exist"
        )
    return [_file_entry(path, full) for path in matched if (full := files[path]) is not None]


def _matches(pattern: re.Pattern[str], path: str) -> bool:
    """Whether `pattern` matches `path` or one of the directories above it."""
    parts = path.split("/")
    return any(pattern.fullmatch("/".join(parts[:count])) for count in range(1, len(parts) + 1))


def _pattern(glob: str) -> re.Pattern[str]:
    """Go's ``filepath.Match`` syntax plus ``**`` (any number of directories), as a regex."""
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    tokens = re.findall(r"\*\*/?|[*?]|\[[^]]+\]|\\?.", glob, re.DOTALL)
    return re.compile(
        "".join(
            wildcards.get(token) or (token if token[0] == "[" else re.escape(token[-1]))
            for token in tokens
        )
    )
