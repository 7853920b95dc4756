"""The replay page: any run with ``log: full``, drawn in the browser and scrubbed.

One self-contained HTML file shows, at the time its scrubber points to, every host with
the vCPU and memory its replicas requested, its disk filling with read-only layers (each
coloured by the image whose build step added it, so a shared base shows as one colour
on every image built on it) and with containers' writable layers and VMs' disks, its
containers and VMs coloured by state; the registries and mirrors with the network's
links and the transfers in flight; a timeline of replicas, requests, latency, hosts and
cost with a mark for each autoscaler decision, fault and recovery; and the run's
narration (the demos' own words) as captions in step with the scrubber::

    import sim
    result = sim.simulate(sim.load_config())
    sim.write_replay(result, "replay.html")     # or a run folder instead of the result

``sim-demo <demo> --html DIR`` writes a demo's page.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from sim.core.files import write_atomic
from sim.output.reading import read_result
from sim.output.results import Result
from sim.teach.replay.page import render
from sim.teach.replay.timeline import ReplayError, replay_data

PAGE_NAME = "replay.html"
"""The page's name when `write_replay` is given a folder."""

__all__ = ["PAGE_NAME", "ReplayError", "replay_page", "write_replay"]


def replay_page(
    run: Result | str | os.PathLike[str],
    title: str = "",
    about: str = "",
    story: Sequence[str] | None = None,
) -> str:
    """The replay page of a run (a `Result`, or the folder a run wrote) as HTML text.

    Args:
        run: the run: its `Result`, or its folder (``events.csv`` and ``world.json``
            with the rest, as a run with ``log: full`` writes them).
        title: the page's title (default: the run's seed).
        about: a paragraph under the title.
        story: narrated lines for the captions (default: the run's own narration).

    Raises:
        ReplayError: the run cannot be replayed (it kept no events, or a file of its
            folder is missing or does not read back); the message says why.
    """
    if not isinstance(run, Result):
        folder = Path(run)
        try:
            run = read_result(folder)
        except FileNotFoundError as error:
            raise ReplayError(
                f"{folder}: no {Path(str(error.filename)).name}: not a run folder"
            ) from None
        except OSError as error:
            raise ReplayError(f"{error.filename or folder}: {error.strerror}") from None
        except ValueError as error:
            raise ReplayError(str(error)) from None
    return render(replay_data(run, title, about, story))


def write_replay(
    run: Result | str | os.PathLike[str],
    path: str | os.PathLike[str],
    title: str = "",
    about: str = "",
    story: Sequence[str] | None = None,
) -> Path:
    """Write a run's replay page: one self-contained HTML file that plays the run in a
    browser, with no server and no network.

    Args:
        run: a `Result` of a run with ``log: full``, or the folder such a run wrote.
        path: the page to write (an existing folder: its ``replay.html``).
        title: the page's title (default: the run's seed).
        about: a paragraph under the title.
        story: narrated lines to caption the replay with (default: the run's own
            narration; see `replay_page`).

    Returns:
        The page written.

    Raises:
        ReplayError: the run cannot be replayed (a ValueError whose message says why:
            it kept no events, or its folder does not read back).
        OSError: the page cannot be written (nothing is left half-written).
    """
    target = Path(path)
    if target.is_dir():
        target = target / PAGE_NAME
    write_atomic(target, replay_page(run, title, about, story))
    return target
