"""Named random streams derived from one root seed.

Every random draw in a run comes from a generator obtained here by name (``"boot/vm"``,
``"failures/host-3"``). A name maps to its own ``numpy.random.SeedSequence`` through a
stable hash of the name, so the streams do not depend on the order in which components
ask for them: adding a component, or a replica, never shifts the draws of the others.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _name_key(name: str) -> tuple[int, ...]:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class RandomStreams:
    """A factory of independent, reproducible generators, one per name.

    Args:
        root_seed: the run's seed (a non-negative integer).
    """

    def __init__(self, root_seed: int) -> None:
        if root_seed < 0:
            raise ValueError(f"root seed must be non-negative, got {root_seed}")
        self.root_seed = root_seed
        self._generators: dict[str, np.random.Generator] = {}

    def generator(self, name: str) -> np.random.Generator:
        """The generator for `name`; the same object each time the same name is asked for."""
        generator = self._generators.get(name)
        if generator is None:
            sequence = np.random.SeedSequence(entropy=self.root_seed, spawn_key=_name_key(name))
            generator = np.random.Generator(np.random.PCG64(sequence))
            self._generators[name] = generator
        return generator

    def child_seed(self, name: str) -> int:
        """A derived integer seed (for a replication or a sub-run), stable across processes."""
        sequence = np.random.SeedSequence(entropy=self.root_seed, spawn_key=_name_key(name))
        return int(sequence.generate_state(1, dtype=np.uint32)[0])
