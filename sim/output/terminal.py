"""Tables that fit the terminal they are printed on.

A table prints whole when it fits the console's width. When it does not, it is never
cut (no ``…`` inside a number, no row left out); it degrades in two steps:

1. **split**: a table with a header is printed in parts, each repeating the first
   column (what a row is) with as many of the other columns as fit;
2. **records**: when not even the first column and one other fit (or a table has no
   header), each row becomes a short block: its first cell on a line of its own, then
   one indented line per other non-empty cell (``p95: 5.51``), wrapped at spaces.

Words are broken only when a single word is wider than the whole console.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from sim.output.tables import TextTable

INDENT = 2
"""Spaces before a record's cells (and their wrapped lines)."""
UNBOUNDED = 100_000
"""A width no table reaches: the room a table is measured in."""


def rich_table(table: TextTable, columns: list[int] | None = None) -> Table:
    """`table` as a rich table of the given columns (all by default), nothing wrapped."""
    chosen = list(range(len(table.header))) if columns is None else columns
    shown = Table(
        title=table.title,
        show_header=table.show_header,
        box=box.SIMPLE_HEAD if table.show_header else box.SIMPLE,
    )
    for index in chosen:
        shown.add_column(
            table.header[index],
            justify="right" if table.numeric[index] else "left",
            no_wrap=True,
        )
    for row in table.rows:
        shown.add_row(*(row[index] for index in chosen))
    return shown


def natural_width(console: Console, table: Table) -> int:
    """The columns `table` takes when nothing in it is wrapped or cut."""
    unbounded = console.options.update_width(UNBOUNDED)
    return Measurement.get(console, unbounded, table).maximum


def _parts(console: Console, table: TextTable) -> list[list[int]] | None:
    """The header's columns in groups that each fit beside the first column, or None
    when the first column and any one other do not fit."""
    parts: list[list[int]] = []
    current = [0]
    for index in range(1, len(table.header)):
        trial = [*current, index]
        if natural_width(console, rich_table(table, trial)) <= console.width:
            current = trial
            continue
        if len(current) == 1:
            return None
        parts.append(current)
        current = [0, index]
        if natural_width(console, rich_table(table, current)) > console.width:
            return None
    parts.append(current)
    return parts


def print_records(console: Console, table: TextTable) -> None:
    """Each row as a block: its first cell, then ``name: value`` per other non-empty
    cell (just the value when the table has no header), indented."""
    console.print(Text(table.title, style="italic"), overflow="fold")
    for row in table.rows:
        console.print(Text(row[0], overflow="fold"))
        for name, cell in zip(table.header[1:], row[1:], strict=True):
            if not cell:
                continue
            shown = f"{name}: {cell}" if table.show_header else cell
            console.print(Padding(Text(shown, overflow="fold"), (0, 0, 0, INDENT), expand=False))
    console.print()


def print_table(console: Console, table: TextTable) -> None:
    """Print `table` whole if it fits `console`, else split, else as records."""
    whole = rich_table(table)
    if natural_width(console, whole) <= console.width:
        console.print(whole)
        return
    parts = _parts(console, table) if table.show_header and len(table.header) > 2 else None
    if parts is None:
        print_records(console, table)
        return
    for number, columns in enumerate(parts):
        shown = rich_table(table, columns)
        if number > 0:
            shown.title = f"{table.title} (continued)"
        console.print(shown)
