"""The validated, typed parameters a run is built from (SI units, frozen)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sim.model.beanstalk import BeanstalkParams
from sim.model.cloud import InstanceType
from sim.model.engine import EngineParams
from sim.model.host import HostParams
from sim.model.images import Image
from sim.model.platforms import ContainerPlatformParams, VmPlatformParams
from sim.model.registry import RegistryParams
from sim.model.replica import App
from sim.model.topology import NetworkParams


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
