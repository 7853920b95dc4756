"""The project's pages as the tests read them: README.md and every page under docs/, the
fenced blocks they hold, and the commands those blocks show.

A block is run as the page shows it. A page may keep one block from running only with a
reason, written in an HTML comment on the line before the block's fence (invisible on
the rendered page): ``<!-- skip-test: needs a Ray cluster -->``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<language>[\w+-]*)")
SKIP = re.compile(r"^\s*<!--\s*skip-test(?::\s*(?P<reason>.*?))?\s*-->\s*$")
PROMPT = "$ "


def pages() -> list[Path]:
    """README.md first, then every Markdown page under docs/, in path order."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def page_name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


@dataclass(frozen=True)
class Block:
    """One fenced block of a page, its lines without the block's own indentation."""

    page: Path
    line: int
    language: str
    lines: tuple[str, ...]
    skip: str | None

    @property
    def where(self) -> str:
        return f"{page_name(self.page)}:{self.line}"

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of one page, in order. A fence inside a list item may be
    indented; a block closes at a fence of the same kind at least as long."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not _closes(fence, lines[end]):
            body.append(lines[end].removeprefix(indent))
            end += 1
        marker = SKIP.match(lines[index - 1]) if index > 0 else None
        skip = (marker["reason"] or "") if marker else None
        found.append(Block(page, index + 1, opening["language"], tuple(body), skip))
        index = end + 1
    return found


def all_blocks() -> list[Block]:
    return [block for page in pages() for block in blocks(page)]


def skip_markers(page: Path) -> list[tuple[int, str]]:
    """Every skip marker of a page: (line, reason), the reason empty when none is given."""
    return [
        (number, match["reason"] or "")
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if (match := SKIP.match(line))
    ]


@dataclass(frozen=True)
class Command:
    """A command line a block shows (continuations joined, comments dropped) and, when
    the block shows it after a ``$ `` prompt, the lines it is shown printing."""

    words: tuple[str, ...]
    shown: tuple[str, ...]
    where: str


def commands(block: Block, programs: tuple[str, ...]) -> list[Command]:
    """The block's command lines that start with one of `programs`."""
    joined: list[str] = []
    for line in block.lines:
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1] + " " + line.strip()
        else:
            joined.append(line)
    found: list[Command] = []
    for position, line in enumerate(joined):
        text = line.strip()
        prompted = text.startswith(PROMPT)
        text = text.removeprefix(PROMPT)
        if text.split(" ", 1)[0] not in programs:
            continue
        shown: list[str] = []
        if prompted:
            for after in joined[position + 1 :]:
                if after.startswith(PROMPT):
                    break
                shown.append(after)
        found.append(Command(tuple(shlex.split(text, comments=True)), tuple(shown), block.where))
    return found


def all_commands(programs: tuple[str, ...]) -> list[Command]:
    return [command for block in all_blocks() for command in commands(block, programs)]


def links(page: Path) -> list[str]:
    """The targets of a page's Markdown links and images, outside code."""
    text = "\n".join(_outside_code(page.read_text(encoding="utf-8").splitlines()))
    text = re.sub(r"`[^`]*`", "", text)
    return re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", text)


def _outside_code(lines: list[str]) -> list[str]:
    kept: list[str] = []
    fence: str | None = None
    for line in lines:
        opening = FENCE.match(line)
        if fence is None and opening is not None:
            fence = opening["fence"]
        elif fence is not None and _closes(fence, line):
            fence = None
        elif fence is None:
            kept.append(line)
    return kept


def _closes(fence: str, line: str) -> bool:
    """Whether `line` closes a block opened by `fence` (the same character, at least as
    many times, nothing after it)."""
    return re.fullmatch(rf"\s*{re.escape(fence[0])}{{{len(fence)},}}\s*", line) is not None
