"""The tutorial (docs/tutorial.md) runs as written: every command in its
``console`` blocks is run in order on a fresh simulated host, and what it prints must be
what the tutorial shows.

After changing the simulator on purpose, rewrite the shown outputs with
``UPDATE_TUTORIAL=1 pytest tests/test_tutorial.py`` and read the diff.
"""

from __future__ import annotations

import io
import os
import re
import shlex
from pathlib import Path

import pytest
from rich.console import Console

from sim.teach.demos import demo_lines
from sim.teach.docker.cli import Printer, main

ROOT = Path(__file__).parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def commands(block: str) -> list[tuple[str, list[str]]]:
    """A console block as (command, the lines shown under it)."""
    found: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif found:
            found[-1][1].append(line)
    return found


def execute(command: str) -> list[str]:
    """What one tutorial command prints (stdout and stderr as a terminal shows them)."""
    command, _, pipe = command.partition(" | ")
    words = shlex.split(command)
    if words[0] == "sim-docker":
        buffer = io.StringIO()
        console = Console(file=buffer, force_terminal=False, soft_wrap=True, highlight=False)
        main(words[1:], Printer(console, console))
        lines = buffer.getvalue().splitlines()
    elif words[0] == "sim-demo":
        lines = demo_lines(words[1])
    elif words[0] == "cat":
        lines = (ROOT / words[1]).read_text().splitlines()
    else:
        raise AssertionError(f"the tutorial runs only sim-docker, sim-demo and cat: {command}")
    if pipe:
        tool, count = shlex.split(pipe)
        number = abs(int(count))
        assert tool in ("head", "tail"), pipe
        lines = lines[-number:] if tool == "tail" else lines[:number]
    return lines


def test_every_command_of_the_tutorial_prints_what_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SIM_DOCKER_STATE", str(tmp_path / "tutorial.json"))
    text = TUTORIAL.read_text()
    update = os.environ.get("UPDATE_TUTORIAL") == "1"
    blocks = BLOCK.findall(text)
    assert len(blocks) >= 10
    rewritten = []
    for block in blocks:
        shown = []
        for command, expected in commands(block):
            actual = execute(command)
            if not update:
                assert actual == expected, f"$ {command}"
            shown += [f"$ {command}", *actual]
        rewritten.append("\n".join(shown) + "\n")
    if update:
        parts = iter(rewritten)
        TUTORIAL.write_text(BLOCK.sub(lambda _: f"```console\n{next(parts)}```", text))
