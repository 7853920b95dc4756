"""A discrete-event simulator of container orchestration.

The public API (`sim.api`)::

    import sim
    cfg = sim.load_config(["cluster.pools.node.count=5"])  # compose configs/ as `sim` does
    result = sim.simulate(cfg)                              # validate, run, collect
    result.summary["startup_s_p95"]; result.events; result.timeseries
    result.write("out/")                                    # summary.json, events.csv, ...
    sim.write_replay(result, "replay.html")                 # the run, played in a browser

Importing `sim` is cheap: the simulator is loaded when first used.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.core.errors import ConfigError

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from sim.output.results import Result

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


def write_replay(
    run: Result | str | os.PathLike[str],
    path: str | os.PathLike[str],
    title: str = "",
    about: str = "",
    story: Sequence[str] | None = None,
) -> Path:
    """Write a run's replay page: one self-contained HTML file that plays the run in a
    browser, with no server and no network (`sim.teach.replay`).

    Args:
        run: a `Result` of a run with ``log: full``, or the folder such a run wrote.
        path: the page to write (an existing folder: its ``replay.html``).
        title: the page's title.
        about: a paragraph under the title.
        story: narrated lines to caption the replay with (default: the run's own).

    Returns:
        The page written.

    Raises:
        sim.teach.replay.ReplayError: the run cannot be replayed (a ValueError whose
            message says why: it kept no events, or its folder does not read back).
        OSError: the page cannot be written.
    """
    from sim.teach.replay import write_replay as write

    return write(run, path, title, about, story)
