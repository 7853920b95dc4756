"""Pausing Python's cyclic garbage collector where it finds nothing but costs time."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block; resume it after, as it was.

    Two places allocate many long-lived objects and almost no reference cycles, so the
    collector rescans them again and again without finding garbage:

    * a run holds millions of live objects (events, pulls in flight, records): the model
      makes almost no cycles (a simulated day of traffic leaves about 4,000 objects in
      them), while collecting took a fifth of a 30,000-host storm's time even with high
      thresholds;
    * importing the simulator (SimPy, numpy, Hydra and the model: tens of thousands of
      functions, classes and constants): collections during the imports cost a
      ``sim-docker`` verb 10 to 15 ms of its 0.25 s (50 to 70 ms when it still
      imported networkx).

    Reference counting still frees everything else at once.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
