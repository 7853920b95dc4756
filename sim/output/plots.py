"""Figures from results; nothing here simulates.

Each plot function follows matplotlib's object-oriented style: it draws into the `ax`
(or a new subplot of the `fig`) it is given, or into a figure of its own, and returns
the `Figure`. It saves only when given a path, in the format the path's suffix names
(``.png``, ``.svg``, ``.pdf``). Nothing here chooses a backend or touches pyplot's
state, so a notebook's inline figures and ``plt.show()`` behave as the user set them,
and a program without a display draws as well: a figure made here belongs to no
window and is freed when dropped.

`sweep_figures` draws one bar chart per headline metric of a sweep report: the mean of
each configuration point with its 95 % confidence interval as an error bar.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.core.records import REGISTRY_BYTES_COLUMN, EventKind, ReplicaState
from sim.output.formats import DPI

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.output.results import Result


UNDATED: dict[str, dict[str, Any]] = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}
"""Metadata that leaves out the date matplotlib would write into a file of that format."""


def _canvas(
    ax: Axes | None,
    fig: Figure | None,
    figsize: tuple[float, float],
    layout: Literal["constrained", "tight"] | None = None,
) -> tuple[Figure, Axes, bool]:
    """The axes to draw into: `ax`, a new subplot of `fig`, or a new figure's; and
    whether the figure is this module's own (then it also lays the figure out)."""
    if ax is not None:
        parent = ax.figure
        return (parent if isinstance(parent, Figure) else parent.figure), ax, False
    if fig is not None:
        return fig, fig.add_subplot(), False
    own = Figure(figsize=figsize, layout=layout)
    return own, own.add_subplot(), True


def figure_bytes(figure: Figure, format: str = "png", dpi: float = DPI) -> bytes:
    """`figure` as the bytes of a file of that format (see `save_figure`)."""
    buffer = io.BytesIO()
    with rc_context({"svg.hashsalt": "sim"}):
        figure.savefig(buffer, dpi=dpi, format=format, metadata=UNDATED.get(format))
    return buffer.getvalue()


def save_figure(figure: Figure, path: Path, dpi: float = DPI) -> Path:
    """Write `figure` to `path` (the folder made if needed) in the format its suffix
    names, through a temporary file renamed into place; returns `path`. The bytes
    depend only on the figure: no date is written, and an SVG's element ids are drawn
    from a fixed salt.

    Raises:
        OSError: the file cannot be written (`path` is unchanged).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    format = path.suffix.lstrip(".").lower() or "png"
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{path.suffix}")
    try:
        temporary.write_bytes(figure_bytes(figure, format, dpi))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


HEADLINE_METRICS = {
    "startup_s_p95": "replica start-up p95 (s)",
    "startup_s_mean": "replica start-up mean (s)",
    "latency_s_p95": "request latency p95 (s)",
    "requests_dropped": "requests dropped",
    "cost_usd": "cost (USD)",
    "bytes_from_registry": "bytes from registries",
    "replicas_max": "replicas at most",
    "hosts_max": "hosts at most",
}


def _labels(report: Sequence[Mapping[str, Any]]) -> tuple[list[str], str]:
    """Bar labels from the settings that differ between points, and what they are."""
    keys = [
        key
        for key in report[0]
        if key != "runs"
        and not key.endswith(("_mean", "_ci95"))
        and len({str(row[key]) for row in report}) > 1
    ]
    labels = [", ".join(f"{row[key]}" for key in keys) or "all" for row in report]
    return labels, ", ".join(keys) or "configuration"


def sweep_figure(
    report: Sequence[Mapping[str, Any]],
    metric: str,
    path: Path | None = None,
    *,
    ax: Axes | None = None,
    fig: Figure | None = None,
    dpi: float = DPI,
) -> Figure:
    """One headline metric of a sweep report (`sim.batch.sweep.report_rows`): a bar per
    configuration point at its mean, its 95 % confidence interval as an error bar."""
    labels, what = _labels(report)
    title = HEADLINE_METRICS.get(metric, metric)
    means = [row.get(f"{metric}_mean") for row in report]
    errors = [row.get(f"{metric}_ci95") or 0.0 for row in report]
    figure, axes, own = _canvas(ax, fig, (max(5.0, 0.6 * len(labels) + 2), 3.8))
    axes.bar(range(len(labels)), [m or 0.0 for m in means], yerr=errors, capsize=4, color="#4878a8")
    axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    axes.set_xlabel(what)
    axes.set_ylabel(title)
    runs = sorted({row["runs"] for row in report})
    axes.set_title(f"{title}\nmean and 95 % CI, {'/'.join(map(str, runs))} runs each", fontsize=10)
    if own:
        figure.tight_layout()
    if path is not None:
        save_figure(figure, path, dpi)
    return figure


def sweep_metrics(report: Sequence[Mapping[str, Any]]) -> list[str]:
    """The headline metrics a sweep report has a value of, in `HEADLINE_METRICS` order."""
    return [
        metric
        for metric in HEADLINE_METRICS
        if report and any(row.get(f"{metric}_mean") is not None for row in report)
    ]


def sweep_figures(
    report: Sequence[Mapping[str, Any]], folder: Path, format: str = "png", dpi: float = DPI
) -> list[Path]:
    """One figure per headline metric present in the report, written into `folder` as
    ``<metric>.<format>``; returns their paths."""
    return [
        save_figure(sweep_figure(report, metric), folder / f"{metric}.{format}", dpi)
        for metric in sweep_metrics(report)
    ]


PHASE_COLOURS = {
    "wait_s": ("waiting", "#c7c7c7"),
    "provision_s": ("provision", "#8c564b"),
    "boot_s": ("boot", "#e377c2"),
    "pull_download_s": ("download", "#1f77b4"),
    "pull_extract_s": ("extract", "#17becf"),
    "create_s": ("create", "#bcbd22"),
    "start_s": ("start", "#ff7f0e"),
    "init_s": ("app init", "#9467bd"),
}
SERVE_COLOUR = "#2ca02c"


def serving_spans(result: Result) -> dict[str, tuple[float, float]]:
    """Each ready replica's (ready, until): until its first stop or removal, else the end."""
    end_s = float(result.summary["sim_time_s"])
    ended = {
        event.source: event.time_s
        for event in reversed(result.events)
        if event.kind == EventKind.REPLICA_STATE
        and event.detail_or("state")
        in (
            ReplicaState.STOPPED,
            ReplicaState.REMOVED,
        )
    }
    return {
        replica.replica: (replica.ready_s, ended.get(replica.replica, end_s))
        for replica in result.replicas
        if replica.ready_s is not None
    }


def timeline(
    result: Result,
    path: Path | None = None,
    *,
    ax: Axes | None = None,
    fig: Figure | None = None,
    max_rows: int = 60,
    dpi: float = DPI,
) -> Figure:
    """A Gantt chart of replica start-ups: one row per replica (grouped by host), its
    phases in order, then ready until it was stopped or removed, or the run ended."""
    replicas = sorted(
        (r for r in result.replicas if r.host),
        key=lambda r: (r.host, r.requested_s, r.replica),
    )[:max_rows]
    spans = serving_spans(result)
    figure, axes, own = _canvas(
        ax, fig, (9.0, 1.6 + 0.28 * max(len(replicas), 1)), layout="constrained"
    )
    for row, replica in enumerate(replicas):
        at = replica.requested_s
        for phase, (_, colour) in PHASE_COLOURS.items():
            seconds = getattr(replica, phase)
            if seconds > 0:
                axes.barh(row, seconds, left=at, color=colour, height=0.7)
                at += seconds
        if replica.replica in spans:
            ready_s, until_s = spans[replica.replica]
            axes.barh(
                row,
                until_s - ready_s,
                left=ready_s,
                color=SERVE_COLOUR,
                height=0.7,
                alpha=0.35,
            )
    axes.set_yticks(range(len(replicas)), [f"{r.host} / {r.replica}" for r in replicas], fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("simulated time (s)")
    axes.set_title(f"Replica start-up timeline (seed {result.summary['seed']})")
    handles = [Rectangle((0, 0), 1, 1, color=colour) for _, colour in PHASE_COLOURS.values()] + [
        Rectangle((0, 0), 1, 1, color=SERVE_COLOUR, alpha=0.35)
    ]
    labels = [label for label, _ in PHASE_COLOURS.values()] + ["ready / serving"]
    if own:
        figure.legend(handles, labels, fontsize=7, ncols=5, loc="outside lower center")
    else:
        axes.legend(handles, labels, fontsize=7, ncols=3, loc="best")
    if path is not None:
        save_figure(figure, path, dpi)
    return figure


ROLE_COLOURS = {"registry": "#d62728", "switch": "#7f7f7f", "host": "#1f77b4"}


def topology(
    result: Result,
    path: Path | None = None,
    *,
    ax: Axes | None = None,
    fig: Figure | None = None,
    max_nodes: int = 80,
    dpi: float = DPI,
) -> Figure | None:
    """The network drawn with each link's width by the bytes it carried (both ways);
    None when the run recorded no links or the network is too large to draw legibly."""
    import networkx as nx

    graph = nx.Graph()
    roles: dict[str, str] = {}
    for link in result.links:
        u, v, role_u, role_v = link.u, link.v, link.role_u, link.role_v
        forward, backward = link.bytes_u_to_v, link.bytes_v_to_u
        graph.add_edge(u, v, carried=forward + backward)
        roles[u], roles[v] = role_u, role_v
    if not graph or graph.number_of_nodes() > max_nodes:
        return None
    carried = [data["carried"] for _, _, data in graph.edges(data=True)]
    heaviest = max(carried) or 1.0
    positions = nx.spring_layout(graph, seed=1)
    figure, axes, own = _canvas(ax, fig, (7.0, 5.5))
    nx.draw_networkx_edges(
        graph,
        positions,
        ax=axes,
        width=[0.5 + 6.0 * c / heaviest for c in carried],
        edge_color="#999999",
    )
    for role, colour in ROLE_COLOURS.items():
        nodes = [node for node in graph if roles.get(node) == role]
        nx.draw_networkx_nodes(
            graph, positions, nodelist=nodes, node_color=colour, node_size=260, ax=axes, label=role
        )
    nx.draw_networkx_labels(graph, positions, font_size=7, ax=axes)
    axes.set_title(f"Topology: link width by bytes carried (most: {heaviest / 1e6:.0f} MB)")
    axes.legend(fontsize=8, loc="lower right")
    axes.set_axis_off()
    if own:
        figure.tight_layout()
    if path is not None:
        save_figure(figure, path, dpi)
    return figure


@dataclass(frozen=True)
class EgressSeries:
    """One registry's sending rate as a step function: `rates_mb_s[i]` is its mean rate
    over the sample period from `edges_s[i]` to `edges_s[i + 1]` (one more edge than
    rates)."""

    registry: str
    edges_s: tuple[float, ...]
    rates_mb_s: tuple[float, ...]


def egress_series(result: Result) -> list[EgressSeries]:
    """Each registry's bytes sent per second in every sample period, from the time
    series' cumulative ``registry_bytes_served:<name>`` columns (a blob counts when it has
    arrived, so a pull inside the first period shows in that period, from t = 0)."""
    rows = list(result.timeseries)
    if len(rows) < 2:
        return []
    times = [float(row["time_s"]) for row in rows]
    names = [
        key[len(REGISTRY_BYTES_COLUMN) :]
        for key in rows[0]
        if key.startswith(REGISTRY_BYTES_COLUMN)
    ]
    series = []
    for name in names:
        sent = [float(row[REGISTRY_BYTES_COLUMN + name]) for row in rows]
        rates = tuple(
            (sent[i] - sent[i - 1]) / (times[i] - times[i - 1]) / 1e6
            if times[i] > times[i - 1]
            else 0.0
            for i in range(1, len(rows))
        )
        series.append(EgressSeries(name, tuple(times), rates))
    return series


def registry_egress(
    result: Result,
    path: Path | None = None,
    *,
    ax: Axes | None = None,
    fig: Figure | None = None,
    dpi: float = DPI,
) -> Figure:
    """Bytes per second each registry sent, per sample period, over the whole run: a
    step per period, drawn over the period it measures."""
    figure, axes, own = _canvas(ax, fig, (7.0, 3.2))
    for index, series in enumerate(egress_series(result)):
        axes.stairs(
            series.rates_mb_s, series.edges_s, color=f"C{index}", lw=1.4, label=series.registry
        )
    axes.set_xlabel("simulated time (s)")
    axes.set_ylabel("registry egress (MB/s)")
    axes.set_xlim(0.0, float(result.summary["sim_time_s"]))
    axes.set_ylim(bottom=0.0)
    axes.set_title("Registries: bytes sent per second, by sample period")
    axes.legend(fontsize=8, loc="upper right")
    axes.grid(alpha=0.3)
    if own:
        figure.tight_layout()
    if path is not None:
        save_figure(figure, path, dpi)
    return figure


RUN_FIGURES = ("timeline", "topology", "registry_egress")
"""A run's figures, by the name of their file (without its suffix)."""


def run_figures(result: Result, folder: Path, format: str = "png", dpi: float = DPI) -> list[Path]:
    """Draw a run's figures into `folder` (its replicas' timeline, its topology when it
    can be drawn, its registries' egress) as ``<name>.<format>``; returns their paths.

    Raises:
        OSError: a figure cannot be written.
    """
    drawn = {
        "timeline": timeline(result),
        "topology": topology(result),
        "registry_egress": registry_egress(result),
    }
    return [
        save_figure(figure, folder / f"{name}.{format}", dpi)
        for name, figure in drawn.items()
        if figure is not None
    ]
