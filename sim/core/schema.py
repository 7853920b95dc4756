"""Reading parameter dataclasses from config mappings: one reader for every setting.

A config mapping (as YAML gives it) is read into a frozen parameter dataclass field by
field, as the field's type and `sim.core.settings.Setting` say: ``5min`` into seconds for
a duration, ``45MB`` into bytes for a size, a range or a list of words checked, a nested
mapping into a nested dataclass, a list into a tuple, a mapping of named entries into a
mapping of dataclasses, and a *kind* of a family chosen by its selector key
(``{kind: poisson, rate_per_s: 20}``). A key the config leaves out (or sets to null)
takes the dataclass default; a key the dataclass does not have is an error, so a
misspelt key never falls back to a default silently. A class may say why it refuses a
key a user may well write there (``REFUSED_KEYS = {"min_capacity": "set once, on the
composite"}``); the error then gives that reason instead of the known keys.

Every error is a `ConfigError` naming the full key (``workload.traffic.arrivals.rate_per_s``),
the value and what is allowed, raised before anything is simulated.

Chosen over Hydra's structured configs: those type-check while composing, but cannot
read human units into SI numbers, nor choose a dataclass by a ``kind`` key, and they
would tie the parameter classes (which the model uses) to OmegaConf.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from sim.core.distributions import Distribution, parse_distribution
from sim.core.errors import ConfigError
from sim.core.settings import (
    Family,
    Setting,
    config_key,
    default_of,
    has_default,
    setting_of,
)
from sim.core.units import parse_bandwidth, parse_cpu, parse_duration, parse_size

T = TypeVar("T")

_KINDS = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    tuple: "a list",
    dict: "a mapping",
}


def kind_of(value: object) -> str:
    """How a value reads to a user: ``a string``, ``a list``..."""
    if isinstance(value, Mapping):
        return "a mapping"
    return _KINDS.get(type(value), type(value).__name__)


def short(value: object) -> str:
    """A value as an error message shows it (at most 60 characters)."""
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def read(cls: type[T], data: object, key: str, *, name: str | None = None) -> T:
    """An instance of the parameter dataclass `cls` from a config mapping.

    Args:
        cls: a dataclass whose fields are settings.
        data: the mapping (None: every field at its default).
        key: its full dotted config key, for messages ("" at the root).
        name: the entry's name, for a field marked ``entry_name``.

    Raises:
        ConfigError: a missing required key, an unknown key, a value of the wrong type
            or outside its range, naming the full key.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(key or "config", short(data), f"a mapping, not {kind_of(data)}")
    hints = _hints(cls)
    fields = [
        f
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.init and not setting_of(f).derived
    ]
    known = [config_key(f) for f in fields if not setting_of(f).entry_name]
    refused: Mapping[str, str] = getattr(cls, "REFUSED_KEYS", {})
    for given in data:
        if given not in known:
            path = f"{key}.{given}" if key else str(given)
            if given in refused:
                raise ConfigError(path, short(data[given]), refused[given])
            listed = ", ".join(sorted(known)) or "none"
            raise ConfigError(path, short(data[given]), f"not a known key here (known: {listed})")
    values: dict[str, Any] = {}
    for field in fields:
        meta = setting_of(field)
        if meta.entry_name:
            values[field.name] = name if name is not None else key.rpartition(".")[2]
            continue
        ckey = config_key(field)
        path = f"{key}.{ckey}" if key else ckey
        raw = data.get(ckey)
        if raw is None:
            if not has_default(field):
                raise ConfigError(path, "missing", "a value is required")
            continue
        values[field.name] = convert(hints[field.name], raw, path, meta)
    try:
        return cls(**values)
    except ConfigError as error:
        raise error.under(key) if key else error from None


def read_kind(family: Family, data: object, key: str, *, name: str | None = None) -> Any:
    """The parameters of the kind of `family` a config entry chooses.

    The entry is a mapping with the family's selector (``kind: poisson``) and that kind's
    settings, or just the kind's name when every setting keeps its default.

    Raises:
        ConfigError: no selector, an unknown kind, or a bad setting of the kind.
    """
    if isinstance(data, str):
        if data not in family:
            raise ConfigError(key, data, _one_of(family))
        return read(family[data].params, {}, key, name=name)
    if not isinstance(data, Mapping):
        raise ConfigError(key, short(data), f"a mapping with {family.selector}: {_one_of(family)}")
    chosen = data.get(family.selector)
    if not isinstance(chosen, str) or chosen not in family:
        shown = "missing" if chosen is None else short(chosen)
        raise ConfigError(f"{key}.{family.selector}", shown, _one_of(family))
    rest = {k: v for k, v in data.items() if k != family.selector}
    return read(family[chosen].params, rest, key, name=name)


def _one_of(family: Family) -> str:
    """Every kind of `family`, for an error (listing them loads every kind's module)."""
    return "one of " + ", ".join(family.names())


def _union_arms(hint: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(hint)
    return None


def _arm_written(arms: list[Any], value: object) -> Any | None:
    """The arm of a union a config value is written for: a mapping for a dataclass arm,
    a list for a tuple arm, a word for ``str``; None if it is written for none."""
    for arm in arms:
        if isinstance(value, Mapping) and dataclasses.is_dataclass(arm):
            return arm
        if isinstance(value, list | tuple) and typing.get_origin(arm) is tuple:
            return arm
        if isinstance(value, str) and arm is str:
            return arm
        if isinstance(value, str) and typing.get_origin(arm) is typing.Literal:
            return arm
        if isinstance(value, bool) and arm is bool:
            return arm
        if isinstance(value, int | float) and not isinstance(value, bool) and arm in (int, float):
            return arm
    return None


def _words_of(arms: list[Any]) -> list[str] | None:
    """Every value a union of booleans and words allows (``true, false, auto``), so a
    refusal lists them all; None when an arm is not such a choice."""
    words: list[str] = []
    for arm in arms:
        if arm is bool:
            words += ["true", "false"]
        elif typing.get_origin(arm) is typing.Literal:
            words += [str(choice) for choice in typing.get_args(arm)]
        else:
            return None
    return words


def _arm_for(arms: list[Any], value: object) -> Any:
    """The arm of a union a config value is written for (see `_arm_written`); else the
    first arm."""
    written = _arm_written(arms, value)
    return arms[0] if written is None else written


def convert(hint: Any, value: object, key: str, meta: Setting) -> Any:
    """One config value as the field's type and setting say (see the module docstring)."""
    arms = _union_arms(hint)
    if arms is not None:
        others = [arm for arm in arms if arm is not type(None)]
        if value is None and len(others) < len(arms):
            return None
        if meta.expected and _arm_written(others, value) is None:
            raise ConfigError(key, short(value), meta.expected)
        words = _words_of(others)
        if words is None:
            return convert(_arm_for(others, value), value, key, meta)
        try:
            return convert(_arm_for(others, value), value, key, meta)
        except ConfigError:
            raise ConfigError(key, short(value), "one of " + ", ".join(words)) from None
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(key, short(value), f"a list, not {kind_of(value)}")
        element = typing.get_args(hint)[0]
        return tuple(
            convert(element, item, f"{key}[{index}]", meta) for index, item in enumerate(value)
        )
    if origin in (Mapping, dict) or hint in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise ConfigError(key, short(value), f"a mapping, not {kind_of(value)}")
        args = typing.get_args(hint)
        element = args[1] if len(args) == 2 else Any
        return {
            str(name): _entry(element, item, f"{key}.{name}", meta, str(name))
            for name, item in value.items()
        }
    return _entry(hint, value, key, meta, None)


def _entry(hint: Any, value: object, key: str, meta: Setting, name: str | None) -> Any:
    if meta.family is not None:
        if hint is str:
            return _word(value, key, meta.family.names())
        return read_kind(meta.family, value, key, name=name)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return read(hint, value, key, name=name)
    if hint is Any:
        return value
    if typing.get_origin(hint) is typing.Literal:
        return _word(value, key, tuple(str(a) for a in typing.get_args(hint)))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, short(value), "true or false")
        return value
    if hint is int:
        if meta.unit == "size":
            if meta.off is not None and value == meta.off:
                return meta.off_value
            return _in_range(parse_size(value, key), key, meta, shown=value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, short(value), f"an integer, not {kind_of(value)}")
        return _in_range(value, key, meta)
    if hint is float:
        return _float(value, key, meta)
    if hint is str:
        return _word(value, key, meta.choices)
    if hint is Distribution:
        return parse_distribution(value, key, "number" if meta.unit == "number" else "duration")
    raise TypeError(f"{key}: no reader for fields of type {hint!r}")


def _word(value: object, key: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, short(value), f"a string, not {kind_of(value)}")
    if choices and value not in choices:
        raise ConfigError(key, value, "one of " + ", ".join(choices))
    return value


def _float(value: object, key: str, meta: Setting) -> float:
    if meta.off is not None and value == meta.off:
        return float(meta.off_value)
    if meta.unit == "duration":
        number = parse_duration(value, key)
    elif meta.unit == "size":
        number = float(parse_size(value, key))
    elif meta.unit == "bandwidth":
        number = parse_bandwidth(value, key)
    elif meta.unit == "cpu":
        number = parse_cpu(value, key)
    else:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, short(value), "a finite number")
        number = float(value)
        if not math.isfinite(number):
            raise ConfigError(key, short(value), "a finite number")
    return _in_range(number, key, meta, shown=value)


def _in_range(number: T, key: str, meta: Setting, shown: object = None) -> T:
    value: Any = number
    display = number if shown is None else shown
    if meta.above is not None and not value > meta.above:
        words = {"duration": "a duration", "size": "a size", "bandwidth": "a bandwidth"}
        raise ConfigError(
            key, display, f"{words.get(meta.unit or '', 'a number')} above {meta.above:g}"
        )
    if meta.minimum is not None and value < meta.minimum:
        bound = f"at least {meta.minimum:g}"
        if meta.maximum is not None:
            bound += f" and at most {meta.maximum:g}"
        raise ConfigError(key, display, _unit_words(bound, meta))
    if meta.maximum is not None and value > meta.maximum:
        raise ConfigError(key, display, _unit_words(f"at most {meta.maximum:g}", meta))
    return number


def _unit_words(bound: str, meta: Setting) -> str:
    names = {"duration": " seconds", "size": " bytes", "bandwidth": " bytes/s"}
    return bound + names.get(meta.unit or "", "")


def defaults(cls: type) -> dict[str, Any]:
    """Each setting of `cls` with a default, by config key: the defaults as values."""
    return {
        config_key(field): default_of(field)
        for field in dataclasses.fields(cls)
        if field.init
        and has_default(field)
        and not setting_of(field).entry_name
        and not setting_of(field).derived
    }


def config_keys(cls: type) -> tuple[str, ...]:
    """Every config key a dataclass reads (its settings, not its derived fields)."""
    return tuple(
        config_key(field)
        for field in dataclasses.fields(cls)
        if field.init and not setting_of(field).entry_name and not setting_of(field).derived
    )
