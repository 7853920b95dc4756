"""The validated, typed parameters a run is built from (SI units, frozen)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sim.model.cloud import InstanceType
from sim.model.cluster_scaler import ClusterScalerParams
from sim.model.deployments import Deployment
from sim.model.engine import EngineParams
from sim.model.host import HostParams
from sim.model.images import Image
from sim.model.registries import RegistryParams
from sim.model.replica import App
from sim.model.slo import SloParams
from sim.model.topology import NetworkParams
from sim.model.workload import ServiceParams


@dataclass(frozen=True, slots=True)
class Pricing:
    """Instance types with their on-demand prices, and how they are billed."""

    instance_types: Mapping[str, InstanceType]
    prices_read_on: str
    region: str
    billing_minimum_s: float


PlatformParams = Any
"""The parameters of a kind of `sim.model.platforms.PLATFORMS`."""


EventLogMode = Literal["full", "summary"]
"""``full`` keeps every event of a run (events.csv); ``summary`` keeps only what the
summary and the printed tables need, so memory does not grow with the length of a run."""


@dataclass(frozen=True, slots=True)
class ScenarioParams:
    """Everything a run needs, validated and in SI units."""

    seed: int
    replication: int
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
    service: ServiceParams | None = None
    autoscaler: Any = None  # the parameters of a kind of sim.policies.autoscaling.AUTOSCALING
    cluster_scaler: ClusterScalerParams | None = None
    log: EventLogMode = "full"
    faults: tuple[Any, ...] = ()
    """The fault specs, each the parameters of a kind of sim.model.faults.FAULTS."""
    slo: SloParams | None = None
