"""The README and the pages under docs/ say what is true: every ``sim``, ``sim-report``
and ``sim-plan`` command they show runs as shown (with a short horizon), a command shown
printing a config error prints that line, every Python block runs, and every table,
link and path they give matches the code."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from pages import (
    DOCS,
    README,
    ROOT,
    Block,
    Command,
    all_blocks,
    all_commands,
    links,
    page_name,
    pages,
    skip_markers,
)

from sim.output.summary import keys as summary_keys

PROGRAMS = ("sim", "sim-report", "sim-plan")
# Appended to every command that runs a simulation: the same command, a shorter run.
SHORT = ("horizon=2min", "progress=false")
# Shown with placeholders for a machine of the reader's (a Ray cluster's head address).
NEEDS_A_CLUSTER = re.compile(r"<[a-z-]+>")
README_LINES_AT_MOST = 250
ABRIDGED = "..."

COMMANDS = all_commands(PROGRAMS)


def test_the_pages_show_commands_of_every_kind() -> None:
    shown = {" ".join(command.words[:2]) for command in COMMANDS}
    assert {"sim workload=poisson", "sim -m", "sim-report sweeps/policies"} <= shown
    assert {command.words[0] for command in COMMANDS} == set(PROGRAMS)
    assert len(COMMANDS) >= 12


def bin_path(program: str) -> str:
    return str(Path(sys.executable).parent / program)


def runs(commands: list[Command]) -> list[list[Command]]:
    """The commands as independent cases: a ``sim-report <folder>`` joins the case of the
    ``sim -m`` that writes that folder (``hydra.sweep.dir=<folder>``), after it, so every
    case runs alone in a folder of its own, on any worker, in any order."""
    cases: list[list[Command]] = []
    writer: dict[str, list[Command]] = {}
    for command in commands:
        words = command.words
        if NEEDS_A_CLUSTER.search(" ".join(words)):
            continue
        if words[0] == "sim-report" and words[1] in writer:
            writer[words[1]].append(command)
            continue
        case = [command]
        cases.append(case)
        for word in words:
            if word.startswith("hydra.sweep.dir="):
                writer[word.partition("=")[2]] = case
    return cases


def test_each_sim_report_example_reads_a_sweep_another_example_writes() -> None:
    reports = [case for case in runs(COMMANDS) if any(c.words[0] == "sim-report" for c in case)]
    assert reports, "the pages show sim-report reading a sweep"
    assert all(case[0].words[:2] == ("sim", "-m") for case in reports)


def shown_error(command: Command) -> str | None:
    """The config error a page shows the command printing, if it shows one."""
    if command.shown and command.shown[0].startswith("config error: "):
        return command.shown[0]
    return None


def case_id(case: list[Command]) -> str:
    return " && ".join(" ".join(command.words) for command in case)


@pytest.mark.parametrize("case", runs(COMMANDS), ids=case_id)
def test_a_command_runs_as_shown(case: list[Command], tmp_path: Path) -> None:
    """Each command exits 0, or, where its page shows it printing a config error, exits 2
    with that line (a trailing ``...`` abridges it) and writes nothing."""
    for command in case:
        program, arguments = command.words[0], list(command.words[1:])
        if program in ("sim", "sim-plan"):
            arguments += SHORT
        completed = subprocess.run(
            [bin_path(program), *arguments],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=600,
        )
        assert "Traceback" not in completed.stdout + completed.stderr, command.where
        error = shown_error(command)
        if error is None:
            assert completed.returncode == 0, f"{command.where}: {completed.stderr}"
            continue
        assert completed.returncode == 2, command.where
        printed = completed.stderr.strip()
        if error.endswith(ABRIDGED):
            assert printed.startswith(error.removesuffix(ABRIDGED)), command.where
        else:
            assert printed == error, command.where
        assert list(tmp_path.iterdir()) == [], command.where


def test_the_pages_show_a_bad_input_line_for_sim_and_for_sim_plan() -> None:
    erring = {command.words[0] for command in COMMANDS if shown_error(command)}
    assert erring == {"sim", "sim-plan"}


PYTHON_BLOCKS = [block for block in all_blocks() if block.language == "python"]


def test_the_pages_show_python_blocks() -> None:
    assert any(block.page == README for block in PYTHON_BLOCKS)
    assert any(block.page == DOCS / "api.md" for block in PYTHON_BLOCKS)


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda block: block.where)
def test_a_python_block_runs(block: Block, tmp_path: Path) -> None:
    """Each Python block runs as a script of its own, from an empty folder."""
    if block.skip is not None:
        pytest.skip(f"{block.where}: {block.skip}")
    completed = subprocess.run(
        [sys.executable, "-c", block.text],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert completed.returncode == 0, f"{block.where}:\n{completed.stderr}"


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_a_block_is_skipped_only_with_a_reason(page: Path) -> None:
    starts = {block.line: block for block in all_blocks() if block.page == page}
    for line, reason in skip_markers(page):
        assert reason.strip(), f"{page_name(page)}:{line}: skip-test without a reason"
        following = starts.get(line + 1)
        assert following is not None, f"{page_name(page)}:{line}: skip-test before no block"
        assert following.language == "python", f"{page_name(page)}:{line}"


def slug(heading: str) -> str:
    """A heading's anchor as MkDocs makes it (Python-Markdown's toc slugify)."""
    text = re.sub(r"`|\*|\[|\]\([^)]*\)", "", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    return {
        slug(line.lstrip("#").strip())
        for line in page.read_text(encoding="utf-8").splitlines()
        if re.match(r"#{1,6} ", line)
    }


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_every_link_between_pages_leads_somewhere(page: Path) -> None:
    """A relative link names a file of the repository, and its anchor a heading there."""
    broken = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        missing_anchor = anchor and file.suffix == ".md" and anchor not in anchors(file)
        if not file.exists() or missing_anchor:
            broken.append(target)
    assert broken == []


def test_the_readme_is_short_and_leads_to_every_guide() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_LINES_AT_MOST
    guides = {path.name for path in DOCS.glob("*.md")}
    linked = {Path(target).name for target in links(README) if target.startswith("docs/")}
    assert guides <= linked


def test_the_readme_starts_with_the_two_commands_and_ci_installs_the_same_extras() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    install, test = lines[3], lines[4]
    assert install.endswith("pip install . && sim")
    assert test.endswith("&& pytest")
    extras = re.search(r"pip install '(\.\[[a-z,]+\])'", test)
    assert extras is not None
    ci_installs = re.findall(r"^pip install .*$", (ROOT / ".ci" / "run").read_text(), re.M)
    assert [shlex.split(line)[-1] for line in ci_installs] == [extras.group(1)]


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_no_page_sends_anyone_outside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "../shared" not in text and "shared/reference" not in text


def test_the_summary_table_lists_every_summary_key_and_no_other() -> None:
    """The results page's table of ``summary.json`` names each key of `Summary` once (the
    per-platform start-up keys by an example)."""
    text = (DOCS / "results.md").read_text(encoding="utf-8")
    start = text.index("## `summary.json`")
    table = text[start : text.index("\n## ", start + 1)]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = [key for row in rows for key in re.findall(r"`([a-z0-9_]+)`", row.split(" | ")[0])]
    assert sorted(named) == sorted(summary_keys())


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_every_path_a_page_names_exists(page: Path) -> None:
    named = re.findall(
        r"`((?:sim|experiments|configs|tests|docs)/[\w/.-]+)`", page.read_text("utf-8")
    )
    assert [path for path in named if not (ROOT / path).exists()] == []


def test_the_pages_name_modules() -> None:
    named = [
        path
        for page in pages()
        for path in re.findall(r"`((?:sim|experiments)/[\w/.-]+)`", page.read_text("utf-8"))
    ]
    assert len(named) >= 20
