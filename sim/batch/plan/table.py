"""A plan's record of its runs (``plan.csv``), and the answer read back from it.

``plan.csv`` has one row per run, in the order the runs were made: each varied key's
value (as override text), ``replication``, ``fidelity`` (``requests``: every request
simulated; ``fluid``: a screening run in the fluid mode, `sim.batch.plan.screen`), each
metric the runs are judged on (every objective's metric, then the minimized one when it
is measured; blank when null), and
``meets`` (``true`` when this run met every objective and measured the minimized
metric). Numbers keep every digit
(Python's ``repr``), so the answer read back from the file is the one the search found.

A point's runs are summed up in a `PointRecord`: it meets the objectives only if every
run does; its objective is the varied key's value, or the mean over its runs; each
objective's metric is taken at its worst run (the highest for ``<=``, the lowest for
``>=``), the value that decided.

Printed numbers use `short`: four significant digits, written as Python writes that
float (the shortest text that reads back as it), without a trailing ``.0``: 0.352141 is
``0.3521``, 2.0 is ``2``, 123456.0 is ``123500``, 0.0000123 is ``1.23e-05``. The same
value prints the same on every machine.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.batch.plan.metrics import metric_value
from sim.batch.plan.search import Evaluation, Point, Search, Space
from sim.batch.plan.spec import PlanSpec
from sim.output.results import rows_csv

PLAN_FILE = "plan.csv"
FIGURE_FILE = "plan.png"
REQUESTS = "requests"
FLUID = "fluid"
FIDELITIES = (REQUESTS, FLUID)


@dataclass(frozen=True)
class RunRecord:
    """One run of a point: its metrics (in the order of `PlanSpec.metrics`) and whether
    it met every objective."""

    point: Point
    replication: int
    metrics: tuple[float | None, ...]
    meets: bool
    fidelity: str = REQUESTS


@dataclass(frozen=True)
class PointRecord:
    """A point over its runs (see the module docstring)."""

    point: Point
    runs: int
    meets: bool
    objective: float | None
    slo_values: tuple[float | None, ...]
    """Each objective's metric at its worst run, in the order of the objectives."""


def space_of(spec: PlanSpec) -> Space:
    """The grid a plan searches."""
    knob = spec.objective_knob
    numbers = spec.knobs[knob].numbers if knob is not None else None
    return Space(
        tuple(len(k.values) for k in spec.knobs),
        tuple(k.direction for k in spec.knobs),
        knob,
        numbers or (),
    )


def run_record(
    spec: PlanSpec,
    point: Point,
    replication: int,
    summary: Mapping[str, Any] | None,
    fidelity: str = REQUESTS,
) -> RunRecord:
    """What a run says about its point; a run without a summary (failed) meets nothing,
    and nor does one whose minimized metric is null (it cannot be ranked: with
    ``meets`` true it would be a point that meets yet can never be the answer)."""
    names = spec.metrics()
    values = tuple(metric_value(summary, name) if summary else None for name in names)
    by_name = dict(zip(names, values, strict=True))
    meets = summary is not None and all(slo.met_by(by_name[slo.metric]) for slo in spec.slos)
    if spec.objective_knob is None and by_name.get(spec.minimize) is None:
        meets = False
    return RunRecord(point, replication, values, meets, fidelity)


def point_records(spec: PlanSpec, runs: Sequence[RunRecord]) -> list[PointRecord]:
    """The points of `runs`, in the order of their first run."""
    grouped: dict[Point, list[RunRecord]] = {}
    for run in runs:
        grouped.setdefault(run.point, []).append(run)
    names = spec.metrics()
    knob = spec.objective_knob
    records = []
    for point, members in grouped.items():
        if knob is not None:
            numbers = spec.knobs[knob].numbers
            assert numbers is not None
            objective: float | None = numbers[point[knob]]
        else:
            values = [run.metrics[names.index(spec.minimize)] for run in members]
            known = [value for value in values if value is not None]
            objective = statistics.fmean(known) if len(known) == len(values) else None
        worst = []
        for slo in spec.slos:
            values = [run.metrics[names.index(slo.metric)] for run in members]
            known = [value for value in values if value is not None]
            pick = max if slo.comparison == "<=" else min
            worst.append(pick(known) if len(known) == len(values) else None)
        meets = all(run.meets for run in members)
        records.append(PointRecord(point, len(members), meets, objective, tuple(worst)))
    return records


def evaluation(record: PointRecord) -> Evaluation:
    return Evaluation(record.meets, record.objective)


def choose(spec: PlanSpec, points: Sequence[PointRecord]) -> PointRecord | None:
    """The answer: the lowest objective among the points that meet every objective, by
    the rule of `sim.batch.plan.search.Search.best` among equals (less capacity in a
    slice, else the first found)."""
    search = Search(space_of(spec))
    search.tell({record.point: evaluation(record) for record in points})
    return next((record for record in points if record.point == search.best), None)


def _columns(spec: PlanSpec) -> list[str]:
    return [*(k.name for k in spec.knobs), "replication", "fidelity", *spec.metrics(), "meets"]


def plan_csv(spec: PlanSpec, runs: Sequence[RunRecord]) -> str:
    """The text of ``plan.csv``."""
    columns = _columns(spec)
    rows = []
    for run in runs:
        values: list[Any] = [k.values[i] for k, i in zip(spec.knobs, run.point, strict=True)]
        values += [run.replication, run.fidelity, *run.metrics, "true" if run.meets else "false"]
        rows.append(dict(zip(columns, values, strict=True)))
    return rows_csv(rows) if rows else ",".join(columns) + "\n"


def read_plan_csv(spec: PlanSpec, text: str) -> list[RunRecord]:
    """The runs of a ``plan.csv`` written for this plan.

    Raises:
        ValueError: the file is not this plan's (its columns or values differ).
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != _columns(spec):
        raise ValueError(f"{PLAN_FILE}: its columns are not this plan's")
    count = len(spec.knobs)
    runs = []
    for line, row in enumerate(reader, start=2):
        try:
            point = tuple(k.values.index(v) for k, v in zip(spec.knobs, row[:count], strict=True))
            fidelity = row[count + 1]
            if fidelity not in FIDELITIES:
                raise ValueError(fidelity)
            metrics = tuple(float(v) if v else None for v in row[count + 2 : -1])
            meets = {"true": True, "false": False}[row[-1]]
            runs.append(RunRecord(point, int(row[count]), metrics, meets, fidelity))
        except (ValueError, KeyError, IndexError):
            raise ValueError(f"{PLAN_FILE}:{line}: not a run of this plan") from None
    return runs


def short(value: float | int | None) -> str:
    """A number in four significant digits (see the module docstring); ``null`` for
    None."""
    if value is None:
        return "null"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = repr(float(f"{value:.4g}"))
    return text[:-2] if text.endswith(".0") else text


def describe(spec: PlanSpec, point: Point) -> str:
    """A point as the overrides that make it: ``key=value ...``."""
    return " ".join(f"{k.name}={k.values[i]}" for k, i in zip(spec.knobs, point, strict=True))


def _slo_metrics(spec: PlanSpec) -> list[tuple[str, int]]:
    """Each objective's metric once, with the index of its first objective."""
    seen: dict[str, int] = {}
    for index, slo in enumerate(spec.slos):
        seen.setdefault(slo.metric, index)
    return list(seen.items())


def metric_text(spec: PlanSpec, record: PointRecord) -> str:
    """The point's objective (when measured) and its objectives' metrics: ``m=v ...``."""
    parts = []
    if spec.objective_knob is None:
        parts.append(f"{spec.minimize}={short(record.objective)}")
    for metric, index in _slo_metrics(spec):
        if metric != spec.minimize or spec.objective_knob is not None:
            parts.append(f"{metric}={short(record.slo_values[index])}")
    return " ".join(parts)


def best_line(spec: PlanSpec, best: PointRecord | None, runs: int) -> str:
    """The last line ``sim-plan`` prints, for machines: ``best: <key>=<value> ...
    <metric>=<value> ... runs=<n> grid=<points>``, or ``best: none runs=<n> grid=<m>``."""
    if best is None:
        return f"best: none runs={runs} grid={spec.grid_size}"
    point, metrics = describe(spec, best.point), metric_text(spec, best)
    return f"best: {point} {metrics} runs={runs} grid={spec.grid_size}"


def frontier(points: Sequence[PointRecord], slo_index: int, at_most: bool) -> list[PointRecord]:
    """The points no cheaper point beats on one objective's metric: by objective (then
    run order), each kept if its metric is better than every point kept before."""
    known = [p for p in points if p.objective is not None and p.slo_values[slo_index] is not None]
    ordered = sorted(known, key=lambda p: p.objective or 0.0)
    kept: list[PointRecord] = []
    for record in ordered:
        value = record.slo_values[slo_index]
        assert value is not None
        if kept:
            previous = kept[-1].slo_values[slo_index]
            assert previous is not None
            if (value >= previous) if at_most else (value <= previous):
                continue
        kept.append(record)
    return kept


def frontier_lines(spec: PlanSpec, points: Sequence[PointRecord]) -> list[str]:
    """The frontier of the objective against each objective's metric, as text."""
    lines = []
    for metric, index in _slo_metrics(spec):
        at_most = spec.slos[index].comparison == "<="
        kept = frontier(points, index, at_most)
        lines.append(f"frontier: {spec.minimize} against {metric} (each better than any cheaper):")
        header = [spec.minimize, metric, "meets", "point"]
        rows = [
            [
                short(p.objective),
                short(p.slo_values[index]),
                "yes" if p.meets else "no",
                describe(spec, p.point),
            ]
            for p in kept
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
        for row in [header, *rows]:
            cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
            lines.append("  " + "  ".join([*cells, row[3]]).rstrip())
    return lines
