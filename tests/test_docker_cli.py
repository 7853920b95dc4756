"""sim-docker: each verb's output and state effects, copy-on-write and volume accounting,
Docker-like errors, and the journal that saves and resumes a host."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from sim.teach.docker.cli import Printer, Session, load_session, main, save_session
from sim.teach.docker.formatting import human_duration, human_size, table

SEED = 42


def run(session: Session, line: str) -> list[str]:
    """One command's printed lines (stdout and stderr in order)."""
    import shlex

    outcome = session.execute(shlex.split(line))
    return [text for _, text in outcome.lines]


def status(session: Session, line: str) -> int:
    import shlex

    return session.execute(shlex.split(line)).status


def disk_accounted(session: Session) -> int:
    """Every byte the host's disk should hold: layers once, writable layers, volumes."""
    daemon = session.daemon
    return (
        daemon.engine.store.layer_bytes()
        + sum(c.size_rw for c in daemon.containers.by_id.values())
        + sum(v.size_bytes for v in daemon.volumes.by_name.values())
    )


@pytest.fixture
def session() -> Session:
    return Session(SEED)


# Formatting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "precision", "text"),
    [
        (0, 4, "0B"),
        (999, 4, "999B"),
        (1000, 4, "1kB"),
        (16_430_000, 4, "16.43MB"),
        (319_800_000, 3, "320MB"),
        (1_234_567_890, 3, "1.23GB"),
    ],
)
def test_sizes_read_as_go_units_writes_them(size: int, precision: int, text: str) -> None:
    assert human_size(size, precision) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "Less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (3600, "About an hour"),
        (3 * 3600, "3 hours"),
        (3 * 86400, "3 days"),
    ],
)
def test_durations_read_as_go_units_writes_them(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_tables_pad_columns_like_tabwriter() -> None:
    assert table([("TYPE", "TOTAL"), ("Local Volumes", "2")]) == [
        "TYPE            TOTAL",
        "Local Volumes   2",
    ]


# Pulls ----------------------------------------------------------------------------


def test_a_cold_pull_fetches_every_layer_and_the_next_is_up_to_date(session: Session) -> None:
    image = session.daemon.images.catalog[("library/python", "3.12-slim")]
    lines = run(session, "pull python:3.12-slim")
    assert lines[0] == "3.12-slim: Pulling from library/python"
    assert [line for line in lines if line.endswith("Pull complete")] == [
        f"{layer.short_id}: Pull complete" for layer in image.layers
    ]
    assert lines[-2:] == [
        f"Digest: {image.manifest_digest}",
        "Status: Downloaded newer image for python:3.12-slim",
    ]
    assert session.daemon.host.disk.used_bytes == image.size_bytes
    again = run(session, "pull python:3.12-slim")
    assert again == [
        "3.12-slim: Pulling from library/python",
        f"Digest: {image.manifest_digest}",
        "Status: Image is up to date for python:3.12-slim",
    ]


def test_a_pull_over_a_shared_base_finds_its_layers(session: Session) -> None:
    run(session, "pull python:3.12-slim")
    web = session.daemon.images.catalog[("shop/web", "1.4.2")]
    python = session.daemon.images.catalog[("library/python", "3.12-slim")]
    lines = run(session, "pull shop/web:1.4.2")
    shared = [f"{layer.short_id}: Already exists" for layer in python.layers]
    assert [line for line in lines if line.endswith("Already exists")] == shared
    own = web.layers[len(python.layers) :]
    assert [line for line in lines if line.endswith("Pull complete")] == [
        f"{layer.short_id}: Pull complete" for layer in own
    ]
    assert session.daemon.host.disk.used_bytes == web.size_bytes


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "pull nosuch",
            "Error response from daemon: pull access denied for nosuch, repository does not "
            "exist or may require 'docker login': denied: requested access to the resource is "
            "denied",
        ),
        (
            "pull python:9",
            "Error response from daemon: manifest for python:9 not found: manifest unknown: "
            "manifest unknown",
        ),
        ("pull Python", "invalid reference format: repository name (Python) must be lowercase"),
        ("frobnicate", "docker: 'frobnicate' is not a docker command."),
        ("ps --bogus", "unknown flag: --bogus"),
        ("stop ghost", "Error response from daemon: No such container: ghost"),
        ("rmi ghost", "Error response from daemon: No such image: ghost"),
        ("inspect ghost", "Error: No such object: ghost"),
        ("volume rm ghost", "Error response from daemon: get ghost: no such volume"),
    ],
)
def test_bad_commands_get_dockers_words_and_a_failing_status(
    session: Session, line: str, message: str
) -> None:
    outcome = session.execute(line.split())
    errors = [text for stream, text in outcome.lines if stream == "err"]
    assert errors[0] == message
    assert outcome.status != 0


# Containers -----------------------------------------------------------------------


def test_run_pulls_a_missing_image_then_starts_it(session: Session) -> None:
    lines = run(session, "run -d --name web shop/web:1.4.2")
    assert lines[0] == "Unable to find image 'shop/web:1.4.2' locally"
    container = session.daemon.containers.get("web")
    assert lines[-1] == container.id and len(container.id) == 64
    assert container.state == "running"
    assert run(session, "ps -q") == [container.id[:12]]
    assert container.ready_s is None
    run(session, "sleep 1min")
    assert container.ready_s is not None
    assert run(session, "logs web")[-1].endswith("listening on 8000/tcp")


def test_a_foreground_command_prints_its_output_and_returns_its_status(session: Session) -> None:
    outcome = session.execute(
        ["run", "--name", "job", "alpine:3.20", "sh", "-c", "echo hi; exit 3"]
    )
    assert [text for _, text in outcome.lines][-1] == "hi"
    assert outcome.status == 3
    assert session.daemon.containers.get("job").state == "exited"
    assert run(session, "ps") == [
        "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES"
    ]
    assert run(session, "ps -a")[1].split()[-1] == "job"


def test_run_rm_leaves_no_container_and_unknown_programs_are_not_found(session: Session) -> None:
    assert status(session, "run --rm alpine:3.20 true") == 0
    assert session.daemon.containers.by_id == {}
    outcome = session.execute(["run", "alpine:3.20", "nosuchprogram"])
    assert outcome.status == 127
    assert '"nosuchprogram": executable file not found in $PATH' in outcome.lines[-1][1]


def test_stop_an_app_exits_zero_and_a_pid1_sleep_is_killed_after_the_timeout(
    session: Session,
) -> None:
    run(session, "run -d --name web shop/web:1.4.2")
    run(session, "run -d --name nap alpine:3.20 sleep 1000")
    before = session.daemon.now
    assert run(session, "stop nap") == ["nap"]
    assert session.daemon.now - before == pytest.approx(10.0, abs=1e-9)
    assert session.daemon.containers.get("nap").exit_code == 137
    run(session, "stop -t 3 web")
    assert session.daemon.containers.get("web").exit_code == 0
    assert run(session, "wait nap web") == ["137", "0"]


def test_rm_refuses_a_running_container_unless_forced(session: Session) -> None:
    run(session, "run -d --name web shop/web:1.4.2")
    outcome = session.execute(["rm", "web"])
    assert outcome.lines == [
        (
            "err",
            'Error response from daemon: cannot remove container "/web": container is '
            "running: stop the container before removing or force remove",
        )
    ]
    assert run(session, "rm -f web") == ["web"]
    assert session.daemon.containers.by_id == {}


def test_names_are_unique(session: Session) -> None:
    run(session, "run -d --name web shop/web:1.4.2")
    outcome = session.execute(["run", "-d", "--name", "web", "shop/web:1.4.2"])
    assert outcome.status == 125
    assert outcome.lines[-1][1].startswith("docker: Error response from daemon: Conflict. The ")


def test_exec_writes_grow_the_writable_layer_at_the_disks_write_rate(session: Session) -> None:
    run(session, "run -d --name web shop/web:1.4.2")
    used = session.daemon.host.disk.used_bytes
    before = session.daemon.now
    lines = run(session, "exec web dd if=/dev/zero of=/tmp/blob bs=1M count=100")
    written = 100 * 1024 * 1024
    assert lines == [
        "100+0 records in",
        "100+0 records out",
        "104857600 bytes (105 MB, 100 MiB) copied, 0.209715 s, 500 MB/s",
    ]
    assert session.daemon.now - before == pytest.approx(written / 500e6)
    web = session.daemon.containers.get("web")
    assert web.size_rw == written
    assert session.daemon.host.disk.used_bytes == used + written
    assert run(session, "exec web du -sh /tmp") == ["100M\t/tmp"]
    assert run(session, "exec web rm /tmp/blob") == []
    assert web.size_rw == 0 and session.daemon.host.disk.used_bytes == used


def test_copy_on_write_n_containers_store_the_image_once(session: Session) -> None:
    web = session.daemon.images.catalog[("shop/web", "1.4.2")]
    for index in range(3):
        run(session, f"run -d --name web{index} shop/web:1.4.2")
        run(session, f"exec web{index} dd if=/dev/zero of=/log bs=1M count={index + 1}")
    assert session.daemon.engine.store.layer_bytes() == web.size_bytes
    assert session.daemon.host.disk.used_bytes == web.size_bytes + 6 * 1024 * 1024
    df = run(session, "system df")
    assert df[1].split()[:4] == ["Images", "1", "1", human_size(web.size_bytes)]
    assert df[2].split()[:4] == ["Containers", "3", "3", human_size(6 * 1024 * 1024)]
    sizes = [line.split()[-3] for line in run(session, "ps -s")[1:]]
    assert sizes == ["3.15MB", "2.1MB", "1.05MB"]
    run(session, "rm -f web0 web1 web2")
    assert session.daemon.host.disk.used_bytes == web.size_bytes
    assert disk_accounted(session) == session.daemon.host.disk.used_bytes


def test_volume_data_outlives_the_container(session: Session) -> None:
    assert run(session, "volume create data") == ["data"]
    run(session, "run -d --name db -v data:/var/lib/data redis:7-alpine")
    run(session, "exec db sh -c 'echo first > /var/lib/data/note'")
    run(session, "exec db dd if=/dev/zero of=/var/lib/data/dump bs=1M count=5")
    db = session.daemon.containers.get("db")
    assert db.size_rw == 0
    anonymous = [m.volume.name for m in db.mounts if m.volume.anonymous]
    assert [m.destination for m in db.mounts] == ["/var/lib/data", "/data"]
    run(session, "rm -f -v db")
    assert sorted(session.daemon.volumes.by_name) == ["data"]
    assert anonymous and anonymous[0] not in session.daemon.volumes.by_name
    volume = session.daemon.volumes.get("data")
    assert volume.size_bytes == 5 * 1024 * 1024 + len("first\n")
    lines = run(session, "run --rm -v data:/srv alpine:3.20 cat /srv/note")
    assert lines[-1] == "first"
    assert run(session, "volume ls") == ["DRIVER    VOLUME NAME", "local     data"]
    assert run(session, "volume rm data") == ["data"]
    assert disk_accounted(session) == session.daemon.host.disk.used_bytes


def test_a_read_only_volume_refuses_writes(session: Session) -> None:
    run(session, "run -d --name web -v data:/data:ro shop/web:1.4.2")
    outcome = session.execute(["exec", "web", "touch", "/data/x"])
    assert outcome.status == 1
    assert outcome.lines == [("out", "touch: cannot touch '/data/x': Read-only file system")]


def test_a_volume_in_use_cannot_be_removed(session: Session) -> None:
    run(session, "run -d --name web -v data:/data shop/web:1.4.2")
    web = session.daemon.containers.get("web")
    assert run(session, "volume rm data") == [
        f"Error response from daemon: remove data: volume is in use - [{web.id}]"
    ]


def test_rmi_frees_only_layers_no_other_image_holds(session: Session) -> None:
    run(session, "pull shop/worker:1.4.2")
    run(session, "pull shop/web:1.4.2")
    web = session.daemon.images.catalog[("shop/web", "1.4.2")]
    worker = session.daemon.images.catalog[("shop/worker", "1.4.2")]
    lines = run(session, "rmi shop/web:1.4.2")
    deleted = [line.removeprefix("Deleted: ") for line in lines if line.startswith("Deleted:")]
    shared = set(worker.chain_ids)
    assert deleted == [web.image_id] + [c for c in reversed(web.chain_ids) if c not in shared]
    assert session.daemon.host.disk.used_bytes == worker.size_bytes


def test_rmi_refuses_an_image_a_container_uses(session: Session) -> None:
    run(session, "run --name job alpine:3.20 true")
    outcome = session.execute(["rmi", "alpine:3.20"])
    assert outcome.status == 1
    assert "(must force) - container" in outcome.lines[0][1]


def test_inspect_shows_the_overlay_and_the_mounts(session: Session) -> None:
    run(session, "run -d --name web -v data:/data shop/web:1.4.2")
    document = json.loads("\n".join(run(session, "inspect -s web")))[0]
    web = session.daemon.images.catalog[("shop/web", "1.4.2")]
    lower = document["GraphDriver"]["Data"]["LowerDir"].split(":")
    assert len(lower) == len(web.layers) + 1
    assert document["Mounts"][0]["Name"] == "data"
    assert document["SizeRw"] == 0 and document["SizeRootFs"] == web.size_bytes
    image = json.loads("\n".join(run(session, "inspect shop/web:1.4.2")))[0]
    assert image["RootFS"]["Layers"] == [layer.diff_id for layer in web.layers]
    assert run(session, "inspect -f '{{.State.Status}} {{.Name}}' web") == ["running /web"]


def test_history_shows_metadata_steps_as_empty(session: Session) -> None:
    run(session, "pull shop/web:1.4.2")
    lines = run(session, "history shop/web:1.4.2")
    assert lines[1].split()[:2] == [lines[1].split()[0], "N/A"]
    sizes = [line.rsplit(None, 1)[-1] for line in lines[1:]]
    web = session.daemon.images.catalog[("shop/web", "1.4.2")]
    assert len(lines) - 1 == len(web.history)
    assert sum(size != "0B" for size in sizes) == len(web.layers)


# Disk accounting under any sequence of writes -------------------------------------

_operations = st.lists(
    st.tuples(
        st.sampled_from(["write-layer", "write-volume", "remove", "rm-container"]),
        st.integers(0, 2),
        st.integers(1, 4),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None)
@given(_operations)
def test_disk_holds_exactly_layers_writable_layers_and_volumes(operations: list) -> None:
    session = Session(SEED)
    run(session, "pull alpine:3.20")
    for kind, index, megabytes in operations:
        name = f"c{index}"
        if name not in {c.name for c in session.daemon.containers.by_id.values()}:
            run(session, f"run -d --name {name} -v vol{index}:/data alpine:3.20 sleep 9999")
        if kind == "write-layer":
            run(session, f"exec {name} dd if=/dev/zero of=/f{megabytes} bs=1M count={megabytes}")
        elif kind == "write-volume":
            run(session, f"exec {name} dd if=/dev/zero of=/data/f bs=1M count={megabytes}")
        elif kind == "remove":
            run(session, f"exec {name} rm -f /f{megabytes} /data/f")
        else:
            run(session, f"rm -f {name}")
        assert session.daemon.host.disk.used_bytes == disk_accounted(session)


# The journal ----------------------------------------------------------------------

LESSON = [
    "pull python:3.12-slim",
    "run -d --name web -v data:/data shop/web:1.4.2",
    "exec web dd if=/dev/zero of=/data/blob bs=1M count=3",
    "sleep 30",
    "stop web",
    "run --name job alpine:3.20 sh -c 'echo hi > /tmp/x'",
]


def test_a_saved_host_resumes_exactly(tmp_path: Path) -> None:
    import shlex

    original = Session(SEED)
    for line in LESSON:
        original.execute(shlex.split(line))
    path = tmp_path / "state.json"
    save_session(original, path)
    resumed = load_session(path, None)
    for view in ("ps -a -s", "images", "system df -v", "volume ls", "logs web"):
        assert run(resumed, view) == run(original, view)
    assert resumed.daemon.now == original.daemon.now
    save_session(resumed, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()


def test_an_interrupted_save_keeps_the_old_state(tmp_path: Path, monkeypatch) -> None:
    session = Session(SEED)
    session.execute(["pull", "alpine:3.20"])
    path = tmp_path / "state.json"
    save_session(session, path)
    before = path.read_bytes()
    session.execute(["pull", "redis:7-alpine"])

    def broken(*args: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        save_session(session, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_the_command_line_persists_between_invocations(tmp_path: Path, capsys) -> None:
    state = str(tmp_path / "host.json")
    assert main(["--state", state, "run", "-d", "--name", "web", "shop/web:1.4.2"]) == 0
    assert main(["--state", state, "ps", "--format", "x"]) == 125
    assert main(["--state", state, "stop", "web"]) == 0
    captured = capsys.readouterr()
    assert "web\n" in captured.out
    assert "unknown flag: --format" in captured.err
    assert main(["--state", state, "--seed", "7", "ps"]) == 2
    assert "remove the file to start over" in capsys.readouterr().err


def test_a_bad_state_file_is_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "host.json"
    path.write_text("{not json")
    assert main(["--state", str(path), "ps"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"sim-docker: --state: {path}: a state file written by sim-docker (sim-docker-state/1)"
    ]
    assert path.read_text() == "{not json"


def test_a_script_runs_its_commands_in_order(tmp_path: Path, capsys) -> None:
    script = tmp_path / "lesson.txt"
    script.write_text("# a comment\n\ndocker pull alpine:3.20\nrun --rm alpine:3.20 echo hello\n")
    assert main(["--no-state", "--script", str(script)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "$ docker pull alpine:3.20"
    assert "$ docker run --rm alpine:3.20 echo hello" in out
    assert out[-2] == "hello"
    assert out[-1].startswith("[") and out[-1].endswith("s]")


# Builds ---------------------------------------------------------------------------

DOCKERFILE = """\
FROM python:3.12-slim
LABEL org.opencontainers.image.title="hello"
WORKDIR /app
# sim: size=45MB compressed=15MB time=20s
RUN pip install --no-cache-dir flask
COPY app.py model.bin ./
ENV GREETING=hello
CMD ["python", "app.py"]
"""


@pytest.fixture
def context(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "Dockerfile").write_text(DOCKERFILE)
    (folder / "app.py").write_text('print("hello")\n')
    (folder / "model.bin").write_bytes(bytes(3_000_000))
    return folder


def test_a_build_adds_a_layer_per_run_and_copy_only(session: Session, context: Path) -> None:
    python = session.daemon.images.catalog[("library/python", "3.12-slim")]
    start = session.daemon.now
    lines = run(session, f"build -t hello:1 {context}")
    assert [line for line in lines if line.startswith("Step ")] == [
        f"Step {n}/7 : {text}" for n, text in enumerate(DOCKERFILE.splitlines()[:3], 1)
    ] + [f"Step {n}/7 : {text}" for n, text in enumerate(DOCKERFILE.splitlines()[4:], 4)]
    assert lines[-1] == "Successfully tagged hello:1"
    image = session.daemon.images.find("hello:1").image
    assert image.layers[: len(python.layers)] == python.layers
    copied = len('print("hello")\n') + 3_000_000
    assert [layer.size_bytes for layer in image.layers[len(python.layers) :]] == [
        45_000_000,
        copied,
    ]
    assert session.daemon.host.disk.used_bytes == image.size_bytes
    assert session.daemon.now - start > 20 + (45e6 + copied) / 500e6
    history = run(session, "history hello:1")
    assert [line.rsplit(None, 1)[-1] for line in history[1:5]] == ["0B", "0B", "3MB", "45MB"]


def test_a_rebuild_uses_the_cache_until_the_first_changed_step(
    session: Session, context: Path
) -> None:
    first = run(session, f"build -t hello:1 {context}")
    start = session.daemon.now
    again = run(session, f"build -t hello:1 {context}")
    assert again.count(" ---> Using cache") == 6
    assert again[-2] == first[-2]
    assert session.daemon.now == start
    (context / "app.py").write_text('print("hello, world")\n')
    changed = run(session, f"build -t hello:1 {context}")
    assert changed.count(" ---> Using cache") == 3
    assert changed[-2] != first[-2]
    assert run(session, "images")[2].split()[:2] == ["<none>", "<none>"]


def test_build_errors_are_one_line_and_tag_nothing(session: Session, context: Path) -> None:
    (context / "Dockerfile").write_text("FROM alpine:3.20\nCOPY missing.txt /\n")
    outcome = session.execute(["build", "-t", "broken", str(context)])
    assert outcome.status == 1
    assert outcome.lines[-1] == (
        "err",
        "COPY failed: file not found in build context or excluded by .dockerignore: "
        "stat missing.txt: file does not exist",
    )
    assert session.daemon.images.find("broken") is None
    assert session.daemon.host.disk.used_bytes == 0


def test_a_multi_stage_build_keeps_only_the_last_stage(session: Session, context: Path) -> None:
    (context / "Dockerfile").write_text(
        "FROM python:3.12-slim AS builder\n"
        "# sim: size=200MB\n"
        "RUN pip wheel --wheel-dir /wheels flask\n"
        "FROM alpine:3.20\n"
        "# sim: size=6MB\n"
        "COPY --from=builder /wheels /wheels\n"
        'CMD ["sh"]\n'
    )
    lines = run(session, f"build -t slim {context}")
    image = session.daemon.images.find("slim").image
    alpine = session.daemon.images.catalog[("library/alpine", "3.20")]
    assert lines[-1] == "Successfully tagged slim:latest"
    assert [layer.size_bytes for layer in image.layers] == [
        *(layer.size_bytes for layer in alpine.layers),
        6_000_000,
    ]
    python = session.daemon.images.catalog[("library/python", "3.12-slim")]
    assert session.daemon.host.disk.used_bytes == image.size_bytes + python.size_bytes


def test_rmi_of_a_built_image_keeps_its_base(session: Session, context: Path) -> None:
    run(session, f"build -t hello:1 {context}")
    python = session.daemon.images.catalog[("library/python", "3.12-slim")]
    lines = run(session, "rmi hello:1")
    assert lines[0] == "Untagged: hello:1"
    assert sum(line.startswith("Deleted: ") for line in lines) == 1 + 2
    assert session.daemon.host.disk.used_bytes == python.size_bytes


def test_a_resumed_build_does_not_reread_the_context(
    session: Session, context: Path, tmp_path: Path
) -> None:
    run(session, f"build -t hello:1 {context}")
    path = tmp_path / "state.json"
    save_session(session, path)
    (context / "model.bin").write_bytes(bytes(10))
    resumed = load_session(path, None)
    assert resumed.daemon.images.find("hello:1").id == session.daemon.images.find("hello:1").id


def test_images_reclaimable_follows_dockers_formula(session: Session) -> None:
    run(session, "pull python:3.12-slim")
    run(session, "run -d --name web shop/web:1.4.2")
    python = session.daemon.images.catalog[("library/python", "3.12-slim")]
    web = session.daemon.images.catalog[("shop/web", "1.4.2")]
    images_row = run(session, "system df")[1].split()
    # LayersSize minus the active image's unique bytes: python's layers, all shared.
    reclaimable = web.size_bytes - (web.size_bytes - python.size_bytes)
    percent = int(reclaimable * 100 / web.size_bytes)
    assert images_row[1:] == [
        "2",
        "1",
        human_size(web.size_bytes),
        human_size(reclaimable),
        f"({percent}%)",
    ]


def _consoles(terminal: bool) -> tuple[io.StringIO, Printer]:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=terminal, color_system="standard", highlight=False
    )
    return buffer, Printer(console, console)


def test_a_terminal_gets_colour_and_a_pipe_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured, printer = _consoles(terminal=True)
    assert main(["--no-state", "pull", "alpine:3.20"], printer) == 0
    plain, printer = _consoles(terminal=False)
    assert main(["--no-state", "pull", "alpine:3.20"], printer) == 0
    assert "\x1b[" in coloured.getvalue() and "\x1b[" not in plain.getvalue()
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.getvalue()) == plain.getvalue()


def test_the_prompt_runs_each_line_and_saves_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = iter(["docker pull alpine:3.20", "", "run --rm alpine:3.20 echo hi", "exit"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(lines))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    buffer, printer = _consoles(terminal=False)
    state = tmp_path / "host.json"
    assert main(["--state", str(state)], printer) == 0
    assert "hi\n" in buffer.getvalue()
    journal = json.loads(state.read_text())["commands"]
    assert [entry["argv"] for entry in journal] == [
        ["pull", "alpine:3.20"],
        ["run", "--rm", "alpine:3.20", "echo", "hi"],
    ]


def test_commands_piped_in_run_as_a_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("pull alpine:3.20\nrun alpine:3.20 false\n"))
    buffer, printer = _consoles(terminal=False)
    assert main(["--no-state"], printer) == 1
    assert buffer.getvalue().splitlines()[0] == "$ docker pull alpine:3.20"


def test_help_lists_the_verbs() -> None:
    buffer, printer = _consoles(terminal=False)
    assert main(["--no-state", "--help"], printer) == 0
    assert buffer.getvalue().startswith("Usage:  sim-docker")
    for verb in ("build", "exec", "inspect", "system", "volume"):
        assert f"\n  {verb} " in buffer.getvalue()


_WORDS = [
    "pull", "run", "ps", "rm", "rmi", "stop", "start", "exec", "logs", "inspect", "history",
    "images", "volume", "create", "ls", "system", "df", "build", "tag", "wait", "sleep",
    "-d", "-a", "-s", "-f", "-v", "-t", "--rm", "--name", "web", "alpine:3.20",
    "shop/web:1.4.2", "nosuch", "data:/data", "/abs:/x", "sh", "-c", "echo hi > /f", "dd",
    "if=/dev/zero", "of=/f", "bs=1M", "count=2", "cat", "/f", "sleep", "3", "x", "",
    "-it", "--format", "{{.Id}}", "1e9", "-1", "bad name!",
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6), max_size=6))
def test_no_command_line_makes_the_daemon_raise(commands: list[list[str]]) -> None:
    session = Session(SEED)
    for argv in commands:
        outcome = session.execute(argv)
        assert all(stream in ("out", "err") for stream, _ in outcome.lines)
        assert session.daemon.host.disk.used_bytes == disk_accounted(session)


@pytest.mark.parametrize("line", ["run -it alpine:3.20 sh", "exec -it web bash"])
def test_an_interactive_shell_is_refused_with_a_hint(session: Session, line: str) -> None:
    run(session, "pull alpine:3.20")
    run(session, "run -d --name web shop/web:1.4.2")
    before = len(session.daemon.containers.by_id)
    outcome = session.execute(line.split())
    assert outcome.status == 1
    assert outcome.lines[0][1].startswith("sim-docker: an interactive ")
    assert len(session.daemon.containers.by_id) == before


def test_looking_writes_no_state(tmp_path: Path) -> None:
    state = tmp_path / "host.json"
    buffer, printer = _consoles(terminal=False)
    assert main(["--state", str(state), "ps"], printer) == 0
    assert main(["--state", str(state), "--help"], printer) == 0
    assert not state.exists()


def test_ls_lists_what_containers_wrote_and_the_root_always_exists(session: Session) -> None:
    run(session, "run -d --name box -v data:/data alpine:3.20 sleep 999")
    assert run(session, "exec box ls /") == ["data"]
    run(session, "exec box sh -c 'echo a > /etc/motd && echo b > /data/x'")
    assert run(session, "exec box ls /") == ["data", "etc"]
    assert run(session, "exec box ls /data") == ["x"]
    assert run(session, "exec box ls /nowhere") == [
        "ls: cannot access '/nowhere': No such file or directory"
    ]


# Hardening: bad input gets Docker's words, never a traceback or a wrong account -----


@pytest.mark.parametrize(
    ("operand", "shown"),
    [("count=-5", "-5"), ("count=-5000", "-5000"), ("bs=1X", "1X"), ("bs=-1M", "-1M")],
)
def test_dd_refuses_a_number_that_is_not_one(session: Session, operand: str, shown: str) -> None:
    run(session, "run -d --name web shop/web:1.4.2")
    disk_before = disk_accounted(session)
    clock_before = session.daemon.now
    words = {"bs": "bs=1M", "count": "count=5"}
    words[operand.partition("=")[0]] = operand
    line = f"exec web dd if=/dev/zero of=/tmp/f {words['bs']} {words['count']}"
    assert run(session, line) == [f"dd: invalid number: '{shown}'"]
    assert status(session, line) == 1
    assert disk_accounted(session) == disk_before
    assert session.daemon.now == clock_before


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        ("99999:80", "docker: invalid hostPort: 99999."),
        ("80:65536", "docker: invalid containerPort: 65536."),
    ],
)
def test_ports_beyond_65535_are_refused(session: Session, spec: str, line: str) -> None:
    assert run(session, f"run -d -p {spec} shop/web:1.4.2") == [line]
    assert status(session, f"run -d -p {spec} shop/web:1.4.2") == 125
    assert run(session, "ps -a -q") == []


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{{.Nope}}", 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'),
        (
            "x {{.State.Nope}}",
            'template: :1:10: executing "" at <.State.Nope>: map has no entry for key "Nope"',
        ),
        (
            "{{.State.Running.X}}",
            'template: :1:8: executing "" at <.State.Running.X>: '
            "can't evaluate field X in type bool",
        ),
    ],
)
def test_a_template_field_that_is_not_there_is_dockers_template_error(
    session: Session, template: str, error: str
) -> None:
    run(session, "run -d --name web shop/web:1.4.2")
    assert run(session, f"inspect -f '{template}' web") == [f"template parsing error: {error}"]
    assert status(session, f"inspect -f '{template}' web") == 1


def test_template_values_print_as_go_prints_them(session: Session) -> None:
    run(session, "run -d --name web shop/web:1.4.2")
    assert run(session, "inspect -f '{{.State.Running}} {{.State.ExitCode}}' web") == ["true 0"]


def test_a_binary_dockerfile_is_the_parsers_error(session: Session, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(b"FROM python-3.12\n\xff\xfe\x00\n")
    lines = run(session, f"build -t bad {tmp_path}")
    assert len(lines) == 1
    assert lines[0].startswith("dockerfile parse error on line 2: unknown instruction: ")
    assert status(session, f"build -t bad {tmp_path}") == 1


@pytest.mark.parametrize(
    ("state", "why"),
    [
        ("/nonexistent/dir/s.json", "a file in a folder that exists and can be written"),
        ("{tmp}", "a file, not a folder"),
    ],
)
def test_a_state_path_that_cannot_be_saved_is_refused_before_the_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], state: str, why: str
) -> None:
    path = state.format(tmp=tmp_path)
    assert main(["--state", path, "pull", "redis:7"]) == 2
    captured = capsys.readouterr()
    assert "Pulling" not in captured.out
    assert captured.err.strip().splitlines() == [
        f"sim-docker: --state: {path}: {why}" + (" (no such folder)" if "exists" in why else "")
    ]


def test_the_state_file_respects_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        assert main(["--state", str(tmp_path / "s.json"), "pull", "redis:7-alpine"]) == 0
    finally:
        os.umask(previous)
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o640


# What the adversary found: one line, never a traceback -------------------------------


def test_wait_on_a_server_says_it_would_wait_for_ever(session: Session) -> None:
    run(session, "run -d --name web shop/web:1.4.2")
    outcome = session.execute(["wait", "web"])
    assert outcome.status == 1
    assert [line for _, line in outcome.lines] == [
        "sim-docker: web runs until it is stopped, so docker wait would wait for ever "
        "(stop it first: sim-docker stop web)"
    ]
    run(session, "stop web")
    assert run(session, "wait web") == ["0"]


def test_sleep_zero_lets_no_time_pass(session: Session) -> None:
    start = session.daemon.now
    assert status(session, "sleep 0") == 0
    assert status(session, "sleep 0s") == 0
    assert session.daemon.now == start


@pytest.mark.parametrize(
    ("commands", "index"),
    [(["ps"], 1), ([{"argv": "images"}], 1), ([{"argv": [1, 2]}], 1), ([{}], 1)],
)
def test_a_journal_entry_of_the_wrong_shape_is_one_line(
    tmp_path: Path, capsys, commands: list, index: int
) -> None:
    path = tmp_path / "host.json"
    assert main(["--state", str(path), "volume", "create", "keep"]) == 0
    state = json.loads(path.read_text())
    state["commands"] += commands
    path.write_text(json.dumps(state))
    capsys.readouterr()
    assert main(["--state", str(path), "ps"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"sim-docker: --state: {path}: a state file written by sim-docker: "
        f'commands[{index}] is not a command ({{"argv": [words], ...}})'
    ]


def test_a_long_build_gives_the_image_a_step_by_step_build_gives(
    session: Session, tmp_path: Path
) -> None:
    """Steps share their parents' layers and extend a running image ID; the image they
    end with is the one `build_image` makes step after step from the base."""
    from sim.model.images.image import BuildStep, ImageSpec, build_image

    steps = [("RUN", f"echo {n}") if n % 3 else ("ENV", f"N={n}") for n in range(1, 40)]
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\n" + "".join(f"{kind} {argument}\n" for kind, argument in steps)
    )
    run(session, f"build -t long:1 {tmp_path}")
    built = session.daemon.images.find("long:1").image
    image = session.daemon.images.catalog[("library/python", "3.12-slim")]
    for kind, argument in steps:
        size = 10_000_000 if kind == "RUN" else 0
        step = BuildStep(kind, argument, size, 4_000_000 if size else 0)
        image = build_image(ImageSpec("x", "", "", "", (step,)), image, "build")
    assert built.image_id == image.image_id
    assert built.layers == image.layers
    assert built.chain_ids == image.chain_ids
    assert built.history == image.history
    assert built.config == image.config
