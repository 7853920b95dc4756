"""A discrete-event simulator of container orchestration.

The public API (`sim.api`):

    import sim
    cfg = sim.load_config(["cluster.pools.node.count=5"])  # compose configs/ as `sim` does
    result = sim.simulate(cfg)                              # validate, run, collect
    result.summary["startup_s_p95"]; result.events; result.timeseries
    result.write("out/")                                    # summary.json, events.csv, ...

Importing `sim` is cheap: the simulator is loaded when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.core.errors import ConfigError

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from sim.output.results import Result

__all__ = ["ConfigError", "load_config", "simulate"]


def load_config(overrides: list[str] | tuple[str, ...] = ()) -> DictConfig:
    """Compose the packaged ``configs/`` tree with overrides, exactly as the CLI does."""
    from sim.api import load_config as compose

    return compose(overrides)


def simulate(cfg: Any) -> Result:
    """Validate a config (from `load_config`, or a plain mapping) and run it.

    Raises:
        ConfigError: the config is not valid; nothing was simulated.
    """
    from sim.api import simulate as run

    return run(cfg)
