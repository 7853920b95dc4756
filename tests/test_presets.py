"""Presets carry only what differs from the defaults (see `presets.keys_at_default`)."""

from __future__ import annotations

import importlib.resources
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from presets import keys_at_default

from sim.config.schema import read, read_kind
from sim.core.settings import Family, setting
from sim.policies.autoscaling import AUTOSCALING

CONFIGS = importlib.resources.files("sim.conf")

READERS: Mapping[str, Callable[[Mapping[str, Any]], object]] = {
    "autoscaler": lambda config: read_kind(AUTOSCALING, config, "autoscaler"),
}
"""How each config group's presets are read, by group."""

PRESETS = [
    (group, entry.name)
    for group in READERS
    for entry in sorted((CONFIGS / group).iterdir(), key=lambda entry: entry.name)
    if entry.name.endswith(".yaml")
]


@pytest.mark.parametrize(("group", "preset"), PRESETS)
def test_presets_set_no_key_to_its_default(group: str, preset: str) -> None:
    config = yaml.safe_load((CONFIGS / group / preset).read_text()) or {}
    assert keys_at_default(READERS[group](config), config, group) == []


@dataclass(frozen=True)
class Link:
    latency_s: float = setting(0.001, unit="duration", doc="one way")
    loss: float = setting(0.0, doc="a fraction")


@dataclass(frozen=True)
class Engine:
    name: str = setting(entry_name=True)
    downloads: int = setting(3, doc="at once")
    extraction_bytes_s: float = setting(
        math.inf, unit="bandwidth", off="off", off_value=math.inf, doc="or off"
    )
    uplink: Link = setting(default_factory=Link, doc="to the registry")
    links: tuple[Link, ...] = setting((), doc="more")
    peers: Mapping[str, Link] = setting(default_factory=dict, doc="by name")
    arrivals: Any = setting(None, family=Family("arrival", "kinds_for_schema"), doc="a kind")


def test_keys_at_default_are_found_as_read_at_any_depth() -> None:
    config = {
        "downloads": 3,
        "extraction": "off",
        "uplink": {"latency": "1ms", "loss": 0.5},
        "links": [{"latency": 0.002}, {"loss": 0}],
        "peers": {"a": {"latency": "1ms"}},
        "arrivals": {"kind": "constant", "rate_per_s": 1},
    }
    engine = read(Engine, config, "cluster.engine")
    assert keys_at_default(engine, config, "cluster.engine") == [
        "cluster.engine.downloads",
        "cluster.engine.extraction",
        "cluster.engine.uplink.latency",
        "cluster.engine.links[1].loss",
        "cluster.engine.peers.a.latency",
        "cluster.engine.arrivals.rate_per_s",
    ]


def test_a_whole_default_value_and_null_are_one_key_each() -> None:
    config = {"uplink": {"latency": "1ms"}, "links": [], "downloads": None}
    engine = read(Engine, config, "e")
    assert keys_at_default(engine, config, "e") == ["e.downloads", "e.uplink", "e.links"]
    assert keys_at_default(engine, {}, "e") == []
