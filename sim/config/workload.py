"""Config readers for the workload: apps and deployments."""

from __future__ import annotations

from collections.abc import Mapping

from sim.config.params import Deployment, PlatformParams
from sim.config.reader import Section
from sim.core.errors import ConfigError
from sim.model.images import Image
from sim.model.replica import App


def read_workload(
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
