"""Named random streams: independent, order-free, reproducible across processes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.streams import RandomStreams


def draws(streams: RandomStreams, name: str, count: int = 5) -> list[float]:
    return list(streams.generator(name).random(count))


@given(
    seed=st.integers(min_value=0, max_value=2**63 - 1),
    names=st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=6, unique=True),
)
def test_a_streams_draws_do_not_depend_on_the_other_streams(seed: int, names: list[str]) -> None:
    alone = draws(RandomStreams(seed), names[0])
    crowded = RandomStreams(seed)
    for other in reversed(names[1:]):
        draws(crowded, other)
    assert draws(crowded, names[0]) == alone


def test_the_same_name_gives_the_same_generator() -> None:
    streams = RandomStreams(3)
    assert streams.generator("boot") is streams.generator("boot")


def test_names_and_seeds_separate_streams() -> None:
    assert draws(RandomStreams(3), "boot") != draws(RandomStreams(3), "init")
    assert draws(RandomStreams(3), "boot") != draws(RandomStreams(4), "boot")
    assert RandomStreams(3).child_seed("rep/1") != RandomStreams(3).child_seed("rep/2")


def test_negative_seeds_are_refused() -> None:
    with pytest.raises(ValueError):
        RandomStreams(-1)


def test_streams_are_the_same_in_another_process() -> None:
    script = (
        "from sim.core.streams import RandomStreams; "
        "print(list(RandomStreams(11).generator('platform/vm').random(3)))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
        ).stdout
        for hash_seed in ("0", "1")
    }
    assert outputs == {repr(draws(RandomStreams(11), "platform/vm", 3)) + "\n"}
