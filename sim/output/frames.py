"""A run's results as pandas DataFrames: `ResultFrames`, from `Result.frames()`.

Each table is tidy (one row per observation, one column per variable) and built when
first asked for:

* ``summary``: one row per metric, indexed by its key, with its ``value``, ``unit`` and
  ``meaning``;
* ``timeseries``: one row per sample; ``timeseries.attrs`` holds each column's unit,
  kind (gauge, counter or period: `sim.output.columns`) and meaning, and
  ``columns`` is the same as a table;
* ``replicas``: one row per replica with its phases and its ``startup_s``;
* ``pulls``: one row per image pull;
* ``events``: one row per event, each detail in a column of its own (empty where an
  event has no such detail).

pandas is an optional dependency (``pip install 'sim[analysis]'``), imported only here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from sim.core.records import Event, PullRecord, ReplicaRecord
from sim.output.columns import column_doc
from sim.output.summary import key_doc

if TYPE_CHECKING:
    import pandas as pd


class RunRecords(Protocol):
    """What the tables are built from: a `sim.output.results.Result`."""

    @property
    def summary(self) -> Mapping[str, Any]: ...
    @property
    def events(self) -> Sequence[Event]: ...
    @property
    def timeseries(self) -> Sequence[Mapping[str, float | int]]: ...
    @property
    def replicas(self) -> Sequence[ReplicaRecord]: ...
    @property
    def pulls(self) -> Sequence[PullRecord]: ...


ANALYSIS_EXTRA = "pip install 'sim[analysis]'"


def pandas() -> Any:
    """The pandas module, or an ImportError that says how to install it."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(f"DataFrames need pandas: {ANALYSIS_EXTRA}") from None
    return pd


def summary_frame(summary: Mapping[str, Any]) -> pd.DataFrame:
    """One row per metric, in the order of ``summary.json``: ``value``, ``unit`` and
    ``meaning``, indexed by ``metric``."""
    pd = pandas()
    docs = [key_doc(key) for key in summary]
    index = pd.Index(list(summary), name="metric")
    return pd.DataFrame(
        {
            "value": pd.Series(list(summary.values()), index=index, dtype=object),
            "unit": [doc.unit for doc in docs],
            "meaning": [doc.meaning for doc in docs],
        },
        index=index,
    )


def columns_frame(names: Iterable[str]) -> pd.DataFrame:
    """The unit, kind and meaning of each time-series column, indexed by ``column``."""
    names = list(names)
    docs = [column_doc(name) for name in names]
    return pandas().DataFrame(
        {
            "unit": [doc.unit for doc in docs],
            "kind": [doc.kind for doc in docs],
            "meaning": [doc.meaning for doc in docs],
        },
        index=pandas().Index(names, name="column"),
    )


def timeseries_frame(rows: Sequence[Mapping[str, float | int]]) -> pd.DataFrame:
    """One row per sample; ``attrs`` maps ``units``, ``kinds`` and ``meanings`` to a
    dict by column."""
    names = list(rows[0]) if rows else ["time_s"]
    frame = pandas().DataFrame([dict(row) for row in rows], columns=names)
    docs = {name: column_doc(name) for name in names}
    frame.attrs = {
        "units": {name: doc.unit for name, doc in docs.items()},
        "kinds": {name: doc.kind for name, doc in docs.items()},
        "meanings": {name: doc.meaning for name, doc in docs.items()},
    }
    return frame


def replicas_frame(replicas: Sequence[ReplicaRecord]) -> pd.DataFrame:
    """One row per replica: its record's fields, with ``startup_s`` (request to ready;
    empty when it never was) after ``ready_s``."""
    names = [field.name for field in fields(ReplicaRecord)]
    at = names.index("ready_s") + 1
    names[at:at] = ["startup_s"]
    records = [{**asdict(record), "startup_s": record.startup_s} for record in replicas]
    return pandas().DataFrame(records, columns=names)


def pulls_frame(pulls: Sequence[PullRecord]) -> pd.DataFrame:
    """One row per image pull that ended, with its record's fields."""
    names = [field.name for field in fields(PullRecord)]
    return pandas().DataFrame([asdict(pull) for pull in pulls], columns=names)


def events_frame(events: Iterable[Event]) -> pd.DataFrame:
    """One row per event: ``time_s``, ``source``, ``kind``, then one column per detail
    name in the order they first appear."""
    rows = [
        {
            "time_s": event.time_s,
            "source": event.source,
            "kind": str(event.kind),
            **dict(event.details),
        }
        for event in events
    ]
    names: dict[str, None] = dict.fromkeys(["time_s", "source", "kind"])
    for row in rows:
        names.update(dict.fromkeys(row))
    return pandas().DataFrame(rows, columns=list(names))


class ResultFrames:
    """A run's tables as DataFrames, each built when first read (see the module)."""

    def __init__(self, result: RunRecords) -> None:
        pandas()
        self._result = result

    @cached_property
    def summary(self) -> pd.DataFrame:
        return summary_frame(self._result.summary)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        return timeseries_frame(self._result.timeseries)

    @cached_property
    def columns(self) -> pd.DataFrame:
        """The time series' columns: unit, kind and meaning."""
        return columns_frame(self.timeseries.columns)

    @cached_property
    def replicas(self) -> pd.DataFrame:
        return replicas_frame(self._result.replicas)

    @cached_property
    def pulls(self) -> pd.DataFrame:
        return pulls_frame(self._result.pulls)

    @cached_property
    def events(self) -> pd.DataFrame:
        return events_frame(self._result.events)

    def __repr__(self) -> str:
        return "ResultFrames(summary, timeseries, columns, replicas, pulls, events)"
