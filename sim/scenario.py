"""The composition root: build a world from validated parameters, run it, collect results.

Lifecycle (as in desmod): build → run → collect. Building wires the network, the
registries, the hosts and the platforms together, handing each its own named random
stream; running starts the deployments and samples the world every period until every
requested replica is ready or failed, or the horizon is reached; collecting turns the
records into a `Result`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

import simpy

from sim.config import Deployment, ScenarioParams
from sim.config.params import ServiceParams
from sim.core.records import (
    EventKind,
    EventLog,
    EventTally,
    LinkUsage,
    PullRecord,
    ReplicaRecord,
    ReplicaState,
)
from sim.core.streams import RandomStreams
from sim.model.arrivals import ARRIVALS, ArrivalProcess
from sim.model.autoscaler import Autoscaler
from sim.model.billing import InstanceUsage, RegistryUsage, instance_cost_usd, registry_cost_usd
from sim.model.cloud import Cloud
from sim.model.cluster_scaler import ClusterScaler
from sim.model.engine import run_image_gc
from sim.model.fleet import Fleet
from sim.model.host import Host, HostList
from sim.model.images import Image
from sim.model.monitoring import Monitoring, PeriodMetrics, period_row
from sim.model.network import Network
from sim.model.platforms import PLATFORMS, PlatformContext
from sim.model.registry import Registry
from sim.model.replica import Ledger, Platform
from sim.model.runtime import ContainerRuntime, ContainerSettings
from sim.model.scheduler import Scheduler
from sim.model.storage import DiskTotals
from sim.model.topology import build_topology, host_attachment
from sim.model.traffic import RequestObservers, TrafficDriver, TrafficStats
from sim.output.results import Result, service_summary, summarize
from sim.policies.autoscaling import AUTOSCALING
from sim.policies.balancing import make_balancer

ProgressCallback = Callable[[float, float], None]


def make_arrivals(params: Any, rng: Any) -> ArrivalProcess:
    """The arrival process of a kind's validated parameters, drawing from `rng`."""
    return ARRIVALS.kind_of(params).build(params, rng)


class World:
    """Everything a run simulates, wired together (see `build_world`)."""

    def __init__(self, params: ScenarioParams) -> None:
        self.params = params
        self.env = simpy.Environment()
        self.log = EventLog() if params.log == "full" else EventTally()
        self.streams = RandomStreams(params.seed)
        host_names = [host.name for host in params.hosts]
        self.network = Network(
            self.env, build_topology(params.network, host_names, params.registries)
        )
        self.registries: dict[str, Registry] = {}
        mirrors_last = sorted(params.registries, key=lambda r: r.upstream_name is not None)
        for registry_params in mirrors_last:
            upstream = self.registries.get(registry_params.upstream_name or "")
            published = registry_params.published(params.images)
            self.registries[registry_params.name] = Registry(
                self.env,
                registry_params,
                self.network,
                self.log,
                self.streams.generator(f"registry/{registry_params.name}"),
                {image.reference: image for image in published},
                upstream,
            )
        self.disk_totals = DiskTotals()
        self.hosts = HostList(
            Host(self.env, host, params.engine, self.log, self.disk_totals) for host in params.hosts
        )
        self.cloud = Cloud(
            self.env,
            self.network,
            lambda index: host_attachment(params.network, index),
            params.network.host_link,
            params.engine,
            self.log,
            self.disk_totals,
            self.hosts,
            principal=params.hosts[0].principal,
        )
        for host, host_params in zip(self.hosts, params.hosts, strict=True):
            instance_type = params.pricing.instance_types.get(host_params.instance_type or "")
            self.cloud.register(host, instance_type)
        self.scheduler = Scheduler(self.env, self.hosts, self.log)
        self.ledger = Ledger()
        self.mirrors = dict(params.registry_mirrors)
        self.pulls: list[PullRecord] = []
        self.replicas: list[ReplicaRecord] = []
        self.platforms: dict[str, Platform] = {
            name: self._platform(platform_params)
            for name, platform_params in params.platforms.items()
        }
        self.replicas_requested = 0
        self.replicas_ready = 0
        app_vcpu = {name: app.vcpu for name, app in params.apps.items()}
        self.monitoring = Monitoring(params.sample_period_s, self._replica_vcpus(app_vcpu))
        self.traffic: TrafficDriver | None = None
        self.traffic_stats: TrafficStats | None = None
        self.fleet: Fleet | None = None
        self.autoscaler: Autoscaler | None = None
        self.cluster_scaler: ClusterScaler | None = None
        if params.service is not None:
            self._build_service(params.service)
        if params.cluster_scaler is not None:
            scaler = params.cluster_scaler
            self.cluster_scaler = ClusterScaler(
                self.env,
                scaler,
                params.pricing.instance_types[scaler.instance_type],
                self.cloud,
                self.scheduler,
                self.streams.generator("cluster-scaler"),
                self.log,
            )

    def _replica_vcpus(self, app_vcpu: dict[str, float]) -> Callable[[str], float]:
        """A replica's vCPUs (its app's request), for CPU utilization."""
        service = self.params.service
        default = app_vcpu[service.app] if service is not None else 1.0
        return lambda replica: default

    def _platform(self, platform_params: Any) -> Platform:
        """Build one platform (a kind of `PLATFORMS`) with its own random stream."""
        rng = self.streams.generator(f"platform/{platform_params.name}")

        def runtime(settings: ContainerSettings) -> ContainerRuntime:
            return ContainerRuntime(
                self.env, settings, self.source_for, rng, self._init_rng, self.log, self.pulls
            )

        context = PlatformContext(
            self.env,
            self.scheduler,
            self.cloud,
            self.params.pricing.instance_types,
            self.ledger,
            self.log,
            rng,
            self._init_rng,
            runtime,
        )
        platform: Platform = PLATFORMS.kind_of(platform_params).build(platform_params, context)
        return platform

    def _init_rng(self, app: str) -> Any:
        return self.streams.generator(f"app/{app}/init")

    def source_for(self, image: Image) -> Registry:
        """The registry a host pulls `image` from: its origin's mirror if one is set."""
        return self.registries[self.mirrors.get(image.registry, image.registry)]

    def _record(self, record: ReplicaRecord) -> None:
        self.replicas.append(record)
        if record.state == "ready":
            self.replicas_ready += 1

    def _replica(
        self,
        platform: Platform,
        replica: str,
        app: str,
        pinned: Host | None,
        lifetime_s: float | None,
    ) -> Generator[simpy.Event, Any, None]:
        record = yield from platform.start_replica(
            replica, self.params.apps[app], self.env.now, pinned
        )
        self._record(record)
        if lifetime_s is not None and record.state == "ready":
            yield self.env.timeout(lifetime_s)
            platform.stop_replica(replica)

    def _build_service(self, service: ServiceParams) -> None:
        """The served app: its fleet, its traffic, its monitoring and its autoscaler."""
        streams = self.streams
        app = self.params.apps[service.app]
        self.traffic_stats = TrafficStats()
        self.traffic = TrafficDriver(
            self.env,
            make_arrivals(service.arrivals, streams.generator("traffic/arrivals")),
            service.request,
            make_balancer(service.balancer),
            streams.generator("traffic/cpu"),
            streams.generator("traffic/response"),
            streams.generator("traffic/balancer"),
            RequestObservers([self.traffic_stats, self.monitoring]),
        )
        self.fleet = Fleet(
            self.env,
            app,
            self.platforms[service.platform],
            service.fleet,
            self.traffic,
            self.monitoring,
            self.log,
            self._record,
        )
        if self.params.autoscaler is not None:
            policy = AUTOSCALING.kind_of(self.params.autoscaler).build(self.params.autoscaler)
            self.autoscaler = Autoscaler(self.env, policy, self.fleet, self.monitoring, self.log)

    def _deploy(self) -> Generator[simpy.Event, Any, None]:
        started: list[simpy.Process] = []
        numbering: dict[str, int] = {}
        for deployment in sorted(self.params.deployments, key=lambda d: d.at_s):
            if deployment.at_s > self.env.now:
                yield self.env.timeout(deployment.at_s - self.env.now)
            started.extend(self._start(deployment, numbering))
        yield self.env.all_of(started)

    def _start(self, deployment: Deployment, numbering: dict[str, int]) -> list[simpy.Process]:
        platform = self.platforms[deployment.platform]
        staggered = {"stagger_s": deployment.stagger_s} if deployment.stagger_s else {}
        self.log.record(
            self.env.now,
            "deployer",
            EventKind.DEPLOYMENT,
            app=deployment.app,
            replicas=len(self.hosts) if deployment.per_host else deployment.replicas,
            platform=deployment.platform,
            **staggered,
        )
        processes = []
        pinned: list[Host | None] = (
            list(self.hosts) if deployment.per_host else [None] * deployment.replicas
        )
        for index, host in enumerate(pinned):
            prefix = f"{deployment.app}-{deployment.platform}"
            numbering[prefix] = numbering.get(prefix, 0) + 1
            replica = f"{prefix}-{numbering[prefix]}"
            replica_run = self._replica(
                platform, replica, deployment.app, host, deployment.lifetime_s
            )
            if index and deployment.stagger_s:
                replica_run = self._later(index * deployment.stagger_s, replica, replica_run)
            else:
                self._request(replica)
            processes.append(self.env.process(replica_run))
        return processes

    def _request(self, replica: str) -> None:
        self.replicas_requested += 1
        self.log.record(
            self.env.now, replica, EventKind.REPLICA_STATE, state=ReplicaState.REQUESTED
        )

    def _later(
        self, delay_s: float, replica: str, replica_run: Generator[simpy.Event, Any, None]
    ) -> Generator[simpy.Event, Any, None]:
        """Request a replica of a staggered deployment when its turn comes."""
        yield self.env.timeout(delay_s)
        self._request(replica)
        yield from replica_run

    def _serve(
        self, service: ServiceParams, fleet: Fleet, traffic: TrafficDriver
    ) -> Generator[simpy.Event, Any, None]:
        """Open the service to traffic: at once, or once the initial replicas serve."""
        if service.start_traffic == "when_ready" and service.initial_replicas > 0:
            yield fleet.live
        self.log.record(self.env.now, fleet.name, EventKind.TRAFFIC_STARTED)
        yield from traffic.run()

    def requested(self) -> int:
        """Replicas asked for so far, by deployments and by the fleet."""
        launched = len(self.fleet.history) if self.fleet is not None else 0
        return self.replicas_requested + launched

    def sample(self, period: PeriodMetrics | None = None) -> dict[str, float | int]:
        """One row of the time series: the world's state now, and the period just closed."""
        fleet = self.fleet
        row: dict[str, float | int] = {
            "time_s": self.env.now,
            "replicas_ready": self.replicas_ready,
            "replicas_failed": len(self.replicas) - self.replicas_ready,
            "replicas_starting": self.requested() - len(self.replicas),
            "desired": fleet.desired if fleet is not None else 0,
            "in_service": fleet.count("in_service") if fleet is not None else 0,
            "draining": fleet.count("draining") if fleet is not None else 0,
            "hosts": self.cloud.running,
            "flows_active": self.network.active_flows,
            "disk_bytes_used": self.disk_totals.used_bytes,
            "registry_bytes_served": sum(r.bytes_served for r in self.registries.values()),
        }
        row.update(period_row(self.monitoring, period))
        return row

    def _sampler(
        self, rows: list[dict[str, float | int]], progress: ProgressCallback | None
    ) -> Generator[simpy.Event, Any, None]:
        rows.append(self.sample())
        index = 0
        while True:
            yield self.env.timeout(self.params.sample_period_s)
            rows.append(self.sample(self.monitoring.close(index)))
            index += 1
            if progress is not None:
                progress(self.env.now, self.params.horizon_s)

    def run(self, progress: ProgressCallback | None = None) -> Result:
        """Run until every replica is ready or failed, or until the horizon."""
        env = self.env
        env.process(
            run_image_gc(env, self.hosts, self.params.engine.image_gc_period_s, self.disk_totals)
        )
        rows: list[dict[str, float | int]] = []
        env.process(self._sampler(rows, progress))
        if self.cluster_scaler is not None:
            env.process(self.cluster_scaler.run())
        deployed = env.process(self._deploy())
        horizon = env.timeout(self.params.horizon_s)
        if self.fleet is not None and self.traffic is not None and self.params.service:
            self.fleet.set_desired(self.params.service.initial_replicas, "initial capacity")
            env.process(self._serve(self.params.service, self.fleet, self.traffic))
            if self.autoscaler is not None:
                env.process(self.autoscaler.run())
            env.run(until=horizon)
        else:
            env.run(until=env.any_of([deployed, horizon]))
        if rows[-1]["time_s"] != env.now:
            rows.append(self.sample(self.monitoring.close(len(self.monitoring.closed))))
            if progress is not None:
                progress(env.now, self.params.horizon_s)
        replicas = [*self.replicas, *self._unfinished()]
        summary = summarize(
            seed=self.params.seed,
            replication=self.params.replication,
            sim_time_s=self.env.now,
            hosts=len(self.params.hosts),
            replicas_requested=self.requested(),
            replicas=replicas,
            pulls_requested=self.log.count(EventKind.PULL_REQUESTED),
            pulls=self.pulls,
            bytes_from_upstream=sum(r.bytes_from_upstream for r in self.registries.values()),
            disk_bytes_peak=max(host.disk.peak_bytes for host in self.hosts),
            images_removed=sum(host.engine.images_removed for host in self.hosts),
        )
        summary.update(self._service_summary())
        summary.update(self._cost_summary())
        return Result(
            summary,
            self.log,
            tuple(rows),
            tuple(replicas),
            tuple(self.pulls),
            self._links(),
            tuple(self.scheduler.warnings),
        )

    def _unfinished(self) -> list[ReplicaRecord]:
        """Records of the replicas still starting at the end, with their state and why
        (a pending one: why nothing fits)."""
        pending = self.scheduler.pending_reasons
        records = []
        for name, startup in self.ledger.starting.items():
            if name in pending:
                startup.add("wait_s", self.env.now - startup.requested_s)
                records.append(startup.unfinished("pending", pending[name]))
            else:
                records.append(startup.unfinished())
        return records

    def _links(self) -> tuple[LinkUsage, ...]:
        """Every link with its roles, the bytes it carried each way and its bandwidth."""
        network = self.network
        graph = network.graph
        return tuple(
            LinkUsage(
                u,
                v,
                str(graph.nodes[u].get("role", "host")),
                str(graph.nodes[v].get("role", "host")),
                network.link_bytes(u, v),
                network.link_bytes(v, u),
                float(data["bandwidth_bytes_s"]),
            )
            for u, v, data in graph.edges(data=True)
        )

    def _service_summary(self) -> dict[str, Any]:
        stats = self.traffic_stats
        return service_summary(
            stats.summary() if stats is not None else None,
            in_flight=stats.in_flight(self.env.now) if stats is not None else 0,
            scaling_actions=self.autoscaler.actions if self.autoscaler else 0,
            cluster_scaling_actions=self.cluster_scaler.actions if self.cluster_scaler else 0,
            replicas_max=self.fleet.size_max if self.fleet else self.replicas_ready,
            hosts_max=self.cloud.running_max,
        )

    def _cost_summary(self) -> dict[str, Any]:
        end_s = self.env.now
        instances = [
            InstanceUsage(record.usd_per_hour, record.launched_s, record.terminated_s)
            for record in self.cloud.records.values()
        ]
        registries = [
            RegistryUsage(
                registry.stored_bytes(),
                registry.bytes_served,
                registry.params.prices.storage_usd_per_gb_month,
                registry.params.prices.egress_usd_per_gb,
            )
            for registry in self.registries.values()
        ]
        reservations = self.ledger.reservations(end_s)
        instance_usd = instance_cost_usd(instances, end_s, self.params.pricing.billing_minimum_s)
        registry_usd = registry_cost_usd(registries, end_s)
        return {
            "cost_usd": instance_usd + registry_usd,
            "cost_usd_instances": instance_usd,
            "cost_usd_registries": registry_usd,
            "vcpu_seconds_reserved": sum(r.vcpu * (r.until_s - r.since_s) for r in reservations),
            "vcpu_seconds_used": self.monitoring.busy_total_s,
            "memory_byte_seconds_reserved": sum(
                r.memory_bytes * (r.until_s - r.since_s) for r in reservations
            ),
            "memory_byte_seconds_used": sum(
                r.app_memory_bytes * (r.until_s - r.since_s) for r in reservations
            ),
        }


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Pause the cyclic garbage collector during a run.

    A large run holds millions of live objects (events, pulls in flight, records) that
    the collector would rescan again and again without finding garbage: the model makes
    almost no reference cycles (a simulated day of traffic leaves about 4,000 objects in
    them), while collecting took a fifth of a 30,000-host storm's time even with high
    thresholds. Reference counting still frees everything else at once; the collector
    resumes after the run, as it was.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_scenario(params: ScenarioParams, progress: ProgressCallback | None = None) -> Result:
    """Build the world described by `params`, run it and return its results."""
    with _fewer_collections():
        return World(params).run(progress)
