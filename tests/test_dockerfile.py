"""Real Dockerfiles read into build stages, as Docker's Dockerfile reference describes."""

from __future__ import annotations

import shutil
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.units import DURATION_ALLOWED, SIZE_ALLOWED, SIZE_UNITS
from sim.teach.docker.dockerfile import DockerfileError, Instruction, Stage, read_dockerfile

MB = 1_000_000


def read(text: str, **kwargs: Any) -> tuple[Stage, ...]:
    return read_dockerfile(dedent(text).lstrip("\n"), **kwargs)


def instructions(text: str, **kwargs: Any) -> tuple[Instruction, ...]:
    (stage,) = read(text, **kwargs)
    return stage.instructions


def error(text: str, **kwargs: Any) -> str:
    with pytest.raises(DockerfileError) as raised:
        read(text, **kwargs)
    return str(raised.value)


def costs(instruction: Instruction) -> tuple[int, int, float]:
    return instruction.size_bytes, instruction.compressed_bytes, instruction.duration_s


MULTI_STAGE = """
    # syntax=docker/dockerfile:1
    ARG PYTHON=3.12
    FROM python:${PYTHON}-slim AS Builder
    # sim: size=120MB compressed=45MB time=30s
    RUN pip install --prefix=/install -r requirements.txt

    FROM builder AS test
    RUN pytest

    FROM --platform=linux/amd64 python:${PYTHON}-slim
    COPY --from=Builder /install /usr/local
    COPY --from=1 /report.xml /report.xml
    COPY --from=nginx:1.27 --chown=1000 /etc/nginx /etc/nginx
    CMD ["python", "app.py"]
"""


def test_multi_stage_file_gives_stages_bases_and_copy_sources() -> None:
    builder, test, final = read(MULTI_STAGE)
    assert [
        (s.index, s.name, s.base, s.base_is_stage, s.from_text) for s in (builder, test, final)
    ] == [
        (0, "builder", "python:3.12-slim", False, "FROM python:${PYTHON}-slim AS Builder"),
        (1, "test", "builder", True, "FROM builder AS test"),
        (2, None, "python:3.12-slim", False, "FROM --platform=linux/amd64 python:${PYTHON}-slim"),
    ]
    (install,) = builder.instructions
    assert (install.line, install.instruction) == (5, "RUN")
    assert costs(install) == (120 * MB, 45 * MB, 30.0)
    assert [costs(i) for i in test.instructions] == [(10 * MB, 4 * MB, 2.0)]
    assert [(i.instruction, i.flags) for i in final.instructions] == [
        ("COPY", (("from", "builder"),)),
        ("COPY", (("from", "1"),)),
        ("COPY", (("from", "nginx:1.27"), ("chown", "1000"))),
        ("CMD", ()),
    ]
    assert [costs(i) for i in final.instructions] == [(10 * MB, 4 * MB, 0.0)] * 3 + [(0, 0, 0.0)]


def test_build_args_override_global_arg_defaults_in_from_lines() -> None:
    stages = read(MULTI_STAGE, build_args={"PYTHON": "3.11"})
    assert [stage.base for stage in stages] == ["python:3.11-slim", "builder", "python:3.11-slim"]


def test_a_later_stage_is_no_stage_reference_but_an_image() -> None:
    first, second, _ = read(
        """
        FROM alpine AS first
        COPY --from=Third /x /x
        FROM Third AS second
        FROM alpine AS third
        """
    )
    assert first.instructions[0].flags == (("from", "Third"),)
    assert (second.base, second.base_is_stage) == ("Third", False)


def test_duplicate_stage_names_are_refused_whatever_their_case() -> None:
    assert error("FROM alpine AS build\nFROM debian AS BUILD\n") == (
        'dockerfile parse error on line 2: duplicate stage name "build"'
    )


def test_continuation_lines_are_joined_in_the_echoed_text() -> None:
    (install,) = instructions(
        """
        FROM debian:12
        RUN apt-get update && \\
            apt-get install -y gcc
        """
    )
    assert install.line == 2
    assert install.text == "RUN apt-get update &&     apt-get install -y gcc"
    assert install.argument == "apt-get update &&     apt-get install -y gcc"


def test_escape_directive_changes_continuations_but_not_line_numbers() -> None:
    (listing,) = instructions(
        """
        # escape=`
        FROM mcr.microsoft.com/windows/servercore
        # sim: size=2MB
        RUN dir `
            c:\\
        """
    )
    assert (listing.line, listing.text, listing.size_bytes) == (4, "RUN dir     c:\\", 2 * MB)


def test_json_forms_are_reserialised_and_shell_forms_kept_verbatim() -> None:
    steps = instructions(
        """
        FROM python:3.12
        RUN ["pip", "install", "flask"]
        RUN pip install flask
        SHELL ["/bin/bash","-c"]
        ENTRYPOINT ["python"]
        CMD ["app.py", "--port", "80"]
        CMD python app.py --port $PORT
        HEALTHCHECK --interval=5s CMD ["curl", "-f", "http://localhost/"]
        """
    )
    assert [(s.instruction, s.argument, s.flags) for s in steps] == [
        ("RUN", '["pip", "install", "flask"]', ()),
        ("RUN", "pip install flask", ()),
        ("SHELL", '["/bin/bash", "-c"]', ()),
        ("ENTRYPOINT", '["python"]', ()),
        ("CMD", '["app.py", "--port", "80"]', ()),
        ("CMD", "python app.py --port $PORT", ()),
        ("HEALTHCHECK", 'CMD ["curl", "-f", "http://localhost/"]', (("interval", "5s"),)),
    ]


SUBSTITUTION = """
    ARG BASE=alpine
    ARG TAG
    FROM ${BASE}:${TAG:-3.20}
    ARG BASE
    ARG VERSION=1.0
    ENV APP_HOME=/srv/app PRICE=\\$5
    ENV CONFIG=${APP_HOME}/etc MISSING=x${NOPE}y LITERAL=\\${APP_HOME} NESTED=${NOPE:-$APP_HOME/x}
    WORKDIR ${APP_HOME}
    LABEL version=$VERSION base=${BASE} flavour=${FLAVOUR:+set} release=${VERSION:+stable}
    RUN echo $VERSION $APP_HOME
"""


def test_arg_and_env_are_substituted_where_docker_substitutes() -> None:
    (stage,) = read(SUBSTITUTION)
    assert stage.base == "alpine:3.20"
    assert [(i.instruction, i.argument) for i in stage.instructions] == [
        ("ARG", "BASE"),
        ("ARG", "VERSION=1.0"),
        ("ENV", "APP_HOME=/srv/app PRICE=$5"),
        ("ENV", "CONFIG=/srv/app/etc MISSING=xy LITERAL=${APP_HOME} NESTED=/srv/app/x"),
        ("WORKDIR", "/srv/app"),
        ("LABEL", "version=1.0 base=alpine flavour= release=stable"),
        ("RUN", "echo $VERSION $APP_HOME"),
    ]
    assert (
        stage.instructions[-1].content == "|2 BASE=alpine VERSION=1.0 RUN echo $VERSION $APP_HOME"
    )


def test_build_args_override_global_and_stage_arg_defaults() -> None:
    (stage,) = read(SUBSTITUTION, build_args={"TAG": "3.19", "BASE": "debian", "VERSION": "2.0"})
    assert stage.base == "debian:3.19"
    assert stage.instructions[5].argument == "version=2.0 base=debian flavour= release=stable"
    assert stage.instructions[6].content == "|2 BASE=debian VERSION=2.0 RUN echo $VERSION $APP_HOME"


def test_a_global_arg_is_seen_in_a_stage_only_when_declared_there() -> None:
    (label,) = instructions("ARG VERSION=1.0\nFROM alpine\nLABEL version=$VERSION\n")
    assert label.argument == "version="


def test_env_pairs_on_one_line_see_the_values_from_before_it() -> None:
    """The reference's example: ``def`` is ``hello``, not ``bye``."""
    *_, label = instructions(
        """
        FROM busybox
        ENV abc=hello
        ENV abc=bye def=$abc
        ENV ghi=$abc
        LABEL def=$def ghi=$ghi
        """
    )
    assert label.argument == "def=hello ghi=bye"


def test_env_wins_over_an_arg_of_the_same_name() -> None:
    *_, label = instructions(
        """
        FROM ubuntu
        ARG CONT_IMG_VER
        ENV CONT_IMG_VER=v1.0.0
        LABEL version=$CONT_IMG_VER
        """,
        build_args={"CONT_IMG_VER": "v2.0.1"},
    )
    assert label.argument == "version=v1.0.0"


def test_a_stage_built_on_a_stage_inherits_its_env_but_not_its_args() -> None:
    _, app = read(
        """
        FROM alpine AS base
        ARG MODE=debug
        ENV APP_HOME="/srv"
        FROM base
        WORKDIR $APP_HOME/$MODE
        """
    )
    assert app.instructions[0].argument == "/srv/"


def test_an_unsupported_substitution_modifier_is_refused() -> None:
    assert error("FROM alpine\nENV A=/x\nWORKDIR ${A#/}\n") == (
        'dockerfile parse error on line 3: failed to process "${A#/}": unsupported '
        "substitution ${A#/} (known: $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, "
        "${VAR+word})"
    )


def test_annotations_set_size_compressed_and_time() -> None:
    deps, unannotated, build, tiny, odd = instructions(
        """
        FROM python:3.12-slim
        # Install the dependencies; the wheel cache makes this layer big.
        # sim: size=120MB compressed=45MB
        # sim: time=1.5h
        RUN pip install -r requirements.txt
        # sim: size=2kB

        RUN echo the blank line above ends the comment run
        # sim: size=1.5GiB compressed=2GiB
        RUN make
        # sim: size=4B
        RUN true
        # sim: size=1001B time=0s
        RUN false
        """
    )
    assert costs(deps) == (120 * MB, 45 * MB, 5400.0)
    assert costs(unannotated) == (10 * MB, 4 * MB, 2.0)
    assert costs(build) == (1536 * 2**20, 2 * 2**30, 2.0)
    assert costs(tiny) == (4, 2, 2.0)
    assert costs(odd) == (1001, 400, 0.0)


def test_an_unknown_annotation_key_is_refused() -> None:
    assert error("FROM alpine\n# sim: weight=3kg\nRUN true\n") == (
        "Dockerfile line 2: sim annotation weight=3kg: the keys are size, compressed and time"
    )


def test_a_bad_annotation_value_is_refused_with_what_is_allowed() -> None:
    text = "FROM alpine\n# ok\n# sim: size=12Mb\nRUN true\n"
    assert error(text) == f"Dockerfile line 3: sim annotation size=12Mb: {SIZE_ALLOWED}"
    text = "FROM alpine\n# sim: size=1MB time=soon\nRUN true\n"
    assert error(text) == f"Dockerfile line 2: sim annotation time=soon: {DURATION_ALLOWED}"


def test_an_annotation_above_a_metadata_instruction_is_refused() -> None:
    assert error("FROM alpine\n# sim: size=1MB\nENV A=1\n") == (
        "Dockerfile line 2: sim annotation above ENV on line 3: ENV adds no layer "
        "(only RUN, COPY and ADD do)"
    )


@pytest.fixture
def context(tmp_path: Path) -> Path:
    files = {
        "app.py": 100,
        "requirements.txt": 20,
        "src/a.py": 10,
        "src/b.py": 30,
        "src/data/c.json": 5,
        "docs/readme.md": 7,
        "debug.log": 50,
        "keep.log": 8,
    }
    for name, size in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * size)
    (tmp_path / ".dockerignore").write_text("# not sent\ndocs\n*.log\n!keep.log\n")
    return tmp_path


@pytest.mark.parametrize(
    ("copy", "size_bytes"),
    [
        ("COPY app.py /app/", 100),
        ("COPY src /app/src", 45),
        ("COPY *.py *.txt /app/", 120),
        ("COPY src/*.py /app/", 40),
        ("COPY src/**/*.json /app/", 5),
        ("COPY /app.py ./src/a.py /app/", 110),
        ("COPY src src/a.py /app/", 45),
        ("ADD *.log /logs/", 8),
        ("COPY . /app", 100 + 20 + 45 + 8 + len("# not sent\ndocs\n*.log\n!keep.log\n")),
    ],
)
def test_copy_sizes_are_the_bytes_of_the_files_it_copies(
    context: Path, copy: str, size_bytes: int
) -> None:
    (copied,) = instructions(f"FROM scratch\n{copy}\n", context=context)
    assert costs(copied) == (size_bytes, (4 * size_bytes + 5) // 10, 0.0)


@pytest.mark.parametrize("source", ["missing.txt", "docs/readme.md", "debug.log", "src/*.md"])
def test_a_source_missing_or_ignored_is_refused(context: Path, source: str) -> None:
    assert error(f"FROM scratch\nCOPY {source} /app/\n", context=context) == (
        "COPY failed: file not found in build context or excluded by .dockerignore: "
        f"stat {source}: file does not exist"
    )
    assert error(f"FROM scratch\nADD {source} /app/\n", context=context).startswith(
        "ADD failed: file not found in build context"
    )


@pytest.mark.parametrize("source", ["../secret", "src/../../secret"])
def test_a_source_outside_the_context_is_refused(context: Path, source: str) -> None:
    assert error(f"FROM scratch\nCOPY {source} /x\n", context=context) == (
        f"COPY failed: forbidden path outside the build context: {source}"
    )


def test_copy_without_context_needs_an_annotation() -> None:
    assert error("FROM scratch\nCOPY app.py /app/\n") == (
        "Dockerfile line 2: COPY app.py needs a build context to measure, or a "
        "`# sim: size=` annotation above it"
    )
    (copied,) = instructions("FROM scratch\n# sim: size=3MB\nCOPY app.py /app/\n")
    assert costs(copied) == (3 * MB, 1_200_000, 0.0)
    assert copied.content == "COPY app.py /app/ # sim: size=3MB"


def test_a_missing_context_directory_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert error("FROM scratch\nRUN true\n", context=missing) == (
        f'unable to prepare context: path "{missing}" not found'
    )


def test_a_heredoc_copy_needs_no_context_and_counts_its_bytes() -> None:
    (motd,) = instructions("FROM scratch\nCOPY <<EOF /etc/motd\nhello\nEOF\n")
    assert (motd.text, motd.argument, costs(motd)) == (
        "COPY <<EOF /etc/motd",
        "<<EOF /etc/motd",
        (6, 2, 0.0),
    )


def test_defaults_for_layers_whose_bytes_the_simulator_cannot_know() -> None:
    run, copy_from, add_url, env = instructions(
        """
        FROM alpine
        RUN make
        COPY --from=golang:1.22 /usr/local/go /usr/local/go
        ADD https://example.com/tool.tar.gz /opt/
        ENV A=1
        """
    )
    assert [costs(i) for i in (run, copy_from, add_url, env)] == [
        (10 * MB, 4 * MB, 2.0),
        (10 * MB, 4 * MB, 0.0),
        (10 * MB, 4 * MB, 0.0),
        (0, 0, 0.0),
    ]
    assert (run.content, copy_from.content, env.content) == (
        "RUN make",
        "COPY --from=golang:1.22 /usr/local/go /usr/local/go",
        "",
    )


def test_copy_content_changes_with_the_bytes_copied_and_only_then(
    context: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    text = "FROM scratch\nCOPY src /app/src\nCOPY src /srv\n"

    def contents(root: Path) -> list[str]:
        (stage,) = read(text, context=root)
        return [i.content for i in stage.instructions]

    first = contents(context)
    assert first[0].startswith("sha256:") and len(first[0]) == len("sha256:") + 64
    assert first[0] != first[1], "another destination is another layer"
    assert contents(context) == first
    moved = tmp_path_factory.mktemp("elsewhere") / "context"
    shutil.copytree(context, moved)
    assert contents(moved) == first, "no absolute paths in the fingerprint"
    (context / "src" / "a.py").write_bytes(b"y" * 10)
    edited = contents(context)
    assert edited[0] != first[0] and edited[1] != first[1]
    assert [i.size_bytes for i in read(text, context=context)[0].instructions] == [45, 45]


def test_an_unknown_instruction_is_refused_with_buildkits_words() -> None:
    assert error("FROM alpine\nRUN echo hi\ncopyy a b\n") == (
        "dockerfile parse error on line 3: unknown instruction: COPYY"
    )


@pytest.mark.parametrize("text", ["", "\n  \n", "# just a comment\n"])
def test_an_empty_dockerfile_is_refused(text: str) -> None:
    assert error(text) == "the Dockerfile cannot be empty"


def test_instructions_before_the_first_from_are_refused_except_arg() -> None:
    assert error("ARG A=1\nRUN echo $A\nFROM alpine\n") == (
        "failed to solve: no build stage in current context"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM alpine\n\nENV A\n", "dockerfile parse error on line 3: ENV must have two arguments"),
        (
            "FROM alpine\nRUN <<EOF\necho hi\n",
            "dockerfile parse error on line 2: unterminated heredoc",
        ),
    ],
)
def test_a_parse_error_names_its_line(text: str, message: str) -> None:
    assert error(text) == message


SIZE_UNIT = st.sampled_from(sorted(SIZE_UNITS))
METADATA = ["ENV A=1", "LABEL team=shop", "WORKDIR /app", "EXPOSE 80", 'CMD ["app"]', "USER app"]


@given(
    st.lists(
        st.one_of(
            st.tuples(st.integers(0, 10**6), SIZE_UNIT, st.booleans()), st.sampled_from(METADATA)
        ),
        max_size=12,
    )
)
def test_layer_sizes_are_the_annotations_in_order(steps: list[Any]) -> None:
    """A blank line between annotation and RUN ends the comment run: the default applies."""
    lines, expected = ["FROM scratch"], []
    for step in steps:
        if isinstance(step, str):
            lines.append(step)
            continue
        number, unit, blank_line = step
        lines += [f"# sim: size={number}{unit}", *([""] if blank_line else []), "RUN step"]
        expected.append(10 * MB if blank_line else number * SIZE_UNITS[unit])
    (stage,) = read_dockerfile("\n".join(lines))
    layers = [i for i in stage.instructions if i.instruction == "RUN"]
    assert [i.size_bytes for i in layers] == expected
    assert all(i.compressed_bytes <= i.size_bytes for i in layers)
    metadata = [i for i in stage.instructions if i.instruction != "RUN"]
    assert [costs(i) for i in metadata] == [(0, 0, 0.0)] * len(metadata)
