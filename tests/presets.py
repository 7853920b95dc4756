"""Presets carry only what differs from the defaults: finding the keys that restate one.

A preset (a YAML file of a config group, ``configs/autoscaler/hpa.yaml``) is read into
parameter dataclasses, whose defaults are the one place a default lives. A key that sets
a value equal to its default says nothing, hides which settings the preset really
chooses, and keeps the old value when the default changes; `keys_at_default` lists such
keys so a test can refuse them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sim.core.schema import defaults
from sim.core.settings import config_key, setting_of


def keys_at_default(params: object, config: Mapping[str, Any], key: str = "") -> list[str]:
    """The full keys of `config` set to their setting's default, nested ones included.

    A value is compared as read (``5min`` with 300 seconds) with
    `sim.core.schema.defaults` of its dataclass; a key set to null (the default by
    definition) counts too. A nested mapping, list or mapping of entries is searched
    key by key, unless its whole value is its field's default: then its key alone is
    listed. Keys of `config` that are no setting of `params` (the selector of a kind,
    such as ``policy``) are left alone: reading has already refused unknown keys.

    Args:
        params: the parameter dataclass `config` was read into (by
            `sim.core.schema.read` or `read_kind`).
        config: the mapping as the YAML file gives it.
        key: the full key of `config` (``autoscaler``), the prefix of the keys listed.

    Returns:
        The full dotted keys (``autoscaler.alarms[0].statistic``), in the order of the
        dataclass fields.
    """
    found: list[str] = []
    default_values = defaults(type(params))
    for field in dataclasses.fields(params):  # type: ignore[arg-type]
        meta = setting_of(field)
        name = config_key(field)
        if not field.init or meta.entry_name or meta.derived or name not in config:
            continue
        path = f"{key}.{name}" if key else name
        given = config[name]
        value = getattr(params, field.name)
        if given is None or (name in default_values and value == default_values[name]):
            found.append(path)
        else:
            found += _nested_keys_at_default(value, given, path)
    return found


def _nested_keys_at_default(value: object, given: object, key: str) -> list[str]:
    """The keys at their default inside one value: a dataclass read from a mapping, a
    tuple from a list, a mapping of entries from a mapping."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return keys_at_default(value, given, key) if isinstance(given, Mapping) else []
    if isinstance(value, tuple) and isinstance(given, list | tuple):
        return [
            found
            for index, (item, written) in enumerate(zip(value, given, strict=True))
            for found in _nested_keys_at_default(item, written, f"{key}[{index}]")
        ]
    if isinstance(value, Mapping) and isinstance(given, Mapping):
        return [
            found
            for name, written in given.items()
            for found in _nested_keys_at_default(value[str(name)], written, f"{key}.{name}")
        ]
    return []
