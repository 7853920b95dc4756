"""A reference of the configurable kinds, written from their parameter dataclasses.

For every family (platforms, registries, arrival processes, autoscaling policies, ...)
and every kind in it, the settings a config may give: their config keys, defaults in
human units, units and what they do. Generated from the dataclasses, which are the one
place defaults live, so it cannot fall out of date.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from sim.core.distributions import Distribution
from sim.core.settings import Family, Setting, config_key, default_of, has_default, setting_of
from sim.core.units import format_bandwidth, format_duration, format_size

_UNIT_NAMES = {
    "duration": "duration",
    "size": "size",
    "bandwidth": "bandwidth",
    "number": "number",
    "percent": "%",
}


def show_value(value: Any, meta: Setting) -> str:
    """A default as a config would write it."""
    if meta.off is not None and value == meta.off_value:
        return meta.off
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "describe") and hasattr(value, "sample"):
        return str(value.describe())
    if isinstance(value, float) and math.isinf(value):
        return "unlimited"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if meta.unit == "duration":
            return format_duration(value)
        if meta.unit == "size":
            return format_size(value)
        if meta.unit == "bandwidth":
            return format_bandwidth(value)
        return f"{value:g}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(show_value(item, meta) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {show_value(v, meta)}" for k, v in value.items()) + "}"
    if value is None:
        return "none"
    if dataclasses.is_dataclass(value):
        return "(below)"
    return str(value)


def _type_words(hint: Any, meta: Setting) -> str:
    if meta.family is not None:
        return f"a kind of {meta.family.name}"
    if typing.get_origin(hint) is tuple:
        element = _type_words(typing.get_args(hint)[0], meta)
        return f"list of {element}" if element else "list"
    if meta.unit in _UNIT_NAMES:
        words = _UNIT_NAMES[meta.unit]
    elif hint is bool:
        words = "true/false"
    elif hint is int:
        words = "integer"
    elif hint is float:
        words = "number"
    elif typing.get_origin(hint) is typing.Literal:
        words = " | ".join(str(a) for a in typing.get_args(hint))
    elif meta.choices:
        words = " | ".join(meta.choices)
    else:
        words = "text" if hint is str else ""
    if hint is Distribution or (isinstance(hint, type) and hint.__name__ == "Distribution"):
        return f"distribution of {words or 'duration'}"
    return words


def _bounds(meta: Setting) -> str:
    parts = []
    if meta.above is not None:
        parts.append(f"> {meta.above:g}")
    if meta.minimum is not None:
        parts.append(f">= {meta.minimum:g}")
    if meta.maximum is not None:
        parts.append(f"<= {meta.maximum:g}")
    return ", ".join(parts)


def settings_lines(params: type, indent: str = "    ") -> Iterator[str]:
    """One line per setting of a parameter dataclass: key, default, unit and doc;
    nested dataclasses are listed under their key."""
    hints = typing.get_type_hints(params)
    for field in dataclasses.fields(params):
        meta = setting_of(field)
        if not field.init or meta.entry_name or meta.derived:
            continue
        hint = hints[field.name]
        default = default_of(field) if has_default(field) else None
        shown = show_value(default, meta) if has_default(field) else "(required)"
        kind = ", ".join(part for part in (_type_words(hint, meta), _bounds(meta)) if part)
        doc = f"  {meta.doc}" if meta.doc else ""
        yield f"{indent}{config_key(field):<28} {shown:<22} {kind}{doc}".rstrip()
        nested = default if dataclasses.is_dataclass(default) else None
        if nested is not None and meta.family is None:
            yield from settings_lines(type(nested), indent + "  ")


def family_lines(family: Family) -> Iterator[str]:
    """A family: its role, then each kind with its settings."""
    yield f"{family.name}: {family.summary}  (chosen by '{family.selector}')"
    for name, kind in family.kinds.items():
        summary = f" - {kind.summary}" if kind.summary else ""
        yield f"  {name}{summary}"
        lines = list(settings_lines(kind.params))
        yield from lines or ["    (no settings)"]
