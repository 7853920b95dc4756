"""Parameters declared once: a dataclass field carries its unit, range, choices and doc.

Every configurable thing in the simulator — a platform, a registry, an arrival process,
an autoscaling policy — has a frozen parameter dataclass. Its fields are the settings;
`setting` attaches what a config reader and a reference page need to know about each:
its unit (a field in seconds reads ``5min``), its allowed range or words, its config
key when that differs from the field's name, and one line of documentation. The
dataclass default is the setting's default, and the only place it is written.

A *kind* is one way of doing a thing (``poisson`` arrivals, the ``vm`` platform); a
*family* is the set of kinds that can fill one role. Each kind lives in its own module
of its family's package and declares itself there (``KIND = Kind(...)``); the family
finds its kinds by listing the package, so adding a kind is adding a module. Another
installed package adds kinds to a family through the ``sim.kinds`` entry points
(`sim.core.plugins`).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

Unit = Literal["duration", "size", "bandwidth", "number", "percent", "cpu"]
"""How a field's config value is written: ``duration`` (``5min`` → seconds), ``size``
(``45MB`` → bytes), ``bandwidth`` (``1Gbps`` → bytes/s); ``number`` and ``percent`` are
plain numbers (a distribution of plain numbers for ``number``); ``cpu`` is vCPUs, a number
or millicores (``70m`` → 0.07)."""

_SUFFIXES: Mapping[str, str] = {"duration": "_s", "size": "_bytes", "bandwidth": "_bytes_s"}


@dataclass(frozen=True, slots=True)
class Setting:
    """What a reader needs to know about one field besides its type.

    Attributes:
        unit: how the value is written (see `Unit`); None for plain values.
        minimum: the smallest value allowed (inclusive), for numbers.
        above: a bound the value must exceed (exclusive), for numbers (``0``: positive).
        maximum: the largest value allowed (inclusive), for numbers.
        choices: the words allowed, for strings.
        doc: one line on what the setting does.
        key: its config key, when not the field's name without its unit suffix.
        off: a word that stands for the field's "off" value (e.g. ``extraction: off``).
        off_value: the value `off` stands for.
        entry_name: the field takes the name of the config entry (the mapping key it
            sits under, e.g. a registry's name), not a value of its own.
        family: the field holds a kind of this family (or, for a tuple or mapping, each
            element does), chosen by the family's selector key.
        derived: the field is not read from the config: the config layer fills it from
            the others (a trace file's contents from its path).
        expected: for a field whose type is a union of forms (``float | Tolerances``):
            the forms in words (``a number such as 0.1, or a mapping {scale_up: 0.1}``),
            which the error for a value written in none of them (not a number, mapping,
            list or word the union has an arm for) names; without it, such a value is
            read as the first form and its error names that form only.
    """

    unit: Unit | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""
    key: str | None = None
    off: str | None = None
    off_value: Any = None
    entry_name: bool = False
    family: Family | None = None
    derived: bool = False
    above: float | None = None
    expected: str = ""


_NO_DEFAULT: Any = dataclasses.MISSING


def setting(
    default: Any = _NO_DEFAULT,
    *,
    default_factory: Callable[[], Any] | Any = _NO_DEFAULT,
    unit: Unit | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] = (),
    doc: str = "",
    key: str | None = None,
    off: str | None = None,
    off_value: Any = None,
    entry_name: bool = False,
    family: Family | None = None,
    derived: bool = False,
    above: float | None = None,
    expected: str = "",
) -> Any:
    """A dataclass field with its `Setting` (see there); without a default it is required."""
    metadata = {
        "setting": Setting(
            unit,
            minimum,
            maximum,
            choices,
            doc,
            key,
            off,
            off_value,
            entry_name,
            family,
            derived,
            above,
            expected,
        )
    }
    if default_factory is not _NO_DEFAULT:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def setting_of(field: dataclasses.Field[Any]) -> Setting:
    """The field's `Setting` (an empty one for a field declared without `setting`)."""
    found = field.metadata.get("setting")
    return found if isinstance(found, Setting) else Setting()


def config_key(field: dataclasses.Field[Any]) -> str:
    """The config key of a field: its explicit key, or its name without the unit suffix
    (``retry_backoff_s`` is written ``retry_backoff``)."""
    meta = setting_of(field)
    if meta.key is not None:
        return meta.key
    suffix = _SUFFIXES.get(meta.unit or "")
    if suffix and field.name.endswith(suffix):
        return field.name.removesuffix(suffix)
    return field.name


def has_default(field: dataclasses.Field[Any]) -> bool:
    return (
        field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
    )


def default_of(field: dataclasses.Field[Any]) -> Any:
    """The field's default value (built afresh from a factory)."""
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise LookupError(f"{field.name} has no default")


P = TypeVar("P")


@dataclass(frozen=True)
class Kind(Generic[P]):
    """One kind of a family: its name in configs, its parameters, and how to build it.

    Attributes:
        name: the word a config uses to choose it (``poisson``).
        params: its frozen parameter dataclass.
        build: makes the thing from its parameters and what the family provides (a
            family documents the arguments its kinds' `build` receives).
        summary: one line on what it is, for reference pages.
        source: the package that provides it: empty for the simulator's own kinds, the
            distribution's name for a kind another package adds (`sim.core.plugins`).
    """

    name: str
    params: type[P]
    build: Callable[..., Any]
    summary: str = ""
    source: str = ""


class Family:
    """The kinds that can fill one role, found by listing a package.

    Every module of the package that defines ``KIND`` (a `Kind`), or ``KINDS`` (several
    closely related ones, such as a policy and its preset form), contributes them; kinds
    are kept in name order so listings and error messages do not depend on the file
    system.

    Args:
        name: the family's name (``platform``).
        package: the package holding one module per kind.
        selector: the config key that chooses a kind (``kind``, ``policy``).
        summary: one line on the role.
        declared: the name a module declares its kind under, ``KIND``, and with an ``S``
            its several kinds. A second family over the same modules reads another name:
            the policies a composite autoscaling policy may combine are ``MEMBER``, in
            the modules that declare the policies themselves as ``KIND``.
        homes: the module of each kind not named after it (``none`` in ``fixed``).

    Looking a kind up by name (``family[name]``, ``name in family``) or by its
    parameters (`kind_of`) imports only the module that holds it, when the kind lives
    in the module named after it (dashes as underscores) or in its `homes` entry; the
    whole package is listed, with the kinds other installed packages add through the
    ``sim.kinds`` entry points, only to show every kind or when that module does not
    hold it. Reading a config then loads only the kinds it chooses.
    """

    def __init__(
        self,
        name: str,
        package: str,
        selector: str = "kind",
        summary: str = "",
        declared: str = "KIND",
        homes: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.package = package
        self.selector = selector
        self.summary = summary
        self.declared = declared
        self.homes = dict(homes or {})
        self._kinds: dict[str, Kind[Any]] | None = None

    @property
    def kinds(self) -> Mapping[str, Kind[Any]]:
        """Every kind: the package's, then those other installed packages add."""
        if self._kinds is None:
            found: dict[str, Kind[Any]] = {}
            module = importlib.import_module(self.package)
            for info in pkgutil.iter_modules(module.__path__, f"{self.package}."):
                for each in self._declared_in(info.name):
                    self._add(found, each)
            for each in self._plugged_in():
                self._add(found, each)
            self._kinds = dict(sorted(found.items()))
        return self._kinds

    def _add(self, found: dict[str, Kind[Any]], kind: Kind[Any]) -> None:
        if kind.name in found:
            sources = " and ".join(repr(each.source or "sim") for each in (found[kind.name], kind))
            raise ValueError(f"{self.name}: two kinds named {kind.name!r}, from {sources}")
        found[kind.name] = kind

    @property
    def entry_point_name(self) -> str:
        """The family's name in ``sim.kinds`` entry points (spaces as dashes)."""
        return self.name.replace(" ", "-")

    def _plugged_in(self) -> list[Kind[Any]]:
        """The kinds other installed packages add to this family (`sim.core.plugins`)."""
        from sim.core.plugins import declared_for

        kinds = []
        for declared in declared_for(self.entry_point_name):
            target = declared.target
            found = [target] if isinstance(target, Kind) else self._declared_by(target)
            kinds += [dataclasses.replace(kind, source=declared.source) for kind in found]
        return kinds

    def _declared_in(self, module_name: str) -> list[Kind[Any]]:
        """The kinds the module `module_name` declares for this family."""
        return self._declared_by(importlib.import_module(module_name))

    def _declared_by(self, kind_module: Any) -> list[Kind[Any]]:
        kinds = getattr(kind_module, f"{self.declared}S", ())
        kind = getattr(kind_module, self.declared, None)
        return [
            each
            for each in (*kinds, *([kind] if kind is not None else []))
            if isinstance(each, Kind)
        ]

    def _find(self, name: str) -> Kind[Any] | None:
        """The kind `name`, from its own module when that holds it, else from the listing."""
        if self._kinds is None:
            home = self.homes.get(name, name.replace("-", "_"))
            module_name = f"{self.package}.{home}"
            if home.isidentifier() and not home.startswith("_"):
                importlib.import_module(self.package)
                if importlib.util.find_spec(module_name) is not None:
                    for each in self._declared_in(module_name):
                        if each.name == name:
                            return each
        return self.kinds.get(name)

    def __getitem__(self, name: str) -> Kind[Any]:
        kind = self._find(name)
        if kind is None:
            raise KeyError(name)
        return kind

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.kinds)

    def names(self) -> tuple[str, ...]:
        return tuple(self.kinds)

    def kind_of(self, params: object) -> Kind[Any]:
        """The kind whose parameter class `params` is an instance of."""
        module_name = type(params).__module__
        if self._kinds is None and module_name.startswith(f"{self.package}."):
            for kind in self._declared_in(module_name):
                if type(params) is kind.params:
                    return kind
        for kind in self.kinds.values():
            if type(params) is kind.params:
                return kind
        raise LookupError(f"{type(params).__name__} is no kind of {self.name}")
