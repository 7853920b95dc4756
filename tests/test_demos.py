"""Narrated demos: golden narration per demo (deterministic by seed), Docker's words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.demos import DEMOS, demo_lines

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_each_demo_tells_its_golden_story(name: str) -> None:
    expected = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    assert demo_lines(name) == expected


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
