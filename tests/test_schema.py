"""The one config reader: parameter dataclasses read from mappings as their fields say."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.distributions import Constant, Distribution, LogNormal
from sim.core.errors import ConfigError
from sim.core.schema import defaults, read, read_kind
from sim.core.settings import Family, config_key, setting


@dataclass(frozen=True)
class Link:
    bandwidth_bytes_s: float = setting(unit="bandwidth", doc="each direction")
    latency_s: float = setting(0.0, unit="duration", minimum=0)


@dataclass(frozen=True)
class Engine:
    name: str = setting(entry_name=True)
    max_concurrent_downloads: int = setting(3, minimum=1, doc="moby's default")
    retry_backoff_s: float = setting(5.0, unit="duration")
    extraction_bytes_s: float = setting(math.inf, unit="bandwidth", off="off", off_value=math.inf)
    disk_bytes: int = setting(100 * 10**9, unit="size")
    policy: Literal["IfNotPresent", "Always"] = "IfNotPresent"
    placement: str = setting("spread", choices=("spread", "binpack"))
    start: Distribution = setting(Constant(0.5))
    uplink: Link = field(default_factory=lambda: Link(5e9))
    mirrors: tuple[str, ...] = ()
    links: Mapping[str, Link] = field(default_factory=dict)
    note: str | None = None

    def __post_init__(self) -> None:
        if self.max_concurrent_downloads > 10:
            raise ConfigError("max_concurrent_downloads", self.max_concurrent_downloads, "<= 10")


def test_every_default_when_nothing_is_given() -> None:
    engine = read(Engine, {}, "cluster.engine")
    assert engine == Engine(name="engine")


def test_human_units_become_si() -> None:
    engine = read(
        Engine,
        {
            "retry_backoff": "2min",
            "extraction": "150MB/s",
            "disk": "1.5GiB",
            "start": {"dist": "lognormal", "median": "0.57s", "sigma": 0.25},
            "uplink": {"bandwidth": "1Gbps", "latency": "0.1ms"},
            "mirrors": ["hub"],
            "links": {"a": {"bandwidth": "10Gbps"}},
        },
        "engine",
    )
    assert engine.retry_backoff_s == 120.0
    assert engine.extraction_bytes_s == 150e6
    assert engine.disk_bytes == int(1.5 * 2**30)
    assert engine.start == LogNormal(0.57, 0.25)
    assert engine.uplink == Link(125e6, 0.0001)
    assert engine.mirrors == ("hub",)
    assert engine.links == {"a": Link(1.25e9)}


def test_a_word_for_off() -> None:
    assert read(Engine, {"extraction": "off"}, "e").extraction_bytes_s == math.inf


@pytest.mark.parametrize(
    ("data", "key", "value", "allowed"),
    [
        ({"nosuch": 1}, "cluster.engine.nosuch", "1", "not a known key here (known: "),
        (
            {"max_concurrent_downloads": 0},
            "cluster.engine.max_concurrent_downloads",
            "0",
            "at least 1",
        ),
        (
            {"max_concurrent_downloads": "3"},
            "cluster.engine.max_concurrent_downloads",
            "3",
            "an integer, not a string",
        ),
        (
            {"max_concurrent_downloads": True},
            "cluster.engine.max_concurrent_downloads",
            "True",
            "an integer, not a boolean",
        ),
        (
            {"max_concurrent_downloads": 11},
            "cluster.engine.max_concurrent_downloads",
            "11",
            "<= 10",
        ),
        ({"retry_backoff": "5 parsecs"}, "cluster.engine.retry_backoff", "5 parsecs", "a duration"),
        ({"policy": "Never"}, "cluster.engine.policy", "Never", "one of IfNotPresent, Always"),
        ({"placement": 3}, "cluster.engine.placement", "3", "a string, not an integer"),
        (
            {"uplink": {"latency": "1ms"}},
            "cluster.engine.uplink.bandwidth",
            "missing",
            "a value is required",
        ),
        ({"uplink": [1]}, "cluster.engine.uplink", "[1]", "a mapping, not a list"),
        ({"mirrors": "hub"}, "cluster.engine.mirrors", "hub", "a list, not a string"),
        ({"mirrors": [1]}, "cluster.engine.mirrors[0]", "1", "a string, not an integer"),
        (
            {"links": {"a": {"bandwidth": -1}}},
            "cluster.engine.links.a.bandwidth",
            "-1",
            "a bandwidth",
        ),
    ],
)
def test_bad_values_name_the_full_key(
    data: dict[str, object], key: str, value: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        read(Engine, data, "cluster.engine")
    assert (raised.value.key, str(raised.value.value)) == (key, value)
    assert raised.value.allowed.startswith(allowed)


def test_null_means_the_default() -> None:
    assert read(Engine, {"retry_backoff": None}, "e").retry_backoff_s == 5.0


def test_config_keys_drop_the_unit_suffix() -> None:
    import dataclasses

    keys = [config_key(f) for f in dataclasses.fields(Engine)]
    assert keys[:6] == [
        "name",
        "max_concurrent_downloads",
        "retry_backoff",
        "extraction",
        "disk",
        "policy",
    ]
    assert defaults(Link) == {"latency": 0.0}


def test_kinds_are_chosen_by_their_selector() -> None:
    family = Family("arrival", "kinds_for_schema")
    assert family.names() == ("constant", "poisson")
    chosen = read_kind(family, {"kind": "poisson", "rate_per_s": 20}, "traffic.arrivals")
    assert type(chosen).__name__ == "PoissonParams" and chosen.rate_per_s == 20.0
    assert read_kind(family, "constant", "a") == family["constant"].params()
    with pytest.raises(ConfigError) as raised:
        read_kind(family, {"kind": "storm"}, "traffic.arrivals")
    assert raised.value.line() == (
        "config error: traffic.arrivals.kind: storm: one of constant, poisson"
    )
    with pytest.raises(ConfigError) as raised:
        read_kind(family, {"kind": "poisson", "rate": 2}, "traffic.arrivals")
    assert raised.value.key == "traffic.arrivals.rate"


def test_a_second_family_reads_another_declared_name() -> None:
    members = Family("member", "kinds_for_schema", selector="name", declared="MEMBER")
    assert members.names() == ("steady",)
    assert read_kind(members, {"name": "steady", "rate_per_s": 2}, "m").rate_per_s == 2.0
    assert Family("arrival", "kinds_for_schema").names() == ("constant", "poisson")


@dataclass(frozen=True)
class Band:
    up: float = 0.1
    down: float = 0.1


@dataclass(frozen=True)
class Tolerance:
    said: float | Band = setting(0.1, expected="a number such as 0.1, or a mapping {up, down}")
    unsaid: float | Band = 0.1


def test_a_union_names_its_forms_when_a_value_fits_none() -> None:
    assert read(Tolerance, {"said": 0.2, "unsaid": {"up": 0.3}}, "t") == Tolerance(0.2, Band(0.3))
    assert read(Tolerance, {"said": {"down": 0.0}}, "t").said == Band(0.1, 0.0)
    with pytest.raises(ConfigError) as raised:
        read(Tolerance, {"said": "10%"}, "t")
    assert raised.value.line() == (
        "config error: t.said: 10%: a number such as 0.1, or a mapping {up, down}"
    )
    with pytest.raises(ConfigError) as raised:
        read(Tolerance, {"unsaid": "10%"}, "t")
    assert raised.value.allowed == "a finite number"


@dataclass(frozen=True)
class Member:
    REFUSED_KEYS: ClassVar[Mapping[str, str]] = {"size": "set once, on the group"}

    rate_per_s: float = 1.0


def test_a_refused_key_gives_its_reason() -> None:
    with pytest.raises(ConfigError) as raised:
        read(Member, {"size": 3}, "group.members[0]")
    assert raised.value.line() == "config error: group.members[0].size: 3: set once, on the group"
    with pytest.raises(ConfigError) as raised:
        read(Member, {"colour": "red"}, "m")
    assert raised.value.allowed == "not a known key here (known: rate_per_s)"


@given(st.integers(1, 10), st.floats(0, 1e6, allow_nan=False))
def test_what_is_read_is_what_was_written(downloads: int, backoff_s: float) -> None:
    engine = read(Engine, {"max_concurrent_downloads": downloads, "retry_backoff": backoff_s}, "e")
    assert (engine.max_concurrent_downloads, engine.retry_backoff_s) == (downloads, backoff_s)
