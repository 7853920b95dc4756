"""Config readers for images (Dockerfile-like steps) and platforms."""

from __future__ import annotations

import re

from sim.config.infrastructure import read_instance_type
from sim.config.params import BeanstalkPlatformParams, PlatformParams, Pricing
from sim.config.reader import Section, kind_of, short
from sim.core.errors import ConfigError
from sim.model.beanstalk import BeanstalkParams
from sim.model.images import (
    CONFIG_INSTRUCTIONS,
    LAYER_INSTRUCTIONS,
    BuildStep,
    Image,
    ImageSpec,
    build_catalog,
)
from sim.model.platforms import ContainerPlatformParams, VmPlatformParams
from sim.model.registries import RegistryParams
from sim.policies.placement import PLACEMENT

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


def read_container(entry: Section, name: str, placement: str) -> ContainerPlatformParams:
    backoff = entry.section("image_pull_backoff", {})
    params = ContainerPlatformParams(
        name=name,
        placement=placement,
        create=entry.distribution("create", "50ms"),
        runtime_start=entry.distribution(
            "runtime_start", {"dist": "lognormal", "median": "0.57s", "sigma": 0.25}
        ),
        writable_layer_bytes=entry.size("writable_layer", "1MB"),
        image_pull_policy=entry.text(  # type: ignore[arg-type]
            "image_pull_policy", "IfNotPresent", choices=("IfNotPresent", "Always")
        ),
        pull_backoff_initial_s=backoff.duration("initial", 10.0),
        pull_backoff_max_s=backoff.duration("max", 300.0),
        pull_attempts=backoff.integer("attempts", 0, minimum=0),
    )
    backoff.close()
    return params


def read_platforms(section: Section, pricing: Pricing) -> dict[str, PlatformParams]:
    platforms: dict[str, PlatformParams] = {}
    placements = PLACEMENT.names()
    for name in section.names():
        entry = section.section(name)
        kind = entry.text("kind", choices=("container", "vm", "beanstalk-docker"))
        placement = entry.text("placement", "spread", choices=placements)
        params: PlatformParams
        if kind == "container":
            params = read_container(entry, name, placement)
        elif kind == "beanstalk-docker":
            instance_type = read_instance_type(entry, "instance_type", pricing)
            assert instance_type is not None
            params = BeanstalkPlatformParams(
                BeanstalkParams(
                    name=name,
                    instance_type=instance_type.name,
                    provision=entry.distribution("provision"),
                    boot=entry.distribution("boot"),
                    root_volume_bytes=entry.positive_size("root_volume", "8GiB"),
                ),
                read_container(entry, name, placement),
            )
        else:
            instance_type = read_instance_type(entry, "instance_type", pricing, None)
            overhead = entry.section("memory_overhead", {})
            params = VmPlatformParams(
                name=name,
                placement=placement,
                provision=entry.distribution("provision"),
                boot=entry.distribution("boot"),
                guest_os_memory_bytes=entry.size("guest_os_memory", "512MiB"),
                disk_image_bytes=entry.positive_size("disk_image"),
                disk_mode=entry.text("disk_mode", "copy", choices=("copy", "clone")),  # type: ignore[arg-type]
                clone_overlay_bytes=entry.size("clone_overlay", "200MB"),
                overhead_fraction=overhead.number("fraction", 0.002, minimum=0.0),
                overhead_fixed_bytes=overhead.size("fixed", "218MiB"),
                overhead_per_vcpu_bytes=overhead.size("per_vcpu", "8MiB"),
                instance_type=instance_type.name if instance_type else None,
            )
            overhead.close()
        entry.close()
        platforms[name] = params
    if not platforms:
        raise ConfigError(section.key, "none", "at least one platform (platform=container)")
    return platforms
