"""A discrete-event simulator of container orchestration.

The public API:

    import sim
    cfg = sim.load_config(["cluster.pools.node.count=5"])  # compose configs/ as `sim` does
    result = sim.simulate(cfg)                              # validate, run, collect
    result.summary["startup_s_p95"]                         # flat metrics (sim.RunSummary)
    frames = result.frames()                                # pandas: summary, timeseries,
    frames.replicas                                         # replicas, pulls, events
    result.write("out/")                                    # summary.json, events.csv, ...
    table = sim.run_many({"platform": ["vm", "container"]}, replications=3)  # a DataFrame
    sim.read_result("outputs/2026-12-07/10-00-00")          # a run folder read back
    sim.write_replay(result, "replay.html")                 # the run, played in a browser

Importing `sim` is cheap: the simulator (and pandas, Hydra, matplotlib) is loaded when
first used; `run_many` is `sim.batch.many.run_many`, `read_result` is
`sim.output.reading.read_result` and `write_replay` is `sim.teach.replay.write_replay`,
loaded on first use too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sim.core.errors import ConfigError

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from sim.api import ProgressCallback
    from sim.batch.many import run_many
    from sim.output.reading import read_result
    from sim.output.results import Result
    from sim.output.run_summary import RunSummary
    from sim.teach.replay import write_replay

__all__ = [
    "ConfigError",
    "Result",
    "RunSummary",
    "load_config",
    "read_result",
    "run_many",
    "simulate",
    "write_replay",
]

_LAZY = {
    "Result": ("sim.output.results", "Result"),
    "RunSummary": ("sim.output.run_summary", "RunSummary"),
    "read_result": ("sim.output.reading", "read_result"),
    "run_many": ("sim.batch.many", "run_many"),
    "write_replay": ("sim.teach.replay", "write_replay"),
}


def __getattr__(name: str) -> Any:
    """``sim.__version__`` and the public names below, loaded when first asked for."""
    if name == "__version__":
        from sim.core.provenance import version

        return version()
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, "__version__"])


def load_config(
    overrides: Sequence[str] = (),
    config_name: str = "config",
    config_dir: str | os.PathLike[str] | None = None,
) -> DictConfig:
    """Compose the packaged ``configs/`` tree with overrides, exactly as the CLI does.

    Args:
        overrides: Hydra overrides, as on the command line (``platform=vm``).
        config_name: the primary config.
        config_dir: a folder of your own configs, searched before the packaged ones
            (its group options join the packaged groups; its primary config, if it has
            one named `config_name`, is used instead).

    Hydra's global state is left as it was: calling this inside your own
    ``@hydra.main`` application does not disturb it.

    Raises:
        ConfigError: an override or folder that does not compose.
    """
    from sim.api import load_config as compose

    return compose(overrides, config_name, config_dir=config_dir)


def simulate(cfg: Any, progress: bool | ProgressCallback | None = None) -> Result:
    """Validate a config (from `load_config`, or a plain mapping) and run it.

    Args:
        cfg: the configuration.
        progress: True for a bar of simulated time on standard error; or a function
            called with (simulated now, horizon) once per sample period.

    Raises:
        ConfigError: the config is not valid; nothing was simulated.
    """
    from sim.api import simulate as run

    if not isinstance(progress, bool):
        return run(cfg, progress)
    from sim.api import parameters
    from sim.output.report import simulated_time_bar
    from sim.scenario import run_scenario

    params = parameters(cfg)
    with simulated_time_bar(params.horizon_s, progress) as advance:
        return run_scenario(params, advance)
