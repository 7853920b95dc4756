"""Reading one mapping of a composed config, key by key, with one-line errors.

A `Section` converts each value once (human units, ranges, choices) and remembers which
keys it read, so that `close` can reject the rest: a misspelt key is an error, never a
silent fallback to a default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sim.core.distributions import Distribution, parse_distribution
from sim.core.errors import ConfigError
from sim.core.units import parse_bandwidth, parse_duration, parse_size

T = TypeVar("T")
REQUIRED: Any = object()


def kind_of(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


class Section:
    """One mapping of the config, read key by key; unknown keys are errors at `close`.

    Args:
        data: the mapping.
        key: its full dotted key, for messages.
    """

    def __init__(self, data: object, key: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(key, short(data), f"a mapping, not {kind_of(data)}")
        self.key = key
        self._data = data
        self._read: set[str] = set()

    def _path(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def has(self, name: str) -> bool:
        return name in self._data and self._data[name] is not None

    def names(self) -> list[str]:
        return [str(name) for name in self._data]

    def items_mapping(self) -> Mapping[str, Any]:
        """The section's mapping as given (for a reader that checks keys itself)."""
        return self._data

    def raw(self, name: str, default: Any = REQUIRED) -> Any:
        self._read.add(name)
        if name not in self._data or self._data[name] is None:
            if default is REQUIRED:
                raise ConfigError(self._path(name), "missing", "a value is required")
            return default
        return self._data[name]

    def _convert(self, name: str, default: Any, convert: Callable[[Any, str], T]) -> T:
        # Defaults are written in human units too ("8GiB"), so they are converted as well.
        return convert(self.raw(name, default), self._path(name))

    def text(self, name: str, default: Any = REQUIRED, choices: tuple[str, ...] = ()) -> str:
        value = self.raw(name, default)
        if not isinstance(value, str):
            raise ConfigError(self._path(name), short(value), f"a string, not {kind_of(value)}")
        if choices and value not in choices:
            raise ConfigError(self._path(name), value, "one of " + ", ".join(choices))
        return value

    def integer(
        self,
        name: str,
        default: Any = REQUIRED,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self._path(name), short(value), f"an integer, not {kind_of(value)}")
        check_range(self._path(name), value, minimum, maximum)
        return value

    def number(
        self,
        name: str,
        default: Any = REQUIRED,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        value = self.raw(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(self._path(name), short(value), "a finite number")
        check_range(self._path(name), value, minimum, maximum)
        return float(value)

    def boolean(self, name: str, default: Any = REQUIRED) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise ConfigError(self._path(name), short(value), "true or false")
        return value

    def size(self, name: str, default: Any = REQUIRED) -> int:
        return self._convert(name, default, parse_size)

    def positive_size(self, name: str, default: Any = REQUIRED) -> int:
        value = self.size(name, default)
        if value <= 0:
            raise ConfigError(self._path(name), self.raw(name, default), "a size above 0")
        return value

    def bandwidth(self, name: str, default: Any = REQUIRED) -> float:
        value = self._convert(name, default, parse_bandwidth)
        if value <= 0:
            raise ConfigError(self._path(name), self.raw(name, default), "a bandwidth above 0")
        return value

    def duration(self, name: str, default: Any = REQUIRED) -> float:
        return self._convert(name, default, parse_duration)

    def distribution(self, name: str, default: Any = REQUIRED) -> Distribution:
        return self._convert(name, default, parse_distribution)

    def section(self, name: str, default: Any = REQUIRED) -> Section:
        return Section(self.raw(name, default), self._path(name))

    def sections(self, name: str, default: Any = REQUIRED) -> dict[str, Section]:
        """A mapping of named sub-sections (``pools``, ``apps``), in config order."""
        outer = self.section(name, default)
        return {entry: outer.section(entry) for entry in outer.names()}

    def items(self, name: str, default: Any = REQUIRED) -> list[Any]:
        value = self.raw(name, default)
        if not isinstance(value, list | tuple):
            raise ConfigError(self._path(name), short(value), f"a list, not {kind_of(value)}")
        return list(value)

    def close(self) -> None:
        """Reject keys that were never read (misspellings, leftovers)."""
        for name in self._data:
            if name not in self._read:
                known = ", ".join(sorted(self._read)) or "none"
                raise ConfigError(
                    self._path(str(name)),
                    short(self._data[name]),
                    f"not a known key here (known: {known})",
                )


def short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_range(key: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ConfigError(
            key,
            value,
            f"at least {minimum:g}" + (f" and at most {maximum:g}" if maximum is not None else ""),
        )
    if maximum is not None and value > maximum:
        raise ConfigError(key, value, f"at most {maximum:g}")
