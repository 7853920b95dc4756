"""Presets carry only what differs from the defaults (see `presets.keys_at_default`)."""

from __future__ import annotations

import importlib.resources
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from presets import keys_at_default

from sim.config.sections import ClusterSpec, PricingSpec, WorkloadSpec
from sim.core.schema import read, read_kind
from sim.core.settings import Family, setting
from sim.model.images.registries import REGISTRIES
from sim.model.network.topology import NetworkParams
from sim.model.platforms import PLATFORMS
from sim.model.service.arrivals import ARRIVALS
from sim.policies.autoscaling import AUTOSCALING

CONFIGS = importlib.resources.files("sim.conf")

FAMILIES = {family.name: family for family in (PLATFORMS, REGISTRIES, ARRIVALS, AUTOSCALING)}

SECTIONS: Mapping[str, type] = {
    "cluster": ClusterSpec,
    "network": NetworkParams,
    "pricing": PricingSpec,
    "workload": WorkloadSpec,
}
"""Groups read as one section."""

PRESETS = [
    (group, entry.name)
    for group in (*SECTIONS, "platform", "registry", "autoscaler")
    for entry in sorted((CONFIGS / group).iterdir(), key=lambda entry: entry.name)
    if entry.name.endswith(".yaml")
]


def kinds_named(defaults_list: list[Any]) -> dict[str, tuple[Family, str]]:
    """The kinds a preset's defaults list composes (``/kinds/<family>/<kind>@<package>``),
    by package."""
    named = {}
    for entry in defaults_list:
        if isinstance(entry, str) and entry.startswith("/kinds/"):
            path, _, package = entry.partition("@")
            _, _, family, kind = path.split("/")
            named[package] = (FAMILIES[family], kind)
    return named


def with_kind(family: Family, kind: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    return {family.selector: kind, **entry}


def read_preset(
    group: str, config: Mapping[str, Any]
) -> list[tuple[object, Mapping[str, Any], str]]:
    """A preset as read: (parameters, the YAML mapping read, its full key) for each part
    with its own defaults (a section, or each kind it composes)."""
    kinds = kinds_named(list(config.get("defaults", [])))
    body = {k: v for k, v in config.items() if k != "defaults"}
    if group in SECTIONS:
        return [(read(SECTIONS[group], body, group), body, group)]
    if group == "autoscaler":
        family, kind = kinds["_here_"]
        entry = with_kind(family, kind, body)
        return [(read_kind(family, entry, group), entry, group)]
    parts = []
    for package, (family, kind) in kinds.items():
        entry = with_kind(family, kind, body.get(package) or {})
        parts.append((read_kind(family, entry, f"{group}.{package}"), entry, f"{group}.{package}"))
    return parts


@pytest.mark.parametrize(("group", "preset"), PRESETS)
def test_presets_set_no_key_to_its_default(group: str, preset: str) -> None:
    config = yaml.safe_load((CONFIGS / group / preset).read_text()) or {}
    for params, entry, key in read_preset(group, config):
        # A list's entries take no defaults from elsewhere, so they may name a default:
        # a command line can change only the keys they name.
        restated = [k for k in keys_at_default(params, entry, key) if "[" not in k]
        assert restated == []


def test_kind_presets_compose_the_kinds_they_name() -> None:
    config = yaml.safe_load((CONFIGS / "registry" / "default.yaml").read_text())
    assert {p: (f.name, k) for p, (f, k) in kinds_named(config["defaults"]).items()} == {
        "hub": ("registry", "public"),
        "mirror": ("registry", "mirror"),
        "ecr": ("registry", "private"),
    }


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


def _round_trips(cls: type, written: Mapping[str, Any], key: str) -> None:
    """Every default written out reads back to exactly the default."""
    import dataclasses
    import typing

    from sim.core.schema import convert
    from sim.core.settings import config_key, default_of, has_default, setting_of

    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        meta = setting_of(field)
        name = config_key(field)
        if not has_default(field) or meta.entry_name or meta.derived or name == "hydra":
            continue
        value = written[name]
        read_back = None if value is None else convert(hints[field.name], value, key, meta)
        assert read_back == default_of(field), f"{key}.{name}: {value!r}"


def test_the_defaults_written_for_the_presets_read_back_exactly() -> None:
    from sim.api import defaults_nodes

    nodes = defaults_nodes()
    sections: dict[tuple[str, str], type] = {
        ("cluster", "_cluster"): ClusterSpec,
        ("network", "_network"): NetworkParams,
        ("pricing", "_pricing"): PricingSpec,
        ("workload", "_workload"): WorkloadSpec,
    }
    for (group, name), cls in sections.items():
        _round_trips(cls, nodes[(group, name)], group)
    for family in FAMILIES.values():
        for kind in family:
            written = nodes[(f"kinds/{family.name}", kind)]
            assert written[family.selector] == kind
            _round_trips(family[kind].params, written, f"{family.name}.{kind}")
