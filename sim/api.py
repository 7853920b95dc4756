"""The public API: compose a configuration as ``sim`` does, validate it, run it.

    import sim
    cfg = sim.load_config(["cluster.pools.node.count=5"])  # compose configs/ as `sim` does
    result = sim.simulate(cfg)                              # validate, run, collect

Composing goes through Hydra (imported only when a configuration is composed, so tools
that reuse a composed configuration, like sim-docker resuming its host, start fast);
a user's mistake in an override becomes a `ConfigError` naming the key, the value and
what is allowed. The command line (`sim.cli.main`), the studies, the demos and sim-docker
all run simulations through this module.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config import ScenarioParams, scenario_params
from sim.core.errors import ConfigError
from sim.output.results import Result
from sim.scenario import run_scenario

if TYPE_CHECKING:
    from omegaconf import DictConfig

CONFIG_MODULE = "sim.conf"
CONFIG_NAME = "config"

ProgressCallback = Callable[[float, float], None]


def _config_directory() -> str | None:
    """``configs/`` of a source checkout when the package ``sim.conf`` is not installed
    (running from the repository without ``pip install``); None when it is."""
    if importlib.util.find_spec(CONFIG_MODULE) is not None:
        return None
    return str(Path(__file__).resolve().parent.parent / "configs")


CONFIG_DIRECTORY = _config_directory()
CONFIG_PATH = CONFIG_DIRECTORY or f"pkg://{CONFIG_MODULE}"
PACKAGED_SEARCH_PATH = f"file://{CONFIG_DIRECTORY}" if CONFIG_DIRECTORY else CONFIG_PATH
"""The packaged config tree as an entry of Hydra's config search path."""


def to_plain(cfg: Any) -> dict[str, Any]:
    """A composed config as plain dicts and lists, interpolations resolved."""
    if isinstance(cfg, Mapping) and not _is_omegaconf(cfg):
        return dict(cfg)
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(cfg, DictConfig):
        try:
            return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
        except OmegaConfBaseException as error:
            raise ConfigError(
                str(getattr(error, "full_key", "") or "config"), "interpolation", first_line(error)
            ) from None
    return dict(cfg)


FAMILY_GROUPS = ("platform", "registry", "arrivals", "autoscaler")


def defaults_nodes() -> dict[tuple[str, str], dict[str, Any]]:
    """The defaults the presets compose under, by (group, name): the root keys'
    (``_root``), each section's (``<group>/_<section>``), and each kind's
    (``kinds/<family>/<kind>``), all written from the parameter dataclasses
    (`sim.config.defaults`)."""
    from sim.config.defaults import config_defaults, kind_defaults
    from sim.config.sections import (
        ClusterSpec,
        PoolSpec,
        PricingSpec,
        RootSpec,
        ServiceSpec,
        TrafficSpec,
        WorkloadSpec,
    )
    from sim.model.images.registries import REGISTRIES
    from sim.model.network.topology import NetworkParams
    from sim.model.platforms import PLATFORMS
    from sim.model.service.arrivals import ARRIVALS
    from sim.policies.autoscaling import AUTOSCALING

    nodes: dict[tuple[str, str], dict[str, Any]] = {
        ("", "_root"): config_defaults(RootSpec),
        ("cluster", "_cluster"): config_defaults(ClusterSpec),
        ("cluster", "_pool"): config_defaults(PoolSpec),
        ("network", "_network"): config_defaults(NetworkParams),
        ("pricing", "_pricing"): config_defaults(PricingSpec),
        ("workload", "_workload"): config_defaults(WorkloadSpec),
        ("workload", "_service"): config_defaults(ServiceSpec),
        ("workload", "_traffic"): config_defaults(TrafficSpec),
    }
    for family in (PLATFORMS, REGISTRIES, ARRIVALS, AUTOSCALING):
        for name, kind in family.kinds.items():
            nodes[(f"kinds/{family.name}", name)] = kind_defaults(family, name)
            if not kind.source:
                continue
            # A kind another package adds is also an option of its group, as the
            # packaged presets are: `autoscaler=<kind>`, `platform=[container,<kind>]`.
            if family is AUTOSCALING:
                nodes[("autoscaler", name)] = kind_defaults(family, name)
            elif family is PLATFORMS:
                nodes[("platform", name)] = {name: kind_defaults(family, name)}
    return nodes


_registered = False


def register_defaults() -> None:
    """Put the defaults in Hydra's config store (once), where the presets find them."""
    global _registered
    if _registered:
        return
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for (group, name), node in defaults_nodes().items():
        store.store(name=name, node=node, group=group or None)
    _registered = True


def load_config(
    overrides: Sequence[str] = (),
    config_name: str = CONFIG_NAME,
    with_hydra: bool = False,
    config_dir: str | os.PathLike[str] | None = None,
) -> DictConfig:
    """Compose ``configs/`` with command-line style overrides, as ``sim`` does.

    Hydra's global state is left as it was found: composing inside a program's own
    ``@hydra.main`` (or its ``initialize`` block) does not end the program's Hydra.

    Args:
        overrides: Hydra overrides (``key=value``, ``+key=value``, ``++key=value``,
            ``~key``, ``~key=value``, ``group=option``).
        config_name: the primary config.
        with_hydra: also compose Hydra's own settings (``hydra.*`` and ``hydra/...``
            overrides are then applied and checked, as the command line does).
        config_dir: a folder of the user's configs, searched after the packaged tree,
            as ``sim --config-dir`` searches it: its group options
            (``workload/mine.yaml``) join the packaged ones, and its primary configs
            can be named by `config_name` (one named as a packaged file is shadowed
            by it).

    Raises:
        ConfigError: an override that names no key, no option of a group, or is
            malformed; a `config_dir` that is not a folder.
    """
    from hydra import compose
    from hydra.errors import HydraException, MissingConfigException
    from omegaconf.errors import OmegaConfBaseException

    try:
        with hydra_initialized(config_dir):
            composed: DictConfig = compose(
                config_name=config_name, overrides=list(overrides), return_hydra_config=with_hydra
            )
            return composed
    except MissingConfigException as error:
        raise _missing_option(error, overrides) from None
    except (HydraException, OmegaConfBaseException) as error:
        raise _override_error(error, overrides) from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        # Hydra and OmegaConf fail this way on some overrides they cannot apply (the
        # deletion of a list item, say): still the user's override, not our bug.
        raise ConfigError(
            "overrides",
            " ".join(overrides) or "none",
            f"overrides Hydra could not apply ({type(error).__name__}: {first_line(error)})",
        ) from None


@contextlib.contextmanager
def hydra_initialized(config_dir: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """Hydra initialized on the packaged config tree (and `config_dir`, searched first),
    with the defaults registered: what composing needs, and what expanding a sweep over
    a group's options (``glob(...)``) needs. Hydra's global state is restored after, so
    a caller's own Hydra application goes on.

    Raises:
        ConfigError: a `config_dir` that is not a folder.
    """
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.config_search_path import SearchPathQuery
    from hydra.core.global_hydra import GlobalHydra

    register_defaults()
    search_path = create_config_search_path(PACKAGED_SEARCH_PATH)
    if config_dir is not None:
        folder = Path(config_dir).expanduser().resolve()
        if not folder.is_dir():
            raise ConfigError("config_dir", str(config_dir), "a folder of configs")
        search_path.prepend("command-line", f"file://{folder}", SearchPathQuery(provider="schema"))
    hydra_instance = GlobalHydra.instance()
    callers = hydra_instance.hydra if hydra_instance.is_initialized() else None
    try:
        hydra_instance.clear()
        Hydra.create_main_hydra2(task_name="app", config_search_path=search_path)
        yield
    finally:
        hydra_instance.clear()
        if callers is not None:
            hydra_instance.initialize(callers)


def _is_omegaconf(cfg: object) -> bool:
    return type(cfg).__module__.startswith("omegaconf")


def first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


PLUGIN_EXTRAS = {("hydra/launcher", "joblib"): "parallel", ("hydra/launcher", "ray"): "ray"}
"""Hydra plugins the README's commands choose, and the extra of sim that installs each."""


def _missing_option(error: Any, overrides: Sequence[str]) -> ConfigError:
    """The group option Hydra could not find (a ``MissingConfigException``)."""
    missing = error.missing_cfg_file or ""
    group, _, option = missing.rpartition("/")
    options = getattr(error, "options", None) or []
    if not options:
        match = re.search(r"Available options in '[^']+':\n((?:\t.*\n?)+)", str(error))
        options = match.group(1).split() if match else []
    options = [option for option in options if not option.startswith("_")]  # defaults' nodes
    allowed = "one of " + ", ".join(options) if options else "an existing config"
    extra = PLUGIN_EXTRAS.get((group, option))
    if extra is not None:
        allowed += f" ({option} comes with the {extra} extra: pip install 'sim[{extra}]')"
    return ConfigError(group or "config", option or missing, allowed)


def _override_error(error: BaseException, overrides: Sequence[str]) -> ConfigError:
    """The override Hydra refused, named by the key it quotes (the longest match wins, so
    ``cluster.scaler.enabled`` is blamed rather than ``cluster``), and why."""
    from omegaconf.errors import OmegaConfBaseException

    message = first_line(error)
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
    bare = key.lstrip("+~")
    cause = error.__cause__
    mapping = value.lstrip().startswith("{")
    if mapping and isinstance(cause, OmegaConfBaseException) and "not in struct" in str(cause):
        # A mapping given for an existing mapping is merged into it, and the new one
        # names a key the old one lacks (a distribution of another kind, say).
        missing = re.search(r"Key '([^']+)' is not in struct", str(cause))
        inner = missing.group(1) if missing else "?"
        return ConfigError(
            key,
            value,
            f"a mapping is merged into the existing {bare}, which has no key '{inner}' "
            f"(to replace it whole: '~{bare}' '+{bare}={value}')",
        )
    if isinstance(cause, OmegaConfBaseException) and "not in struct" not in str(cause):
        return ConfigError(key, value, first_line(cause))
    if "Could not override" in message or "not in struct" in message:
        return ConfigError(key, value, "an existing key (add a new one with +key=value)")
    if "Could not delete" in message:
        value_is = re.search(r"The value of '[^']+' is (.*) and not", message)
        if value_is:
            return ConfigError(key, value, f"its value ({value_is.group(1)}) to delete it")
        return ConfigError(key, value or "(delete)", "an existing key to delete")
    return ConfigError(key, value, message)


def parameters(cfg: Any) -> ScenarioParams:
    """A composed config (from `load_config`, or a plain mapping) validated into the
    parameters of a run.

    Raises:
        ConfigError: the config is not valid.
    """
    return scenario_params(to_plain(cfg))


def simulate(cfg: Any, progress: ProgressCallback | None = None) -> Result:
    """Validate a config (from `load_config`, or a plain mapping) and run it.

    Args:
        cfg: the configuration.
        progress: called with (simulated now, horizon) once per sample period.

    Raises:
        ConfigError: the config is not valid; nothing was simulated.
    """
    return run_scenario(parameters(cfg), progress)


_composed: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}


def compose(overrides: Sequence[str] = (), config_name: str = CONFIG_NAME) -> dict[str, Any]:
    """The composed configuration as plain values, remembered for this process: a study
    or a demo that composes the same overrides again pays nothing.

    Raises:
        ConfigError: as `load_config`.
    """
    memo = (config_name, tuple(overrides))
    if memo not in _composed:
        _composed[memo] = to_plain(load_config(overrides, config_name))
    return _composed[memo]


__all__ = [
    "CONFIG_NAME",
    "ConfigError",
    "compose",
    "load_config",
    "parameters",
    "simulate",
    "to_plain",
]
