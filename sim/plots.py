"""Figures from results (matplotlib, no display needed); nothing here simulates.

`sweep_figures` draws one bar chart per headline metric of a sweep report: the mean of
each configuration point with its 95 % confidence interval as an error bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

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


def _labels(report: Sequence[dict[str, Any]]) -> tuple[list[str], str]:
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


def sweep_figures(report: Sequence[dict[str, Any]], folder: Path) -> list[Path]:
    """One PNG per headline metric present in the report; returns their paths."""
    if not report:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    labels, what = _labels(report)
    written = []
    for metric, title in HEADLINE_METRICS.items():
        means = [row.get(f"{metric}_mean") for row in report]
        if all(mean is None for mean in means):
            continue
        errors = [row.get(f"{metric}_ci95") or 0.0 for row in report]
        figure, axes = plt.subplots(figsize=(max(5.0, 0.6 * len(labels) + 2), 3.8))
        axes.bar(
            range(len(labels)), [m or 0.0 for m in means], yerr=errors, capsize=4, color="#4878a8"
        )
        axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        axes.set_xlabel(what)
        axes.set_ylabel(title)
        runs = sorted({row["runs"] for row in report})
        axes.set_title(
            f"{title}\nmean and 95 % CI, {'/'.join(map(str, runs))} runs each", fontsize=10
        )
        figure.tight_layout()
        path = folder / f"{metric}.png"
        figure.savefig(path, dpi=120)
        plt.close(figure)
        written.append(path)
    return written
