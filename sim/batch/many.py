"""Many runs into one DataFrame: `run_many`, the sweep of ``sim -m`` for a notebook.

A grid of overrides expands exactly as ``sim -m`` expands it (Hydra's basic sweeper:
every combination, the first key varying slowest, ``replications=K`` adding
``replication=0..K-1`` last), so row *n* is the run ``sim -m`` would number *n* and
holds the same metrics as its row of ``sweep_summary.csv``. Configs instead of a grid
are run as given, each `replications` times.

Every configuration is composed and validated before the first run, so a mistake is a
`ConfigError` and nothing runs. Runs go one after another in this process, or, with
``n_jobs`` above 1, in that many worker processes (started afresh, as ``spawn``
starts them: a script that calls this needs the usual ``if __name__ == "__main__":``
guard); the rows are the same either way, in the same order.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

from sim.api import compose, parameters, to_plain
from sim.config import scenario_params
from sim.core.errors import ConfigError
from sim.output.report import RunsBar
from sim.scenario import run_scenario

if TYPE_CHECKING:
    import pandas as pd

CONFIG_COLUMN = "config"
"""The column that names the config of each row when configs are run."""


@dataclass(frozen=True)
class PlannedRun:
    """One run: the columns that say which configuration it is, and its config."""

    columns: Mapping[str, Any]
    config: Mapping[str, Any]


def override_text(key: str, values: Sequence[Any]) -> str:
    """A grid entry as one sweep override (``key=v1,v2``), each value written as Hydra
    reads it back (strings quoted, so ``"3"`` stays a string)."""
    return f"{key}={','.join(_value_text(value) for value in values)}"


def _value_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{key}:{_value_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(_value_text(item) for item in value) + "]"
    raise ConfigError("run_many", repr(value), "a grid value: a number, word, list or mapping")


def grid_jobs(lines: Sequence[str]) -> list[list[tuple[str, Any]]]:
    """The runs a sweep's overrides ask for, as Hydra's basic sweeper orders them: per
    run, each override's key and value.

    Raises:
        ConfigError: an override Hydra cannot parse, or a sweep the basic sweeper does
            not take (a range or interval).
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    try:
        (jobs,) = BasicSweeper.split_arguments(parser.parse_overrides(list(lines)), None)
        return [
            [(override.key_or_group, override.value()) for override in parser.parse_overrides(job)]
            for job in jobs
        ]
    except HydraException as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else "not a sweep"
        raise ConfigError("run_many", " ".join(lines), message) from None


def planned_runs(
    runs: Mapping[str, Any] | Sequence[Any], common: Sequence[str], replications: int
) -> list[PlannedRun]:
    """Every run `run_many` makes, composed and validated, in order.

    Raises:
        ConfigError: a configuration that does not compose or is not valid.
    """
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ConfigError("replications", replications, "a whole number of runs, at least 1")
    planned = [
        PlannedRun(columns, {**config, "replications": replications, "replication": replication})
        for columns, config in _points(runs, common, replications)
        for replication in range(replications)
    ]
    for run in planned:
        parameters(run.config)
    return planned


def _points(
    runs: Mapping[str, Any] | Sequence[Any], common: Sequence[str], replications: int
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Each configuration point: its columns and its plain config."""
    if _are_configs(runs):
        labelled = runs.items() if isinstance(runs, Mapping) else enumerate(runs)
        for label, config in labelled:
            plain = to_plain(config)
            if common:
                raise ConfigError("overrides", " ".join(common), "none when configs are given")
            yield {CONFIG_COLUMN: label}, plain
        return
    if isinstance(runs, Mapping):
        lines = [override_text(str(key), _listed(key, values)) for key, values in runs.items()]
    elif isinstance(runs, Sequence) and not isinstance(runs, str):
        lines = [str(line) for line in runs]
    else:
        raise ConfigError("run_many", repr(runs), "a grid of overrides, or configs")
    for job in grid_jobs(lines):
        lines_of_job = [f"{key}={_value_text(value)}" for key, value in job]
        plain = compose([*common, *lines_of_job, f"replications={replications}"])
        yield dict(job), plain


def _listed(key: object, values: Any) -> Sequence[Any]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        return [values]
    if not values:
        raise ConfigError(str(key), "[]", "at least one value to run")
    return values


def _are_configs(runs: Mapping[str, Any] | Sequence[Any]) -> bool:
    """Whether `runs` holds configs (mappings) rather than a grid of overrides."""
    values = list(runs.values()) if isinstance(runs, Mapping) else list(runs)
    return bool(values) and all(isinstance(value, Mapping) for value in values)


def summary_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """Run one plain config; its summary (what a worker process sends back)."""
    return dict(run_scenario(scenario_params(config)).summary)


def run_many(
    runs: Mapping[str, Any] | Sequence[Any],
    *,
    overrides: Sequence[str] = (),
    replications: int = 1,
    n_jobs: int = 1,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Run a grid of overrides, or configs, each `replications` times; one row per run.

    Args:
        runs: a grid (``{"key": [values]}`` or sweep overrides ``["key=a,b"]``), or
            configs (``{"label": cfg}`` or ``[cfg, ...]``) from `sim.load_config` or
            plain mappings.
        overrides: applied to every run of a grid, before its own.
        replications: runs per configuration, with seeds derived per replication
            (replication 0 runs the seed itself).
        n_jobs: worker processes; 1 runs here, -1 one per CPU.
        progress: a bar of runs done on standard error; None: only on a terminal.

    Returns:
        A DataFrame with a row per run, in run order: the grid's keys (or ``config``,
        the configs' labels), then every summary metric (``seed`` and ``replication``
        first); ``attrs["units"]`` gives each metric's unit.

    Raises:
        ConfigError: a configuration that is not valid; nothing was run.
        ImportError: pandas is not installed (``pip install 'sim[analysis]'``).
    """
    from sim.output.frames import pandas
    from sim.output.summary import key_doc

    pd = pandas()
    planned = planned_runs(runs, overrides, replications)
    workers = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError("n_jobs", n_jobs, "a whole number of processes, at least 1, or -1")
    show = sys.stderr.isatty() if progress is None else progress
    bar = RunsBar(len(planned)) if show else None
    configs = [dict(run.config) for run in planned]
    try:
        if workers == 1 or len(planned) == 1:
            summaries = []
            for config in configs:
                summaries.append(summary_of(config))
                if bar is not None:
                    bar.advance()
        else:
            with ProcessPoolExecutor(min(workers, len(planned)), get_context("spawn")) as pool:
                summaries = []
                for summary in pool.map(summary_of, configs):
                    summaries.append(summary)
                    if bar is not None:
                        bar.advance()
    finally:
        if bar is not None:
            bar.close()
    rows = [{**run.columns, **summary} for run, summary in zip(planned, summaries, strict=True)]
    frame = pd.DataFrame(rows)
    metrics = dict.fromkeys(key for summary in summaries for key in summary)
    frame.attrs["units"] = {name: key_doc(name).unit for name in metrics}
    return frame
