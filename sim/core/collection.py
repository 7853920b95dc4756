"""Pausing Python's cyclic garbage collector where it finds nothing but costs time."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_garbage_left = False
"""Whether a paused block ended without collecting the cycles it left."""


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block; resume it after, as it was.

    Two places allocate many long-lived objects and make little garbage while they run,
    so the collector rescans them again and again for nothing:

    * a run holds millions of live objects (events, pulls in flight, records): collecting
      took a fifth of a 30,000-host storm's time even with high thresholds;
    * importing the simulator (SimPy, numpy, Hydra and the model: tens of thousands of
      functions, classes and constants): collections during the imports cost a
      ``sim-docker`` verb 10 to 15 ms of its 0.25 s.

    Reference counting still frees what is not in a cycle at once. On the way out, what
    the block left alive goes straight to the oldest generation (``gc.freeze`` then
    ``gc.unfreeze``), as it would have after surviving the collections the pause skipped;
    otherwise the first young collection after the pause scans every object the block
    allocated (0.4 s after a 10,000-host storm, a quarter of the run). The cycles a block
    leaves (a finished run's model is one large cycle) are collected when the next paused
    block begins: a process that runs many scenarios holds at most one run's garbage, and
    a process that runs one never pays for it.
    """
    global _garbage_left
    was_enabled = gc.isenabled()
    if was_enabled:
        collect_left_garbage()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.unfreeze()
            _garbage_left = True
            gc.enable()


def collect_left_garbage() -> None:
    """Collect the cycles the last paused block left, if it left any (see
    `collection_paused`): for a program that measures a run as if it were its process's
    only one."""
    global _garbage_left
    if _garbage_left:
        gc.collect()
        _garbage_left = False
