"""Every command the README shows runs as shown (with a short horizon), and the lines it
shows a command printing are what the command prints."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from sim.output.summary import keys as summary_keys

README = Path(__file__).resolve().parent.parent / "README.md"
PROGRAMS = ("sim", "sim-report")
SHORT = ("horizon=2min", "progress=false")
# Shown with placeholders for a machine of the reader's (a Ray cluster's head address).
NEEDS_A_CLUSTER = re.compile(r"<[a-z-]+>")


def code_blocks(text: str) -> list[list[str]]:
    return [block.splitlines() for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S)]


def commands(text: str) -> list[list[str]]:
    """The README's ``sim`` and ``sim-report`` command lines, continuations joined and
    comments dropped; a line shown after a ``$ `` prompt counts as well."""
    found = []
    for block in code_blocks(text):
        joined: list[str] = []
        for line in block:
            if joined and joined[-1].endswith("\\"):
                joined[-1] = joined[-1][:-1] + " " + line.strip()
            else:
                joined.append(line)
        for line in joined:
            text = line.strip().removeprefix("$ ")
            if text.split(" ", 1)[0] in PROGRAMS:
                found.append(shlex.split(text, comments=True))
    return found


COMMANDS = commands(README.read_text(encoding="utf-8"))


def test_the_readme_shows_commands_of_every_kind() -> None:
    shown = {" ".join(words[:2]) for words in COMMANDS}
    assert {"sim workload=poisson", "sim -m", "sim-report sweeps/policies"} <= shown
    assert len(COMMANDS) >= 12


def bin_path(program: str) -> str:
    return str(Path(sys.executable).parent / program)


def runs(commands: list[list[str]]) -> list[list[list[str]]]:
    """The commands as independent cases: a ``sim-report <folder>`` joins the case of the
    ``sim -m`` that writes that folder (``hydra.sweep.dir=<folder>``), after it, so every
    case runs alone in a folder of its own, on any worker, in any order."""
    cases: list[list[list[str]]] = []
    writer: dict[str, list[list[str]]] = {}
    for words in commands:
        if NEEDS_A_CLUSTER.search(" ".join(words)):
            continue
        if words[0] == "sim-report" and words[1] in writer:
            writer[words[1]].append(words)
            continue
        case = [words]
        cases.append(case)
        for word in words:
            if word.startswith("hydra.sweep.dir="):
                writer[word.partition("=")[2]] = case
    return cases


def test_each_sim_report_example_reads_a_sweep_another_example_writes() -> None:
    reports = [case for case in runs(COMMANDS) if any(w[0] == "sim-report" for w in case)]
    assert reports, "the README shows sim-report reading a sweep"
    assert all(case[0][:2] == ["sim", "-m"] for case in reports)


@pytest.mark.parametrize("case", runs(COMMANDS), ids=lambda case: " && ".join(map(" ".join, case)))
def test_a_readme_command_runs_as_shown(case: list[list[str]], tmp_path: Path) -> None:
    for words in case:
        program, arguments = words[0], words[1:]
        if program == "sim":
            expect_error = any("12parsecs" in word for word in arguments)
            arguments = [*arguments, *SHORT]
        else:
            expect_error = False
        completed = subprocess.run(
            [bin_path(program), *arguments],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=600,
        )
        assert "Traceback" not in completed.stdout + completed.stderr
        if expect_error:
            assert completed.returncode == 2
        else:
            assert completed.returncode == 0, completed.stderr


def test_the_bad_input_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    block = next(b for b in code_blocks(README.read_text()) if b[0].startswith("$ sim cluster"))
    command, shown = block[0].removeprefix("$ "), block[1]
    completed = subprocess.run(
        [bin_path("sim"), *shlex.split(command)[1:]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip() == shown
    assert list(tmp_path.iterdir()) == []


def test_the_readme_sends_no_one_outside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    assert "../shared" not in text and "shared/reference" not in text


def test_the_summary_table_lists_every_summary_key_and_no_other() -> None:
    """The README's table of ``summary.json`` names each key of `Summary` once (the
    per-platform start-up keys by an example)."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("- `summary.json`") : text.index("- `events.csv`")]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = [key for row in rows for key in re.findall(r"`([a-z0-9_]+)`", row.split(" | ")[0])]
    assert sorted(named) == sorted(summary_keys())


def test_every_module_the_readme_names_exists() -> None:
    named = re.findall(r"`((?:sim|experiments|configs|tests)/[\w/.-]+)`", README.read_text("utf-8"))
    assert named, "the README names no module"
    assert [path for path in named if not (README.parent / path).exists()] == []
