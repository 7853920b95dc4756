"""From a composed configuration to validated, typed scenario parameters.

Every section is read by the one reader (`sim.core.schema`) into its dataclass —
`sim.config.sections` for the sections, the kinds' own parameter classes for platforms,
registries, arrival processes and autoscaling policies — so units, ranges, defaults and
unknown keys are handled once. What is left here is what no single section can check:
references between them (an app's image in the catalog, a deployment's platform loaded,
a mirror's upstream, an instance type priced), and building the model's parameters
(hosts from pools, apps with their images, a service with its fleet).
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sim.config.limits import check_hosts, check_length, check_replicas, check_requests
from sim.config.params import (
    Deployment,
    PlatformParams,
    Pricing,
    ScenarioParams,
    ServiceParams,
)
from sim.config.scalers import (
    instance_type_allowed,
    kept_overhead,
    most_hosts,
    node_scaler_of,
    runs_spot,
)
from sim.config.sections import (
    AppSpec,
    ClusterSpec,
    PricingSpec,
    RootSpec,
    ServiceSpec,
    WorkloadSpec,
)
from sim.config.traces import find_trace, read_trace
from sim.core.errors import ConfigError
from sim.core.metrics import PRODUCED
from sim.core.schema import config_keys, kind_of, read, read_kind, short
from sim.core.streams import RandomStreams
from sim.model.faults.kinds import FAULTS
from sim.model.hosts.cloud import max_pods_of
from sim.model.hosts.host import HostParams
from sim.model.hosts.replica import App
from sim.model.images.image import (
    CONFIG_INSTRUCTIONS,
    LAYER_INSTRUCTIONS,
    BuildStep,
    Image,
    ImageSpec,
    build_catalog,
)
from sim.model.images.registries import REGISTRIES, RegistryParams
from sim.model.network.topology import NetworkParams, build_topology
from sim.model.platforms import PLATFORMS
from sim.model.service.arrivals.trace import TraceParams
from sim.model.service.slo import SloParams
from sim.model.service.workload import parse_request_spec
from sim.policies.autoscaling import AUTOSCALING
from sim.policies.autoscaling.fixed import FixedCapacityParams

if TYPE_CHECKING:
    from sim.model.service.fleet import FleetParams

_ROOT_SECTIONS = (
    "registry",
    "images",
    "pricing",
    "cluster",
    "network",
    "platform",
    "workload",
    "autoscaler",
    "faults",
    "slo",
)


def replication_seed(root_seed: int, replication: int) -> int:
    """The seed of one replication: the root seed itself for replication 0, then seeds
    derived from it by name, the same in every process."""
    if replication == 0:
        return root_seed
    return RandomStreams(root_seed).child_seed(f"replication/{replication}")


def _section(config: Mapping[str, Any], key: str) -> Any:
    value = config.get(key)
    if value is None:
        raise ConfigError(key, "missing", "a value is required")
    return value


def scenario_params(config: Mapping[str, Any]) -> ScenarioParams:
    """Validate a composed configuration and convert it to scenario parameters.

    Raises:
        ConfigError: the first problem found, naming its full key.
    """
    if not isinstance(config, Mapping):
        raise ConfigError("config", short(config), f"a mapping, not {kind_of(config)}")
    own = {k: v for k, v in config.items() if k not in _ROOT_SECTIONS}
    known = sorted({*config_keys(RootSpec), *_ROOT_SECTIONS})
    for key, value in own.items():
        if key not in known:
            raise ConfigError(
                str(key), short(value), f"not a known key here (known: {', '.join(known)})"
            )
    root = read(RootSpec, own, "")
    check_length(root.horizon_s, root.sample_period_s, root.limits)
    seed = replication_seed(root.seed, root.replication)
    registries = read_registries(_section(config, "registry"))
    images = read_images(_section(config, "images"), registries)
    for registry in registries:
        for preload in getattr(registry, "preload", ()):
            if preload not in images:
                raise ConfigError(
                    f"registry.{registry.name}.preload",
                    preload,
                    "an image of the catalog: " + ", ".join(images),
                )
    pricing = read_pricing(_section(config, "pricing"))
    cluster = read(ClusterSpec, _section(config, "cluster"), "cluster")
    node_scaler = node_scaler_of(cluster, pricing)
    host_count = check_hosts(
        (pool.count for pool in cluster.pools.values()),
        most_hosts(node_scaler, pricing),
        root.limits,
    )
    hosts = hosts_of(cluster, pricing)
    check_cached_images(cluster.cached_images, images, hosts, node_scaler)
    mirrors = mirrors_of(cluster, registries)
    network = read(NetworkParams, _section(config, "network"), "network")
    check_egress(network, registries)
    platforms = read_platforms(_section(config, "platform"), pricing)
    workload = read(WorkloadSpec, _section(config, "workload"), "workload")
    apps = apps_of(workload, images)
    check_replicas(
        _replicas_by_layers(workload, apps, host_count), root.log, host_count, root.limits
    )
    deployments = deployments_of(workload, apps, platforms)
    service = service_of(workload, apps, platforms)
    if service is not None:
        check_requests(service.arrivals, service.mode, root.horizon_s, root.limits)
        check_fluid_request(service)
        check_not_the_services_own(deployments, service)
    check_apps_on_platforms(apps, deployments, service, platforms)
    autoscaler = read_autoscaler(config.get("autoscaler") or {"policy": "none"})
    # Fault targets name links: build the topology only to check them.
    links = (
        [f"{u}--{v}" for u, v in build_topology(network, [h.name for h in hosts], registries).edges]
        if config.get("faults")
        else []
    )
    faults = read_faults(
        config.get("faults"),
        hosts,
        registries,
        [service.app] if service is not None else [],
        links,
    )
    slo = read(SloParams, config.get("slo") or {}, "slo")
    spot = any(host.spot for host in hosts) or runs_spot(node_scaler)
    if service is not None and service.mode != "requests" and (faults or spot or slo.judged):
        raise ConfigError(
            "workload.traffic.mode",
            service.mode,
            "requests when faults, spot capacity or slo are set (the fluid mode keeps no "
            "request to fail or to judge)",
        )
    if (faults or spot) and service is not None:
        service = replace(service, fleet=replace(service.fleet, track_requests=True))
    return ScenarioParams(
        seed=seed,
        replication=root.replication,
        horizon_s=root.horizon_s,
        sample_period_s=root.sample_period_s,
        hosts=hosts,
        pricing=pricing,
        engine=cluster.engine,
        registry_mirrors=mirrors,
        network=network,
        registries=registries,
        images=images,
        platforms=platforms,
        apps=apps,
        deployments=deployments,
        service=service,
        autoscaler=autoscaler,
        node_scaler=node_scaler,
        daemonsets=cluster.daemonsets,
        log=root.log,
        faults=faults,
        slo=slo if slo.judged else None,
        scheduler=cluster.scheduler,
        node_lifecycle=cluster.node_lifecycle,
        cached_images=cluster.cached_images,
        stranded_probe=cluster.stranded_probe,
    )


def check_cached_images(
    names: Sequence[str],
    images: Mapping[str, Image],
    hosts: Sequence[HostParams],
    node_scaler: Any,
) -> None:
    """The node image's cached images are in the catalog and fit on every node's disk
    (the pools' hosts and the scaler's nodes), their shared layers counted once.

    Raises:
        ConfigError: an image not in the catalog, or layers larger than a node's disk.
    """
    for name in names:
        if name not in images:
            raise ConfigError(
                "cluster.cached_images", name, "an image of the catalog: " + ", ".join(images)
            )
    layers: dict[str, int] = {}
    for name in names:
        image = images[name]
        for chain_id, layer in zip(image.chain_ids, image.layers, strict=True):
            layers[chain_id] = layer.size_bytes
    needed = sum(layers.values())
    disks = [host.disk_bytes for host in hosts]
    scaler_disk = getattr(node_scaler, "disk_bytes", None)
    if isinstance(scaler_disk, int):
        disks.append(scaler_disk)
    if disks and needed > min(disks):
        raise ConfigError(
            "cluster.cached_images",
            list(names),
            f"images whose layers ({needed} B) fit on every node's disk ({min(disks)} B)",
        )


def check_egress(network: NetworkParams, registries: Sequence[RegistryParams]) -> None:
    """Every registry behind the egress link is one of the run's."""
    if network.egress is None:
        return
    names = [registry.name for registry in registries]
    for index, name in enumerate(network.egress.registries):
        if name not in names:
            raise ConfigError(
                f"network.egress.registries.{index}", name, "a registry: " + ", ".join(names)
            )


def check_fluid_request(service: ServiceParams) -> None:
    """The fluid mode drains each queue at workers / mean CPU time: a request must take
    some CPU, and a finite amount on average.

    Raises:
        ConfigError: naming ``workload.traffic.request.cpu``.
    """
    mean_s = service.request.cpu_s.mean()
    if service.mode == "fluid" and not (0 < mean_s < math.inf):
        raise ConfigError(
            "workload.traffic.request.cpu",
            f"mean {mean_s:g}s",
            "a positive, finite mean CPU time per request with workload.traffic.mode=fluid",
        )


def _replicas_by_layers(
    workload: WorkloadSpec, apps: Mapping[str, App], hosts: int
) -> dict[int, int]:
    """Replicas asked for up front, by the layers of their image: the deployments' (one per
    host with per_host) and the service's initial ones."""
    counts: dict[int, int] = {}

    def add(app: str, replicas: int) -> None:
        layers = len(apps[app].image.layers) if app in apps else 0
        counts[layers] = counts.get(layers, 0) + replicas

    for spec in workload.deployments:
        add(spec.app, hosts if spec.per_host else int(spec.replicas or 0))
    if workload.service is not None:
        add(workload.service.app, workload.service.initial_replicas)
    return counts


def read_faults(
    data: Any,
    hosts: tuple[HostParams, ...],
    registries: tuple[RegistryParams, ...],
    served_apps: list[str],
    links: Sequence[str] = (),
) -> tuple[Any, ...]:
    """The fault specs (``faults``: a list, each a kind of `FAULTS`), each target one its
    kind allows: a host, a pool (``<pool>`` of ``<pool>-<n>``), a zone, a registry, the
    served app."""
    if data is None:
        return ()
    if not isinstance(data, list | tuple):
        raise ConfigError("faults", short(data), f"a list of faults, not {kind_of(data)}")
    names = {
        "host": [host.name for host in hosts],
        "pool": list(dict.fromkeys(host.name.rsplit("-", 1)[0] for host in hosts)),
        "zone": list(dict.fromkeys(host.zone for host in hosts if host.zone)),
        "registry": [registry.name for registry in registries],
        "app": served_apps,
        "link": [*links, *("--".join(reversed(link.split("--", 1))) for link in links)],
    }
    faults = []
    for index, entry in enumerate(data):
        key = f"faults.{index}"
        params = read_kind(FAULTS, entry, key)
        allowed = [name for cls in params.target_classes for name in names[cls]]
        if params.target not in allowed:
            raise ConfigError(
                f"{key}.target",
                params.target,
                f"a {' or '.join(params.target_classes)}: {', '.join(allowed) or 'none'}",
            )
        faults.append(params)
    return tuple(faults)


# Infrastructure ------------------------------------------------------------------------


def read_pricing(data: Any) -> Pricing:
    if isinstance(data, Mapping) and isinstance(data.get("prices_read_on"), datetime.date):
        data = {**data, "prices_read_on": data["prices_read_on"].isoformat()}
    spec = read(PricingSpec, data, "pricing")
    return Pricing(
        instance_types=dict(spec.instance_types),
        prices_read_on=spec.prices_read_on,
        region=spec.region,
        billing_minimum_s=spec.billing_minimum_s,
    )


def hosts_of(cluster: ClusterSpec, pricing: Pricing) -> tuple[HostParams, ...]:
    """Every host of every pool, named ``<pool>-<n>``."""
    hosts: list[HostParams] = []
    for pool_name, pool in cluster.pools.items():
        key = f"cluster.pools.{pool_name}"
        instance_type = None
        if pool.instance_type is not None:
            instance_type = pricing.instance_types.get(pool.instance_type)
            if instance_type is None:
                raise ConfigError(
                    f"{key}.instance_type", pool.instance_type, instance_type_allowed(pricing)
                )
        vcpu = pool.vcpu if pool.vcpu is not None else getattr(instance_type, "vcpu", None)
        memory = (
            pool.memory_bytes
            if pool.memory_bytes is not None
            else getattr(instance_type, "memory_bytes", None)
        )
        if vcpu is None:
            raise ConfigError(f"{key}.vcpu", "missing", "a value is required")
        if memory is None:
            raise ConfigError(f"{key}.memory", "missing", "a value is required")
        kept_vcpu, kept_memory = kept_overhead(cluster, pool.reserved, vcpu, memory, key)
        max_pods = max_pods_of(pool.max_pods, instance_type, f"{key}.max_pods")
        labels = tuple(sorted(pool.labels.items()))
        taints = tuple(taint.build() for taint in pool.taints)
        hosts.extend(
            HostParams(
                f"{pool_name}-{index}",
                vcpu,
                memory,
                pool.disk_bytes,
                cluster.principal,
                pool.disk_write_bytes_s,
                instance_type.name if instance_type else None,
                pool.zones[(index - 1) % len(pool.zones)] if pool.zones else "",
                pool.spot,
                kept_vcpu,
                kept_memory,
                labels,
                taints,
                max_pods,
            )
            for index in range(1, pool.count + 1)
        )
    if not hosts:
        raise ConfigError("cluster.pools", "no hosts", "at least one pool with count >= 1")
    return tuple(hosts)


def mirrors_of(
    cluster: ClusterSpec, registries: tuple[RegistryParams, ...]
) -> tuple[tuple[str, str], ...]:
    """Origin registries and the mirror their images come through."""
    by_name = {registry.name: registry for registry in registries}
    mirrors = []
    for origin, mirror in cluster.registry_mirrors.items():
        target = by_name.get(mirror)
        if target is None or target.upstream_name != origin:
            choices = [r.name for r in registries if r.upstream_name == origin]
            raise ConfigError(
                f"cluster.registry_mirrors.{origin}",
                mirror,
                f"a mirror whose upstream is {origin} ({', '.join(choices) or 'none configured'})",
            )
        mirrors.append((origin, mirror))
    return tuple(mirrors)


def read_registries(data: Any) -> tuple[RegistryParams, ...]:
    """The registries by name: each a kind of `REGISTRIES`, its upstream another one."""
    if not isinstance(data, Mapping):
        raise ConfigError("registry", short(data), f"a mapping, not {kind_of(data)}")
    registries = [
        read_kind(REGISTRIES, entry, f"registry.{name}", name=str(name))
        for name, entry in data.items()
    ]
    names = {registry.name for registry in registries}
    for registry in registries:
        upstream = registry.upstream_name
        if upstream is not None and (upstream not in names or upstream == registry.name):
            others = ", ".join(sorted(names - {registry.name})) or "none"
            raise ConfigError(
                f"registry.{registry.name}.upstream", upstream, f"another registry ({others})"
            )
    if not registries:
        raise ConfigError("registry", "none", "at least one registry")
    return tuple(registries)


# Software ------------------------------------------------------------------------------

_STEP_INSTRUCTIONS = LAYER_INSTRUCTIONS | CONFIG_INSTRUCTIONS | {"FROM"}
_IMAGE_KEYS = ("registry", "repository", "tag", "steps")
_LAYER_STEP_KEYS = ("size", "compressed", "content")

TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
"""A tag as the OCI distribution spec allows it."""


def read_step(value: object, key: str) -> BuildStep:
    """``{RUN: "pip install ...", size: 180MB, compressed: 60MB}`` and the like: one
    Dockerfile-like instruction, with its layer's sizes if it adds a layer."""
    from sim.core.units import parse_size

    if not isinstance(value, Mapping):
        raise ConfigError(key, short(value), f"a mapping, not {kind_of(value)}")
    found = [name for name in value if name in _STEP_INSTRUCTIONS]
    if len(found) != 1:
        allowed = ", ".join(sorted(_STEP_INSTRUCTIONS))
        raise ConfigError(key, short(value), f"exactly one instruction ({allowed}) per step")
    instruction = str(found[0])
    argument = value[instruction]
    if isinstance(argument, list | tuple):
        argument = json.dumps([str(word) for word in argument])
    elif not isinstance(argument, str | int | float) or isinstance(argument, bool):
        raise ConfigError(f"{key}.{instruction}", short(argument), "a string or a list of strings")
    extra = [name for name in value if name != instruction]
    allowed_extra = _LAYER_STEP_KEYS if instruction in LAYER_INSTRUCTIONS else ()
    for name in extra:
        if name not in allowed_extra:
            known = ", ".join(sorted((instruction, *allowed_extra)))
            raise ConfigError(
                f"{key}.{name}", short(value[name]), f"not a known key here (known: {known})"
            )
    if instruction not in LAYER_INSTRUCTIONS:
        return BuildStep(instruction, str(argument))
    if value.get("size") is None:
        raise ConfigError(f"{key}.size", "missing", "a value is required")
    size_bytes = parse_size(value["size"], f"{key}.size")
    compressed = value.get("compressed")
    compressed_bytes = (
        size_bytes if compressed is None else parse_size(compressed, f"{key}.compressed")
    )
    if compressed_bytes > size_bytes * 2 + 1024:
        raise ConfigError(
            f"{key}.compressed", compressed, "a compressed size not far above the uncompressed size"
        )
    content = value.get("content", "")
    if not isinstance(content, str):
        raise ConfigError(f"{key}.content", short(content), f"a string, not {kind_of(content)}")
    return BuildStep(instruction, str(argument), size_bytes, compressed_bytes, content)


def read_tag(value: object, key: str) -> str:
    """An image's ``tag``: a string (or a whole number, as YAML reads ``tag: 7``) that the
    distribution spec allows."""
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


def read_images(data: Any, registries: tuple[RegistryParams, ...]) -> dict[str, Image]:
    """The image catalog: each image's origin registry, repository, tag and steps."""
    if not isinstance(data, Mapping):
        raise ConfigError("images", short(data), f"a mapping, not {kind_of(data)}")
    origins = {registry.name for registry in registries if registry.upstream_name is None}
    specs = {}
    for name, entry in data.items():
        key = f"images.{name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(key, short(entry), f"a mapping, not {kind_of(entry)}")
        for given in entry:
            if given not in _IMAGE_KEYS:
                raise ConfigError(
                    f"{key}.{given}",
                    short(entry[given]),
                    f"not a known key here (known: {', '.join(sorted(_IMAGE_KEYS))})",
                )
        registry = entry.get("registry")
        if not isinstance(registry, str) or registry not in origins:
            raise ConfigError(
                f"{key}.registry",
                "missing" if registry is None else short(registry),
                "a registry that is not a mirror: " + ", ".join(sorted(origins)),
            )
        repository = entry.get("repository", name)
        if not isinstance(repository, str):
            raise ConfigError(
                f"{key}.repository", short(repository), f"a string, not {kind_of(repository)}"
            )
        tag = read_tag(entry.get("tag", "latest"), f"{key}.tag")
        steps_data = entry.get("steps")
        if not isinstance(steps_data, list | tuple):
            raise ConfigError(
                f"{key}.steps",
                "missing" if steps_data is None else short(steps_data),
                f"a list, not {kind_of(steps_data)}"
                if steps_data is not None
                else "a value is required",
            )
        steps = tuple(
            read_step(value, f"{key}.steps[{index}]") for index, value in enumerate(steps_data)
        )
        specs[str(name)] = ImageSpec(str(name), repository, tag, registry, steps)
    if not specs:
        raise ConfigError("images", "none", "at least one image")
    return build_catalog(specs, key="images")


def read_platforms(data: Any, pricing: Pricing) -> dict[str, PlatformParams]:
    """The loaded platforms by name: each a kind of `PLATFORMS`; an instance type it
    names must be priced."""
    if not isinstance(data, Mapping):
        raise ConfigError("platform", short(data), f"a mapping, not {kind_of(data)}")
    platforms: dict[str, PlatformParams] = {}
    for name, entry in data.items():
        key = f"platform.{name}"
        params = read_kind(PLATFORMS, entry, key, name=str(name))
        instance_type = getattr(params, "instance_type", None)
        if isinstance(instance_type, str) and instance_type not in pricing.instance_types:
            raise ConfigError(f"{key}.instance_type", instance_type, instance_type_allowed(pricing))
        platforms[str(name)] = params
    if not platforms:
        raise ConfigError("platform", "none", "at least one platform (platform=container)")
    return platforms


# Workload ------------------------------------------------------------------------------


def app_allowed(apps: Mapping[str, Any]) -> str:
    """What an app reference may name: one of the configured apps (or says there are none)."""
    names = ", ".join(apps)
    return f"an app of workload.apps: {names}" if names else "an app of workload.apps (none)"


def _platform_of(key: str, platform: str | None, platforms: Mapping[str, PlatformParams]) -> str:
    """The platform an entry names, or the only one loaded."""
    if platform is not None:
        if platform not in platforms:
            raise ConfigError(
                f"{key}.platform",
                platform,
                "a loaded platform: "
                + ", ".join(platforms)
                + " (load more with platform=[container,vm])",
            )
        return platform
    if len(platforms) == 1:
        return next(iter(platforms))
    raise ConfigError(
        f"{key}.platform", "missing", "one of the loaded platforms: " + ", ".join(platforms)
    )


def apps_of(workload: WorkloadSpec, images: Mapping[str, Image]) -> dict[str, App]:
    apps = {}
    for name, spec in workload.apps.items():
        if spec.image not in images:
            raise ConfigError(
                f"workload.apps.{name}.image",
                spec.image,
                "an image of the catalog: " + ", ".join(images),
            )
        apps[name] = App(
            name,
            images[spec.image],
            spec.vcpu,
            spec.memory_bytes,
            spec.init,
            startup_read_fraction=spec.startup_read_fraction,
            working_set_bytes=spec.working_set_bytes,
            pod_spec=spec.pod(name),
        )
    return apps


def deployments_of(
    workload: WorkloadSpec, apps: Mapping[str, App], platforms: Mapping[str, PlatformParams]
) -> tuple[Deployment, ...]:
    deployments = []
    for index, spec in enumerate(workload.deployments):
        key = f"workload.deployments[{index}]"
        if spec.app not in apps:
            raise ConfigError(f"{key}.app", spec.app, app_allowed(apps))
        deployments.append(
            Deployment(
                spec.app,
                0 if spec.per_host else int(spec.replicas or 0),
                spec.at_s,
                _platform_of(key, spec.platform, platforms),
                spec.per_host,
                spec.lifetime_s,
                spec.stagger_s,
            )
        )
    return tuple(deployments)


def service_of(
    workload: WorkloadSpec, apps: Mapping[str, App], platforms: Mapping[str, PlatformParams]
) -> ServiceParams | None:
    """The served app and its traffic, if the workload has any."""
    service, traffic = workload.service, workload.traffic
    if service is None or traffic is None:
        return None
    if service.app not in apps:
        raise ConfigError("workload.service.app", service.app, app_allowed(apps))
    arrivals = traffic.arrivals
    if isinstance(arrivals, TraceParams):
        key = "workload.traffic.arrivals.path"
        path = find_trace(arrivals.path, key)
        arrivals = replace(arrivals, path=path, loaded=read_trace(path, key))
    return ServiceParams(
        app=service.app,
        platform=_platform_of("workload.service", service.platform, platforms),
        initial_replicas=service.initial_replicas,
        fleet=fleet_of(service, apps[service.app]),
        balancer=service.balancer,
        arrivals=arrivals,
        request=parse_request_spec(traffic.request, "workload.traffic.request"),
        start_traffic=traffic.start,
        mode=traffic.mode,
    )


def fleet_of(service: ServiceSpec, app: App) -> FleetParams:
    from sim.model.service.fleet import FleetParams  # the serving machinery, only when serving

    return FleetParams(
        workers=service.workers or math.ceil(app.vcpu),
        queue_capacity=service.queue,
        timeout_s=service.timeout_s,
        health_check_interval_s=service.health_check.interval_s,
        healthy_threshold=service.health_check.healthy_threshold,
    )


def check_not_the_services_own(deployments: tuple[Deployment, ...], service: ServiceParams) -> None:
    """Refuse a deployment of the service's own app on the service's own platform: its
    replicas would be the service's fleet under a second owner (same names, neither
    serving nor scaled as the user meant).

    Raises:
        ConfigError: naming the deployment, its app and platform.
    """
    for index, deployment in enumerate(deployments):
        if (deployment.app, deployment.platform) == (service.app, service.platform):
            raise ConfigError(
                f"workload.deployments[{index}]",
                f"app {deployment.app} on {deployment.platform}",
                "another app or platform than the service's (the service's own replicas "
                "are set by workload.service.initial_replicas and the autoscaler)",
            )


def check_apps_on_platforms(
    apps: Mapping[str, App],
    deployments: tuple[Deployment, ...],
    service: ServiceParams | None,
    platforms: Mapping[str, PlatformParams],
) -> None:
    """Let each platform refuse an app it cannot run (a platform kind's ``check_app``)."""
    runs_on = {(d.app, d.platform) for d in deployments}
    if service is not None:
        runs_on.add((service.app, service.platform))
    for app, platform in sorted(runs_on):
        check = getattr(platforms[platform], "check_app", None)
        if check is not None:
            check(apps[app])


def read_autoscaler(data: Any) -> Any:
    """The scaling policy's parameters, a kind of `AUTOSCALING` (None for ``none``: the
    service keeps its replicas and no control loop runs).

    The policy is built once, to refuse one that watches a metric the monitoring does
    not produce before anything is simulated.
    """
    params = read_kind(AUTOSCALING, data, "autoscaler")
    built = AUTOSCALING.kind_of(params).build(params)
    watched = [built.metric] if built.datapoints_needed else []
    watched += [series.metric for series, _ in built.extra_series]
    for metric in watched:
        if metric not in PRODUCED:
            raise ConfigError(
                "autoscaler.metric",
                metric,
                "a metric the monitoring produces: " + ", ".join(PRODUCED),
            )
    return None if isinstance(params, FixedCapacityParams) else params


__all__ = ["AppSpec", "replication_seed", "scenario_params"]
