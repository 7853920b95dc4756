"""The validated, typed parameters a run is built from (SI units, frozen)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sim.model.cluster.deployments import Deployment
from sim.model.cluster.fragmentation import StrandedProbe
from sim.model.cluster.node_lifecycle import NodeLifecycleParams
from sim.model.cluster.scheduling.profile import SchedulerParams
from sim.model.hosts.allocatable import DaemonSet
from sim.model.hosts.cloud import InstanceType
from sim.model.hosts.engine import EngineParams
from sim.model.hosts.host import HostParams
from sim.model.hosts.replica import App
from sim.model.images.image import Image
from sim.model.images.registries import RegistryParams
from sim.model.network.topology import NetworkParams
from sim.model.service.slo import SloParams
from sim.model.service.workload import ServiceParams


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
    node_scaler: Any = None
    """The node scaler's parameters (a kind of sim.model.cluster.scalers.NODE_SCALERS), or
    None without one."""
    daemonsets: tuple[DaemonSet, ...] = ()
    """The pods every node runs (their requests are kept on each node a scaler adds)."""
    log: EventLogMode = "full"
    faults: tuple[Any, ...] = ()
    """The fault specs, each the parameters of a kind of sim.model.faults.kinds.FAULTS."""
    slo: SloParams | None = None
    scheduler: SchedulerParams = field(default_factory=SchedulerParams)
    """The scheduler's profile (``cluster.scheduler``)."""
    node_lifecycle: NodeLifecycleParams = field(default_factory=NodeLifecycleParams)
    """When a crashed host's pods are evicted (``cluster.node_lifecycle``)."""
    cached_images: tuple[str, ...] = ()
    """Catalog images on every node's disk from boot (``cluster.cached_images``)."""
    stranded_probe: StrandedProbe | None = None
    """The pod size the fragmentation columns judge free room by (None: no columns)."""
