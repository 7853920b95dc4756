"""``plan.png``: what each point run cost against each objective's metric.

One panel per objective's metric: a point that met every objective is a filled dot, one
that missed a cross, the answer a star; a dashed line marks the objective's bound and a
step line the frontier (the cheapest point for each level of the metric). matplotlib is
imported only when a figure is drawn, so planning without one never loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.batch.plan.spec import PlanSpec
from sim.batch.plan.table import PointRecord, frontier


def draw_plan(
    spec: PlanSpec, points: Sequence[PointRecord], best: PointRecord | None, path: Path
) -> None:
    """Draw the plan's figure into `path` (written to a temporary name, then renamed).

    Raises:
        OSError: the file cannot be written.
    """
    from matplotlib.figure import Figure

    from sim.output.plots import save_figure

    metrics: dict[str, int] = {}
    for index, slo in enumerate(spec.slos):
        metrics.setdefault(slo.metric, index)
    figure = Figure(figsize=(5.2 * len(metrics), 4.2))
    panels = figure.subplots(1, len(metrics), squeeze=False)
    for axes, (metric, index) in zip(panels[0], metrics.items(), strict=True):
        drawn = [p for p in points if p.objective is not None and p.slo_values[index] is not None]
        for meets, marker, colour, label in (
            (True, "o", "#2f7d4f", "meets every objective"),
            (False, "x", "#a33b3b", "misses one"),
        ):
            chosen = [p for p in drawn if p.meets is meets]
            axes.scatter(
                [p.slo_values[index] for p in chosen],
                [p.objective for p in chosen],
                marker=marker,
                color=colour,
                label=label,
                zorder=3,
            )
        at_most = spec.slos[index].comparison == "<="
        kept = frontier(drawn, index, at_most)
        if len(kept) > 1:
            axes.step(
                [p.slo_values[index] for p in kept],
                [p.objective for p in kept],
                where="post",
                color="#888888",
                linewidth=1,
                label="frontier",
                zorder=2,
            )
        for slo in spec.slos:
            if slo.metric == metric:
                axes.axvline(slo.bound, color="#555555", linestyle="--", linewidth=1)
        if best is not None and best.slo_values[index] is not None:
            axes.scatter(
                [best.slo_values[index]],
                [best.objective],
                marker="*",
                s=260,
                color="#e0a400",
                edgecolor="black",
                label="answer",
                zorder=4,
            )
        axes.set_xlabel(metric)
        axes.set_ylabel(spec.minimize)
        axes.set_title(" and ".join(s.text for s in spec.slos if s.metric == metric))
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path, dpi=110)
