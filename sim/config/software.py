"""Config readers for images (Dockerfile-like steps) and platforms."""

from __future__ import annotations

import re

from sim.config.params import PlatformParams, Pricing
from sim.config.reader import Section, kind_of, short
from sim.config.schema import read_kind
from sim.core.errors import ConfigError
from sim.model.images import (
    CONFIG_INSTRUCTIONS,
    LAYER_INSTRUCTIONS,
    BuildStep,
    Image,
    ImageSpec,
    build_catalog,
)
from sim.model.platforms import PLATFORMS
from sim.model.registries import RegistryParams

_STEP_INSTRUCTIONS = LAYER_INSTRUCTIONS | CONFIG_INSTRUCTIONS | {"FROM"}


def read_step(value: object, key: str) -> BuildStep:
    """``{RUN: "pip install ...", size: 180MB, compressed: 60MB}`` and the like."""
    step = Section(value, key)
    found = [name for name in step.names() if name in _STEP_INSTRUCTIONS]
    if len(found) != 1:
        allowed = ", ".join(sorted(_STEP_INSTRUCTIONS))
        raise ConfigError(key, short(value), f"exactly one instruction ({allowed}) per step")
    instruction = found[0]
    argument = step.raw(instruction)
    if isinstance(argument, list | tuple):
        import json

        argument = json.dumps([str(word) for word in argument])
    elif not isinstance(argument, str | int | float) or isinstance(argument, bool):
        raise ConfigError(f"{key}.{instruction}", short(argument), "a string or a list of strings")
    if instruction in LAYER_INSTRUCTIONS:
        size_bytes = step.size("size")
        compressed_bytes = step.size("compressed", size_bytes)
        if compressed_bytes > size_bytes * 2 + 1024:
            raise ConfigError(
                f"{key}.compressed",
                step.raw("compressed"),
                "a compressed size not far above the uncompressed size",
            )
        built = BuildStep(
            instruction, str(argument), size_bytes, compressed_bytes, step.text("content", "")
        )
    else:
        built = BuildStep(instruction, str(argument))
    step.close()
    return built


TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
"""A tag as the OCI distribution spec allows it."""


def read_tag(entry: Section) -> str:
    """An image's ``tag``: a string (or a whole number, as YAML reads ``tag: 7``) that the
    distribution spec allows; ``latest`` when absent."""
    value = entry.raw("tag", "latest")
    key = f"{entry.key}.tag"
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(
            key, short(value), f'a tag such as "1.4.2" (a string; quote it), not {kind_of(value)}'
        )
    text = str(value)
    if not TAG.fullmatch(text):
        raise ConfigError(
            key, text, "letters, digits, _ . - (at most 128, not starting with . or -)"
        )
    return text


def read_images(section: Section, registries: tuple[RegistryParams, ...]) -> dict[str, Image]:
    origins = {registry.name for registry in registries if registry.upstream_name is None}
    specs = {}
    for name in section.names():
        entry = section.section(name)
        registry = entry.text("registry")
        if registry not in origins:
            raise ConfigError(
                f"{entry.key}.registry",
                registry,
                "a registry that is not a mirror: " + ", ".join(sorted(origins)),
            )
        steps = tuple(
            read_step(value, f"{entry.key}.steps[{index}]")
            for index, value in enumerate(entry.items("steps"))
        )
        specs[name] = ImageSpec(
            name, entry.text("repository", name), read_tag(entry), registry, steps
        )
        entry.close()
    if not specs:
        raise ConfigError(section.key, "none", "at least one image")
    return build_catalog(specs, key=section.key)


def read_platforms(section: Section, pricing: Pricing) -> dict[str, PlatformParams]:
    """The loaded platforms by name: each a kind of `PLATFORMS`; an instance type it
    names must be priced."""
    platforms: dict[str, PlatformParams] = {}
    for name in section.names():
        section.raw(name)
        key = f"{section.key}.{name}"
        params = read_kind(PLATFORMS, section.items_mapping()[name], key, name=name)
        instance_type = getattr(params, "instance_type", None)
        if isinstance(instance_type, str) and instance_type not in pricing.instance_types:
            raise ConfigError(
                f"{key}.instance_type",
                instance_type,
                "an instance type of pricing: " + ", ".join(pricing.instance_types),
            )
        platforms[name] = params
    if not platforms:
        raise ConfigError(section.key, "none", "at least one platform (platform=container)")
    return platforms
