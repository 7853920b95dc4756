"""``sim --help``: the project's own help page, from Hydra's help template
(``configs/hydra/help/sim.yaml``).

The template is Hydra's (``hydra.help.template``); its changing parts come from the
``sim_help`` resolver registered here: the config groups a user chooses from, with
their options (not the internal ``_...`` defaults nodes or ``kinds/...`` groups), and
the root keys with their defaults and meanings, both read from the config tree and the
parameter dataclasses, so the page cannot fall out of date. Lines are wrapped to 80
columns.
"""

from __future__ import annotations

import textwrap

from omegaconf import OmegaConf

from sim.config.reference import settings_rows
from sim.config.sections import RootSpec
from sim.core.provenance import version_line

WIDTH = 80
INTERNAL_GROUPS = ("hydra", "kinds")
"""Groups of the config tree a user does not choose from: Hydra's own and the kinds'
defaults (``kinds/platform/vm``), which the presets compose."""


def _wrapped(name: str, text: str, width: int) -> list[str]:
    """``  name  text`` with `text` wrapped under itself."""
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=f"  {name:<{width}}  ",
        subsequent_indent=" " * (width + 4),
        break_on_hyphens=False,
    )


def group_lines() -> list[str]:
    """Each group a user chooses from (``group=option``) with its options."""
    from hydra.core.global_hydra import GlobalHydra

    loader = GlobalHydra.instance().config_loader()
    groups = sorted(group for group in loader.list_groups("") if group not in INTERNAL_GROUPS)
    width = max((len(group) for group in groups), default=0)
    lines = []
    for group in groups:
        options = [o for o in loader.get_group_options(group) if not o.startswith("_")]
        lines += _wrapped(group, ", ".join(options), width)
    return lines


def root_lines() -> list[str]:
    """Each root key as ``key=default`` with what it is."""
    rows = [(f"{key}={shown}", what) for key, shown, what in settings_rows(RootSpec)]
    rows = [(key, what) for key, what in rows if not key.startswith("hydra=")]
    width = min(max(len(key) for key, _ in rows), 24)
    lines = []
    for key, what in rows:
        if len(key) > width:
            lines.append(f"  {key}")
            key = ""
        lines += _wrapped(key, what, width)
    return lines


_parts: dict[tuple[str, str], str] = {}
"""Each part made so far, by name and the config sources it was read from."""


def help_part(name: str) -> str:
    """One changing part of the help page: ``version``, ``groups`` or ``root``.

    Made once per process and config tree: OmegaConf evaluates the template's
    interpolations whenever a config merges into Hydra's ``help`` node, which every
    config load does several times (each run of a sweep too), and listing the groups
    reads the whole config tree (it was half the CPU time of a plan's short runs).
    """
    from hydra.core.global_hydra import GlobalHydra

    hydra = GlobalHydra.instance()
    sources = repr(hydra.config_loader().get_sources()) if hydra.is_initialized() else ""
    key = (name, sources)
    if key not in _parts:
        if name == "version":
            _parts[key] = version_line()
        elif name == "groups":
            _parts[key] = "\n".join(group_lines())
        elif name == "root":
            _parts[key] = "\n".join(root_lines())
        else:
            raise KeyError(name)
    return _parts[key]


def register() -> None:
    """Make the ``sim_help`` resolver known to OmegaConf (once)."""
    if not OmegaConf.has_resolver("sim_help"):
        OmegaConf.register_new_resolver("sim_help", help_part)
