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

from collections.abc import Mapping
from typing import Any

from sim.config.infrastructure import (
    read_cluster_scaler,
    read_engine,
    read_hosts,
    read_mirrors,
    read_network,
    read_pricing,
    read_registries,
)
from sim.config.params import (
    Deployment,
    PlatformParams,
    Pricing,
    ScenarioParams,
)
from sim.config.reader import Section
from sim.config.software import read_images, read_platforms
from sim.config.workload import read_autoscaler, read_workload
from sim.core.errors import ConfigError
from sim.core.streams import RandomStreams

__all__ = [
    "ConfigError",
    "Deployment",
    "PlatformParams",
    "Pricing",
    "ScenarioParams",
    "scenario_params",
]


def replication_seed(root_seed: int, replication: int) -> int:
    """The seed of one replication: the root seed itself for replication 0, then seeds
    derived from it by name, the same in every process."""
    if replication == 0:
        return root_seed
    return RandomStreams(root_seed).child_seed(f"replication/{replication}")


def scenario_params(config: Mapping[str, Any]) -> ScenarioParams:
    """Validate a composed configuration and convert it to scenario parameters.

    Raises:
        ConfigError: the first problem found, naming its full key.
    """
    root = Section(config, "")
    root_seed = root.integer("seed", minimum=0, maximum=2**63 - 1)
    replications = root.integer("replications", 1, minimum=1)
    replication = root.integer("replication", 0, minimum=0)
    if replication >= replications:
        raise ConfigError(
            "replication", replication, f"0 to {replications - 1} (replications={replications})"
        )
    seed = replication_seed(root_seed, replication)
    horizon_s = root.duration("horizon", 86400.0)
    if horizon_s <= 0:
        raise ConfigError("horizon", root.raw("horizon"), "a duration above 0")
    sample_period_s = root.duration("sample_period", 10.0)
    if sample_period_s <= 0:
        raise ConfigError("sample_period", root.raw("sample_period"), "a duration above 0")
    registries = read_registries(root.section("registry"))
    images = read_images(root.section("images"), registries)
    for registry in registries:
        for preload in getattr(registry, "preload", ()):
            if preload not in images:
                raise ConfigError(
                    f"registry.{registry.name}.preload",
                    preload,
                    "an image of the catalog: " + ", ".join(images),
                )
    pricing = read_pricing(root.section("pricing"))
    cluster = root.section("cluster")
    hosts = read_hosts(cluster, pricing)
    engine = read_engine(cluster)
    cluster_scaler = read_cluster_scaler(cluster, pricing)
    mirrors = read_mirrors(cluster, registries)
    cluster.close()
    network = read_network(root.section("network"))
    platforms = read_platforms(root.section("platform"), pricing)
    apps, deployments, service = read_workload(root.section("workload"), images, platforms)
    root.raw("hydra", None)
    autoscaler = read_autoscaler(root.section("autoscaler", {"policy": "none"}))
    if not isinstance(root.raw("figures", False), bool):
        raise ConfigError("figures", root.raw("figures"), "true or false")
    progress = root.raw("progress", "auto")
    if progress not in ("auto", True, False):
        raise ConfigError("progress", progress, "auto, true or false")
    log = root.raw("log", "full")
    if log not in ("full", "summary"):
        raise ConfigError("log", log, "full or summary")
    root.close()
    return ScenarioParams(
        seed=seed,
        replication=replication,
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
        service=service,
        autoscaler=autoscaler,
        cluster_scaler=cluster_scaler,
        log=log,
    )
