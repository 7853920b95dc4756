"""Placement policies: exact choices on small tables and invariants over random hosts."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.errors import ConfigError
from sim.core.schema import read
from sim.core.settings import setting
from sim.policies.placement import (
    PLACEMENT,
    HostView,
    PlacementPolicy,
    PlacementRequest,
    ProfilePlacement,
    fits,
    make_placement_policy,
)
from sim.policies.placement.binpack import BinPack
from sim.policies.placement.spread import Spread

GIB = 1024**3


def _host(name: str, vcpu_free: float, memory_free_gib: int, replicas: int = 0) -> HostView:
    """A host with 4 vCPU and 16 GiB."""
    return HostView(name, 4.0, vcpu_free, 16 * GIB, memory_free_gib * GIB, replicas)


SMALL = PlacementRequest(vcpu=1.0, memory_bytes=2 * GIB)

TABLE = [
    _host("busy", vcpu_free=1.0, memory_free_gib=4),
    _host("half", vcpu_free=2.0, memory_free_gib=8),
    _host("empty", vcpu_free=4.0, memory_free_gib=16),
    _host("full", vcpu_free=0.5, memory_free_gib=16),
]


def test_spread_picks_most_free_after_placement() -> None:
    assert Spread().choose(SMALL, TABLE) == "empty"


def test_binpack_picks_most_used_that_fits() -> None:
    # "full" would be fuller still, but 0.5 vCPU free does not fit 1 vCPU.
    assert BinPack().choose(SMALL, TABLE) == "busy"


def test_scores_mix_vcpu_and_memory() -> None:
    """Mean of the two fractions: 3/4 vCPU free and 0 memory free (0.375) loses to
    1/4 and 3/4 (0.5) under spread, and wins under binpack."""
    hosts = [
        _host("cpu-rich", vcpu_free=4.0, memory_free_gib=2),
        _host("balanced", vcpu_free=2.0, memory_free_gib=14),
    ]
    assert Spread().choose(SMALL, hosts) == "balanced"
    assert BinPack().choose(SMALL, hosts) == "cpu-rich"


def test_spread_ties_go_to_fewer_replicas_then_order() -> None:
    hosts = [
        _host("a", 2.0, 8, replicas=3),
        _host("b", 2.0, 8, replicas=1),
        _host("c", 2.0, 8, replicas=1),
    ]
    assert Spread().choose(SMALL, hosts) == "b"
    assert Spread().choose(SMALL, hosts[:1]) == "a"


def test_binpack_ties_go_to_order() -> None:
    hosts = [_host("a", 2.0, 8, replicas=3), _host("b", 2.0, 8, replicas=0)]
    assert BinPack().choose(SMALL, hosts) == "a"
    assert BinPack().choose(SMALL, hosts[::-1]) == "b"


@pytest.mark.parametrize("policy", [Spread(), BinPack()])
def test_nothing_fits(policy: PlacementPolicy) -> None:
    assert policy.choose(SMALL, [_host("x", 0.5, 16), _host("y", 4.0, 1)]) is None
    assert policy.choose(SMALL, []) is None


def test_exact_fit_and_float_rounding() -> None:
    """Five replicas of 0.2 vCPU fit on 1 vCPU although 1 - (0.2 + 0.2 + 0.2 + 0.2) is
    below 0.2 in floats."""
    request = PlacementRequest(vcpu=0.2, memory_bytes=GIB)
    vcpu_reserved = 0.0
    for _ in range(4):
        vcpu_reserved += 0.2
    vcpu_free = 1.0 - vcpu_reserved
    assert vcpu_free < 0.2
    assert fits(request, HostView("x", 1.0, vcpu_free, GIB, GIB, 4))
    assert not fits(request, HostView("x", 1.0, vcpu_free - 1e-6, GIB, GIB, 4))
    assert not fits(replace(request, memory_bytes=GIB + 1), _host("x", 4.0, 1))


def test_zero_capacity_resource_scores_zero() -> None:
    hosts = [
        HostView("no-memory", 4.0, 4.0, 0, 0, 0),
        HostView("memory", 4.0, 4.0, 16 * GIB, 16 * GIB, 0),
    ]
    request = PlacementRequest(vcpu=1.0, memory_bytes=0)
    assert Spread().choose(request, hosts) == "memory"
    # Binpack: memory scores 0 used on both, so the tie goes to the earlier host.
    assert BinPack().choose(request, hosts) == "no-memory"
    assert BinPack().choose(request, hosts[::-1]) == "memory"


def test_policies_by_name() -> None:
    assert PLACEMENT.names() == ("binpack", "scheduler", "spread")
    assert all(make_placement_policy(name).name == name for name in PLACEMENT)
    assert isinstance(make_placement_policy("binpack"), BinPack)
    assert isinstance(make_placement_policy("scheduler"), ProfilePlacement)


@dataclass(frozen=True)
class Placed:
    placement: str = setting("spread", family=PLACEMENT)


def test_a_config_names_a_policy_of_the_family() -> None:
    assert read(Placed, {"placement": "binpack"}, "platform.container").placement == "binpack"
    for bad, allowed in (
        ("Spread", "one of binpack, scheduler, spread"),
        ("random", "one of binpack, scheduler, spread"),
        (3, "a string, not an integer"),
    ):
        with pytest.raises(ConfigError) as caught:
            read(Placed, {"placement": bad}, "platform.container")
        assert caught.value.key == "platform.container.placement"
        assert (str(caught.value.value), caught.value.allowed) == (str(bad), allowed)


@st.composite
def host_views(draw: st.DrawFn, name: str) -> HostView:
    vcpu_total = draw(st.sampled_from([0.0, 1.0, 2.0, 4.0, 8.0, 0.5]))
    memory_total_bytes = draw(st.integers(0, 64)) * GIB // 4
    return HostView(
        name=name,
        vcpu_total=vcpu_total,
        vcpu_free=draw(st.floats(0, 1)) * vcpu_total,
        memory_total_bytes=memory_total_bytes,
        memory_free_bytes=draw(st.integers(0, memory_total_bytes)),
        replicas=draw(st.integers(0, 20)),
    )


requests = st.builds(
    PlacementRequest,
    vcpu=st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 3.5]),
    memory_bytes=st.integers(0, 16 * GIB),
)
host_lists = st.integers(0, 8).flatmap(
    lambda count: st.tuples(*(host_views(f"h{index}") for index in range(count))).map(list)
)


@given(st.sampled_from([Spread(), BinPack()]), requests, host_lists)
def test_chosen_host_fits_and_none_only_when_nothing_fits(
    policy: PlacementPolicy, request: PlacementRequest, hosts: list[HostView]
) -> None:
    chosen = policy.choose(request, hosts)
    fitting = [host.name for host in hosts if fits(request, host)]
    if chosen is None:
        assert fitting == []
    else:
        assert chosen in fitting


def _identical_hosts(
    count: int, vcpu: float, memory_bytes: int, placed: list[int]
) -> list[HostView]:
    """`count` identical hosts, host i holding placed[i] replicas of (vcpu, memory)."""
    return [
        HostView(f"h{index}", 8.0, 8.0 - placed[index] * vcpu, 32 * GIB,
                 32 * GIB - placed[index] * memory_bytes, placed[index])
        for index in range(count)
    ]  # fmt: skip


def _place_until_full(
    policy: PlacementPolicy, count: int, request: PlacementRequest
) -> list[list[int]]:
    """Replica counts per host after each placement of `request`, until nothing fits."""
    placed = [0] * count
    history = []
    while chosen := policy.choose(
        request, _identical_hosts(count, request.vcpu, request.memory_bytes, placed)
    ):
        placed[int(chosen[1:])] += 1
        history.append(list(placed))
    return history


same_requests = st.builds(
    PlacementRequest,
    vcpu=st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]),
    memory_bytes=st.integers(1, 12).map(lambda quarters: quarters * GIB // 4 * 8),
)


@given(st.integers(1, 5), same_requests)
def test_binpack_fills_one_host_before_the_next(count: int, request: PlacementRequest) -> None:
    history = _place_until_full(BinPack(), count, request)
    per_host = history[-1][0]
    assert per_host >= 1
    assert history[-1] == [per_host] * count
    for step, placed in enumerate(history, start=1):
        full, partial = divmod(step, per_host)
        assert placed == [per_host] * full + [partial] * (partial > 0) + [0] * (
            count - full - (partial > 0)
        )


@given(st.integers(1, 6), same_requests)
def test_spread_keeps_replica_counts_within_one(count: int, request: PlacementRequest) -> None:
    history = _place_until_full(Spread(), count, request)
    assert history
    for placed in history:
        assert max(placed) - min(placed) <= 1
