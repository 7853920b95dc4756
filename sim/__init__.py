"""A discrete-event simulator of container orchestration.

The public API (`sim.api`):

    import sim
    cfg = sim.load_config(["cluster.pools.node.count=5"])  # compose configs/ as `sim` does
    result = sim.simulate(cfg)                              # validate, run, collect
    result.summary["startup_s_p95"]; result.events; result.timeseries
    result.write("out/")                                    # summary.json, events.csv, ...
    sim.write_replay(result, "replay.html")                 # the run, played in a browser

Importing `sim` is cheap: the simulator is loaded when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.core.errors import ConfigError

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from sim.output.results import Result
    from sim.teach.replay import write_replay

__all__ = ["ConfigError", "load_config", "simulate", "write_replay"]


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


def __getattr__(name: str) -> Any:
    """`write_replay` (`sim.teach.replay.write_replay`: a run's page that plays it in a
    browser), imported when first used so that importing `sim` stays cheap."""
    if name == "write_replay":
        from sim.teach.replay import write_replay

        return write_replay
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
