"""The metrics a plan's service-level objectives and objective read from a run.

A metric is a key of the run's ``summary.json``, or one derived from the summary when the
summary lacks it (the summary's own value wins when it has one):

* ``drop_ratio``: ``requests_dropped / requests_total``, the share of requests that
  were dropped (null when no request arrived).

The mean wait for a worker is the summary's own ``wait_s_mean`` (with ``wait_s_p50``,
``_p95``, ``_p99``), measured request by request; it is not derived.

A metric that is null or missing in a run cannot meet an objective: a run that served no
request has no latency to compare.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

DERIVED_METRICS = {
    "drop_ratio": "requests_dropped / requests_total",
}

NOT_METRICS = frozenset({"seed", "replication"})
"""Summary keys that say which run it was, not how it went."""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def metric_value(summary: Mapping[str, Any], name: str) -> float | None:
    """The value of metric `name` in a run's summary, derived if the summary lacks it;
    None when it is null, missing, or cannot be derived."""
    if name in summary:
        return _number(summary[name])
    if name == "drop_ratio":
        dropped, total = (
            _number(summary.get("requests_dropped")),
            _number(summary.get("requests_total")),
        )
        if dropped is None or not total:
            return None
        return dropped / total
    return None


def metric_names(summary: Mapping[str, Any]) -> list[str]:
    """The metrics a plan can name for runs with this summary's keys: its keys (not the
    seed or the replication), in the summary's order, then the derived ones it lacks."""
    names = [key for key in summary if key not in NOT_METRICS]
    return names + [name for name in DERIVED_METRICS if name not in summary]
