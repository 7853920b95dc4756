"""The cluster: the network, the registries, the hosts and what manages them.

A `Cluster` assembles the infrastructure of a run — the network topology, the registries
on it, the pools' hosts with their container engines, the cloud that launches and bills
instances, the scheduler that places replicas, the kubelets' image garbage collection and
the cluster-level scaler — and owns the list of its hosts: hosts join (a scaler's new
node) and leave (terminated) only through it, and whoever needs to know subscribes
(`on_change`). It reports its own part of a run's summary (hosts, disk, bills) and of
each time-series row, and offers a narrow view for the demos and sim-docker (`host`,
`hosts`, `source_for`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import simpy

from sim.core.records import REGISTRY_BYTES_COLUMN, EventLog, LinkUsage
from sim.core.streams import RandomStreams
from sim.model.cluster.fragmentation import StrandedProbe, fragmentation_columns
from sim.model.cluster.node_metrics import NodeMetrics
from sim.model.cluster.scalers import NODE_SCALERS, NodeScaler, ScalerContext
from sim.model.cluster.scalers.workloads import Workloads
from sim.model.cluster.scheduling.profile import SchedulerParams
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.model.hosts.allocatable import DaemonSet
from sim.model.hosts.billing import (
    InstanceUsage,
    RegistryUsage,
    instance_cost_usd,
    registry_cost_usd,
)
from sim.model.hosts.cloud import Cloud, InstanceType
from sim.model.hosts.cohort import PullCohorts
from sim.model.hosts.engine import EngineParams, run_image_gc
from sim.model.hosts.host import Host, HostList, HostParams
from sim.model.images.image import Image
from sim.model.images.registries import RegistryParams
from sim.model.images.registry import Registry
from sim.model.images.store import DiskTotals
from sim.model.network.network import Network
from sim.model.network.topology import NetworkParams, build_topology, host_attachment


class Cluster:
    """The infrastructure of a run, built from its parameters.

    Args:
        env: the simulation environment.
        hosts: the pools' hosts, in order.
        network: the topology and its links.
        registries: the registries, each with its kind's parameters.
        images: the image catalog, by name.
        engine: every host's container daemon and kubelet settings.
        instance_types: the priced instance types, by name.
        billing_minimum_s: instances are billed per second, at least this long.
        registry_mirrors: origin registry -> the mirror its images come through.
        scaler: the node scaler's parameters (a kind of `NODE_SCALERS`), or None without
            one.
        log: the event log.
        streams: the run's named random streams.
        daemonsets: the pods every node runs (kept on each node a scaler adds).
        scheduler: the scheduler's profile (default: kube-scheduler's default profile).
        pull_cohorts: whether hosts that pull the same image in the same state pull in
            step, as one (`sim.model.hosts.cohort`): only for runs without faults.
        cached_images: the catalog images every node's disk holds from boot (the node
            image's cache): the pools' hosts and every node a scaler launches.
        stranded_probe: the pod size the time series' fragmentation columns judge free
            room by (`sim.model.cluster.fragmentation`; None: no such columns).
    """

    def __init__(
        self,
        env: simpy.Environment,
        hosts: Sequence[HostParams],
        network: NetworkParams,
        registries: Sequence[RegistryParams],
        images: Mapping[str, Image],
        engine: EngineParams,
        instance_types: Mapping[str, InstanceType],
        billing_minimum_s: float,
        registry_mirrors: Mapping[str, str],
        scaler: Any,
        log: EventLog,
        streams: RandomStreams,
        daemonsets: tuple[DaemonSet, ...] = (),
        scheduler: SchedulerParams | None = None,
        pull_cohorts: bool = False,
        cached_images: Sequence[str] = (),
        stranded_probe: StrandedProbe | None = None,
    ) -> None:
        self.env = env
        self.log = log
        self.stranded_probe = stranded_probe
        self.instance_types = instance_types
        self.billing_minimum_s = billing_minimum_s
        self.engine_params = engine
        self.network = Network(
            env, build_topology(network, [host.name for host in hosts], registries), adopt=True
        )
        self.registries: dict[str, Registry] = {}
        self._nat_gateways = network.nat_gateways
        self._egress_index: dict[str, int] = {}
        for params in sorted(registries, key=lambda r: r.upstream_name is not None):
            published = params.published(images)
            self.registries[params.name] = Registry(
                env,
                params,
                self.network,
                log,
                streams.generator(f"registry/{params.name}"),
                {image.reference: image for image in published},
                self.registries.get(params.upstream_name or ""),
                self.egress_of if network.nat_gateways else None,
            )
        self._mirrors = dict(registry_mirrors)
        self.disk_totals = DiskTotals()
        cohorts = PullCohorts() if pull_cohorts else None
        node_images = tuple(images[name] for name in cached_images)
        self._hosts = HostList(
            Host(env, host, engine, log, self.disk_totals, cohorts, node_images) for host in hosts
        )
        self._pool_hosts = tuple(self._hosts)
        self.faulted: list[Host] = []
        """Hosts a fault took out of the cluster at some time (crashed, reclaimed,
        tainted), so that their disks still count in the summary."""
        for host in self._pool_hosts:
            self._egress_index[host.name] = len(self._egress_index)
        self._listeners: list[Callable[[], None]] = []
        self.cloud = Cloud(
            env,
            self.network,
            lambda index: host_attachment(network, index),
            network.host_link,
            engine,
            log,
            self.disk_totals,
            len(self._hosts),
            self._join,
            self._leave,
            principal=hosts[0].principal,
            pull_cohorts=cohorts,
            node_images=node_images,
        )
        for host, host_params in zip(self._hosts, hosts, strict=True):
            self.cloud.register(host, instance_types.get(host_params.instance_type or ""))
            self.cloud.member(host)
        self.scheduler = Scheduler(
            env,
            self._hosts,
            log,
            (scheduler or SchedulerParams()).profile(),
            streams.generator("scheduler"),
        )
        self.scaler: NodeScaler | None = None
        if scaler is not None:
            context = ScalerContext(
                env,
                self.cloud,
                self.scheduler,
                instance_types,
                daemonsets,
                log,
                streams.generator,
            )
            self.scaler = NODE_SCALERS.kind_of(scaler).build(scaler, context)
        self.node_metrics: NodeMetrics | None = None
        """The node autoscaling columns and summary part, with a scaler that reports them."""
        if self.scaler is not None and self.scaler.node_metrics:
            self.node_metrics = NodeMetrics(
                self.cloud, self.scheduler, self.scaler, self._pool_hosts
            )

    # The hosts -------------------------------------------------------------------------

    @property
    def hosts(self) -> Sequence[Host]:
        """The hosts in the cluster now, in the order they joined (read only)."""
        return self._hosts

    @property
    def pool_hosts(self) -> Sequence[Host]:
        """The hosts of the cluster's pools, as configured (whether up or down now)."""
        return self._pool_hosts

    def host(self, name: str) -> Host:
        """A host of the cluster by name.

        Raises:
            KeyError: no such host.
        """
        for host in self._hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    def egress_of(self, host: str) -> str:
        """The NAT gateway a host's requests leave through (``nat-<k>``): the n-th host
        (the pools' hosts in order, then others as they first reach a registry) is behind
        gateway n mod `nat_gateways`."""
        index = self._egress_index.setdefault(host, len(self._egress_index))
        return f"nat-{index % self._nat_gateways}"

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever a host joins or leaves."""
        self._listeners.append(listener)

    def _join(self, host: Host) -> None:
        self._hosts.append(host)
        for listener in self._listeners:
            listener()

    def _leave(self, host: Host) -> None:
        self._hosts.remove(host)
        for listener in self._listeners:
            listener()

    def source_for(self, image: Image) -> Registry:
        """The registry a host pulls `image` from: its origin's mirror if one is set."""
        return self.registries[self._mirrors.get(image.registry, image.registry)]

    # The run ---------------------------------------------------------------------------

    def start_gc(self) -> None:
        """Start the kubelets' image garbage collection."""
        self.env.process(
            run_image_gc(
                self.env,
                self._hosts,
                self.engine_params.image_gc_period_s,
                self.disk_totals,
                max_age=self.engine_params.image_gc.max_age_s > 0,
            )
        )

    def start_scaler(self, workloads: Workloads) -> None:
        """Start the node scaler, if there is one; `workloads` tells it the pods on each
        host and evicts them when it drains a node."""
        if self.scaler is not None:
            self.scaler.start(workloads)

    def sample(self) -> dict[str, float | int]:
        """The cluster's columns of a time-series row: its state now (and with node
        metrics, its nodes by type and what the node scaler did so far)."""
        row: dict[str, float | int] = {
            "hosts": self.cloud.running,
            "flows_active": self.network.active_flows,
            "disk_bytes_used": self.disk_totals.used_bytes,
            "registry_bytes_served": sum(r.bytes_served for r in self.registries.values()),
            **{
                f"{REGISTRY_BYTES_COLUMN}{name}": self.registries[name].bytes_served
                for name in sorted(self.registries)
            },
        }
        if self.node_metrics is not None:
            row.update(self.node_metrics.columns())
        if self.stranded_probe is not None:
            row.update(fragmentation_columns(self._hosts, self.stranded_probe))
        return row

    def every_host(self) -> tuple[Host, ...]:
        """Every host that existed during the run, in the order it came: the pools' hosts,
        then each instance the cloud launched (a cluster scaler's node, an Elastic
        Beanstalk or VM instance of one replica), whether still running or terminated."""
        return (*self._pool_hosts, *self.cloud.launched)

    def report_pulls(self) -> dict[str, Any]:
        """The cluster's part of the summary about images: what mirrors fetched, the
        fullest disk, images collected — over every host that existed during the run,
        not only those in the cluster now (an instance of one replica never joins it)."""
        hosts = [*self.every_host()]
        known = set(hosts)
        hosts += [host for host in self.faulted if host not in known]
        return {
            "bytes_from_upstream": sum(r.bytes_from_upstream for r in self.registries.values()),
            "disk_bytes_peak": max(host.disk.peak_bytes for host in hosts),
            "images_removed": sum(host.engine.images_removed for host in hosts),
        }

    def lazy_background_bytes(self) -> int:
        """Bytes lazy pulls streamed after their containers started, over every host."""
        return sum(host.engine.lazy_background_bytes for host in self.every_host())

    def report_scaling(self) -> dict[str, Any]:
        """The cluster's part of the summary about scaling: host actions, most hosts."""
        return {
            "cluster_scaling_actions": self.scaler.actions if self.scaler else 0,
            "hosts_max": self.cloud.running_max,
        }

    def report_costs(self, end_s: float) -> dict[str, float]:
        """The bills: instances (per second, with the minimum) and registries."""
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
        instance_usd = instance_cost_usd(instances, end_s, self.billing_minimum_s)
        registry_usd = registry_cost_usd(registries, end_s)
        spot = [r for r in self.cloud.records.values() if r.on_demand_usd_per_hour is not None]
        on_demand = [
            InstanceUsage(r.on_demand_usd_per_hour or 0.0, r.launched_s, r.terminated_s)
            for r in spot
        ]
        billed = [InstanceUsage(r.usd_per_hour, r.launched_s, r.terminated_s) for r in spot]
        minimum_s = self.billing_minimum_s
        return {
            "cost_usd": instance_usd + registry_usd,
            "cost_usd_instances": instance_usd,
            "cost_usd_registries": registry_usd,
            "spot_savings_usd": instance_cost_usd(on_demand, end_s, minimum_s)
            - instance_cost_usd(billed, end_s, minimum_s),
        }

    def links(self) -> tuple[LinkUsage, ...]:
        """Every link with its roles, the bytes it carried each way and its bandwidth."""
        network = self.network
        graph = network.graph
        roles = {node: str(data.get("role", "host")) for node, data in graph.nodes(data=True)}
        carried = network.carried_bytes()
        return tuple(
            LinkUsage(
                u,
                v,
                roles[u],
                roles[v],
                carried[u, v],
                carried[v, u],
                float(data["bandwidth_bytes_s"]),
            )
            for u, v, data in graph.edges(data=True)
        )
