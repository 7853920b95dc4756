"""From a composed configuration to validated, typed scenario parameters.

The command line (Hydra) composes ``configs/`` into a plain nested mapping; this module
is the schema: it reads every key exactly once, converts human units (``45MB``,
``1Gbps``, ``5min``) to SI, checks types, ranges and cross-references (images named by
apps, registries named by images, platforms named by deployments), and rejects unknown
keys. Any problem raises a `ConfigError` naming the full key, the value and what is
allowed, before anything is simulated. The model receives only the frozen parameter
objects built here, never a mapping of strings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sim.core.distributions import Distribution, parse_distribution
from sim.core.errors import ConfigError
from sim.core.units import parse_bandwidth, parse_duration, parse_size
from sim.model.beanstalk import BeanstalkParams
from sim.model.cloud import InstanceType
from sim.model.engine import EngineParams
from sim.model.host import HostParams
from sim.model.images import (
    CONFIG_INSTRUCTIONS,
    LAYER_INSTRUCTIONS,
    BuildStep,
    Image,
    ImageSpec,
    build_catalog,
)
from sim.model.platforms import ContainerPlatformParams, VmPlatformParams
from sim.model.ratelimit import RequestQuota
from sim.model.registry import PullRateLimit, RegistryParams
from sim.model.replica import App
from sim.model.topology import LinkParams, NetworkParams
from sim.policies.image_gc import GcThresholds
from sim.policies.placement import PLACEMENT_POLICIES

T = TypeVar("T")
_REQUIRED: Any = object()


@dataclass(frozen=True, slots=True)
class Deployment:
    """Start `replicas` replicas of `app` on `platform` at simulated time `at_s`; with
    `per_host`, one replica on every host instead (like a Kubernetes DaemonSet)."""

    app: str
    replicas: int
    at_s: float
    platform: str
    per_host: bool = False


@dataclass(frozen=True, slots=True)
class BeanstalkPlatformParams:
    """An Elastic Beanstalk Docker platform: its instances and its container runtime."""

    instances: BeanstalkParams
    container: ContainerPlatformParams

    @property
    def name(self) -> str:
        return self.instances.name


@dataclass(frozen=True, slots=True)
class Pricing:
    """Instance types with their on-demand prices, and how they are billed."""

    instance_types: Mapping[str, InstanceType]
    prices_read_on: str
    region: str
    billing_minimum_s: float


PlatformParams = ContainerPlatformParams | VmPlatformParams | BeanstalkPlatformParams


@dataclass(frozen=True, slots=True)
class ScenarioParams:
    """Everything a run needs, validated and in SI units."""

    seed: int
    horizon_s: float
    sample_period_s: float
    hosts: tuple[HostParams, ...]
    pricing: Pricing
    engine: EngineParams
    registry_mirrors: tuple[tuple[str, str], ...]
    network: NetworkParams
    registries: tuple[RegistryParams, ...]
    images: Mapping[str, Image]
    platforms: Mapping[str, PlatformParams]
    apps: Mapping[str, App]
    deployments: tuple[Deployment, ...]


def _kind(value: object) -> str:
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
            raise ConfigError(key, _short(data), f"a mapping, not {_kind(data)}")
        self.key = key
        self._data = data
        self._read: set[str] = set()

    def _path(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def has(self, name: str) -> bool:
        return name in self._data and self._data[name] is not None

    def names(self) -> list[str]:
        return [str(name) for name in self._data]

    def raw(self, name: str, default: Any = _REQUIRED) -> Any:
        self._read.add(name)
        if name not in self._data or self._data[name] is None:
            if default is _REQUIRED:
                raise ConfigError(self._path(name), "missing", "a value is required")
            return default
        return self._data[name]

    def _convert(self, name: str, default: Any, convert: Callable[[Any, str], T]) -> T:
        value = self.raw(name, default)
        return value if value is default else convert(value, self._path(name))

    def text(self, name: str, default: Any = _REQUIRED, choices: tuple[str, ...] = ()) -> str:
        value = self.raw(name, default)
        if not isinstance(value, str):
            raise ConfigError(self._path(name), _short(value), f"a string, not {_kind(value)}")
        if choices and value not in choices:
            raise ConfigError(self._path(name), value, "one of " + ", ".join(choices))
        return value

    def integer(
        self,
        name: str,
        default: Any = _REQUIRED,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self._path(name), _short(value), f"an integer, not {_kind(value)}")
        _check_range(self._path(name), value, minimum, maximum)
        return value

    def number(
        self,
        name: str,
        default: Any = _REQUIRED,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        value = self.raw(name, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(self._path(name), _short(value), "a finite number")
        _check_range(self._path(name), value, minimum, maximum)
        return float(value)

    def boolean(self, name: str, default: Any = _REQUIRED) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise ConfigError(self._path(name), _short(value), "true or false")
        return value

    def size(self, name: str, default: Any = _REQUIRED) -> int:
        return self._convert(name, default, parse_size)

    def positive_size(self, name: str, default: Any = _REQUIRED) -> int:
        value = self.size(name, default)
        if value <= 0:
            raise ConfigError(self._path(name), self.raw(name, default), "a size above 0")
        return value

    def bandwidth(self, name: str, default: Any = _REQUIRED) -> float:
        value = self._convert(name, default, parse_bandwidth)
        if value <= 0:
            raise ConfigError(self._path(name), self.raw(name, default), "a bandwidth above 0")
        return value

    def duration(self, name: str, default: Any = _REQUIRED) -> float:
        return self._convert(name, default, parse_duration)

    def distribution(self, name: str, default: Any = _REQUIRED) -> Distribution:
        return self._convert(name, default, parse_distribution)

    def section(self, name: str, default: Any = _REQUIRED) -> Section:
        return Section(self.raw(name, default), self._path(name))

    def sections(self, name: str, default: Any = _REQUIRED) -> dict[str, Section]:
        """A mapping of named sub-sections (``pools``, ``apps``), in config order."""
        outer = self.section(name, default)
        return {entry: outer.section(entry) for entry in outer.names()}

    def items(self, name: str, default: Any = _REQUIRED) -> list[Any]:
        value = self.raw(name, default)
        if not isinstance(value, list | tuple):
            raise ConfigError(self._path(name), _short(value), f"a list, not {_kind(value)}")
        return list(value)

    def close(self) -> None:
        """Reject keys that were never read (misspellings, leftovers)."""
        for name in self._data:
            if name not in self._read:
                known = ", ".join(sorted(self._read)) or "none"
                raise ConfigError(
                    self._path(str(name)),
                    _short(self._data[name]),
                    f"not a known key here (known: {known})",
                )


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_range(key: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ConfigError(
            key,
            value,
            f"at least {minimum:g}" + (f" and at most {maximum:g}" if maximum is not None else ""),
        )
    if maximum is not None and value > maximum:
        raise ConfigError(key, value, f"at most {maximum:g}")


def _pricing(section: Section) -> Pricing:
    types = {}
    for name, entry in section.sections("instance_types").items():
        types[name] = InstanceType(
            name,
            entry.number("vcpu", minimum=0.001),
            entry.positive_size("memory"),
            entry.number("usd_per_hour", minimum=0.0),
        )
        entry.close()
    pricing = Pricing(
        instance_types=types,
        prices_read_on=str(section.raw("prices_read_on")),
        region=section.text("region", ""),
        billing_minimum_s=section.duration("billing_minimum", 60.0),
    )
    section.close()
    return pricing


def _instance_type(
    section: Section, name: str, pricing: Pricing, default: Any = _REQUIRED
) -> InstanceType | None:
    value = section.raw(name, default)
    if value is None:
        return None
    if value not in pricing.instance_types:
        raise ConfigError(
            f"{section.key}.{name}",
            value,
            "an instance type of pricing: " + ", ".join(pricing.instance_types),
        )
    return pricing.instance_types[value]


def _hosts(cluster: Section, pricing: Pricing) -> tuple[HostParams, ...]:
    principal = cluster.text("principal", "")
    hosts: list[HostParams] = []
    for pool_name, pool in cluster.sections("pools").items():
        count = pool.integer("count", minimum=0)
        instance_type = _instance_type(pool, "instance_type", pricing, None)
        vcpu = pool.number(
            "vcpu", instance_type.vcpu if instance_type else _REQUIRED, minimum=0.001
        )
        memory_bytes = pool.positive_size(
            "memory", instance_type.memory_bytes if instance_type else _REQUIRED
        )
        disk_bytes = pool.positive_size("disk")
        disk_write_bytes_s = pool.bandwidth("disk_write", "500MB/s")
        pool.close()
        hosts.extend(
            HostParams(
                f"{pool_name}-{index}",
                vcpu,
                memory_bytes,
                disk_bytes,
                principal,
                disk_write_bytes_s,
                instance_type.name if instance_type else None,
            )
            for index in range(1, count + 1)
        )
    if not hosts:
        raise ConfigError(f"{cluster.key}.pools", "no hosts", "at least one pool with count >= 1")
    return tuple(hosts)


def _engine(cluster: Section) -> EngineParams:
    engine = cluster.section("engine", {})
    extraction = engine.raw("extraction", "off")
    gc = engine.section("image_gc", {})
    high = gc.integer("high_percent", 85, minimum=1, maximum=100)
    low = gc.integer("low_percent", 80, minimum=0, maximum=100)
    if low > high:
        raise ConfigError(f"{gc.key}.low_percent", low, f"at most high_percent ({high})")
    params = EngineParams(
        max_concurrent_downloads=engine.integer("max_concurrent_downloads", 3, minimum=1),
        download_attempts=engine.integer("download_attempts", 5, minimum=1),
        retry_backoff_s=engine.duration("retry_backoff", 5.0),
        extraction_bytes_s=math.inf if extraction == "off" else engine.bandwidth("extraction"),
        serialize_image_pulls=engine.boolean("serialize_image_pulls", True),
        registry_pull_qps=engine.number("registry_pull_qps", 5.0, minimum=0.0),
        registry_burst=engine.integer("registry_burst", 10, minimum=1),
        image_gc=GcThresholds(high, low, gc.duration("min_age", 120.0)),
        image_gc_period_s=gc.duration("period", 300.0),
    )
    if params.image_gc_period_s <= 0:
        raise ConfigError(f"{gc.key}.period", gc.raw("period"), "a duration above 0")
    gc.close()
    engine.close()
    return params


def _network(network: Section) -> NetworkParams:
    def link(name: str, default: Any) -> LinkParams:
        section = network.section(name, default)
        params = LinkParams(section.bandwidth("bandwidth"), section.duration("latency", 0.0))
        section.close()
        return params

    params = NetworkParams(
        topology=network.text("topology", choices=("star", "two_tier")),  # type: ignore[arg-type]
        host_link=link("host_link", _REQUIRED),
        uplink=link("uplink", {"bandwidth": "40Gbps", "latency": "0.1ms"}),
        hosts_per_rack=network.integer("hosts_per_rack", 16, minimum=1),
    )
    network.close()
    return params


def _quota(quotas: Section, name: str) -> RequestQuota | None:
    if not quotas.has(name):
        quotas.raw(name, None)
        return None
    rate = quotas.number(name, minimum=0.001)
    return RequestQuota(rate_per_s=rate, burst=max(rate, 1.0))


def _registries(section: Section) -> tuple[RegistryParams, ...]:
    registries = []
    for name in section.names():
        entry = section.section(name)
        kind = entry.text("kind", choices=("public", "private", "mirror"))
        limit = entry.section("pull_limit") if entry.has("pull_limit") else None
        entry.raw("pull_limit", None)
        quotas = entry.section("quotas", {})
        registries.append(
            RegistryParams(
                name=name,
                kind=kind,  # type: ignore[arg-type]
                bandwidth_bytes_s=entry.bandwidth("bandwidth"),
                latency_s=entry.duration("latency", 0.0),
                request_time_s=entry.duration("request_time", 0.01),
                principal=entry.text("principal", ""),
                pull_limit=None
                if limit is None
                else PullRateLimit(limit.integer("count", minimum=1), limit.duration("window")),
                allowed_principals=tuple(str(p) for p in entry.items("allowed_principals", [])),
                upstream=entry.text("upstream") if kind == "mirror" else None,
                preload=tuple(str(image) for image in entry.items("preload", [])),
                manifest_quota=_quota(quotas, "manifest_per_s"),
                blob_quota=_quota(quotas, "blob_per_s"),
                failure_probability=entry.number(
                    "failure_probability", 0.0, minimum=0.0, maximum=1.0
                ),
            )
        )
        if limit is not None:
            limit.close()
        quotas.close()
        entry.close()
    names = {registry.name for registry in registries}
    for registry in registries:
        if registry.upstream is not None and (
            registry.upstream not in names or registry.upstream == registry.name
        ):
            others = ", ".join(sorted(names - {registry.name})) or "none"
            raise ConfigError(
                f"{section.key}.{registry.name}.upstream",
                registry.upstream,
                f"another registry ({others})",
            )
    if not registries:
        raise ConfigError(section.key, "none", "at least one registry")
    return tuple(registries)


_STEP_INSTRUCTIONS = LAYER_INSTRUCTIONS | CONFIG_INSTRUCTIONS | {"FROM"}


def _step(value: object, key: str) -> BuildStep:
    """``{RUN: "pip install ...", size: 180MB, compressed: 60MB}`` and the like."""
    step = Section(value, key)
    found = [name for name in step.names() if name in _STEP_INSTRUCTIONS]
    if len(found) != 1:
        allowed = ", ".join(sorted(_STEP_INSTRUCTIONS))
        raise ConfigError(key, _short(value), f"exactly one instruction ({allowed}) per step")
    instruction = found[0]
    argument = step.raw(instruction)
    if isinstance(argument, list | tuple):
        import json

        argument = json.dumps([str(word) for word in argument])
    elif not isinstance(argument, str | int | float) or isinstance(argument, bool):
        raise ConfigError(f"{key}.{instruction}", _short(argument), "a string or a list of strings")
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


def _images(section: Section, registries: tuple[RegistryParams, ...]) -> dict[str, Image]:
    origins = {registry.name for registry in registries if registry.kind != "mirror"}
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
            _step(value, f"{entry.key}.steps[{index}]")
            for index, value in enumerate(entry.items("steps"))
        )
        specs[name] = ImageSpec(
            name, entry.text("repository", name), str(entry.raw("tag", "latest")), registry, steps
        )
        entry.close()
    if not specs:
        raise ConfigError(section.key, "none", "at least one image")
    return build_catalog(specs, key=section.key)


def _container(entry: Section, name: str, placement: str) -> ContainerPlatformParams:
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


def _platforms(section: Section, pricing: Pricing) -> dict[str, PlatformParams]:
    platforms: dict[str, PlatformParams] = {}
    placements = tuple(sorted(PLACEMENT_POLICIES))
    for name in section.names():
        entry = section.section(name)
        kind = entry.text("kind", choices=("container", "vm", "beanstalk-docker"))
        placement = entry.text("placement", "spread", choices=placements)
        params: PlatformParams
        if kind == "container":
            params = _container(entry, name, placement)
        elif kind == "beanstalk-docker":
            instance_type = _instance_type(entry, "instance_type", pricing)
            assert instance_type is not None
            params = BeanstalkPlatformParams(
                BeanstalkParams(
                    name=name,
                    instance_type=instance_type.name,
                    provision=entry.distribution("provision"),
                    boot=entry.distribution("boot"),
                    root_volume_bytes=entry.positive_size("root_volume", "8GiB"),
                ),
                _container(entry, name, placement),
            )
        else:
            instance_type = _instance_type(entry, "instance_type", pricing, None)
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


def _workload(
    section: Section, images: Mapping[str, Image], platforms: Mapping[str, PlatformParams]
) -> tuple[dict[str, App], tuple[Deployment, ...]]:
    apps = {}
    for name, entry in section.sections("apps").items():
        image = entry.text("image")
        if image not in images:
            raise ConfigError(
                f"{entry.key}.image", image, "an image of the catalog: " + ", ".join(images)
            )
        apps[name] = App(
            name,
            images[image],
            entry.number("vcpu", minimum=0.001),
            entry.positive_size("memory"),
            entry.distribution("init", 0.0),
        )
        entry.close()
    deployments = []
    for index, value in enumerate(section.items("deployments")):
        entry = Section(value, f"{section.key}.deployments[{index}]")
        app = entry.text("app")
        if app not in apps:
            raise ConfigError(
                f"{entry.key}.app", app, "an app of workload.apps: " + ", ".join(apps)
            )
        if entry.has("platform"):
            platform = entry.text("platform")
            if platform not in platforms:
                raise ConfigError(
                    f"{entry.key}.platform",
                    platform,
                    "a loaded platform: "
                    + ", ".join(platforms)
                    + " (load more with platform=[container,vm])",
                )
        elif len(platforms) == 1:
            platform = next(iter(platforms))
            entry.raw("platform", None)
        else:
            raise ConfigError(
                f"{entry.key}.platform",
                "missing",
                "one of the loaded platforms: " + ", ".join(platforms),
            )
        per_host = entry.boolean("per_host", False)
        replicas = 0 if per_host else entry.integer("replicas", minimum=0)
        if per_host and entry.has("replicas"):
            raise ConfigError(
                f"{entry.key}.replicas",
                entry.raw("replicas"),
                "no replica count with per_host: true (one per host)",
            )
        deployments.append(Deployment(app, replicas, entry.duration("at", 0.0), platform, per_host))
        entry.close()
    section.close()
    return apps, tuple(deployments)


def _mirrors(
    cluster: Section, registries: tuple[RegistryParams, ...]
) -> tuple[tuple[str, str], ...]:
    section = cluster.section("registry_mirrors", {})
    by_name = {registry.name: registry for registry in registries}
    mirrors = []
    for origin in section.names():
        mirror = section.text(origin)
        target = by_name.get(mirror)
        if target is None or target.kind != "mirror" or target.upstream != origin:
            choices = [r.name for r in registries if r.kind == "mirror" and r.upstream == origin]
            raise ConfigError(
                f"{section.key}.{origin}",
                mirror,
                "a mirror whose upstream is "
                + origin
                + " ("
                + (", ".join(choices) or "none configured")
                + ")",
            )
        mirrors.append((origin, mirror))
    section.close()
    return tuple(mirrors)


def scenario_params(config: Mapping[str, Any]) -> ScenarioParams:
    """Validate a composed configuration and convert it to scenario parameters.

    Raises:
        ConfigError: the first problem found, naming its full key.
    """
    root = Section(config, "")
    seed = root.integer("seed", minimum=0, maximum=2**63 - 1)
    horizon_s = root.duration("horizon", 86400.0)
    if horizon_s <= 0:
        raise ConfigError("horizon", root.raw("horizon"), "a duration above 0")
    sample_period_s = root.duration("sample_period", 10.0)
    if sample_period_s <= 0:
        raise ConfigError("sample_period", root.raw("sample_period"), "a duration above 0")
    registries = _registries(root.section("registry"))
    images = _images(root.section("images"), registries)
    for registry in registries:
        for preload in registry.preload:
            if preload not in images:
                raise ConfigError(
                    f"registry.{registry.name}.preload",
                    preload,
                    "an image of the catalog: " + ", ".join(images),
                )
    pricing = _pricing(root.section("pricing"))
    cluster = root.section("cluster")
    hosts = _hosts(cluster, pricing)
    engine = _engine(cluster)
    mirrors = _mirrors(cluster, registries)
    cluster.close()
    network = _network(root.section("network"))
    platforms = _platforms(root.section("platform"), pricing)
    apps, deployments = _workload(root.section("workload"), images, platforms)
    root.raw("hydra", None)
    root.close()
    return ScenarioParams(
        seed=seed,
        horizon_s=horizon_s,
        sample_period_s=sample_period_s,
        hosts=hosts,
        pricing=pricing,
        engine=engine,
        registry_mirrors=mirrors,
        network=network,
        registries=registries,
        images=images,
        platforms=platforms,
        apps=apps,
        deployments=deployments,
    )
