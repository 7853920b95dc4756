"""The console scripts' entry points: each imports its program with the cyclic garbage
collector paused, then runs it.

A command line is waited for by a person, and most of a short command's time is its
imports (SimPy, numpy, Hydra and the model), during which the collector runs
again and again over objects that all stay alive (`sim.core.collection`).

numpy's OpenBLAS starts a thread per core when numpy is imported; the simulator does no
linear algebra (numpy draws its random numbers), so the programs ask for one thread
unless the environment says otherwise: on two cores the pool cost a ``sim-docker`` verb
0.05 to 0.1 s of CPU (wall time too when the cores are busy), and its workers inherit
the setting.

``--version`` alone is answered here, before any program is imported, the same way by
every script: the simulator's name and version (`sim.core.provenance`).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from sim.core.collection import collection_paused
from sim.core.provenance import version_line

PROGRAMS: dict[str, tuple[str, str]] = {
    "sim": ("sim.cli.main", "main"),
    "sim-report": ("sim.cli.main", "report_main"),
    "sim-demo": ("sim.teach.demos", "main"),
    "sim-docker": ("sim.teach.docker.cli", "main"),
    "sim-plan": ("sim.cli.plan", "main"),
    "sim-kinds": ("sim.cli.kinds", "main"),
}
"""Each console script's program: its module and function."""


def launch(script: str) -> Any:
    """Import `script`'s program quickly (see the module's doc), then run it; or, asked
    for ``--version`` alone, print the simulator's name and version."""
    module, function = PROGRAMS[script]
    if sys.argv[1:] in (["--version"], ["-V"]):
        print(version_line(script))
        return 0
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with collection_paused():
        program: Callable[[], Any] = getattr(importlib.import_module(module), function)
    return program()


def sim() -> Any:
    return launch("sim")


def sim_report() -> Any:
    return launch("sim-report")


def sim_demo() -> Any:
    return launch("sim-demo")


def sim_docker() -> Any:
    return launch("sim-docker")


def sim_plan() -> Any:
    return launch("sim-plan")


def sim_kinds() -> Any:
    return launch("sim-kinds")
