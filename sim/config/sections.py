"""The config sections that are not kinds: their settings, units and defaults.

Each dataclass is shaped like its section of the config (``cluster``, ``workload``, the
root keys) and read by the one reader (`sim.core.schema.read`); what the model needs
is built from it in `sim.config` (hosts from pools, apps with their images, a service
with its fleet). Defaults live here and in the model's parameter dataclasses, nowhere
else: the YAML presets carry only what differs from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sim.config.limits import Limits
from sim.config.scheduling import PodSchedulingSpec, TaintSpec
from sim.core.distributions import Constant, Distribution
from sim.core.errors import ConfigError
from sim.core.settings import setting
from sim.model.cluster.fragmentation import StrandedProbe
from sim.model.cluster.node_lifecycle import NodeLifecycleParams
from sim.model.cluster.scalers import NODE_SCALERS
from sim.model.cluster.scalers.simple import SimpleScalerParams
from sim.model.cluster.scheduling.profile import SchedulerParams
from sim.model.hosts.allocatable import DaemonSet, Reserved
from sim.model.hosts.cloud import InstanceType
from sim.model.hosts.engine import EngineParams
from sim.model.hosts.node_settings import labels_setting, max_pods_setting, taints_setting
from sim.model.hosts.spot import SpotParams
from sim.model.service.arrivals import ARRIVALS
from sim.model.service.traffic_modes import TRAFFIC_MODES
from sim.policies.balancing import BALANCING


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSpec:
    """A pool of identical hosts: a priced instance type, or a vCPU and memory size."""

    count: int = setting(minimum=0, doc="hosts in the pool")
    instance_type: str | None = setting(
        None, doc="a type of pricing: its vCPU and memory, and the hosts are billed as it"
    )
    vcpu: float | None = setting(None, minimum=0.001, doc="vCPUs (default: the type's)")
    memory_bytes: int | None = setting(
        None, unit="size", above=0, doc="memory (default: the type's)"
    )
    disk_bytes: int = setting(unit="size", above=0, doc="each host's disk")
    disk_write_bytes_s: float = setting(
        500_000_000.0, unit="bandwidth", above=0, doc="sequential writes (VM disk copies)"
    )
    zones: tuple[str, ...] = setting(
        (), doc="availability zones its hosts are spread over, in turn (host n: zone n mod k)"
    )
    spot: SpotParams | None = setting(None, doc="spot instances: price fraction, interruptions")
    reserved: Reserved = setting(
        default_factory=Reserved,
        doc="kube-reserved + system-reserved + eviction threshold: kept from replicas",
    )
    labels: Mapping[str, str] = labels_setting()
    taints: tuple[TaintSpec, ...] = taints_setting()
    max_pods: int | str = max_pods_setting()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSpec:
    """The cluster: host pools, who the hosts are, their engine, mirrors and node scaler."""

    pools: Mapping[str, PoolSpec] = setting(doc="pools of identical hosts, by name")
    principal: str = setting("", doc="who the hosts are to private registries (IAM role)")
    registry_mirrors: Mapping[str, str] = setting(
        default_factory=dict, doc="origin registry -> the mirror its images come through"
    )
    engine: EngineParams = setting(
        default_factory=EngineParams, doc="each host's container daemon and kubelet"
    )
    scaler: Any = setting(
        default_factory=SimpleScalerParams,
        family=NODE_SCALERS,
        doc="adds and removes hosts (presets: cluster/scaler=simple, none, ...)",
    )
    daemonsets: tuple[DaemonSet, ...] = setting(
        (), doc="pods on every host (pools and the scaler's): their requests are kept"
    )
    scheduler: SchedulerParams = setting(
        default_factory=SchedulerParams,
        doc="the scheduler's profile: filter and score plugins, weights, arguments",
    )
    node_lifecycle: NodeLifecycleParams = setting(
        default_factory=NodeLifecycleParams,
        doc="when a crashed host's pods are evicted and replaced (grace period, toleration)",
    )
    stranded_probe: StrandedProbe | None = setting(
        None,
        doc="a pod size {vcpu, memory}: time-series columns of free CPU on nodes where it "
        "fits no more (fragmentation); null: none",
    )
    cached_images: tuple[str, ...] = setting(
        (),
        doc="catalog images every node holds from boot: a node image (AMI, data-volume "
        "snapshot) built with them cached, on the pools' hosts and the scaler's nodes",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PricingSpec:
    """Instance types with their on-demand prices, and how they are billed."""

    instance_types: Mapping[str, InstanceType] = setting(doc="priced types, by name")
    prices_read_on: str = setting("", doc="when the prices were read")
    region: str = setting("", doc="where they apply")
    billing_minimum_s: float = setting(60.0, unit="duration", doc="billed per second, at least")


@dataclass(frozen=True, slots=True, kw_only=True)
class AppSpec(PodSchedulingSpec):
    """An application: its image, what one replica requests, its start-up work, and its
    replicas' labels and scheduling constraints."""

    image: str = setting(doc="a catalog image")
    vcpu: float = setting(
        unit="cpu", minimum=0.001, doc="vCPUs one replica requests (1, 0.5, 250m)"
    )
    memory_bytes: int = setting(unit="size", above=0, doc="memory one replica requests")
    init: Distribution = setting(Constant(0.0), doc="the app's own start-up once running")
    startup_read_fraction: float | None = setting(
        None,
        minimum=0,
        maximum=1,
        doc="share of each layer read at start-up with a lazy snapshotter; null: its own",
    )
    working_set_bytes: int | None = setting(
        None, unit="size", above=0, doc="memory one replica uses (memory used); none: its request"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentSpec:
    """Replicas of an app asked for at a time (see `sim.config.params.Deployment`)."""

    app: str = setting(doc="an app of workload.apps")
    replicas: int | None = setting(None, minimum=0, doc="how many (not with per_host)")
    at_s: float = setting(0.0, unit="duration", doc="when they are asked for")
    platform: str | None = setting(None, doc="a loaded platform (default: the only one)")
    per_host: bool = setting(False, doc="one replica on every host (a DaemonSet)")
    lifetime_s: float | None = setting(
        None, unit="duration", above=0, doc="each stops this long after it is ready"
    )
    stagger_s: float = setting(0.0, unit="duration", doc="replica k asked for at at + k x this")

    def __post_init__(self) -> None:
        if self.per_host and self.replicas is not None:
            raise ConfigError(
                "replicas", self.replicas, "no replica count with per_host: true (one per host)"
            )
        if not self.per_host and self.replicas is None:
            raise ConfigError("replicas", "missing", "a value is required")


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthCheck:
    """The load balancer's health check of a ready replica."""

    interval_s: float = setting(10.0, unit="duration", doc="between checks")
    healthy_threshold: int = setting(2, minimum=1, doc="checks passed before it takes traffic")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSpec:
    """The served app behind a load balancer."""

    app: str = setting(doc="an app of workload.apps")
    platform: str | None = setting(None, doc="a loaded platform (default: the only one)")
    initial_replicas: int = setting(1, minimum=0, doc="replicas at the start")
    workers: int = setting(0, minimum=0, doc="requests served at once per replica; 0: its vCPUs")
    queue: int = setting(100, minimum=0, doc="waiting requests per replica; more are dropped")
    timeout_s: float = setting(30.0, unit="duration", doc="a request waiting longer is dropped")
    balancer: str = setting("round_robin", family=BALANCING, doc="spreads requests")
    health_check: HealthCheck = setting(default_factory=HealthCheck, doc="before traffic")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficSpec:
    """The requests the service gets."""

    start: Literal["when_ready", "at_zero"] = setting(
        "when_ready", doc="when_ready: once the initial replicas serve; at_zero: at t = 0"
    )
    arrivals: Any = setting(family=ARRIVALS, doc="when requests arrive")
    request: Any = setting(doc="cpu (a duration distribution) and response_bytes (sizes)")
    mode: str = setting(
        "requests",
        family=TRAFFIC_MODES,
        doc="requests: each request simulated; fluid: queues as fluids (long, high-rate runs)",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadSpec:
    """Apps, deployments of them, and the served app with its traffic."""

    horizon_s: float | None = setting(
        None, unit="duration", above=0, doc="the run's length for this workload"
    )
    apps: Mapping[str, AppSpec] = setting(default_factory=dict, doc="applications by name")
    deployments: tuple[DeploymentSpec, ...] = setting((), doc="replicas asked for, in order")
    service: ServiceSpec | None = setting(None, doc="the app served behind a load balancer")
    traffic: TrafficSpec | None = setting(None, doc="its requests")

    def __post_init__(self) -> None:
        if self.service is not None and self.traffic is None:
            raise ConfigError("traffic", "missing", "the service's traffic (arrivals, request)")
        if self.traffic is not None and self.service is None:
            raise ConfigError("service", "missing", "the app the traffic goes to")


@dataclass(frozen=True, slots=True, kw_only=True)
class RootSpec:
    """The root keys: the seed, replications, the run's length and its outputs."""

    seed: int = setting(42, minimum=0, maximum=2**63 - 1, doc="the root of every stream")
    replications: int = setting(1, minimum=1, doc="with sim -m: runs per configuration")
    replication: int = setting(0, minimum=0, doc="which one this run is")
    horizon_s: float = setting(7200.0, unit="duration", above=0, doc="simulated time limit")
    sample_period_s: float = setting(
        60.0, unit="duration", above=0, doc="monitoring period: one timeseries.csv row each"
    )
    progress: bool | Literal["auto"] = setting(
        "auto", doc="a bar of simulated time: auto (on a terminal), true or false"
    )
    figures: bool | Literal["png", "svg", "pdf"] = setting(
        False, doc="the run (a sweep: its end) also draws its figures: true (png), png, svg or pdf"
    )
    figure_dpi: float = setting(120.0, above=0, doc="dots per inch of png figures")
    report: Literal["none", "html"] = setting(
        "none", doc="html: the run (a sweep: its end) also writes report.html, a page to open"
    )
    resume: Literal["same_version", "any_version"] = setting(
        "same_version",
        doc="sim -m again into a folder: reuse complete runs this version made, or any version's",
    )
    log: Literal["full", "summary"] = setting(
        "full", doc="full: every event in events.csv; summary: counts only (long runs)"
    )
    limits: Limits = setting(
        default_factory=Limits, doc="the largest run allowed, checked before it is built"
    )
    hydra: Any = setting(None, doc="Hydra's own settings (not read)")

    def __post_init__(self) -> None:
        if self.replication >= self.replications:
            raise ConfigError(
                "replication",
                self.replication,
                f"0 to {self.replications - 1} (replications={self.replications})",
            )


SECTION_KEYS = ("cluster", "network", "registry", "images", "platform", "workload")
"""The root keys read section by section (besides the root's own and the autoscaler)."""

_unused = field  # re-exported for sections that need factories
