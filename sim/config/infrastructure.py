"""Config readers for the infrastructure: prices, hosts, the engine, the network, registries."""

from __future__ import annotations

import math
from typing import Any

from sim.config.params import Pricing
from sim.config.reader import REQUIRED, Section
from sim.core.errors import ConfigError
from sim.model.cloud import InstanceType
from sim.model.cluster_scaler import ClusterScalerParams
from sim.model.engine import EngineParams
from sim.model.host import HostParams
from sim.model.ratelimit import RequestQuota
from sim.model.registry import PullRateLimit, RegistryParams
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


def read_quota(quotas: Section, name: str) -> RequestQuota | None:
    if not quotas.has(name):
        quotas.raw(name, None)
        return None
    rate = quotas.number(name, minimum=0.001)
    return RequestQuota(rate_per_s=rate, burst=max(rate, 1.0))


def read_registries(section: Section) -> tuple[RegistryParams, ...]:
    registries = []
    for name in section.names():
        entry = section.section(name)
        kind = entry.text("kind", choices=("public", "private", "mirror"))
        limit = entry.section("pull_limit") if entry.has("pull_limit") else None
        entry.raw("pull_limit", None)
        quotas = entry.section("quotas", {})
        prices = entry.section("prices", {})
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
                manifest_quota=read_quota(quotas, "manifest_per_s"),
                blob_quota=read_quota(quotas, "blob_per_s"),
                failure_probability=entry.number(
                    "failure_probability", 0.0, minimum=0.0, maximum=1.0
                ),
                storage_usd_per_gb_month=prices.number(
                    "storage_usd_per_gb_month", 0.0, minimum=0.0
                ),
                egress_usd_per_gb=prices.number("egress_usd_per_gb", 0.0, minimum=0.0),
            )
        )
        if limit is not None:
            limit.close()
        quotas.close()
        prices.close()
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


def read_mirrors(
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
