"""Config readers for the workload: apps, deployments, the served app and its traffic."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sim.config.params import (
    Deployment,
    PlatformParams,
    ServiceParams,
)
from sim.config.reader import Section
from sim.config.schema import read_kind
from sim.config.traces import find_trace, read_trace
from sim.core.errors import ConfigError
from sim.model.arrivals import ARRIVALS
from sim.model.arrivals.trace import TraceParams
from sim.model.fleet import FleetParams
from sim.model.images import Image
from sim.model.monitoring import METRICS
from sim.model.replica import App
from sim.model.workload import parse_request_spec
from sim.policies.autoscaling import AUTOSCALING, FixedCapacityParams
from sim.policies.balancing import BALANCING


def app_allowed(apps: Iterable[str]) -> str:
    """What an app reference may name: one of the configured apps (or says there are none)."""
    names = ", ".join(apps)
    return f"an app of workload.apps: {names}" if names else "an app of workload.apps (none)"


def _platform_of(entry: Section, platforms: Mapping[str, PlatformParams]) -> str:
    """The platform an entry names, or the only one loaded."""
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
        return platform
    entry.raw("platform", None)
    if len(platforms) == 1:
        return next(iter(platforms))
    raise ConfigError(
        f"{entry.key}.platform", "missing", "one of the loaded platforms: " + ", ".join(platforms)
    )


def _arrivals(section: Section) -> Any:
    """The arrival process's parameters: a kind of `ARRIVALS`; a trace is read now."""
    for name in section.names():
        section.raw(name)
    params = read_kind(ARRIVALS, dict(section.items_mapping()), section.key)
    if isinstance(params, TraceParams):
        key = f"{section.key}.path"
        path = find_trace(params.path, key)
        params = replace(params, path=path, loaded=read_trace(path, key))
    return params


def read_service(
    workload: Section, apps: Mapping[str, App], platforms: Mapping[str, PlatformParams]
) -> ServiceParams | None:
    """The served app and its traffic, if the workload has any."""
    if not workload.has("service"):
        workload.raw("service", None)
        workload.raw("traffic", None)
        return None
    service = workload.section("service")
    traffic = workload.section("traffic")
    app = service.text("app")
    if app not in apps:
        raise ConfigError(f"{service.key}.app", app, app_allowed(apps))
    health = service.section("health_check", {})
    workers = service.integer("workers", 0, minimum=0) or math.ceil(apps[app].vcpu)
    params = ServiceParams(
        app=app,
        platform=_platform_of(service, platforms),
        initial_replicas=service.integer("initial_replicas", 1, minimum=0),
        fleet=FleetParams(
            workers=workers,
            queue_capacity=service.integer("queue", 100, minimum=0),
            timeout_s=service.duration("timeout", 30.0),
            health_check_interval_s=health.duration("interval", 10.0),
            healthy_threshold=health.integer("healthy_threshold", 2, minimum=1),
        ),
        balancer=service.text("balancer", "round_robin", choices=BALANCING.names()),
        arrivals=_arrivals(traffic.section("arrivals")),
        request=parse_request_spec(traffic.raw("request"), f"{traffic.key}.request"),
        start_traffic=traffic.text("start", "when_ready", choices=("when_ready", "at_zero")),
    )
    health.close()
    service.close()
    traffic.close()
    return params


def read_workload(
    section: Section, images: Mapping[str, Image], platforms: Mapping[str, PlatformParams]
) -> tuple[dict[str, App], tuple[Deployment, ...], ServiceParams | None]:
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
    for index, value in enumerate(section.items("deployments", [])):
        entry = Section(value, f"{section.key}.deployments[{index}]")
        app = entry.text("app")
        if app not in apps:
            raise ConfigError(f"{entry.key}.app", app, app_allowed(apps))
        platform = _platform_of(entry, platforms)
        per_host = entry.boolean("per_host", False)
        replicas = 0 if per_host else entry.integer("replicas", minimum=0)
        if per_host and entry.has("replicas"):
            raise ConfigError(
                f"{entry.key}.replicas",
                entry.raw("replicas"),
                "no replica count with per_host: true (one per host)",
            )
        lifetime_s = entry.duration("lifetime", None) if entry.has("lifetime") else None
        entry.raw("lifetime", None)
        if lifetime_s is not None and lifetime_s <= 0:
            raise ConfigError(f"{entry.key}.lifetime", entry.raw("lifetime"), "a duration above 0")
        stagger_s = entry.duration("stagger", 0.0)
        if stagger_s < 0:
            raise ConfigError(
                f"{entry.key}.stagger", entry.raw("stagger"), "a duration of 0 or more"
            )
        deployments.append(
            Deployment(
                app,
                replicas,
                entry.duration("at", 0.0),
                platform,
                per_host,
                lifetime_s,
                stagger_s,
            )
        )
        entry.close()
    service = read_service(section, apps, platforms)
    section.raw("horizon", None)
    section.close()
    runs_on = {(d.app, d.platform) for d in deployments}
    if service is not None:
        runs_on.add((service.app, service.platform))
    for app, platform in sorted(runs_on):
        check = getattr(platforms[platform], "check_app", None)
        if check is not None:
            check(apps[app])
    return apps, tuple(deployments), service


def read_autoscaler(section: Section) -> Any:
    """The scaling policy's parameters, a kind of `AUTOSCALING` (None for ``none``: the
    service keeps its replicas and no control loop runs).

    The policy is built once, to refuse one that watches a metric the monitoring does
    not produce before anything is simulated.
    """
    for name in section.names():
        section.raw(name)
    params = read_kind(AUTOSCALING, dict(section.items_mapping()), section.key)
    built = AUTOSCALING.kind_of(params).build(params)
    watched = [built.metric] if built.datapoints_needed else []
    watched += [series.metric for series, _ in built.extra_series]
    for metric in watched:
        if metric not in METRICS:
            raise ConfigError(
                f"{section.key}.metric",
                metric,
                "a metric the monitoring produces: " + ", ".join(METRICS),
            )
    section.close()
    return None if isinstance(params, FixedCapacityParams) else params
