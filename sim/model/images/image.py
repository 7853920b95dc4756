"""Images and their content-addressed, read-only layers.

An image is an ordered stack of layers plus a configuration (entrypoint, command,
environment, exposed ports, working directory, labels). It is built from Dockerfile-like
steps: ``FROM`` inherits the parent's layers and configuration; ``RUN``, ``COPY`` and
``ADD`` each add one layer; the other instructions change the configuration only.

Identities follow the OCI image specification: a layer's *DiffID* is the digest of its
uncompressed content and its blob *digest* that of its compressed form; the *ChainID*
of the n-th layer names the layer together with all its parents,
``ChainID(L0) = DiffID(L0)`` and ``ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))``.
Contents are simulated, so digests are derived from the step's text and sizes: the same
step with the same sizes is the same layer (content addressing), wherever it appears.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sim.core.errors import ConfigError
from sim.core.world import ImageFacts, LayerFacts

LAYER_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
CONFIG_INSTRUCTIONS = frozenset(
    {
        "LABEL",
        "WORKDIR",
        "EXPOSE",
        "ENTRYPOINT",
        "CMD",
        "ENV",
        "USER",
        "VOLUME",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
        "ARG",
        "ONBUILD",
        "MAINTAINER",
    }
)
SCRATCH = "scratch"


def sha256_digest(text: str) -> str:
    """``sha256:<hex>`` of a text, the form digests take in manifests."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class BuildStep:
    """One Dockerfile-like instruction.

    Attributes:
        instruction: upper-case instruction (``FROM``, ``RUN``, ``LABEL``...).
        argument: its argument text (for ``FROM``, the parent image's catalog name).
        size_bytes: uncompressed size of the layer it adds (layer instructions only).
        compressed_bytes: compressed (transferred) size of that layer.
        content: what makes the layer's content unique; defaults to the step's text.
    """

    instruction: str
    argument: str
    size_bytes: int = 0
    compressed_bytes: int = 0
    content: str = ""


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """An image as configured: where it is published and the steps that build it."""

    name: str
    repository: str
    tag: str
    registry: str
    steps: tuple[BuildStep, ...]


@dataclass(frozen=True, slots=True)
class Layer:
    """A read-only layer: content-addressed, identical wherever it is used."""

    digest: str
    diff_id: str
    size_bytes: int
    compressed_bytes: int
    created_by: str
    short_id: str = field(init=False, repr=False, compare=False)
    """The 12 hex digits Docker prints for a layer (``Pulling fs layer`` lines)."""

    def __post_init__(self) -> None:
        # Kept rather than computed: every step of every layer's pull logs it.
        object.__setattr__(self, "short_id", self.digest.removeprefix("sha256:")[:12])


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The runtime configuration an image carries; changing it adds no layer."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    exposed_ports: tuple[str, ...] = ()
    workdir: str = "/"
    user: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    volumes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step of an image's history, as the OCI image config records it: the steps
    that added no layer (``empty_layer``) included, so ``docker history`` can show them."""

    created_by: str
    size_bytes: int
    empty_layer: bool


@dataclass(frozen=True, slots=True)
class Image:
    """A built image: its layers bottom-up, their ChainIDs, and its configuration."""

    name: str
    repository: str
    tag: str
    registry: str
    layers: tuple[Layer, ...]
    chain_ids: tuple[str, ...]
    config: ImageConfig
    parent: str | None = None
    image_id: str = field(default="", compare=False)
    manifest_digest: str = field(default="", compare=False)
    history: tuple[HistoryEntry, ...] = field(default=(), compare=False)
    reference: str = field(init=False, repr=False, compare=False)
    """``repository:tag`` as a user types it."""

    def __post_init__(self) -> None:
        # Kept rather than computed: every step of every pull logs it.
        object.__setattr__(self, "reference", f"{self.repository}:{self.tag}")

    @property
    def size_bytes(self) -> int:
        """Uncompressed size of all layers (what ``docker images`` shows)."""
        return sum(layer.size_bytes for layer in self.layers)

    @property
    def compressed_bytes(self) -> int:
        """Bytes a pull into an empty cache transfers."""
        return sum(layer.compressed_bytes for layer in self.layers)


def chain_ids(diff_ids: Iterable[str]) -> tuple[str, ...]:
    """ChainIDs of a stack of layers given bottom-up by DiffID (OCI image spec)."""
    chain: list[str] = []
    for diff_id in diff_ids:
        chain.append(chain_id_over(chain[-1] if chain else None, diff_id))
    return tuple(chain)


def make_layer(step: BuildStep) -> Layer:
    """The layer a ``RUN``/``COPY``/``ADD`` step adds."""
    return layer_of(
        step.instruction, step.argument, step.size_bytes, step.compressed_bytes, step.content
    )


def layer_of(
    instruction: str, argument: str, size_bytes: int, compressed_bytes: int, content: str = ""
) -> Layer:
    """The layer an instruction adds: content-addressed by its text (or `content`) and
    sizes, so the same step gives the same layer wherever it is built."""
    created_by = f"{instruction} {argument}"
    text = content or created_by
    return Layer(
        digest=sha256_digest(f"blob|{text}|{size_bytes}|{compressed_bytes}"),
        diff_id=sha256_digest(f"diff|{text}|{size_bytes}"),
        size_bytes=size_bytes,
        compressed_bytes=compressed_bytes,
        created_by=created_by,
    )


def chain_id_over(parent_chain_id: str | None, diff_id: str) -> str:
    """The ChainID of a layer over the ChainID of the layers below it (None: none)."""
    return diff_id if parent_chain_id is None else sha256_digest(f"{parent_chain_id} {diff_id}")


def _split_pairs(argument: str) -> list[tuple[str, str]]:
    """``KEY=value other=x`` or ``KEY value`` (the legacy single pair form)."""
    if "=" not in argument:
        key, _, value = argument.partition(" ")
        return [(key, value.strip())]
    pairs = []
    for word in argument.split():
        key, _, value = word.partition("=")
        pairs.append((key, value.strip('"')))
    return pairs


def _exec_form(argument: str) -> tuple[str, ...]:
    """``["python", "app.py"]`` (JSON exec form) or a shell-form command."""
    text = argument.strip()
    if text.startswith("["):
        try:
            words = json.loads(text)
        except json.JSONDecodeError:
            words = None
        if isinstance(words, list) and all(isinstance(word, str) for word in words):
            return tuple(words)
    return ("/bin/sh", "-c", text)


def _merge(
    pairs: tuple[tuple[str, str], ...], new: list[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    merged = dict(pairs)
    merged.update(new)
    return tuple(merged.items())


def apply_config_step(config: ImageConfig, step: BuildStep) -> ImageConfig:
    """The configuration after one metadata-only instruction."""
    argument = step.argument
    match step.instruction:
        case "LABEL":
            return replace(config, labels=_merge(config.labels, _split_pairs(argument)))
        case "ENV":
            return replace(config, env=_merge(config.env, _split_pairs(argument)))
        case "WORKDIR":
            return replace(config, workdir=argument.strip())
        case "EXPOSE":
            ports = tuple(dict.fromkeys(config.exposed_ports + tuple(argument.split())))
            return replace(config, exposed_ports=ports)
        case "ENTRYPOINT":
            return replace(config, entrypoint=_exec_form(argument), cmd=())
        case "CMD":
            return replace(config, cmd=_exec_form(argument))
        case "USER":
            return replace(config, user=argument.strip())
        case "VOLUME":
            volumes = (
                _exec_form(argument)
                if argument.strip().startswith("[")
                else tuple(argument.split())
            )
            return replace(config, volumes=tuple(dict.fromkeys(config.volumes + volumes)))
        case _:
            return config


def _config_json(config: ImageConfig, diff_ids: Sequence[str]) -> str:
    """The image config's JSON, whose sha256 is the image ID (what `ImageIdDigest`
    hashes without writing it out)."""
    document = {
        "config": _runtime_config(config),
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _runtime_config(config: ImageConfig) -> dict[str, Any]:
    return {
        "Entrypoint": list(config.entrypoint),
        "Cmd": list(config.cmd),
        "Env": [f"{key}={value}" for key, value in config.env],
        "ExposedPorts": {port: {} for port in config.exposed_ports},
        "WorkingDir": config.workdir,
        "User": config.user,
        "Labels": dict(config.labels),
        "Volumes": {volume: {} for volume in config.volumes},
    }


_ROOTFS_END = b'],"type":"layers"}}'


class ImageIdDigest:
    """The image ID of a configuration over a stack of layers, as a running sha256.

    The image ID is the sha256 of the image config's JSON (`_config_json`): the runtime
    configuration, then the DiffIDs of the layers, bottom-up. The hash is kept open
    after the last DiffID, so the ID of the stack with one layer more costs one short
    update (`extended`) rather than hashing every DiffID again: a build of n steps
    hashes O(n) bytes, not O(n²). A new configuration hashes the DiffIDs again (it
    comes first in the JSON).
    """

    __slots__ = ("_hash", "_count")

    def __init__(self, config: ImageConfig, diff_ids: Sequence[str]) -> None:
        head = json.dumps(_runtime_config(config), sort_keys=True, separators=(",", ":"))
        self._hash = hashlib.sha256(f'{{"config":{head},"rootfs":{{"diff_ids":['.encode())
        self._hash.update(",".join(f'"{diff_id}"' for diff_id in diff_ids).encode())
        self._count = len(diff_ids)

    def extended(self, diff_id: str) -> ImageIdDigest:
        """The digest of the same configuration over one layer more."""
        longer = object.__new__(ImageIdDigest)
        longer._hash = self._hash.copy()
        longer._hash.update(f'{"," if self._count else ""}"{diff_id}"'.encode())
        longer._count = self._count + 1
        return longer

    def image_id(self) -> str:
        """``sha256:<hex>``: the image ID."""
        final = self._hash.copy()
        final.update(_ROOTFS_END)
        return "sha256:" + final.hexdigest()


def _manifest_json(config_digest: str, layers: Sequence[Layer]) -> str:
    document = {
        "schemaVersion": 2,
        "config": {"digest": config_digest},
        "layers": [{"digest": layer.digest, "size": layer.compressed_bytes} for layer in layers],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def build_image(spec: ImageSpec, parent: Image | None, key: str = "images") -> Image:
    """Build one image on top of its (already built) parent."""
    layers = list(parent.layers) if parent else []
    config = parent.config if parent else ImageConfig()
    history = list(parent.history) if parent else []
    for index, step in enumerate(spec.steps):
        if step.instruction != "FROM":
            history.append(
                HistoryEntry(
                    f"{step.instruction} {step.argument}",
                    step.size_bytes,
                    step.instruction not in LAYER_INSTRUCTIONS,
                )
            )
        if step.instruction == "FROM":
            if index != 0:
                raise ConfigError(
                    f"{key}.{spec.name}.steps[{index}]", "FROM", "FROM only as the first step"
                )
        elif step.instruction in LAYER_INSTRUCTIONS:
            layers.append(make_layer(step))
        elif step.instruction in CONFIG_INSTRUCTIONS:
            config = apply_config_step(config, step)
        else:
            allowed = ", ".join(sorted(LAYER_INSTRUCTIONS | CONFIG_INSTRUCTIONS | {"FROM"}))
            raise ConfigError(
                f"{key}.{spec.name}.steps[{index}]", step.instruction, f"one of {allowed}"
            )
    if not layers:
        raise ConfigError(
            f"{key}.{spec.name}.steps", "no layers", "at least one RUN, COPY or ADD step"
        )
    diff_ids = [layer.diff_id for layer in layers]
    image_id = ImageIdDigest(config, diff_ids).image_id()
    return Image(
        name=spec.name,
        repository=spec.repository,
        tag=spec.tag,
        registry=spec.registry,
        layers=tuple(layers),
        chain_ids=chain_ids(diff_ids),
        config=config,
        parent=parent.name if parent else None,
        image_id=image_id,
        manifest_digest=sha256_digest(_manifest_json(image_id, layers)),
        history=tuple(history),
    )


def parent_name(spec: ImageSpec) -> str | None:
    """The catalog name the spec builds ``FROM``, or None for ``scratch`` / no FROM."""
    if spec.steps and spec.steps[0].instruction == "FROM":
        name = spec.steps[0].argument.strip()
        return None if name == SCRATCH else name
    return None


def build_catalog(specs: Mapping[str, ImageSpec], key: str = "images") -> dict[str, Image]:
    """Build every image, parents first; unknown parents and cycles are config errors.

    Returns the images keyed by catalog name, in the order the specs were given.
    """
    built: dict[str, Image] = {}

    def build(name: str, trail: tuple[str, ...]) -> Image:
        if name in built:
            return built[name]
        if name in trail:
            cycle = " -> ".join(trail[trail.index(name) :] + (name,))
            raise ConfigError(f"{key}.{name}.steps[0]", cycle, "FROM chains without cycles")
        spec = specs[name]
        parent = parent_name(spec)
        if parent is not None and parent not in specs:
            known = ", ".join(sorted(specs)) or "none"
            raise ConfigError(
                f"{key}.{name}.steps[0]",
                f"FROM {parent}",
                f"an image of the catalog ({known}) or scratch",
            )
        image = build_image(spec, build(parent, trail + (name,)) if parent else None, key)
        built[name] = image
        return image

    for name in specs:
        build(name, ())
    return {name: built[name] for name in specs}


def catalog_facts(
    catalog: Mapping[str, Image],
) -> tuple[tuple[ImageFacts, ...], tuple[LayerFacts, ...]]:
    """The catalog's images and their distinct layers as plain facts (`sim.core.world`).

    A layer belongs to the image whose own build step added it: the layers an image
    inherits ``FROM`` its parent are the parent's (or the parent's parent's), so images
    built on one base share the base's layers, as content addressing makes them share
    them on a host. Each layer is listed once.
    """
    layers: dict[str, LayerFacts] = {}
    for image in catalog.values():
        parent = catalog.get(image.parent or "")
        inherited = len(parent.layers) if parent is not None else 0
        for layer in image.layers[inherited:]:
            layers.setdefault(
                layer.short_id,
                LayerFacts(
                    layer.short_id,
                    layer.size_bytes,
                    layer.compressed_bytes,
                    image.name,
                    layer.created_by,
                ),
            )
    images = tuple(
        ImageFacts(
            image.name,
            image.reference,
            image.registry,
            image.parent or "",
            image.image_id,
            tuple(layer.short_id for layer in image.layers),
        )
        for image in catalog.values()
    )
    return images, tuple(layers.values())
