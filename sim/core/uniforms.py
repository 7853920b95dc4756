"""A generator's uniform draws taken in blocks, for code that draws once per request.

A scalar ``rng.random()`` costs about as much as the rest of a simulated request, while
``rng.random(n)`` fills n numbers for little more than the cost of one. numpy's bit
generators produce the same numbers either way, in the same order (PCG64's doubles
come from its 64-bit outputs one by one whether asked for singly or as an array), so
`BlockUniforms.random` returns exactly the sequence ``rng.random()`` would, only
faster.

The price: the generator runs up to one block ahead of what has been used, so the
stream must belong to the block source alone; another user of the same generator would
see numbers further along than without blocks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BLOCK_SIZE = 1024
"""Uniforms fetched at a time: large enough to amortise the numpy call, small enough
that the look-ahead and its memory do not matter."""


def _exhausted() -> float:
    raise StopIteration


class BlockUniforms:
    """Uniform draws in [0, 1) from `rng`, fetched `block_size` at a time.

    Args:
        rng: the generator; from now on it belongs to this object.
        block_size: how many uniforms to fetch at once.
    """

    __slots__ = ("_rng", "_block_size", "_next")

    def __init__(self, rng: np.random.Generator, block_size: int = BLOCK_SIZE) -> None:
        if block_size < 1:
            raise ValueError(f"block size must be at least 1, not {block_size}")
        self._rng = rng
        self._block_size = block_size
        self._next: Callable[[], float] = _exhausted

    def random(self) -> float:
        """The next uniform draw, as ``rng.random()`` would have returned it."""
        try:
            return self._next()
        except StopIteration:
            self._next = iter(self._rng.random(self._block_size).tolist()).__next__
            return self._next()
