"""A reference of the configurable kinds, written from their parameter dataclasses.

For every family (platforms, registries, arrival processes, autoscaling policies, ...)
and every kind in it, the settings a config may give: their config keys, defaults in
human units, units and what they do. Generated from the dataclasses, which are the one
place defaults live, so it cannot fall out of date.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from sim.config import defaults
from sim.core.distributions import Distribution
from sim.core.settings import Family, Setting, config_key, default_of, has_default, setting_of

_UNIT_NAMES = {
    "duration": "duration",
    "size": "size",
    "bandwidth": "bandwidth",
    "number": "number",
    "percent": "%",
    "cpu": "vCPU",
}


def show_value(default: Any, meta: Setting) -> str:
    """A default exactly as a config writes it (`sim.config.defaults`, which reads back
    to the default); a section's (a dataclass) is listed below its key."""
    is_distribution = hasattr(default, "sample") and hasattr(default, "describe")
    if dataclasses.is_dataclass(default) and not is_distribution and meta.family is None:
        return "(as below)"
    return _flow(defaults.value(default, meta))


def _flow(written: Any) -> str:
    """A written config value in YAML's flow style, as one would type it."""
    if written is None:
        return "null"
    if isinstance(written, bool):
        return "true" if written else "false"
    if isinstance(written, str):
        return written or '""'
    if isinstance(written, list):
        return "[" + ", ".join(_flow(item) for item in written) + "]"
    if isinstance(written, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in written.items()) + "}"
    return str(written)


def _is_distribution(hint: Any) -> bool:
    return hint is Distribution or (isinstance(hint, type) and hint.__name__ == "Distribution")


def _arms(hint: Any) -> tuple[list[Any], bool]:
    """The forms a hint allows, and whether ``none`` is one of them."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        arms = list(typing.get_args(hint))
        return [a for a in arms if a is not type(None)], type(None) in arms
    return [hint], False


def _nested(hint: Any) -> type | None:
    """The dataclass whose settings are listed under a field: the field's own type, the
    element of a list, or a form of a union (a distribution is written as one value)."""
    arms, _ = _arms(hint)
    for arm in arms:
        if typing.get_origin(arm) is tuple:
            arm = typing.get_args(arm)[0]
        if isinstance(arm, type) and dataclasses.is_dataclass(arm) and not _is_distribution(arm):
            return arm
    return None


def _words(hint: Any, meta: Setting) -> str:
    """One form of a setting's value in words."""
    if meta.family is not None:
        return f"a kind of {meta.family.name}"
    if typing.get_origin(hint) is tuple:
        element = _words(typing.get_args(hint)[0], meta)
        return f"list of {element}" if element else "list"
    if _is_distribution(hint):
        unit = _UNIT_NAMES.get(meta.unit or "", "")
        return f"distribution of {unit or 'duration'}"
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return "{" + ", ".join(config_key(f) for f in dataclasses.fields(hint) if f.init) + "}"
    if meta.unit in _UNIT_NAMES:
        return _UNIT_NAMES[meta.unit]
    if hint is bool:
        return "true/false"
    if hint is int:
        return "integer"
    if hint is float:
        return "number"
    if typing.get_origin(hint) is typing.Literal:
        return " | ".join(str(a) for a in typing.get_args(hint))
    if meta.choices:
        return " | ".join(meta.choices)
    return "text" if hint is str else ""


def _type_words(hint: Any, meta: Setting) -> str:
    """What a setting's value may be, in words (``duration or none``)."""
    arms, optional = _arms(hint)
    words = [w for w in (_words(arm, meta) for arm in arms) if w]
    if optional:
        words.append(meta.off or "null")
    return " or ".join(dict.fromkeys(words))


def _bounds(meta: Setting) -> str:
    parts = []
    if meta.above is not None:
        parts.append(f"> {meta.above:g}")
    if meta.minimum is not None:
        parts.append(f">= {meta.minimum:g}")
    if meta.maximum is not None:
        parts.append(f"<= {meta.maximum:g}")
    return ", ".join(parts)


def settings_rows(params: type, depth: int = 0) -> Iterator[tuple[str, str, str]]:
    """(key, default, what it is) for each setting of a parameter dataclass, the key
    indented by its depth; a nested dataclass's settings (a section, a list's entries, a
    form of a union) follow their key."""
    hints = typing.get_type_hints(params)
    for field in dataclasses.fields(params):
        meta = setting_of(field)
        if not field.init or meta.entry_name or meta.derived:
            continue
        hint = hints[field.name]
        shown = show_value(default_of(field), meta) if has_default(field) else "(required)"
        kind = ", ".join(part for part in (_type_words(hint, meta), _bounds(meta)) if part)
        description = f"{kind}: {meta.doc}" if kind and meta.doc else kind or meta.doc
        yield "  " * depth + config_key(field), shown, description
        nested = _nested(hint) if meta.family is None else None
        if nested is not None:
            yield from settings_rows(nested, depth + 1)


def settings_lines(params: type, indent: str = "    ") -> Iterator[str]:
    """One line per setting of a parameter dataclass: key, default, and what it is, in
    aligned columns (a default too long for its column pushes only its own line)."""
    rows = list(settings_rows(params))
    key_width = max((len(key) for key, _, _ in rows), default=0)
    default_width = min(max((len(shown) for _, shown, _ in rows), default=0), 24)
    for key, shown, description in rows:
        yield f"{indent}{key:<{key_width}}  {shown:<{default_width}}  {description}".rstrip()


def family_lines(family: Family) -> Iterator[str]:
    """A family: its role, then each kind with its settings."""
    yield f"{family.name}: {family.summary}  (chosen by '{family.selector}')"
    for name, kind in family.kinds.items():
        summary = f" - {kind.summary}" if kind.summary else ""
        source = f"  (from {kind.source})" if kind.source else ""
        yield f"  {name}{summary}{source}"
        lines = list(settings_lines(kind.params))
        yield from lines or ["    (no settings)"]
