"""The style and the one script of the report pages, inlined into every page so a page
needs nothing from outside itself (it opens from a file, offline, anywhere).

The script sorts a table by the column whose header button is pressed (again: the other
way): cells that read as numbers compare as numbers (``5.35``, ``3/3`` by its first
number, ``420 MB`` by 420), and come before words; equal cells keep their order. It
reads only the page's own cells and writes no HTML.
"""

from __future__ import annotations

STYLE = """
:root { color-scheme: light dark; --line: #8884; --muted: #777; --accent: #2f6fab; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem;
       padding: 1rem 1.5rem 3rem; }
header p, .muted { color: var(--muted); }
nav a { margin-right: 1rem; }
section { margin-top: 2rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.8rem 0 1.2rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid var(--line);
         text-align: left; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0;
            cursor: pointer; color: inherit; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
.figures { display: flex; flex-wrap: wrap; gap: 0 1.5rem; align-items: flex-start; }
figure { margin: 1rem 0 1.5rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); }
pre { background: #8881; padding: 0.8rem; overflow-x: auto; font-size: 13px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.1rem 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
"""

SORT_SCRIPT = """
(function () {
  "use strict";
  function sortKey(cell) {
    var text = cell.textContent.trim();
    var match = /^[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?/.exec(text);
    return match ? { number: parseFloat(match[0]), text: text } : { number: null, text: text };
  }
  function compare(a, b) {
    if (a.number !== null && b.number !== null) { return a.number - b.number; }
    if (a.number !== null) { return -1; }
    if (b.number !== null) { return 1; }
    return a.text.localeCompare(b.text);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (header, column) {
      var button = header.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var ascending = header.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
          return { row: row, key: sortKey(row.cells[column]), index: index };
        });
        rows.sort(function (a, b) {
          var order = compare(a.key, b.key);
          return (ascending ? order : -order) || a.index - b.index;
        });
        rows.forEach(function (entry) { body.appendChild(entry.row); });
      });
    });
  });
})();
"""
