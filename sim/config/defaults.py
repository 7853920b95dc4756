"""The defaults of parameter dataclasses, written as a config writes them.

Presets carry only what differs from the defaults, and the defaults live only in the
dataclasses; yet every setting must be in the composed config, so that the command line
can override it (Hydra refuses ``key=value`` for a key the config lacks). So the
defaults are written out from the dataclasses, in human units (``5s``, ``1GiB``,
``10Gbps``), and composed under the presets (`sim.api` stores them in Hydra's config
store: ``_root`` for the root keys, ``<group>/_<section>`` for a section, and
``kinds/<family>/<kind>`` for a kind, which a preset names in its defaults list).

Every value is written so that it reads back to exactly the default (a unit is used only
when it divides the value exactly; otherwise the bare number in the base unit), which a
test checks for every dataclass.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from sim.core.distributions import Constant, Exponential, LogNormal, Normal, Uniform
from sim.core.settings import Family, Setting, config_key, default_of, has_default, setting_of

_DURATIONS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
_SUBSECONDS = (("ms", Fraction(1, 1000)), ("us", Fraction(1, 1_000_000)))
_SIZES = (
    ("TiB", 1024**4),
    ("TB", 1000**4),
    ("GiB", 1024**3),
    ("GB", 1000**3),
    ("MiB", 1024**2),
    ("MB", 1000**2),
    ("KiB", 1024),
    ("kB", 1000),
)
_BANDWIDTHS = (
    ("Tbps", Fraction(1000**4, 8)),
    ("Gbps", Fraction(1000**3, 8)),
    ("Mbps", Fraction(1000**2, 8)),
    ("GB/s", Fraction(1000**3)),
    ("MB/s", Fraction(1000**2)),
    ("MiB/s", Fraction(1024**2)),
    ("kB/s", Fraction(1000)),
)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _with_unit(value: float, units: tuple[tuple[str, Any], ...]) -> str | int | float:
    """`value` in the largest unit that divides it exactly; else the bare number.

    A float is taken as the shortest decimal that reads back to it (``0.1`` is 1/10),
    which is how a config would write it and how the unit parser reads it back.
    """
    exact = Fraction(repr(float(value))) if isinstance(value, float) else Fraction(value)
    for unit, scale in units:
        amount = exact / Fraction(scale)
        if amount >= 1 and amount.denominator == 1:
            return f"{amount.numerator}{unit}"
    return _number(value)


def duration(value: float) -> str | int | float:
    """Seconds as a config writes them: ``5s``, ``2min``, ``50ms``, or a bare number."""
    if value == 0:
        return "0s"
    written = _with_unit(value, _DURATIONS)
    if isinstance(written, str):
        return written
    return _with_unit(value, _SUBSECONDS)


def size(value: int) -> str | int:
    written = _with_unit(value, _SIZES)
    return written if isinstance(written, str) else int(value)


def bandwidth(value: float) -> str | int | float:
    return _with_unit(value, _BANDWIDTHS)


def distribution(value: Any, unit: str) -> Any:
    """A distribution as a config writes it, in one value: a constant as its plain value,
    any other as the string ``"{dist: ..., ...}"`` — so that a preset or the command line
    that gives another distribution replaces it, rather than merging into it."""
    written = _distribution_mapping(value, unit)
    if not isinstance(written, dict):
        return written
    return "{" + ", ".join(f"{name}: {item}" for name, item in written.items()) + "}"


def _distribution_mapping(value: Any, unit: str) -> Any:
    write = duration if unit != "number" else _number
    if isinstance(value, Constant):
        return write(value.value)
    if isinstance(value, LogNormal):
        written = {"dist": "lognormal", "median": write(value.median), "sigma": value.sigma}
        return _bounds(written, value.minimum, value.maximum, write)
    if isinstance(value, Normal):
        written = {"dist": "normal", "mean": write(value.mu), "sd": write(value.sigma)}
        return _bounds(written, value.minimum, value.maximum, write)
    if isinstance(value, Uniform):
        return {"dist": "uniform", "low": write(value.low), "high": write(value.high)}
    if isinstance(value, Exponential):
        return {"dist": "exponential", "mean": write(value.scale)}
    raise TypeError(f"no config form for {value!r}")


def _bounds(written: dict[str, Any], low: Any, high: Any, write: Any) -> dict[str, Any]:
    if low is not None and not (written["dist"] == "normal" and low == 0):
        written["min"] = write(low)
    if high is not None:
        written["max"] = write(high)
    return written


def value(default: Any, meta: Setting) -> Any:
    """One default as a config writes it."""
    if meta.off is not None and default == meta.off_value:
        return meta.off
    if default is None or isinstance(default, bool | str):
        return default
    if hasattr(default, "sample") and hasattr(default, "describe"):
        return distribution(default, meta.unit or "duration")
    if meta.family is not None and dataclasses.is_dataclass(default):
        return chosen_kind(meta.family, default)
    if dataclasses.is_dataclass(default) and not isinstance(default, type):
        return config_defaults(type(default), default)
    if isinstance(default, tuple | list):
        return [value(item, meta) for item in default]
    if isinstance(default, Mapping):
        return {str(k): value(v, meta) for k, v in default.items()}
    if isinstance(default, int | float):
        if isinstance(default, float) and math.isinf(default):
            raise ValueError("an infinite default needs an off word")
        if meta.unit == "duration":
            return duration(default)
        if meta.unit == "size":
            return size(int(default))
        if meta.unit == "bandwidth":
            return bandwidth(default)
        return _number(default) if isinstance(default, float) else default
    raise TypeError(f"no config form for {default!r}")


def config_defaults(cls: type, instance: Any = None) -> dict[str, Any]:
    """Every setting of `cls` that has a default, as a config writes it (required ones
    are left out: a preset gives them). With `instance`, its values instead."""
    written: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        meta = setting_of(field)
        if not field.init or meta.entry_name or meta.derived or field.name == "hydra":
            continue
        if instance is not None:
            written[config_key(field)] = value(getattr(instance, field.name), meta)
        elif has_default(field):
            written[config_key(field)] = value(default_of(field), meta)
    return written


def chosen_kind(family: Family, params: Any) -> Any:
    """A kind's parameters as a setting that chooses it writes them: the kind's name
    when every setting is its default, else the selector with the settings."""
    [name] = [name for name, kind in family.kinds.items() if kind.params is type(params)]
    written = config_defaults(type(params), params)
    if written == config_defaults(type(params)):
        return name
    return {family.selector: name, **written}


def kind_defaults(family: Family, name: str) -> dict[str, Any]:
    """A kind's defaults with its selector, as a preset of the kind starts."""
    return {family.selector: name, **config_defaults(family[name].params)}
