"""The command line: Hydra entry points, and the only module that knows Hydra.

``sim [overrides]`` composes ``configs/`` (shipped in the package as ``sim.conf``),
validates the result, runs the scenario and writes its files into Hydra's run folder.
Before Hydra starts, the overrides are composed and validated once (each value of a
sweep too), so a user's mistake ends with one line ``config error: <key>: <value>:
<what is allowed>`` and exit status 2, never with a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import hydra
from hydra._internal.utils import get_args_parser
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.api import (
    CONFIG_NAME,
    CONFIG_PATH,
    first_line,
    hydra_initialized,
    load_config,
    register_defaults,
    simulate,
    to_plain,
)
from sim.batch.runs import (
    clear_stale,
    config_hash,
    is_complete,
    made_by_another_version,
    record_failure,
    record_run,
)
from sim.batch.sweep import (
    SweepBusy,
    SweepLock,
    declare_sweep,
    left_out_line,
    report_rows,
    run_folders,
    sweep_rows,
    sweep_runs,
    write_sweep_table,
)
from sim.cli.help import register as register_help
from sim.cli.interrupt import interruptible
from sim.cli.logs import verbosity_overrides
from sim.cli.pages import (
    figure_format,
    is_run_folder,
    report_options,
    write_folder_page,
    write_run_outputs,
    write_sweep_page,
)
from sim.config import scenario_params
from sim.core.errors import ConfigError
from sim.core.files import FolderBusy, FolderLock, claim_new_folder, unwritable_reason
from sim.core.provenance import NAME, version, version_line
from sim.core.units import format_duration
from sim.output.formats import DPI
from sim.output.report import RunsBar, print_summary, simulated_time_bar
from sim.scenario import run_scenario

register_defaults()  # before @hydra.main composes: the presets' defaults lists name them
register_help()  # the resolver sim --help's template reads
log = logging.getLogger(__name__)

BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
EXIT_CONFIG_ERROR = 2
EXIT_FAILED = 1


def _variant_lines(override: Override) -> list[str]:
    """The override as command-line text, one line per value when it sweeps.

    Raises:
        ConfigError: a sweep Hydra's basic sweeper cannot enumerate (``interval(...)``,
            which only an optimizing sweeper samples), or one that selects nothing.
    """
    if not override.is_sweep_override():
        assert override.input_line is not None
        return [override.input_line]
    key = override.get_key_element()
    try:
        values = list(override.sweep_string_iterator())
    except HydraException as error:
        raise ConfigError(
            key,
            _value_text(override),
            "values the basic sweeper can list: a,b,c, range(start,stop[,step]), "
            f"choice(a,b) or glob(pattern) for a group ({first_line(error)})",
        ) from None
    if not values:
        raise ConfigError(key, _value_text(override), "a sweep of at least one value")
    return [f"{key}={value}" for value in values]


def _value_text(override: Override) -> str:
    """The value as the command line wrote it (``choice(1,3)``, ``glob(p*)``)."""
    return (override.input_line or "").partition("=")[2]


def parse_sweep(overrides: Sequence[str]) -> tuple[list[Override], list[list[str]]]:
    """The overrides as Hydra parses them, and each one's values as command-line text
    (a sweep over a group's options, ``glob(...)``, listed from the config tree).

    Raises:
        ConfigError: an override Hydra cannot parse, or a sweep that lists no values.
    """
    from hydra.core.global_hydra import GlobalHydra

    with hydra_initialized():
        parser = OverridesParser.create(config_loader=GlobalHydra.instance().config_loader())
        try:
            parsed = parser.parse_overrides(list(overrides))
        except HydraException as error:
            raise ConfigError("overrides", " ".join(overrides), first_line(error)) from None
        return parsed, [_variant_lines(override) for override in parsed]


def validate_overrides(
    overrides: Sequence[str], config_name: str = CONFIG_NAME, multirun: bool = True
) -> DictConfig:
    """Compose and validate every configuration a command line asks for.

    Every kind of override Hydra accepts is applied as Hydra applies it: ``key=value``,
    ``+key=value``, ``++key=value``, ``~key``, ``~key=value``, group options, and
    Hydra's own ``hydra.*`` and ``hydra/...`` settings. A sweep (``key=a,b``) is checked
    value by value: each value once, the others at their first value, so a bad value
    anywhere in a sweep is found before it starts.

    Returns:
        Hydra's own settings (the ``hydra`` node) of the first configuration.

    Raises:
        ConfigError: the first configuration that does not compose or is not valid, or
            a sweep in a single run (`multirun` false).
    """
    parsed, choices = parse_sweep(overrides)
    if not multirun:
        for override in parsed:
            if override.is_sweep_override():
                raise ConfigError(
                    override.get_key_element(),
                    _value_text(override),
                    "one value in a single run (a sweep runs with sim -m)",
                )
    first = [options[0] for options in choices]
    variants = [first]
    for index, options in enumerate(choices):
        for option in options[1:]:
            variants.append(first[:index] + [option] + first[index + 1 :])
    settings: DictConfig | None = None
    for variant in variants:
        composed = load_config(variant, config_name, with_hydra=True)
        if variant is first:
            _refuse_empty_merges(parsed, composed)
        with open_dict(composed):
            hydra_node = composed.pop("hydra")  # checked by composing; resolved by Hydra
        settings = settings if settings is not None else hydra_node
        scenario_params(to_plain(composed))
    assert settings is not None
    return settings


def _refuse_empty_merges(parsed: Sequence[Override], composed: DictConfig) -> None:
    """Refuse ``key={}`` on a mapping that has entries: Hydra merges the empty mapping
    into it, which changes nothing, though the user meant to empty it.

    Raises:
        ConfigError: naming the key and how to empty it.
    """
    for override in parsed:
        if override.is_sweep_override() or override.is_delete() or override.is_add():
            continue
        if override.package is not None or override.value() != {}:
            continue
        key = override.key_or_group
        existing = OmegaConf.select(composed, key, default=None)
        if isinstance(existing, DictConfig) and len(existing) > 0:
            raise ConfigError(
                key,
                "{}",
                f"an empty mapping merges into {key} and changes nothing "
                f"(to empty it: '~{key}' '+{key}={{}}')",
            )


def check_output_folder(settings: DictConfig, multirun: bool) -> None:
    """Refuse a run or sweep folder that cannot be written, before anything runs.

    Raises:
        ConfigError: naming ``hydra.run.dir`` or ``hydra.sweep.dir`` and why.
    """
    key = "sweep.dir" if multirun else "run.dir"
    try:
        folder = str(OmegaConf.select(settings, key, throw_on_missing=True))
    except OmegaConfBaseException as error:
        raise ConfigError(f"hydra.{key}", "interpolation", first_line(error)) from None
    reason = unwritable_reason(Path(folder))
    if reason is not None:
        raise ConfigError(f"hydra.{key}", folder, f"a folder that can be written ({reason})")


LOG_LEVELS = ("CRITICAL", "FATAL", "ERROR", "WARN", "WARNING", "INFO", "DEBUG", "NOTSET")


def check_logging(settings: DictConfig) -> None:
    """Refuse a logging level Python's logging does not know, in Hydra's logging
    settings (``hydra.job_logging``, ``hydra.hydra_logging``), before anything runs.

    Raises:
        ConfigError: naming the level's key.
    """
    for section in ("job_logging", "hydra_logging"):
        node = OmegaConf.select(settings, section, default=None)
        if not isinstance(node, DictConfig):
            continue
        for path, value in _levels(OmegaConf.to_container(node, resolve=False), section):
            if isinstance(value, bool) or not (isinstance(value, int) or str(value) in LOG_LEVELS):
                raise ConfigError(
                    f"hydra.{path}",
                    value,
                    "a logging level in capitals (CRITICAL, ERROR, WARNING, INFO, DEBUG, "
                    "NOTSET) or a number",
                )


def _levels(node: Any, path: str) -> list[tuple[str, Any]]:
    """Every ``level`` setting under a logging configuration, with its key."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            if key == "level" and not isinstance(value, dict | list):
                found.append((f"{path}.{key}", value))
            else:
                found += _levels(value, f"{path}.{key}")
        return found
    if isinstance(node, list):
        return [
            item for index, value in enumerate(node) for item in _levels(value, f"{path}.{index}")
        ]
    return []


RAY_LAUNCHER = "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"
RAY_STORE_DEFAULT = 78_643_200
"""The object store the Ray launcher (1.2.2) asks for when not told (75 MiB)."""
RAY_JOIN_REFUSED = (
    "num_cpus",
    "num_gpus",
    "resources",
    "labels",
    "object_store_memory",
    "_system_config",
)
"""What ``ray.init`` refuses when it joins a running cluster (ray/_private/worker.py)."""


def check_ray_join(settings: DictConfig) -> None:
    """Refuse, before anything runs, Ray settings that ``ray.init`` rejects when it
    joins a running cluster: an address, ``RAY_ADDRESS``, or a cluster started on this
    machine with ``ray start`` (where an address left at null leads). The launcher asks
    for a 75 MiB object store unless told ``object_store_memory=null``.

    Raises:
        ConfigError: naming the ``hydra.launcher.ray.init`` setting.
    """
    launcher = OmegaConf.select(settings, "launcher")
    if not isinstance(launcher, DictConfig) or launcher.get("_target_") != RAY_LAUNCHER:
        return
    init = OmegaConf.to_container(launcher.ray.init, resolve=True)
    assert isinstance(init, dict)
    address = init.get("address")
    if address == "local" or not _joins_a_ray_cluster(address):
        return
    for name in RAY_JOIN_REFUSED:
        value = init.get(name, RAY_STORE_DEFAULT if name == "object_store_memory" else None)
        if value is not None:
            shown = value if name in init else f"{value} (the launcher's default)"
            raise ConfigError(
                f"hydra.launcher.ray.init.{name}",
                shown,
                f"null when joining a running Ray cluster, which keeps its own "
                f"(+hydra.launcher.ray.init.{name}=null)",
            )


def _joins_a_ray_cluster(address: object) -> bool:
    """Whether ``ray.init(address=...)`` would join a running cluster."""
    import os

    if address is not None and address != "auto":
        return True
    if os.environ.get("RAY_ADDRESS"):
        return True
    try:
        from ray._private.services import find_bootstrap_address
    except ImportError:
        return False
    return find_bootstrap_address(None) is not None


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name=CONFIG_NAME)
def _run(cfg: DictConfig) -> None:
    plain = to_plain(cfg)
    try:
        params = scenario_params(plain)
    except ConfigError as error:
        print(error.line(), file=sys.stderr)
        sys.exit(EXIT_CONFIG_ERROR)
    hydra_config = HydraConfig.get()
    folder = Path(hydra_config.runtime.output_dir)
    in_sweep = hydra_config.mode == RunMode.MULTIRUN
    overrides = [str(override) for override in hydra_config.overrides.task]
    digest = config_hash(plain)
    log.info(
        "%s, seed %d, replication %d, config sha256 %s, overrides: %s",
        version_line(),
        params.seed,
        params.replication,
        digest,
        " ".join(overrides) or "none",
    )
    if is_complete(folder, digest, any_version=plain.get("resume") == "any_version"):
        log.info("complete for this config, skipped")
        print(f"{folder}: complete for this config, skipped")
        return
    other = made_by_another_version(folder, digest)
    if other is not None:
        log.warning(
            "%s: complete for this config but made by %s %s, so it runs again with %s "
            "(resume=any_version keeps it)",
            folder,
            NAME,
            other,
            version(),
        )
    with contextlib.suppress(OSError):  # an unwritable folder is reported when written
        clear_stale(folder, digest)
    try:
        with simulated_time_bar(params.horizon_s, _show_progress(cfg, in_sweep)) as progress:
            result = run_scenario(params, progress)
    except Exception as error:  # a bug, not a user's mistake: record it, let a sweep go on
        message = f"{type(error).__name__}: {error}"
        _report_failure(folder, digest, message, overrides, params.seed)
        if not in_sweep:
            raise
        return
    try:
        result.write(folder)
        record_run(folder, digest, "complete", overrides=overrides, seed=params.seed)
    except OSError as error:
        _report_failure(folder, digest, _cannot_write(folder, error), overrides, params.seed)
        if not in_sweep:
            sys.exit(EXIT_FAILED)
        return
    simulated = format_duration(float(result.summary["sim_time_s"]))
    log.info("complete: simulated %s, results in %s", simulated, folder)
    try:
        write_run_outputs(result, folder, plain, digest, overrides)
    except OSError as error:
        print(f"figures or page not written: {_cannot_write(folder, error)}", file=sys.stderr)
        if not in_sweep:
            sys.exit(EXIT_FAILED)
    if in_sweep:
        if not _show_progress(cfg, in_sweep=False):
            print(f"run {hydra_config.job.num}: complete, results in {folder}")
    else:
        print_summary(result, folder)
    sys.stdout.flush()
    for warning in result.warnings:
        log.warning(warning)


def _cannot_write(folder: Path, error: OSError) -> str:
    where = error.filename or folder
    return f"cannot write {where}: {error.strerror or type(error).__name__}"


def _report_failure(
    folder: Path, digest: str, message: str, overrides: list[str], seed: int
) -> None:
    """Record a failed run where it can be recorded, and say so in one line."""
    recorded = record_failure(folder, digest, message, overrides, seed)
    where = f" (recorded in {recorded})" if recorded is not None else " (not recorded)"
    print(f"run failed: {message}{where}", file=sys.stderr)


def sweep_size(task_overrides: Sequence[str]) -> int:
    """How many runs a sweep's overrides ask for (the product of the values swept),
    within a running Hydra application (whose config loader lists a ``glob(...)``)."""
    from hydra.core.global_hydra import GlobalHydra

    hydra_instance = GlobalHydra.instance()
    loader = hydra_instance.config_loader() if hydra_instance.is_initialized() else None
    total = 1
    for override in OverridesParser.create(loader).parse_overrides(list(task_overrides)):
        if override.is_sweep_override():
            total *= len(list(override.sweep_string_iterator()))
    return total


class SweepTable(Callback):
    """Holds the sweep folder for one sweep at a time, shows the sweep's progress (runs
    done of all, on a terminal, with the basic launcher) and writes its tables at the
    sweep folder's root when it ends."""

    def __init__(self) -> None:
        self._bar: RunsBar | None = None
        self._lock: SweepLock | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Parallel launchers pickle callbacks to send them with each job; a bar or a
        # lock cannot go (the driver holds the lock).
        return {**self.__dict__, "_bar": None, "_lock": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep = Path(config.hydra.sweep.dir)
        try:
            self._lock = SweepLock.take(sweep)
        except SweepBusy as busy:
            print(f"sweep error: {busy}", file=sys.stderr)
            raise SystemExit(EXIT_CONFIG_ERROR) from None
        except OSError as error:
            print(f"sweep error: {_cannot_write(sweep, error)}", file=sys.stderr)
            raise SystemExit(EXIT_CONFIG_ERROR) from None
        # Only the basic sweeper's runs are counted by its overrides (sim-plan's are not).
        runs = _basic_sweep_runs(config)
        try:
            declare_sweep(sweep, runs)
        except OSError as error:
            self._lock.release()
            print(f"sweep error: {_cannot_write(sweep, error)}", file=sys.stderr)
            raise SystemExit(EXIT_CONFIG_ERROR) from None
        # Jobs end in the driver only with the basic launcher; elsewhere no bar would move.
        basic = config.hydra.launcher.get("_target_") == BASIC_LAUNCHER
        if basic and runs is not None and _show_progress(config, in_sweep=False):
            self._bar = RunsBar(runs)

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if self._bar is not None:
            self._bar.advance()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self._bar is not None:
            self._bar.close()
        sweep = Path(config.hydra.sweep.dir)
        try:
            path = write_sweep_table(sweep)
            rows = sweep_rows(sweep)
            left_out = sweep_runs(sweep)[1]
        except OSError as error:
            print(
                f"sweep error: tables not written: {_cannot_write(sweep, error)}", file=sys.stderr
            )
            raise SystemExit(EXIT_FAILED) from None
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None
        print(f"sweep table in {path}")
        if left_out:
            print(f"sweep: {left_out_line(sweep, left_out)}", file=sys.stderr)
        format = figure_format(config.get("figures", False))
        try:
            if format is not None:
                from sim.output.plots import sweep_figures

                report = report_rows(rows)
                dpi = float(config.get("figure_dpi", DPI))
                figures = sweep_figures(report, sweep / "figures", format, dpi)
                print(f"{len(figures)} figures in {sweep / 'figures'}")
            if config.get("report") == "html":
                print(f"sweep page in {write_sweep_page(sweep)}")
        except OSError as error:
            print(f"sweep error: {_cannot_write(sweep, error)}", file=sys.stderr)
            raise SystemExit(EXIT_FAILED) from None
        unfinished = [row for row in rows if row["status"] != "complete"]
        if unfinished and _basic_sweep_runs(config) is not None:
            # sim-plan's sweeper answers for its own runs (and its own exit status).
            print(f"sweep error: {_unfinished_line(rows, unfinished)}", file=sys.stderr)
            raise SystemExit(EXIT_FAILED)


def _basic_sweep_runs(config: DictConfig) -> int | None:
    """How many runs Hydra's basic sweeper makes of this sweep (the product of the
    values swept, on the command line and in ``hydra.sweeper.params``); None for
    another sweeper, which decides as it goes."""
    if config.hydra.sweeper.get("_target_") != BASIC_SWEEPER:
        return None
    params = config.hydra.sweeper.get("params") or {}
    from_config = [f"{key}={value}" for key, value in params.items()]
    return sweep_size([*from_config, *config.hydra.overrides.task])


def _unfinished_line(rows: Sequence[dict[str, Any]], unfinished: Sequence[dict[str, Any]]) -> str:
    """``2 of 8 runs did not complete (run 3: failed: ...; run 5: missing: ...)``."""
    shown = "; ".join(
        f"run {row['run']}: {row['status']}" + (f": {row['error']}" if row["error"] else "")
        for row in unfinished[:3]
    )
    more = f"; {len(unfinished) - 3} more" if len(unfinished) > 3 else ""
    return f"{len(unfinished)} of {len(rows)} runs did not complete ({shown}{more})"


REPORT_USAGE = (
    "usage: sim-report [--html] [--figures png|svg|pdf] [--dpi N] <folder> "
    "(a sweep folder `sim -m` wrote; with --html, a run folder too)"
)


def report_main() -> None:
    """``sim-report [--html] [--figures FORMAT] [--dpi N] <folder>``: rebuild a sweep's
    tables and figures from its run folders (and, with ``--html``, its page and each
    complete run's), or write a run folder's page.

    Runs that do not read back are marked in the table (status, error) and the report
    goes on; a folder that holds no sweep (or, with ``--html``, no run) is a usage error
    and nothing is written.
    """
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(REPORT_USAGE)
        return
    options = report_options(sys.argv[1:])
    if options is None:
        print(REPORT_USAGE, file=sys.stderr)
        sys.exit(EXIT_CONFIG_ERROR)
    sweep = options.folder
    try:
        runs = run_folders(sweep) if sweep.is_dir() else None
    except OSError as error:
        print(f"sim-report: {sweep}: {error.strerror}", file=sys.stderr)
        sys.exit(EXIT_CONFIG_ERROR)
    if not runs and options.html and is_run_folder(sweep):
        _report_run(sweep)
        return
    if not runs:
        why = "no such folder" if runs is None else "holds no sweep (no numbered run folders)"
        print(f"{REPORT_USAGE}: {sweep}: {why}", file=sys.stderr)
        sys.exit(EXIT_CONFIG_ERROR)
    rows = sweep_rows(sweep)
    try:
        path = write_sweep_table(sweep)
    except OSError as error:
        print(f"sim-report: tables not written: {_cannot_write(sweep, error)}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    complete = sum(row["status"] == "complete" for row in rows)
    failed = sum(row["status"] == "failed" for row in rows)
    missing = len(rows) - complete - failed
    print(f"{path}: {len(rows)} runs, {complete} complete, {failed} failed, {missing} missing")
    left_out = sweep_runs(sweep)[1]
    if left_out:
        print(left_out_line(sweep, left_out))
    for row in rows:
        if row["status"] != "complete" and row["error"]:
            print(f"run {row['run']}: {row['status']}: {row['error']}")
    from sim.output.plots import sweep_figures

    try:
        figures = sweep_figures(report_rows(rows), sweep / "figures", options.figures, options.dpi)
    except OSError as error:
        print(f"sim-report: figures not drawn: {_cannot_write(sweep, error)}", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    if figures:
        print(f"{len(figures)} figures in {sweep / 'figures'}")
    if options.html:
        try:
            print(f"sweep page in {write_sweep_page(sweep)}")
        except OSError as error:
            print(f"sim-report: page not written: {_cannot_write(sweep, error)}", file=sys.stderr)
            sys.exit(EXIT_FAILED)


def _report_run(folder: Path) -> None:
    """``sim-report --html <run folder>``: the run's page."""
    try:
        print(f"run page in {write_folder_page(folder)}")
    except ValueError as error:
        print(f"sim-report: {error}", file=sys.stderr)
        sys.exit(EXIT_CONFIG_ERROR)
    except OSError as error:
        print(f"sim-report: page not written: {_cannot_write(folder, error)}", file=sys.stderr)
        sys.exit(EXIT_FAILED)


def _show_progress(cfg: DictConfig, in_sweep: bool) -> bool:
    """``progress: auto`` shows a bar only on a terminal and not within a sweep; true or
    false decide."""
    setting = cfg.get("progress", "auto")
    return sys.stderr.isatty() and not in_sweep if setting == "auto" else bool(setting)


def hydra_arguments(arguments: Sequence[str]) -> argparse.Namespace:
    """The command line read by Hydra's own parser, so overrides are exactly Hydra's.

    Raises:
        ConfigError: an argument Hydra's parser refuses (an unknown flag, say).
    """
    parser = get_args_parser()

    def refuse(message: str) -> NoReturn:
        raise ConfigError("command line", " ".join(arguments), message)

    parser.error = refuse  # type: ignore[method-assign]
    return parser.parse_args(list(arguments))


def with_replications(arguments: list[str]) -> list[str]:
    """The command line with ``replications=K`` turned into a sweep over
    ``replication=0..K-1`` (in a multirun; a single run may only ask for one).

    Raises:
        ConfigError: replications is not a whole number, or above 1 outside a sweep.
    """
    requested = [a for a in arguments if a.startswith("replications=")]
    if not requested:
        return arguments
    value = requested[-1].partition("=")[2]
    if not value.isdigit() or int(value) < 1:
        raise ConfigError("replications", value, "a whole number of runs, at least 1")
    count = int(value)
    multirun = any(a in ("-m", "--multirun") for a in arguments)
    if count > 1 and not multirun:
        raise ConfigError("replications", value, "1, or more in a sweep (sim -m ...)")
    if count == 1 or any(a.startswith("replication=") for a in arguments):
        return arguments
    return [*arguments, "replication=" + ",".join(str(r) for r in range(count))]


def claim_run_folder(settings: DictConfig, arguments: list[str]) -> tuple[list[str], FolderLock]:
    """The single run's folder, this run's alone: a time-stamped one (the default
    ``outputs/<date>/<time>``) is created new, with a suffix when another run took the
    name in the same second, and handed to Hydra; a named one (``hydra.run.dir=...``)
    is refused while another run writes into it. Returns the command line to run and the
    folder's lock (held until the process ends).

    Raises:
        ConfigError: naming ``hydra.run.dir``.
    """
    run = OmegaConf.to_container(settings.run, resolve=False)
    written = str(run.get("dir", "")) if isinstance(run, dict) else ""
    folder = Path(str(OmegaConf.select(settings, "run.dir")))
    try:
        if "${now:" in written:
            folder = claim_new_folder(folder)
            arguments = [*arguments, f"hydra.run.dir={_quoted(str(folder))}"]
        else:
            folder.mkdir(parents=True, exist_ok=True)
        return arguments, FolderLock.take(folder)
    except FolderBusy:
        raise ConfigError(
            "hydra.run.dir",
            str(folder),
            "a folder no other sim run is writing into (wait for it to end, or choose another)",
        ) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigError(
            "hydra.run.dir", str(folder), f"a folder that can be written ({reason})"
        ) from None


def _quoted(text: str) -> str:
    """`text` as a quoted value of a Hydra override."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def main() -> None:
    """The ``sim`` console script (an interrupt ends it with one line, 130 or 143)."""
    with interruptible():
        _main()


def _main() -> None:
    lock: FolderLock | None = None
    try:
        given, verbosity = verbosity_overrides(sys.argv[1:])
        arguments = with_replications(given) + verbosity
        parsed = hydra_arguments(arguments)
        config_name = parsed.config_name or CONFIG_NAME
        runs = not (
            parsed.help
            or parsed.hydra_help
            or parsed.info
            or parsed.shell_completion
            or parsed.cfg
            or parsed.experimental_rerun
        )
        # With another config tree (--config-dir, --config-path) Hydra itself reports
        # what does not compose: only our own tree is checked first. Shell completion's
        # arguments (install=bash, query=bash) are its own, not overrides.
        own_tree = not (parsed.config_dir or parsed.config_path)
        if own_tree and runs:
            settings = validate_overrides(parsed.overrides, config_name, parsed.multirun)
            check_output_folder(settings, parsed.multirun)
            check_logging(settings)
            if parsed.multirun:
                check_ray_join(settings)
            else:
                arguments, lock = claim_run_folder(settings, arguments)
        elif own_tree and not parsed.shell_completion:
            load_config(parsed.overrides, config_name, with_hydra=True)
    except ConfigError as error:
        print(error.line(), file=sys.stderr)
        sys.exit(EXIT_CONFIG_ERROR)
    sys.argv[1:] = arguments
    if parsed.shell_completion and any(o.startswith("query=") for o in parsed.overrides):
        print(" ".join(completions(_run)))
        return
    try:
        _run()
    finally:
        if lock is not None:
            lock.release()


def completions(query: Callable[[], None]) -> list[str]:
    """What Hydra's completion query prints, less the groups and options a user does not
    choose: ``kinds/...`` and the ``_...`` defaults nodes (see `sim.cli.help`)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        query()
    return [
        word
        for word in printed.getvalue().split()
        if not word.startswith("kinds/") and not re.search(r"[=/]_", word)
    ]


__all__ = ["load_config", "main", "simulate", "to_plain"]
