"""Block uniforms: the same numbers as one `rng.random()` call at a time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.uniforms import BlockUniforms


@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    block_size=st.integers(min_value=1, max_value=50),
    count=st.integers(min_value=0, max_value=200),
)
def test_same_sequence_as_scalar_draws(seed: int, block_size: int, count: int) -> None:
    blocks = BlockUniforms(np.random.default_rng(seed), block_size)
    scalar = np.random.default_rng(seed)
    assert [blocks.random() for _ in range(count)] == [scalar.random() for _ in range(count)]


def test_rejects_empty_blocks() -> None:
    with pytest.raises(ValueError):
        BlockUniforms(np.random.default_rng(0), 0)
