"""Config readers for the infrastructure: prices, hosts, the engine, the network, registries."""

from __future__ import annotations

import math
from typing import Any

from sim.config.params import Pricing
from sim.config.reader import REQUIRED, Section
from sim.config.schema import read_kind
from sim.core.errors import ConfigError
from sim.model.cloud import InstanceType
from sim.model.cluster_scaler import ClusterScalerParams
from sim.model.engine import EngineParams
from sim.model.host import HostParams
from sim.model.registries import REGISTRIES, RegistryParams
from sim.model.topology import LinkParams, NetworkParams
from sim.policies.image_gc import GcThresholds


def read_pricing(section: Section) -> Pricing:
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


def read_instance_type(
    section: Section, name: str, pricing: Pricing, default: Any = REQUIRED
) -> InstanceType | None:
    value = section.raw(name, default)
    if value is None:
        return None
    if not isinstance(value, str) or value not in pricing.instance_types:
        raise ConfigError(
            f"{section.key}.{name}",
            value,
            "an instance type of pricing: " + ", ".join(pricing.instance_types),
        )
    return pricing.instance_types[value]


def read_hosts(cluster: Section, pricing: Pricing) -> tuple[HostParams, ...]:
    principal = cluster.text("principal", "")
    hosts: list[HostParams] = []
    for pool_name, pool in cluster.sections("pools").items():
        count = pool.integer("count", minimum=0)
        instance_type = read_instance_type(pool, "instance_type", pricing, None)
        vcpu = pool.number("vcpu", instance_type.vcpu if instance_type else REQUIRED, minimum=0.001)
        memory_bytes = pool.positive_size(
            "memory", instance_type.memory_bytes if instance_type else REQUIRED
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


def read_engine(cluster: Section) -> EngineParams:
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


def read_network(network: Section) -> NetworkParams:
    def link(name: str, default: Any) -> LinkParams:
        section = network.section(name, default)
        params = LinkParams(section.bandwidth("bandwidth"), section.duration("latency", 0.0))
        section.close()
        return params

    params = NetworkParams(
        topology=network.text("topology", choices=("star", "two_tier")),  # type: ignore[arg-type]
        host_link=link("host_link", REQUIRED),
        uplink=link("uplink", {"bandwidth": "40Gbps", "latency": "0.1ms"}),
        hosts_per_rack=network.integer("hosts_per_rack", 16, minimum=1),
    )
    network.close()
    return params


def read_registries(section: Section) -> tuple[RegistryParams, ...]:
    """The registries by name: each a kind of `REGISTRIES`, its upstream another one."""
    registries: list[RegistryParams] = []
    for name in section.names():
        section.raw(name)
        registries.append(
            read_kind(REGISTRIES, section.items_mapping()[name], f"{section.key}.{name}", name=name)
        )
    names = {registry.name for registry in registries}
    for registry in registries:
        upstream = registry.upstream_name
        if upstream is not None and (upstream not in names or upstream == registry.name):
            others = ", ".join(sorted(names - {registry.name})) or "none"
            raise ConfigError(
                f"{section.key}.{registry.name}.upstream", upstream, f"another registry ({others})"
            )
    if not registries:
        raise ConfigError(section.key, "none", "at least one registry")
    return tuple(registries)


def read_mirrors(
    cluster: Section, registries: tuple[RegistryParams, ...]
) -> tuple[tuple[str, str], ...]:
    section = cluster.section("registry_mirrors", {})
    by_name = {registry.name: registry for registry in registries}
    mirrors = []
    for origin in section.names():
        mirror = section.text(origin)
        target = by_name.get(mirror)
        if target is None or target.upstream_name != origin:
            choices = [r.name for r in registries if r.upstream_name == origin]
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


def read_cluster_scaler(cluster: Section, pricing: Pricing) -> ClusterScalerParams | None:
    """The cluster-level scaler's node group, when enabled."""
    section = cluster.section("scaler", {})
    if not section.boolean("enabled", False):
        for name in section.names():
            section.raw(name)
        return None
    instance_type = read_instance_type(section, "instance_type", pricing)
    assert instance_type is not None
    params = ClusterScalerParams(
        instance_type=instance_type.name,
        disk_bytes=section.positive_size("disk", "100GB"),
        min_hosts=section.integer("min_hosts", 0, minimum=0),
        max_hosts=section.integer("max_hosts", minimum=1),
        provision=section.distribution(
            "provision", {"dist": "lognormal", "median": "90s", "sigma": 0.2}
        ),
        scan_interval_s=section.duration("scan_interval", 10.0),
        scale_down_unneeded_s=section.duration("scale_down_unneeded", 600.0),
    )
    if params.max_hosts < params.min_hosts:
        raise ConfigError(f"{section.key}.max_hosts", params.max_hosts, "at least min_hosts")
    if params.scan_interval_s <= 0:
        raise ConfigError(f"{section.key}.scan_interval", params.scan_interval_s, "above 0")
    section.close()
    return params
