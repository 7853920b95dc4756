"""The metrics a plan's service-level objectives and objective read from a run.

A metric is a key of the run's ``summary.json``, or one derived from the summary when the
summary lacks it (the summary's own value wins when it has one):

* ``drop_ratio``: ``requests_dropped / requests_total``, the share of requests that
  were dropped (null when no request arrived).
* ``wait_s_mean``: the mean time a request waited for a worker, ``latency_s_mean -
  vcpu_seconds_used / (requests_served + requests_in_flight)``. A request's latency is
  its wait plus its service, and its service is its CPU time on one worker, which is what
  ``vcpu_seconds_used`` adds up over the same requests ``latency_s_mean`` averages (those
  given a worker, finished or in flight), so the difference is the mean wait exactly,
  up to rounding (null when no request was served).

A metric that is null or missing in a run cannot meet an objective: a run that served no
request has no latency to compare.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

DERIVED_METRICS = {
    "drop_ratio": "requests_dropped / requests_total",
    "wait_s_mean": "latency_s_mean - vcpu_seconds_used / (requests_served + requests_in_flight)",
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
    if name == "wait_s_mean":
        latency = _number(summary.get("latency_s_mean"))
        busy = _number(summary.get("vcpu_seconds_used"))
        served = _number(summary.get("requests_served"))
        in_flight = _number(summary.get("requests_in_flight"))
        if latency is None or busy is None or served is None or in_flight is None:
            return None
        given_a_worker = served + in_flight
        return latency - busy / given_a_worker if given_a_worker > 0 else None
    return None


def metric_names(summary: Mapping[str, Any]) -> list[str]:
    """The metrics a plan can name for runs with this summary's keys: its keys (not the
    seed or the replication), in the summary's order, then the derived ones it lacks."""
    names = [key for key in summary if key not in NOT_METRICS]
    return names + [name for name in DERIVED_METRICS if name not in summary]
