"""Narrated demos: golden narration per demo (deterministic by seed), Docker's words."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from rich.console import Console

from sim.output.plots import serving_spans
from sim.output.results import Result
from sim.policies.autoscaling.target_tracking import TargetTracking
from sim.scenario import Scenario
from sim.teach.demos import DEMOS, crowd_of, demo_lines, draw, run_demo, show

GOLDEN = Path(__file__).parent / "golden"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


@cache
def told(name: str) -> tuple[str, ...]:
    """A demo's lines, run once for the tests that only read them."""
    return tuple(demo_lines(name))


@cache
def autoscaled() -> tuple[Scenario, Result]:
    """The autoscaling demo's scenario and result, run once for the invariant tests."""
    return run_demo("autoscaling")


def golden(name: str) -> list[str]:
    return (GOLDEN / f"{name}.txt").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_each_demo_tells_its_golden_story(name: str) -> None:
    assert demo_lines(name) == golden(name)


def test_the_second_pull_finds_the_image_and_pulls_nothing() -> None:
    lines = demo_lines("first-pull")
    assert sum("Status: Downloaded newer image for shop/web:1.4.2" in line for line in lines) == 1
    assert any(
        'Container image "shop/web:1.4.2" already present on machine' in line for line in lines
    )


def test_the_shared_base_layers_already_exist() -> None:
    lines = demo_lines("shared-base")
    assert sum(line.endswith(": Already exists") for line in lines) == 4
    web = [line for line in lines if line.startswith("pull of web")]
    assert web == [next(line for line in web)]
    assert "4 layers already there, 3 downloaded" in web[0]


def test_docker_words_come_in_docker_order_for_every_layer() -> None:
    lines = demo_lines("vm-vs-container")
    order = ["Pulling fs layer", "Downloading", "Download complete", "Extracting", "Pull complete"]
    layers = {line.split("] ")[1].split(": ")[0] for line in lines if "Pulling fs layer" in line}
    assert len(layers) == 7
    for layer in layers:
        said = [line.split(f"] {layer}: ", 1)[1] for line in lines if f"] {layer}: " in line]
        assert [next(word for word in order if text.startswith(word)) for text in said] == order


def test_the_command_line_prints_the_same_story(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "sim-demo"), "shared-base"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    assert completed.stdout.splitlines() == demo_lines("shared-base")


def test_copy_on_write_stores_the_image_once_and_each_vm_disk_in_full() -> None:
    lines = demo_lines("copy-on-write")
    table = {line.split()[0]: line.split() for line in lines[-5:-1]}
    assert table["Images"][1:3] == ["1", "320"]  # one image, its 7 layers stored once
    assert table["Containers"][1:4] == ["3", "3", "MB"]  # 3 writable layers of 1 MB
    assert table["VM"][2:5] == ["3", "25.8", "GB"]  # 3 full copies of an 8 GiB disk
    pulls = [line for line in lines if line.startswith("pull of web")]
    assert sum("0 downloaded" not in line for line in pulls) == 1  # one pull moved bytes
    assert all(
        "pull extract" not in line
        for line in lines
        if "web-container-2" in line and "ready in" in line
    )


def test_the_autoscaled_service_loses_no_request_and_keeps_within_its_range() -> None:
    world, result = autoscaled()
    summary = result.summary
    assert (
        summary["requests_served"] + summary["requests_in_flight"] + summary["requests_dropped"]
        == summary["requests_total"]
    )
    assert summary["requests_dropped"] > 0  # the crowd outruns the first replica
    # Monitoring counts each request once, served or dropped, in the period it arrived in.
    served = sum(int(row["requests"]) for row in result.timeseries)
    dropped = sum(int(row["dropped"]) for row in result.timeseries)
    assert served + dropped == summary["requests_total"] - summary["requests_in_flight"]
    assert world.service is not None and world.service.autoscaler is not None
    policy = world.service.autoscaler.policy
    assert isinstance(policy, TargetTracking)
    low, high = policy.min_capacity, policy.max_capacity
    desired = [int(str(e.detail("desired"))) for e in result.events if e.kind == "desired_capacity"]
    assert desired and all(low <= count <= high for count in desired)
    assert all(low <= int(row["desired"]) <= high for row in result.timeseries)
    in_service, serving, counts = 0, False, []
    for event in result.events:
        serving = serving or event.kind == "traffic_started"
        if event.kind == "replica_state" and event.detail("state") in ("in_service", "draining"):
            in_service += 1 if event.detail("state") == "in_service" else -1
            if serving:
                counts.append(in_service)
    assert counts and all(low <= count <= high for count in counts)
    assert max(counts) > 1  # it did scale out


def test_the_first_scale_out_comes_after_the_crowd_and_capacity_after_the_decision() -> None:
    world, result = autoscaled()
    crowd_start_s, crowd_duration_s, _, _ = crowd_of(world)
    actions = [e for e in result.events if e.kind == "scaling_action"]
    outs = [e for e in actions if int(str(e.detail("desired"))) > int(str(e.detail("previous")))]
    ins = [e for e in actions if int(str(e.detail("desired"))) < int(str(e.detail("previous")))]
    assert outs and ins
    first = outs[0]
    assert first.time_s > crowd_start_s
    assert actions[0] is first  # nothing moves before the crowd
    assert all(e.time_s >= crowd_start_s + crowd_duration_s for e in ins)
    entered = [
        e.time_s
        for e in result.events
        if e.kind == "replica_state" and e.detail("state") == "in_service"
    ]
    assert any(time_s > first.time_s for time_s in entered)


def test_the_autoscaling_story_tells_each_decision_replica_and_load() -> None:
    lines = told("autoscaling")
    assert len(lines) < 80
    assert sum("autoscaler (target_tracking) scales out" in line for line in lines) == 2
    assert sum("autoscaler (target_tracking) scales in" in line for line in lines) == 1
    assert (
        sum(": in service: passed the load balancer's health checks" in line for line in lines) == 4
    )
    assert sum("docker stop, docker rm" in line for line in lines) == 3
    assert any(line.startswith("requests: ") and "dropped (" in line for line in lines)
    stamps = [float(line[1:10]) for line in lines if line.startswith("[")]
    assert stamps == sorted(stamps)


def render(lines: tuple[str, ...], *, terminal: bool) -> str:
    """What `show` prints to a console that is (or is not) a colour terminal."""
    file = io.StringIO()
    console = Console(file=file, force_terminal=terminal, color_system="standard", highlight=False)
    show(lines, console)
    return file.getvalue()


@pytest.mark.parametrize("name", ["first-pull", "autoscaling"])
def test_on_a_terminal_docker_words_are_coloured_and_the_text_stays_the_same(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    lines = told(name)
    output = render(lines, terminal=True)
    assert ANSI_ESCAPE.search(output)
    assert ANSI_ESCAPE.sub("", output).splitlines() == list(lines)
    assert "\x1b[2m[    0.000 s] \x1b[0m" in output  # timestamps dim
    assert "\x1b[1m$ docker pull shop/web:1.4.2\x1b[0m" in output
    if name == "first-pull":
        assert "\x1b[32mPull complete\x1b[0m" in output
        assert "\x1b[33mDownloading\x1b[0m" in output
    else:
        assert "\x1b[35mautoscaler (target_tracking) scales out" in output
        assert "\x1b[31m3523 dropped\x1b[0m" in output


def test_piped_or_with_no_color_the_output_is_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = told("first-pull")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b" not in render(lines, terminal=False)
    monkeypatch.setenv("NO_COLOR", "1")
    plain = render(lines, terminal=True)
    assert "\x1b" not in plain
    assert plain.splitlines() == list(lines)


@pytest.mark.parametrize(("name", "hash_seed"), [("first-pull", "0"), ("autoscaling", "1")])
def test_sim_demo_piped_prints_the_golden_text(name: str, hash_seed: str, tmp_path: Path) -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR")
    }
    environment["PYTHONHASHSEED"] = hash_seed  # the story must not depend on set order
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "sim-demo"), name],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
        check=True,
    )
    assert "\x1b" not in completed.stdout
    assert completed.stdout.splitlines() == golden(name)


def test_a_demo_draws_its_pictures_without_a_display(tmp_path: Path) -> None:
    environment = {**os.environ, "MPLBACKEND": "Agg"}
    environment.pop("DISPLAY", None)
    completed = subprocess.run(
        [sys.executable, "-m", "sim.teach.demos", "vm-vs-container", "--figures", str(tmp_path)],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    names = ["timeline.png", "topology.png", "registry_egress.png"]
    assert completed.stdout.splitlines()[-3:] == [f"wrote {tmp_path / name}" for name in names]
    for name in names:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pictures_of_a_scaled_in_service_end_where_replicas_stopped(tmp_path: Path) -> None:
    _, result = run_demo("autoscaling")
    stopped = [
        event
        for event in result.events
        if event.kind == "replica_state" and event.detail_or("state") in ("stopped", "removed")
    ]
    spans = serving_spans(result)
    assert stopped
    for event in stopped:
        assert spans[event.source][1] == event.time_s < result.summary["sim_time_s"]
    running = set(spans) - {event.source for event in stopped}
    assert running and all(spans[name][1] == result.summary["sim_time_s"] for name in running)
    assert [path.name for path in draw(result, tmp_path)] == [
        "timeline.png",
        "topology.png",
        "registry_egress.png",
    ]


def test_an_unknown_demo_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.teach.demos import main

    monkeypatch.setattr("sys.argv", ["sim-demo", "nosuch"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "sim-demo: no demo named 'nosuch'; the demos: first-pull, shared-base, "
        "copy-on-write, vm-vs-container, autoscaling, host-failure"
    ]


@pytest.mark.parametrize("option", ["--figures", "--html"])
def test_an_unwritable_folder_is_refused_before_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    from sim.teach.demos import main

    monkeypatch.setattr("sys.argv", ["sim-demo", "first-pull", option, "/proc/sim-demo"])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        f"sim-demo: {option}: /proc/sim-demo: a folder that can be written "
        "(No such file or directory)"
    ]
