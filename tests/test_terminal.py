"""Tables on terminals of any width: whole when they fit, split into parts, else one
block per row; never a number cut short with ``…``, never a row lost."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

import sim
from sim.output.report import PIPED_WIDTH, print_summary
from sim.output.results import Result
from sim.output.tables import PHASES, TextTable, run_tables
from sim.output.terminal import print_table

NUMBER = re.compile(r"^[-+]?\d[\d.,/%]*$")


def rendered(width: int, draw: object) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    draw(console)  # type: ignore[operator]
    return console.file.getvalue()  # type: ignore[attr-defined]


def numbers(text: str) -> Counter[str]:
    return Counter(word for word in text.split() if NUMBER.match(word))


@pytest.fixture(scope="module")
def runs() -> dict[str, Result]:
    """The default scenario (five deployment waves, a VM among them) and a served app."""
    return {
        "default": sim.simulate(sim.load_config()),
        "served": sim.simulate(
            sim.load_config(["workload=poisson", "platform=container", "horizon=20min"])
        ),
    }


@pytest.mark.parametrize("width", [20, 80, 120])
@pytest.mark.parametrize("name", ["default", "served"])
def test_a_run_summary_reads_at_any_width(runs: dict[str, Result], name: str, width: int) -> None:
    result = runs[name]
    text = rendered(width, lambda console: print_summary(result, None, console))
    wide = rendered(PIPED_WIDTH, lambda console: print_summary(result, None, console))
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    missing = numbers(wide) - numbers(text)
    assert not missing, f"numbers lost at {width} columns: {missing}"
    for table in run_tables(result.summary, result.replicas):
        for row in table.rows:
            assert all(word in text.split() for word in row[0].split()), row[0]


def test_a_table_that_fits_prints_as_it_always_did(runs: dict[str, Result]) -> None:
    """120 columns hold the served run's tables whole: one header line with every
    phase, the facts beside their names."""
    text = rendered(120, lambda console: print_summary(runs["served"], None, console))
    header = next(line for line in text.splitlines() if "app / platform / at" in line)
    assert header.split()[-8:] == list(PHASES.values())
    assert re.search(r"latency mean / p50 / p95 / p99 \(s\) +0\.\d\d / ", text)
    assert "(continued)" not in text


def test_at_80_columns_the_start_up_table_splits_and_repeats_what_a_row_is(
    runs: dict[str, Result],
) -> None:
    text = rendered(80, lambda console: print_summary(runs["default"], None, console))
    assert "(continued)" in text
    assert text.count("web / vm / 0 s") == 2
    assert "p95" in text and "init" in text


def test_at_20_columns_each_row_becomes_a_block(runs: dict[str, Result]) -> None:
    text = rendered(20, lambda console: print_summary(runs["default"], None, console))
    lines = text.splitlines()
    vm = lines.index("web / vm / 0 s")
    assert lines[vm + 1].strip() == "ready: 1/1"
    assert lines[vm + 2].strip().startswith("p50: ")


words = st.text("abcdefghij", min_size=1, max_size=8)
cells = st.lists(st.one_of(words, st.integers(0, 10**9).map(str)), min_size=1, max_size=3).map(
    " ".join
)


@st.composite
def tables(draw: st.DrawFn) -> TextTable:
    columns = draw(st.integers(1, 14))
    header = tuple(draw(st.lists(words, min_size=columns, max_size=columns)))
    rows = draw(
        st.lists(
            st.lists(cells, min_size=columns, max_size=columns).map(tuple), min_size=1, max_size=6
        )
    )
    numeric = tuple(draw(st.lists(st.booleans(), min_size=columns, max_size=columns)))
    return TextTable(draw(words), header, tuple(rows), numeric, draw(st.booleans()))


@given(table=tables(), width=st.integers(20, 160))
def test_any_table_keeps_every_cell_whole_at_any_width(table: TextTable, width: int) -> None:
    text = rendered(width, lambda console: print_table(console, table))
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    shown = Counter(text.replace(":", " ").split())
    needed = Counter(word for row in table.rows for cell in row for word in cell.split())
    assert not needed - shown
