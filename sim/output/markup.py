"""HTML fragments built safely: every string is escaped on its way into the page.

App, image, host and registry names, labels and reasons come from configs, traces and
Dockerfiles, so any of them may hold ``<``, ``&`` or quotes; nothing here writes a
string into HTML without `escape`. Data embedded for a script (`json_script`) is JSON
with ``<``, ``>``, ``&`` and the line separators U+2028/U+2029 written as ``\\u``
escapes of four hex digits, so no value can end its ``<script>`` element or open a
comment.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any

from sim.output.tables import TextTable

_JSON_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def escape(text: object) -> str:
    """`text` as HTML text or an attribute value (quotes escaped too)."""
    return html.escape(str(text), quote=True)


def json_script(element_id: str, data: Any) -> str:
    """`data` as a ``<script type="application/json">`` element a page's script reads
    with ``JSON.parse(element.textContent)``."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=False, allow_nan=False)
    return (
        f'<script type="application/json" id="{escape(element_id)}">'
        f"{text.translate(_JSON_ESCAPES)}</script>"
    )


def table_html(table: TextTable, sortable: bool = False, table_id: str = "") -> str:
    """`table` as an HTML table with its title as caption; numeric columns carry
    ``class="num"``. A sortable table's header cells are buttons a page's script sorts
    by (see `sim.output.html`)."""
    attributes = f' id="{escape(table_id)}"' if table_id else ""
    if sortable:
        attributes += ' class="sortable"'
    parts = [f"<table{attributes}>", f"<caption>{escape(table.title)}</caption>"]
    if table.show_header or sortable:
        cells = []
        for name, numeric in zip(table.header, table.numeric, strict=True):
            label = f'<button type="button">{escape(name)}</button>' if sortable else escape(name)
            kind = ' class="num"' if numeric else ""
            cells.append(f'<th scope="col"{kind}>{label}</th>')
        parts.append(f"<thead><tr>{''.join(cells)}</tr></thead>")
    parts.append("<tbody>")
    parts.extend(_row(row, table.numeric) for row in table.rows)
    parts.append("</tbody></table>")
    return "\n".join(parts)


NUMBER_CELL = '<td class="num">'


def _row(cells: Iterable[str], numeric: tuple[bool, ...]) -> str:
    shown = "".join(
        f"{NUMBER_CELL if is_number else '<td>'}{escape(cell)}</td>"
        for cell, is_number in zip(cells, numeric, strict=True)
    )
    return f"<tr>{shown}</tr>"
