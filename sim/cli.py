"""The command line: Hydra entry points, and the only module that knows Hydra.

``sim [overrides]`` composes ``configs/`` (shipped in the package as ``sim.conf``),
validates the result, runs the scenario and writes its files into Hydra's run folder.
Before Hydra starts, the overrides are composed and validated once (each value of a
sweep too), so a user's mistake ends with one line ``config error: <key>: <value>:
<what is allowed>`` and exit status 2, never with a traceback.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import hydra
from hydra import compose, initialize_config_dir, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, MissingConfigException
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim.config import scenario_params
from sim.core.errors import ConfigError
from sim.plots import registry_egress, sweep_figures, timeline, topology
from sim.report import RunsBar, print_summary, simulated_time_bar
from sim.results import Result
from sim.runs import RUN_FILE, clear_stale, config_hash, is_complete, record_run
from sim.scenario import run_scenario
from sim.sweep import report_rows, sweep_rows, write_sweep_table

BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
CONFIG_MODULE = "sim.conf"
CONFIG_NAME = "config"
EXIT_CONFIG_ERROR = 2


def _config_directory() -> str | None:
    """``configs/`` of a source checkout when the package ``sim.conf`` is not installed
    (running from the repository without ``pip install``); None when it is."""
    if importlib.util.find_spec(CONFIG_MODULE) is not None:
        return None
    return str(Path(__file__).resolve().parent.parent / "configs")


CONFIG_DIRECTORY = _config_directory()
CONFIG_PATH = CONFIG_DIRECTORY or f"pkg://{CONFIG_MODULE}"


def to_plain(cfg: Any) -> dict[str, Any]:
    """A composed config as plain dicts and lists, interpolations resolved."""
    if isinstance(cfg, DictConfig):
        try:
            return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
        except OmegaConfBaseException as error:
            raise ConfigError(
                str(getattr(error, "full_key", "") or "config"), "interpolation", _first_line(error)
            ) from None
    return dict(cfg)


def load_config(overrides: Sequence[str] = (), config_name: str = CONFIG_NAME) -> DictConfig:
    """Compose ``configs/`` with command-line style overrides, as ``sim`` does.

    Raises:
        ConfigError: an override that names no key, no option of a group, or is malformed.
    """
    hydra_instance = GlobalHydra.instance()
    if hydra_instance.is_initialized():
        hydra_instance.clear()
    try:
        context: AbstractContextManager[Any]
        if CONFIG_DIRECTORY is not None:
            context = initialize_config_dir(config_dir=CONFIG_DIRECTORY, version_base="1.3")
        else:
            context = initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3")
        with context:
            return compose(config_name=config_name, overrides=list(overrides))
    except MissingConfigException as error:
        raise _missing_option(error, overrides) from None
    except (HydraException, OmegaConfBaseException) as error:
        raise _override_error(error, overrides) from None


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _missing_option(error: MissingConfigException, overrides: Sequence[str]) -> ConfigError:
    missing = error.missing_cfg_file or ""
    group, _, option = missing.rpartition("/")
    options = getattr(error, "options", None) or []
    allowed = "one of " + ", ".join(options) if options else "an existing config"
    return ConfigError(group or "config", option or missing, allowed)


def _override_error(error: BaseException, overrides: Sequence[str]) -> ConfigError:
    """The override Hydra refused, named by the key it quotes (the longest match wins, so
    ``cluster.scaler.enabled`` is blamed rather than ``cluster``)."""
    message = _first_line(error)
    quoted = set(re.findall(r"'([^']+)'", message))
    candidates = []
    for override in overrides:
        key, _, value = override.partition("=")
        bare = key.lstrip("+~")
        if bare and (bare in quoted or bare in message):
            candidates.append((bare in quoted, len(bare), key, value))
    if not candidates:
        return ConfigError("overrides", " ".join(overrides) or "none", message)
    _, _, key, value = max(candidates)
    if "Could not override" in message or "not in struct" in message:
        return ConfigError(key, value, "an existing key (add a new one with +key=value)")
    return ConfigError(key, value, message)


def validate_overrides(overrides: Sequence[str], config_name: str = CONFIG_NAME) -> None:
    """Compose and validate every configuration a command line asks for.

    A sweep (``key=a,b``) is checked value by value: each value once, the others at
    their first value, so a bad value anywhere in a sweep is found before it starts.
    """
    parsed = []
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as error:
        raise ConfigError("overrides", " ".join(overrides), _first_line(error)) from None
    choices: list[list[str]] = []
    for override in parsed:
        key = override.get_key_element()
        if override.is_sweep_override():
            choices.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            choices.append([override.input_line or f"{key}={override.get_value_element_as_str()}"])
    first = [options[0] for options in choices]
    variants = [first]
    for index, options in enumerate(choices):
        for option in options[1:]:
            variants.append(first[:index] + [option] + first[index + 1 :])
    for variant in variants:
        user = [o for o in variant if not o.lstrip("+~").startswith("hydra")]
        scenario_params(to_plain(load_config(user, config_name)))


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
    digest = config_hash(plain)
    if is_complete(folder, digest):
        print(f"{folder}: complete for this config, skipped")
        return
    clear_stale(folder, digest)
    try:
        with simulated_time_bar(params.horizon_s, _show_progress(cfg, in_sweep)) as progress:
            result = run_scenario(params, progress)
        result.write(folder)
    except Exception as error:  # a bug, not a user's mistake: record it, let a sweep go on
        message = f"{type(error).__name__}: {error}"
        record_run(folder, digest, "failed", message)
        print(f"run failed: {message} (recorded in {folder / RUN_FILE})", file=sys.stderr)
        if not in_sweep:
            raise
        return
    record_run(folder, digest, "complete")
    if cfg.get("figures", False):
        timeline(result, folder / "timeline.png")
        topology(result, folder / "topology.png")
        registry_egress(result, folder / "registry_egress.png")
    if in_sweep:
        if not _show_progress(cfg, in_sweep=False):
            print(f"run {hydra_config.job.num}: complete, results in {folder}")
    else:
        print_summary(result, folder)


def sweep_size(task_overrides: Sequence[str]) -> int:
    """How many runs a sweep's overrides ask for (the product of the values swept)."""
    total = 1
    for override in OverridesParser.create().parse_overrides(list(task_overrides)):
        if override.is_sweep_override():
            total *= len(list(override.sweep_string_iterator()))
    return total


class SweepTable(Callback):
    """Shows a sweep's progress (runs done of all, on a terminal, with the basic
    launcher) and writes its tables at the sweep folder's root when it ends."""

    def __init__(self) -> None:
        self._bar: RunsBar | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Parallel launchers pickle callbacks to send them with each job; a bar cannot go.
        return {**self.__dict__, "_bar": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        # Jobs end in the driver only with the basic launcher; elsewhere no bar would move.
        basic = config.hydra.launcher.get("_target_") == BASIC_LAUNCHER
        if basic and _show_progress(config, in_sweep=False):
            self._bar = RunsBar(sweep_size(list(config.hydra.overrides.task)))

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if self._bar is not None:
            self._bar.advance()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self._bar is not None:
            self._bar.close()
        path = write_sweep_table(Path(config.hydra.sweep.dir))
        print(f"sweep table in {path}")


def report_main() -> None:
    """``sim-report <sweep folder>``: rebuild a sweep's table from its run folders."""
    arguments = sys.argv[1:]
    if len(arguments) != 1 or not Path(arguments[0]).is_dir():
        print("usage: sim-report <sweep folder>   (the folder `sim -m` wrote)", file=sys.stderr)
        sys.exit(EXIT_CONFIG_ERROR)
    sweep = Path(arguments[0])
    path = write_sweep_table(sweep)
    rows = sweep_rows(sweep)
    complete = sum(row["status"] == "complete" for row in rows)
    failed = sum(row["status"] == "failed" for row in rows)
    print(f"{path}: {len(rows)} runs, {complete} complete, {failed} failed")
    figures = sweep_figures(report_rows(rows), sweep / "figures")
    if figures:
        print(f"{len(figures)} figures in {sweep / 'figures'}")


def _show_progress(cfg: DictConfig, in_sweep: bool) -> bool:
    """``progress: auto`` shows a bar only on a terminal and not within a sweep; true or
    false decide."""
    setting = cfg.get("progress", "auto")
    return sys.stderr.isatty() and not in_sweep if setting == "auto" else bool(setting)


def simulate(cfg: Any) -> Result:
    """Validate a composed config (from `load_config`) and run it."""
    return run_scenario(scenario_params(to_plain(cfg)))


_HYDRA_FLAGS_WITHOUT_RUN = {
    "--help",
    "-h",
    "--hydra-help",
    "--info",
    "-i",
    "--shell-completion",
    "-sc",
    "--cfg",
    "-c",
}


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


def main() -> None:
    """The ``sim`` console script."""
    try:
        arguments = with_replications(sys.argv[1:])
        overrides = [a for a in arguments if not a.startswith("-") and "=" in a]
        flags = {a.split("=")[0] for a in arguments if a.startswith("-")}
        if not flags & _HYDRA_FLAGS_WITHOUT_RUN:
            validate_overrides(overrides)
    except ConfigError as error:
        print(error.line(), file=sys.stderr)
        sys.exit(EXIT_CONFIG_ERROR)
    sys.argv[1:] = arguments
    _run()


__all__ = ["load_config", "main", "simulate", "to_plain"]
