"""The composition root: build a scenario from validated parameters, run it, collect results.

Lifecycle (as in desmod): build → run → collect. Building assembles the `Cluster` (the
network, registries, hosts and what manages them), the platforms replicas start on, the
`Deployer` of the deployments and, when the workload has one, the `Service` with its
traffic and autoscaler, handing each its own named random stream; running starts them and
samples every period until every requested replica is ready or failed (or, with a
service, until the horizon); collecting turns what each part reports into a `Result`.

The optional parts (the service and its traffic and autoscaler, faults and spot
capacity, the SLO) are imported only when a scenario has them, so what builds only a
cluster (sim-docker's node) does not load them.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from sim.config import ScenarioParams
from sim.config.scalers import runs_spot
from sim.core.collection import collection_paused
from sim.core.records import EventKind, EventLog, EventTally, PullRecord, ReplicaRecord
from sim.core.streams import RandomStreams
from sim.core.world import AppFacts, HostFacts, PlatformFacts, RegistryFacts, World
from sim.model.cluster.cluster import Cluster
from sim.model.cluster.deployments import Deployer
from sim.model.cluster.scalers.workloads import LedgerWorkloads, Owner
from sim.model.hosts.cloud import InstanceRecord
from sim.model.hosts.host import Host, HostParams
from sim.model.hosts.replica import Ledger, Platform
from sim.model.hosts.runtime import ContainerRuntime, ContainerSettings
from sim.model.images.image import catalog_facts
from sim.model.images.registries import REGISTRIES
from sim.model.platforms import PLATFORMS, PlatformContext
from sim.model.primitives.clock import Environment
from sim.model.service.metric_queries import period_row
from sim.model.service.monitoring import Monitoring, PeriodMetrics
from sim.output.results import Result

if TYPE_CHECKING:
    from sim.model.faults.resilience import Resilience
    from sim.model.service.service import Service
    from sim.model.service.slo import SloTracker

ProgressCallback = Callable[[float, float], None]


def build_cluster(
    env: simpy.Environment, params: ScenarioParams, log: EventLog, streams: RandomStreams
) -> Cluster:
    """The cluster `params` describe: its pools' hosts, network, registries and scaler."""
    return Cluster(
        env,
        params.hosts,
        params.network,
        params.registries,
        params.images,
        params.engine,
        params.pricing.instance_types,
        params.pricing.billing_minimum_s,
        dict(params.registry_mirrors),
        params.node_scaler,
        log,
        streams,
        params.daemonsets,
        params.scheduler,
        # A fault could set hosts pulling in step apart (refuse some requests, cut some
        # transfers): with faults, each host pulls on its own.
        pull_cohorts=not params.faults,
        cached_images=params.cached_images,
        stranded_probe=params.stranded_probe,
    )


class Scenario:
    """A run's parts, wired together from its parameters.

    Attributes:
        params: the validated parameters.
        env: the simulation environment.
        log: the event log (every event, or the tally of ``log: summary``).
        streams: the run's named random streams.
        cluster: the infrastructure.
        ledger: every replica's start-up record and holdings.
        pulls: every image pull's record, in the order they ended.
        platforms: the loaded platforms, by name.
        deployer: the deployments.
        service: the served app, or None when the workload has no service.
    """

    def __init__(self, params: ScenarioParams) -> None:
        self.params = params
        self.env = Environment()
        self.log = EventLog() if params.log == "full" else EventTally()
        self._violated: set[int] = set()
        self.streams = RandomStreams(params.seed)
        self.cluster = build_cluster(self.env, params, self.log, self.streams)
        self.ledger = Ledger()
        self.pulls: list[PullRecord] = []
        self.platforms: dict[str, Platform] = {
            name: self._platform(platform_params)
            for name, platform_params in params.platforms.items()
        }
        self.slo: SloTracker | None = None
        slo = params.slo
        if slo is not None and slo.judged and params.service is not None:
            from sim.model.service.slo import SloTracker

            self.slo = SloTracker(slo, params.sample_period_s)
        served = params.service
        replica_vcpu = params.apps[served.app].vcpu if served is not None else 1.0
        self.monitoring = Monitoring(params.sample_period_s, lambda replica: replica_vcpu)
        self.deployer = Deployer(
            self.env,
            params.deployments,
            self.platforms,
            params.apps,
            lambda: self.cluster.hosts,
            self.ledger,
            self.log,
        )
        self.service: Service | None = None
        if served is not None:
            from sim.model.service.service import Service

            self.service = Service(
                self.env,
                served,
                params.apps[served.app],
                self.platforms[served.platform],
                params.autoscaler,
                self.monitoring,
                self.ledger,
                self.log,
                self.streams,
                self.slo,
            )
        self.resilience: Resilience | None = None
        if params.faults or _has_spot(params):
            from sim.model.faults.resilience import Resilience

            self.resilience = Resilience(
                self.env,
                params.faults,
                self.cluster,
                self.ledger,
                self.deployer,
                self.service,
                self.log,
                self.streams,
                params.node_lifecycle,
            )

    def workloads(self) -> LedgerWorkloads:
        """The pods on each host, evicted through their owners (the service's fleet, the
        deployer), as a node scaler sees them."""
        owners: list[Owner] = [self.deployer]
        if self.service is not None:
            owners.insert(0, self.service.fleet)
        return LedgerWorkloads(self.ledger, owners)

    def _platform(self, platform_params: Any) -> Platform:
        """Build one platform (a kind of `PLATFORMS`) with its own random stream."""
        rng = self.streams.generator(f"platform/{platform_params.name}")

        def runtime(settings: ContainerSettings) -> ContainerRuntime:
            return ContainerRuntime(
                self.env,
                settings,
                self.cluster.source_for,
                rng,
                self.init_rng,
                self.log,
                self.pulls,
            )

        context = PlatformContext(
            self.env,
            self.cluster.scheduler,
            self.cluster.cloud,
            self.params.pricing.instance_types,
            self.ledger,
            self.log,
            rng,
            self.init_rng,
            runtime,
        )
        platform: Platform = PLATFORMS.kind_of(platform_params).build(platform_params, context)
        return platform

    def init_rng(self, app: str) -> np.random.Generator:
        """The stream an app's initialisation draws from."""
        return self.streams.generator(f"app/{app}/init")

    @property
    def hosts(self) -> Sequence[Host]:
        """The cluster's hosts now."""
        return self.cluster.hosts

    @property
    def requested(self) -> int:
        """Replicas asked for so far, by deployments and by the service's fleet."""
        fleet = self.service.requested if self.service is not None else 0
        return self.deployer.requested + fleet

    def sample(self, period: PeriodMetrics | None = None) -> dict[str, float | int]:
        """One row of the time series: the state now, and the period just closed."""
        ledger = self.ledger
        row: dict[str, float | int] = {
            "time_s": self.env.now,
            "replicas_ready": ledger.ready,
            "replicas_failed": len(ledger.records) - ledger.ready,
            "replicas_starting": self.requested - len(ledger.records),
        }
        if self.service is not None:
            row.update(self.service.sample())
        else:
            row.update({"desired": 0, "in_service": 0, "draining": 0})
        row.update(self.cluster.sample())
        row.update(period_row(self.monitoring, period))
        if self.resilience is not None:
            row.update(self.resilience.sample())
            stats = self.service.stats if self.service is not None else None
            row["requests_failed"] = stats.failed_count if stats is not None else 0
        if self.slo is not None:
            row["slo_violated"] = int(period is not None and period.index in self._violated)
        return row

    def _close(self, index: int) -> PeriodMetrics:
        """Close monitoring period `index` now (and judge it against the SLO)."""
        if self.slo is not None:
            start_s = index * self.params.sample_period_s
            if self.slo.close(index, self.env.now - start_s):
                self._violated.add(index)
        return self.monitoring.close(index)

    def _sampler(
        self, rows: list[dict[str, float | int]], progress: ProgressCallback | None
    ) -> Generator[simpy.Event, Any, None]:
        rows.append(self.sample())
        index = 0
        while True:
            yield self.env.timeout(self.params.sample_period_s)
            rows.append(self.sample(self._close(index)))
            index += 1
            if progress is not None:
                progress(self.env.now, self.params.horizon_s)

    def run(self, progress: ProgressCallback | None = None) -> Result:
        """Run until every replica is ready or failed (with a service, faults, spot
        capacity or a node scaler that removes busy nodes: until the horizon), or until
        the horizon; return what the run recorded."""
        env = self.env
        rows: list[dict[str, float | int]] = []
        self.cluster.start_gc()
        env.process(self._sampler(rows, progress))
        workloads = self.workloads()
        self.cluster.scheduler.evictions = workloads
        self.cluster.start_scaler(workloads)
        deployed = env.process(self.deployer.run())
        horizon = env.timeout(self.params.horizon_s)
        if self.resilience is not None:
            self.resilience.start()
        scaler = self.cluster.scaler
        to_horizon = scaler is not None and scaler.runs_to_horizon
        if self.service is not None or self.resilience is not None or to_horizon:
            if self.service is not None:
                self.service.start()
            env.run(until=horizon)
        else:
            env.run(until=env.any_of([deployed, horizon]))
        if self.service is not None:
            self.service.finish()
        if rows[-1]["time_s"] != env.now:
            rows.append(self.sample(self._close(len(self.monitoring.closed))))
            if progress is not None:
                progress(env.now, self.params.horizon_s)
        return self.collect(tuple(rows))

    def collect(self, rows: tuple[dict[str, float | int], ...]) -> Result:
        """The results of the run so far: the summary, records, rows and links."""
        from sim.model.faults.report import no_faults_report
        from sim.output.summary import assemble, pull_part, replica_part, request_part

        end_s = self.env.now
        cluster = self.cluster
        replicas = [
            *self.ledger.records,
            *self.ledger.unfinished(end_s, cluster.scheduler.pending_reasons),
        ]
        service = self.service
        stats = service.stats if service is not None else None
        summary = assemble(
            replica_part(self.requested, replicas),
            pull_part(
                self.log.count(EventKind.PULL_REQUESTED),
                self.pulls,
                cluster.lazy_background_bytes(),
            ),
            cluster.report_pulls(),
            request_part(
                stats.summary(self.monitoring.wait_sketch()) if stats is not None else None,
                stats.in_flight(end_s) if stats is not None else 0,
                service.held_at_end if service is not None else 0,
            ),
            service.report_scaling()
            if service is not None
            else {"scaling_actions": 0, "replicas_max": self.ledger.ready},
            cluster.report_scaling(),
            cluster.report_costs(end_s),
            self._reservations(end_s),
            self.resilience.report(end_s) if self.resilience is not None else no_faults_report(),
            slo_violation_s=self.slo.violation_s if self.slo is not None else 0.0,
            node_scaling=self._node_scaling(replicas, end_s),
            seed=self.params.seed,
            replication=self.params.replication,
            sim_time_s=end_s,
            hosts=len(self.params.hosts),
        )
        return Result(
            summary.flat(),
            self.log,
            rows,
            tuple(replicas),
            tuple(self.pulls),
            cluster.links(),
            (*cluster.scheduler.warnings, *(service.warnings() if service else ())),
            self.world() if self.params.log == "full" else None,
            serves_traffic=service is not None,
        )

    def world(self) -> World:
        """What the run had that no event says (`World`): every host that existed with
        its size and billed life, the image catalog's layers, the registries, the apps
        and what each platform's replicas keep on disk."""
        from sim.model.platforms.vm import VmParams

        cluster = self.cluster
        records = cluster.cloud.records
        hosts = tuple(
            _host_facts(host.params, records.get(host.name)) for host in cluster.every_host()
        )
        images, layers = catalog_facts(self.params.images)
        registries = tuple(
            RegistryFacts(
                name,
                REGISTRIES.kind_of(registry.params).name,
                registry.params.upstream_name or "",
                registry.params.bandwidth_bytes_s,
                registry.stored_bytes(),
                registry.params.prices.storage_usd_per_gb_month,
                registry.params.prices.egress_usd_per_gb,
            )
            for name, registry in cluster.registries.items()
        )
        platforms = []
        for name, params in self.params.platforms.items():
            clone_base_bytes = 0
            if isinstance(params, VmParams) and params.disk_mode == "clone":
                clone_base_bytes = 0 if params.instance_type else params.disk_image_bytes
            platforms.append(
                PlatformFacts(
                    name,
                    PLATFORMS.kind_of(params).name,
                    params.writable_layer_bytes if isinstance(params, ContainerSettings) else 0,
                    clone_base_bytes,
                )
            )
        return World(
            hosts,
            images,
            layers,
            registries,
            self.params.registry_mirrors,
            tuple(
                AppFacts(app.name, app.image.name, app.vcpu, app.memory_bytes)
                for app in self.params.apps.values()
            ),
            tuple(platforms),
            self.params.pricing.billing_minimum_s,
        )

    def _node_scaling(self, replicas: Sequence[ReplicaRecord], end_s: float) -> Any:
        """The summary's node autoscaling part (None without node metrics)."""
        metrics = self.cluster.node_metrics
        if metrics is None:
            return None
        from sim.output.summary import node_part

        return node_part(metrics.lives(), replicas, metrics.report(), end_s)

    def _reservations(self, end_s: float) -> dict[str, float]:
        """What replicas held (vCPU and memory over time) against what they used."""
        reservations = self.ledger.reservations(end_s)
        return {
            "vcpu_seconds_reserved": sum(r.vcpu * (r.until_s - r.since_s) for r in reservations),
            "vcpu_seconds_used": self.monitoring.busy_total_s,
            "memory_byte_seconds_reserved": sum(
                r.memory_bytes * (r.until_s - r.since_s) for r in reservations
            ),
            "memory_byte_seconds_used": sum(
                r.app_memory_bytes * (r.until_s - r.since_s) for r in reservations
            ),
        }


def _has_spot(params: ScenarioParams) -> bool:
    """Whether any capacity is spot (a pool's hosts or the scaler's)."""
    return any(host.spot is not None for host in params.hosts) or runs_spot(params.node_scaler)


def run_scenario(params: ScenarioParams, progress: ProgressCallback | None = None) -> Result:
    """Build the scenario `params` describe, run it and return its results."""
    with collection_paused():
        return Scenario(params).run(progress)


def _host_facts(params: HostParams, record: InstanceRecord | None) -> HostFacts:
    """One host's `HostFacts`, its instance record if it was billed."""
    return HostFacts(
        params.name,
        params.vcpu,
        params.memory_bytes,
        params.disk_bytes,
        params.overhead_vcpu,
        params.overhead_memory_bytes,
        "" if record is None else record.instance_type,
        params.zone,
        0.0 if record is None else record.usd_per_hour,
        0.0 if record is None else record.launched_s,
        None if record is None else record.terminated_s,
    )
