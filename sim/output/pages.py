"""``report.html``: a page a person opens to see a run or a sweep.

A page is self-contained: its style, its figures (PNG, inline as ``data:`` addresses),
its one script (`sim.output.page_assets`) and its data are all inside it, so it opens
from a file with no network. A run's page shows where it came from (the simulator's
version, the seed, the config's digest), its tables (start-up, pulls, service, every
summary metric, each sortable), its figures and its config; a sweep's page shows its
configurations (means and confidence intervals), its runs, its figures and its
overrides. Every string is escaped (`sim.output.markup`): an app called
``<script>alert(1)</script>`` is shown as those characters. The page's data (the
summary, the tables' rows) is also embedded as JSON for programs that read the page.

The same results and config give the same page, byte for byte.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.core.files import write_atomic
from sim.output.formats import PAGE_NAME, REPLAY_NAME
from sim.output.markup import escape, json_script, table_html
from sim.output.page_assets import SORT_SCRIPT, STYLE
from sim.output.plots import (
    HEADLINE_METRICS,
    figure_bytes,
    registry_egress,
    sweep_figure,
    sweep_metrics,
    timeline,
    topology,
)
from sim.output.results import Result, summary_json
from sim.output.summary import key_doc
from sim.output.tables import TextTable, run_tables

PAGE_DPI = 96


@dataclass(frozen=True)
class PageFigure:
    """A figure of a page: what it shows, and its PNG bytes."""

    caption: str
    png: bytes


def value_text(value: Any) -> str:
    """A metric as a table cell: a float to 6 significant digits, none as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def summary_table(summary: Mapping[str, Any]) -> TextTable:
    """Every metric of a summary with its value, unit and meaning."""
    rows = []
    for key, value in summary.items():
        doc = key_doc(key)
        rows.append((key, value_text(value), doc.unit, doc.meaning))
    return TextTable(
        "Every metric (summary.json)",
        ("metric", "value", "unit", "meaning"),
        tuple(rows),
        (False, True, False, False),
    )


def run_figures_for_page(result: Result) -> list[PageFigure]:
    """A run's figures as a page shows them (the topology only when the run has its
    network's links, as a live run does and a folder read back does not)."""
    drawn = [
        ("Replica start-up timeline: each replica's phases, then in service", timeline(result)),
        ("The network, each link as wide as the bytes it carried", topology(result)),
        ("Bytes per second each registry sent, per sample period", registry_egress(result)),
    ]
    return [
        PageFigure(caption, figure_bytes(figure, "png", PAGE_DPI))
        for caption, figure in drawn
        if figure is not None
    ]


def _facts(facts: Sequence[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in facts)
    return f'<dl class="facts">{items}</dl>'


def _figures(figures: Sequence[PageFigure]) -> str:
    if not figures:
        return '<p class="muted">No figures.</p>'
    parts = []
    for figure in figures:
        data = base64.b64encode(figure.png).decode("ascii")
        parts.append(
            f'<figure><img alt="{escape(figure.caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(figure.caption)}</figcaption></figure>"
        )
    return f'<div class="figures">{"".join(parts)}</div>'


def _tables(tables: Sequence[TextTable], prefix: str) -> str:
    return "\n".join(
        f'<div class="scroll">{table_html(table, sortable=True, table_id=f"{prefix}-{i}")}</div>'
        for i, table in enumerate(tables)
    )


def page(
    title: str,
    subtitle: str,
    sections: Sequence[tuple[str, str, str]],
    data: Mapping[str, Any],
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """A whole page: its head, a header with the sections' links (and `links` to other
    pages), each section (id, heading, HTML already escaped) and its data as JSON."""
    nav = [f'<a href="#{escape(id_)}">{escape(heading)}</a>' for id_, heading, _ in sections]
    nav += [f'<a href="{escape(href)}">{escape(text)}</a>' for text, href in links]
    body = "\n".join(
        f'<section id="{escape(id_)}">\n<h2>{escape(heading)}</h2>\n{html}\n</section>'
        for id_, heading, html in sections
    )
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{escape(title)}</h1>\n<p>{escape(subtitle)}</p>\n"
        f"<nav>{' '.join(nav)}</nav>\n</header>\n{body}\n"
        f"{json_script('sim-data', data)}\n<script>{SORT_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _plain_summary(summary: Mapping[str, Any]) -> Any:
    import json

    return json.loads(summary_json(summary))


def run_page(
    result: Result,
    name: str,
    facts: Sequence[tuple[str, str]],
    config_text: str,
    figures: Sequence[PageFigure],
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """A run's page (see the module docstring).

    Args:
        result: what the run produced.
        name: the run's name (its folder).
        facts: where the run came from, as (name, value): version, seed, digest.
        config_text: the run's resolved config, as YAML.
        figures: the run's figures (`run_figures_for_page`).
        links: other pages, as (text, address).
    """
    tables = run_tables(result.summary, result.replicas, result.serves_traffic)
    startup, others = tables[0], tables[1:]
    sections = [
        ("run", "Where it came from", _facts(facts)),
        ("startup", "Start-up", _tables([startup], "startup")),
        ("service", "Pulls and service", _tables(others, "service")),
        ("figures", "Figures", _figures(figures)),
        ("summary", "Every metric", _tables([summary_table(result.summary)], "summary")),
        ("config", "Config", f"<pre>{escape(config_text)}</pre>"),
    ]
    data = {
        "kind": "run",
        "name": name,
        "facts": dict(facts),
        "summary": _plain_summary(result.summary),
        "tables": {table.title: [list(table.header), *map(list, table.rows)] for table in tables},
    }
    subtitle = ", ".join(f"{key} {value}" for key, value in facts[:3])
    return page(f"sim run {name}", subtitle, sections, data, links)


def write_run_page(
    result: Result, folder: Path, facts: Sequence[tuple[str, str]], config_text: str
) -> Path:
    """Write `folder`'s ``report.html`` (atomically), linking the run's replay page
    when the folder has one; returns its path.

    Raises:
        OSError: the page cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    links = [("replay", REPLAY_NAME)] if (folder / REPLAY_NAME).exists() else []
    text = run_page(result, folder.name, facts, config_text, run_figures_for_page(result), links)
    path = folder / PAGE_NAME
    write_atomic(path, text)
    return path


def _mean_text(row: Mapping[str, Any], metric: str) -> str:
    mean, half = row.get(f"{metric}_mean"), row.get(f"{metric}_ci95")
    if mean is None:
        return "-"
    return f"{mean:.4g} ± {half:.2g}" if half is not None else f"{mean:.4g}"


def varying(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    """The keys whose value is not the same in every row."""
    return [key for key in keys if len({str(row.get(key)) for row in rows}) > 1]


def sweep_tables(
    report: Sequence[Mapping[str, Any]],
    runs: Sequence[Mapping[str, Any]],
    settings: Sequence[str],
) -> list[TextTable]:
    """A sweep's two tables: each configuration point (the settings that differ between
    points, runs, and each headline metric's mean ± 95 % half width), and each run
    (number, status, the settings that differ between runs, headline metrics, error)."""
    metrics = sweep_metrics(report) or [m for m in HEADLINE_METRICS if runs and m in runs[0]]
    settings = varying(runs, settings)
    point_keys = varying(report, [key for key in settings if report and key in report[0]])
    points = TextTable(
        "Configurations: mean ± half width of the 95 % confidence interval",
        (*point_keys, "runs", *metrics),
        tuple(
            (
                *(value_text(row[key]) for key in point_keys),
                str(row["runs"]),
                *(_mean_text(row, metric) for metric in metrics),
            )
            for row in report
        ),
        (*(False,) * len(point_keys), True, *(True,) * len(metrics)),
    )
    each = TextTable(
        "Runs",
        ("run", "status", *settings, *metrics, "error"),
        tuple(
            (
                str(row["run"]),
                str(row["status"]),
                *(value_text(row.get(key)) for key in settings),
                *(value_text(row.get(metric)) for metric in metrics),
                str(row.get("error") or ""),
            )
            for row in runs
        ),
        (True, False, *(False,) * len(settings), *(True,) * len(metrics), False),
    )
    return [points, each]


def sweep_page(
    name: str,
    facts: Sequence[tuple[str, str]],
    report: Sequence[Mapping[str, Any]],
    runs: Sequence[Mapping[str, Any]],
    settings: Sequence[str],
    config_text: str,
    run_pages: Sequence[tuple[str, str]] = (),
) -> str:
    """A sweep's page (see the module docstring).

    Args:
        name: the sweep's name (its folder).
        facts: where it came from: versions, runs complete, failed and missing.
        report: one row per configuration point (`sim.batch.sweep.report_rows`).
        runs: one row per run (`sim.batch.sweep.sweep_rows`).
        settings: the columns of `runs` that are overrides.
        config_text: the config the sweep varies (its first run's, as YAML).
        run_pages: each run's page, as (text, address).
    """
    figures = [
        PageFigure(
            HEADLINE_METRICS[metric], figure_bytes(sweep_figure(report, metric), "png", PAGE_DPI)
        )
        for metric in sweep_metrics(report)
    ]
    tables = sweep_tables(report, runs, settings)
    pages = "".join(
        f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for text, href in run_pages
    )
    sections = [
        ("sweep", "Where it came from", _facts(facts)),
        ("points", "Configurations", _tables(tables[:1], "points")),
        ("figures", "Figures", _figures(figures)),
        ("runs", "Runs", _tables(tables[1:], "runs") + (f"<ul>{pages}</ul>" if pages else "")),
        ("config", "Config of the first run", f"<pre>{escape(config_text)}</pre>"),
    ]
    data = {
        "kind": "sweep",
        "name": name,
        "facts": dict(facts),
        "tables": {table.title: [list(table.header), *map(list, table.rows)] for table in tables},
    }
    subtitle = ", ".join(f"{key} {value}" for key, value in facts[:3])
    return page(f"sim sweep {name}", subtitle, sections, data)
