"""What a plan asks (the ``plan.*`` keys of ``sim-plan``), read into typed values.

A plan varies some keys of the configuration, keeps the points that meet every
service-level objective, and picks the one that minimizes an objective::

    plan.vary=[workload.service.workers=1:16, cluster.scaler.instance_type=t3.medium,m5.large]
    plan.slo=[latency_s_p95<=0.3, drop_ratio<=0.001]
    plan.minimize=cost_usd
    plan.replications=1
    plan.monotone=[autoscaler.target_value=down]
    plan.screen=fluid

* ``plan.vary``: items ``key=low:high[:step]`` (numbers from low to high, inclusive when
  high is on a step; whole numbers step by 1 unless told, decimals need a step and are
  counted in decimal, so ``0.1:0.3:0.1`` is 0.1, 0.2, 0.3) or ``key=a,b,c`` (choices, in
  the given order, each an override value as Hydra reads it). An item without ``=``
  continues the choices of the item before it, so ``[k=a,b, n=1:4]`` reads as expected.
* ``plan.slo``: items ``<metric><=<number>`` or ``<metric>>=<number>``, each a summary
  metric or a derived one (`sim.batch.plan.metrics`).
* ``plan.minimize``: a metric, or a varied key with numeric values (default ``cost_usd``).
* ``plan.replications``: runs per point (seeds derived per replication, as a sweep does);
  a point meets the objectives only if every one of its runs does.
* ``plan.screen``: ``fluid`` (the default) to screen the grid in the fluid mode and
  confirm in the request mode (`sim.batch.plan.screen`), ``none`` to run every point in
  the request mode.
* ``plan.monotone``: items ``key=up``, ``key=down`` or ``key=none``: how a varied key
  moves capacity. ``up``: a later value never turns a point that meets the objectives into
  one that misses them, and never costs less (more workers, a higher maximum); ``down``:
  the same for an earlier value (a lower target utilization); ``none``: no assumption.
  Numeric ranges are ``up`` unless told, choices ``none``.

A list is ``[a, b]`` or a single item; an item may be quoted with ``'`` or ``"``. Every
mistake is a `ConfigError` naming the key (``plan.slo[0]``), the value and what is
allowed, for the command line's one-line ``config error``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypedDict

from sim.core.errors import ConfigError

PLAN_KEYS = ("vary", "slo", "minimize", "replications", "monotone", "screen")
SCREENS = ("fluid", "none")
DEFAULT_SCREEN = "fluid"
"""Planning questions are mostly about long horizons, where a request-mode run costs
seconds to minutes and a fluid one a tenth of that; the answer is a request-mode result
either way (`sim.batch.plan.screen`). A scenario the fluid mode cannot run (no served
traffic; faults, spot capacity or an slo) is not screened."""
DIRECTIONS = ("up", "down", "none")
DEFAULT_OBJECTIVE = "cost_usd"
MAX_VALUES = 10_000
"""Most values one varied key may take (a range with a step too fine is a mistake)."""

Direction = Literal["up", "down", "none"]
Comparison = Literal["<=", ">="]
Screen = Literal["fluid", "none"]

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_KEY = re.compile(r"\+{0,2}[A-Za-z_][\w-]*(?:\.[\w-]+)*")
_SLO = re.compile(r"\s*([A-Za-z_]\w*)\s*(<=|>=)\s*(\S.*?)\s*")

VARY_ALLOWED = (
    "key=low:high[:step] (numbers, low <= high, a step above 0 and one for decimals) "
    "or key=a,b,c (choices, in order)"
)


class PlanSettings(TypedDict):
    """A plan as the sweeper's settings (``hydra.sweeper.*``): the items of each key."""

    vary: list[str]
    slo: list[str]
    minimize: str
    replications: int
    monotone: list[str]
    screen: str


@dataclass(frozen=True)
class Knob:
    """A varied key and its values.

    Attributes:
        key: the override key as given (with ``+`` or ``++`` when it adds a key).
        values: each value as override text, in the given order.
        numbers: the values as numbers when every one is a number, else None.
        direction: how the key moves capacity (see the module docstring).
        source: the ``plan.vary`` item it was read from.
        is_range: whether the values are a range (``low:high[:step]``), not choices.
    """

    key: str
    values: tuple[str, ...]
    numbers: tuple[float, ...] | None
    direction: Direction
    source: str
    is_range: bool = False

    @property
    def name(self) -> str:
        """The config key, without ``+``: a column of plan.csv."""
        return self.key.lstrip("+")

    def override(self, index: int) -> str:
        """The override that sets this key to its `index`-th value."""
        return f"{self.key}={self.values[index]}"


@dataclass(frozen=True)
class Slo:
    """A service-level objective: a metric at most (``<=``) or at least (``>=``) a bound."""

    metric: str
    comparison: Comparison
    bound: float

    @property
    def text(self) -> str:
        return f"{self.metric}{self.comparison}{self.bound!r}"

    def met_by(self, value: float | None) -> bool:
        """Whether a run's value meets it (a null value meets nothing)."""
        if value is None:
            return False
        return value <= self.bound if self.comparison == "<=" else value >= self.bound


@dataclass(frozen=True)
class PlanSpec:
    """A plan: its varied keys (the grid is their product), objectives and objective."""

    knobs: tuple[Knob, ...]
    slos: tuple[Slo, ...]
    minimize: str
    replications: int
    screen: Screen = "fluid"

    @property
    def grid_size(self) -> int:
        return math.prod(len(knob.values) for knob in self.knobs)

    @property
    def objective_knob(self) -> int | None:
        """The index of the varied key minimized, or None when a metric is."""
        names = [knob.name for knob in self.knobs]
        return names.index(self.minimize) if self.minimize in names else None

    def metrics(self) -> list[str]:
        """The metrics a run is judged on: each objective's, then the minimized one."""
        names = list(dict.fromkeys(slo.metric for slo in self.slos))
        if self.objective_knob is None and self.minimize not in names:
            names.append(self.minimize)
        return names

    def settings(self) -> PlanSettings:
        """The plan as the sweeper's settings, every default made explicit; read back by
        `plan_spec` into the same plan."""
        return {
            "vary": [knob.source for knob in self.knobs],
            "slo": [slo.text for slo in self.slos],
            "minimize": self.minimize,
            "replications": self.replications,
            "monotone": [f"{knob.name}={knob.direction}" for knob in self.knobs],
            "screen": self.screen,
        }


def _top_level(text: str) -> Iterator[tuple[int, str]]:
    """Each character with the depth of brackets it sits in; quoted text counts as
    inside a bracket (depth 1 or more), so its commas and colons do not split.

    Raises:
        ValueError: a quote or bracket is not closed, or closed without being opened.
    """
    depth, quote = 0, ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
            yield depth + 1, char
            continue
        if char in "'\"":
            quote = char
            yield depth + 1, char
            continue
        if char in "[{(":
            depth += 1
            yield depth, char
            continue
        if char in "]})":
            depth -= 1
            if depth < 0:
                raise ValueError(f"'{char}' closes nothing")
            yield depth + 1, char
            continue
        yield depth, char
    if quote or depth:
        raise ValueError("a quote or bracket is not closed")


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """`text` split at each `separator` outside quotes and brackets, parts stripped.

    Raises:
        ValueError: unbalanced quotes or brackets.
    """
    parts: list[str] = []
    current: list[str] = []
    for depth, char in _top_level(text):
        if depth == 0 and char == separator:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _unquote(item: str) -> str:
    if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
        return item[1:-1]
    return item


def split_items(key: str, text: str) -> list[str]:
    """The items of a list-valued plan key: ``[a, b]``, or one item ``a``.

    Raises:
        ConfigError: unbalanced quotes or brackets.
    """
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        stripped = stripped[1:-1]
    try:
        parts = split_top_level(stripped)
    except ValueError as error:
        raise ConfigError(f"plan.{key}", text, f"a list [a, b, ...] ({error})") from None
    return [_unquote(part) for part in parts if part]


def _decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "+0") else text


def _range_values(text: str) -> tuple[tuple[str, ...], tuple[float, ...]] | None:
    """The values of ``low:high[:step]``, or None when `text` is no such range."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(_NUMBER.fullmatch(part) for part in parts):
        return None
    whole = all(_INTEGER.fullmatch(part) for part in parts)
    if len(parts) == 2 and not whole:
        return None
    low, high = Decimal(parts[0]), Decimal(parts[1])
    step = Decimal(parts[2]) if len(parts) == 3 else Decimal(1)
    if low > high or step <= 0:
        return None
    count = int((high - low) / step) + 1
    if count > MAX_VALUES:
        return None
    values = [low + index * step for index in range(count)]
    texts = tuple(str(int(v)) if whole else _decimal_text(v) for v in values)
    return texts, tuple(float(v) for v in values)


def _number_or_none(text: str) -> float | None:
    return float(text) if _NUMBER.fullmatch(text) else None


KnobRead = tuple[str, tuple[str, ...], tuple[float, ...] | None, bool]


def _read_knob(index: int, item: str) -> KnobRead:
    """A ``plan.vary`` item: its key, values, numbers, and whether it is a range.

    Raises:
        ConfigError: the item is not ``key=low:high[:step]`` or ``key=a,b,c``.
    """
    where = f"plan.vary[{index}]"
    key, equals, value = item.partition("=")
    key, value = key.strip(), value.strip()
    if not equals or not _KEY.fullmatch(key) or not value:
        raise ConfigError(where, item, VARY_ALLOWED)
    try:
        colons = len(split_top_level(value, ":")) > 1
        choices = split_top_level(value)
    except ValueError as error:
        raise ConfigError(where, item, f"{VARY_ALLOWED} ({error})") from None
    if colons and len(choices) > 1:
        hint = " (an item without = continues the choices before it, and a range is no choice)"
        raise ConfigError(where, item, VARY_ALLOWED + hint)
    if colons:
        read = _range_values(value)
        if read is None:
            too_many = _range_size(value) > MAX_VALUES
            why = f" (at most {MAX_VALUES} values)" if too_many else ""
            raise ConfigError(where, item, VARY_ALLOWED + why)
        return key, read[0], read[1], True
    if any(not choice for choice in choices):
        raise ConfigError(where, item, VARY_ALLOWED)
    numbers = [_number_or_none(choice) for choice in choices]
    known = tuple(n for n in numbers if n is not None)
    return key, tuple(choices), known if len(known) == len(choices) else None, False


def _range_size(text: str) -> int:
    """How many values a well-formed but long range would have (0 when malformed)."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(_NUMBER.fullmatch(part) for part in parts):
        return 0
    low, high = Decimal(parts[0]), Decimal(parts[1])
    step = Decimal(parts[2]) if len(parts) == 3 else Decimal(1)
    return int((high - low) / step) + 1 if step > 0 and high >= low else 0


def _joined_vary_items(items: Sequence[str]) -> list[tuple[int, str]]:
    """``plan.vary`` items with each item that has no ``=`` joined to the one before
    (the rest of its choices), with the index of the item each starts at.

    Raises:
        ConfigError: the first item has no ``=``.
    """
    joined: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        if "=" in item or not joined:
            joined.append((index, item))
        else:
            start, text = joined[-1]
            joined[-1] = (start, f"{text},{item}")
    return joined


def _read_slo(index: int, item: str, metrics: Collection[str] | None) -> Slo:
    """A ``plan.slo`` item.

    Raises:
        ConfigError: not ``<metric><=<number>`` or ``>=``, or an unknown metric.
    """
    allowed = "<metric><=<number> or <metric>>=<number>"
    if metrics is not None:
        allowed += ", metric one of " + ", ".join(metrics)
    match = _SLO.fullmatch(item)
    if match is None or not _NUMBER.fullmatch(match.group(3)):
        raise ConfigError(f"plan.slo[{index}]", item, allowed)
    metric, comparison, bound = match.group(1), match.group(2), float(match.group(3))
    if (metrics is not None and metric not in metrics) or not math.isfinite(bound):
        raise ConfigError(f"plan.slo[{index}]", item, allowed)
    return Slo(metric, "<=" if comparison == "<=" else ">=", bound)


def _read_directions(items: Sequence[str], names: Sequence[str]) -> dict[str, Direction]:
    """``plan.monotone`` items as a direction per varied key.

    Raises:
        ConfigError: an item that is not ``key=up|down|none`` for a varied key, or a key
            given twice.
    """
    directions: dict[str, Direction] = {}
    allowed = "key=up, key=down or key=none, key one of the varied keys: " + ", ".join(names)
    for index, item in enumerate(items):
        key, _, direction = (part.strip() for part in item.partition("="))
        key = key.lstrip("+")
        if key not in names or direction not in DIRECTIONS or key in directions:
            why = " (each key once)" if key in directions else ""
            raise ConfigError(f"plan.monotone[{index}]", item, allowed + why)
        directions[key] = "up" if direction == "up" else "down" if direction == "down" else "none"
    return directions


def _read_replications(value: str | int) -> int:
    text = str(value).strip()
    if not _INTEGER.fullmatch(text) or int(text) < 1:
        raise ConfigError(
            "plan.replications", value, "a whole number of runs per point, at least 1"
        )
    return int(text)


def read_screen(value: str) -> Screen:
    """The value of ``plan.screen``.

    Raises:
        ConfigError: not ``fluid`` or ``none``.
    """
    text = str(value).strip()
    if text == "fluid":
        return "fluid"
    if text == "none":
        return "none"
    allowed = "fluid (screen in the fluid mode, confirm in the request mode) or none"
    raise ConfigError("plan.screen", value, allowed)


def read_knobs(vary: Sequence[str], monotone: Sequence[str] = ()) -> tuple[Knob, ...]:
    """The varied keys of a plan, from the items of ``plan.vary`` and ``plan.monotone``.

    Raises:
        ConfigError: the first mistake, naming its key (``plan.vary[1]``).
    """
    if not vary:
        raise ConfigError("plan.vary", "(none)", f"at least one item {VARY_ALLOWED}")
    read = []
    seen: set[str] = set()
    for index, item in _joined_vary_items(vary):
        key, values, numbers, is_range = _read_knob(index, item)
        if key.lstrip("+") in seen:
            raise ConfigError(f"plan.vary[{index}]", item, f"{VARY_ALLOWED}, each key once")
        seen.add(key.lstrip("+"))
        read.append((key, values, numbers, is_range, item))
    names = [key.lstrip("+") for key, *_ in read]
    directions = _read_directions(monotone, names)
    return tuple(
        Knob(
            key,
            values,
            numbers,
            directions.get(key.lstrip("+"), "up" if is_range else "none"),
            item,
            is_range,
        )
        for key, values, numbers, is_range, item in read
    )


def plan_spec(
    vary: Sequence[str],
    slo: Sequence[str],
    minimize: str = DEFAULT_OBJECTIVE,
    replications: str | int = 1,
    monotone: Sequence[str] = (),
    metrics: Collection[str] | None = None,
    screen: str = DEFAULT_SCREEN,
) -> PlanSpec:
    """Read a plan from the items of its keys.

    Args:
        vary, slo, monotone: the items of ``plan.vary``, ``plan.slo``, ``plan.monotone``.
        minimize, replications, screen: the values of ``plan.minimize``,
            ``plan.replications`` and ``plan.screen``.
        metrics: the metrics runs will have; None accepts any metric name (the plan was
            checked against the metrics before).

    Raises:
        ConfigError: the first mistake, naming its key (``plan.slo[0]``).
    """
    knobs = read_knobs(vary, monotone)
    names = [knob.name for knob in knobs]
    if not slo:
        allowed = "at least one item <metric><=<number> or <metric>>=<number>"
        raise ConfigError("plan.slo", "(none)", allowed)
    slos = tuple(_read_slo(index, item, metrics) for index, item in enumerate(slo))
    objective = minimize.strip()
    knob = next((k for k in knobs if k.name == objective), None)
    if knob is not None:
        if knob.numbers is None or knob.direction == "down":
            raise ConfigError(
                "plan.minimize",
                minimize,
                "a varied key with numeric values whose later values cost more "
                "(not plan.monotone ...=down), or a metric",
            )
    elif not re.fullmatch(r"[A-Za-z_]\w*", objective) or (
        metrics is not None and objective not in metrics
    ):
        allowed = "a metric or a varied key with numeric values"
        if metrics is not None:
            allowed += " (" + ", ".join([*metrics, *names]) + ")"
        raise ConfigError("plan.minimize", minimize, allowed)
    return PlanSpec(knobs, slos, objective, _read_replications(replications), read_screen(screen))
