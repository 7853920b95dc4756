"""``cluster-autoscaler``: the Kubernetes Cluster Autoscaler over node groups.

After kubernetes/autoscaler's cluster-autoscaler 1.36 (its FAQ, ``core/static_autoscaler.go``
and the files `sim.policies.node_scaling.cluster_autoscaler` names). Node groups are
Auto Scaling groups of one instance type with a minimum and a maximum size, labels and
taints; each starts with its minimum, running. Every ``scan_interval`` (10 s) the
autoscaler:

1. removes nodes that have not joined within ``max_node_provision_time`` (15 min) and
   backs their group off (5 min, doubling to 30 min);
2. scales up when replicas are pending: those that would fit a node now or a node
   still starting are left to the scheduler; for the rest, each group not at its
   maximum and not backed off is an option (its template node, and how many of them
   the pods need by the binpacking estimator), the ``expander`` chain picks one, and
   with ``balance_similar_node_groups`` the nodes are split over similar groups. Pods
   pending for less than 2 s make it wait one loop (upstream's "very new" pods). A
   loop that scales up does not scale down;
3. scales down: a node of a group above its minimum whose utilisation is below
   ``scale_down_utilization_threshold`` (0.5) and whose pods all fit elsewhere is
   unneeded; one unneeded for ``scale_down_unneeded_time`` (10 min) is deleted, not
   within ``scale_down_delay_after_add`` (10 min) of a scale-up nor
   ``scale_down_delay_after_delete`` of a deletion; empty nodes up to
   ``max_empty_bulk_delete`` at once, nodes to drain one at a time.

What fits where is the scheduler's filters' answer, for nodes and for a group's
template node (its instance type less reserves and DaemonSets, its labels, taints and
``maxPods``).

Deviations, stated in the docs: a node with a replica still starting is not a scale-down
candidate; node group priorities are a setting of each group, not a ConfigMap of
regular expressions; the price expander prices pods with upstream's GCE model.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import simpy

from sim.core.distributions import Distribution, LogNormal
from sim.core.errors import ConfigError
from sim.core.records import EventKind
from sim.core.settings import Kind, setting
from sim.model.cluster.scalers import ScalerContext
from sim.model.cluster.scalers.nodes import (
    ManagedNode,
    NodeLauncher,
    Template,
    addable,
    capacity_type_of,
    cluster_check,
    daemonset_pods,
    host_room,
    node_pods,
)
from sim.model.cluster.scalers.tally import NodeTally, Removal
from sim.model.cluster.scalers.workloads import Workloads
from sim.model.hosts.allocatable import Reserved, overhead
from sim.model.hosts.cloud import max_pods_of
from sim.model.hosts.host import Host
from sim.model.hosts.node_settings import labels_setting, max_pods_setting, taints_setting
from sim.model.hosts.spot import SpotParams
from sim.model.hosts.taints import TaintSpec
from sim.policies.node_scaling import NodeShape, Pod
from sim.policies.node_scaling.cluster_autoscaler.backoff import Backoff
from sim.policies.node_scaling.cluster_autoscaler.balance import (
    GroupSize,
    GroupTemplate,
    balance_scale_up,
    similar_groups,
)
from sim.policies.node_scaling.cluster_autoscaler.eligibility import (
    NodeInUse,
    Unremovable,
    find_removable,
)
from sim.policies.node_scaling.cluster_autoscaler.estimator import estimate
from sim.policies.node_scaling.cluster_autoscaler.expanders import (
    EXPANDER_NAMES,
    Cluster,
    Option,
    PodPrices,
    choose,
    make_chain,
)
from sim.policies.node_scaling.cluster_autoscaler.planner import (
    GroupSize as PlannerGroupSize,
)
from sim.policies.node_scaling.cluster_autoscaler.planner import (
    UnneededNodes,
    nodes_to_delete,
)
from sim.policies.node_scaling.fit import Room, Rooms, fits_shape

NEW_POD_BUFFER_S = 2.0
"""Pending pods younger than this make a loop wait for more (upstream's
``unschedulablePodTimeBuffer``)."""

ZONE_LABEL = "topology.kubernetes.io/zone"


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeGroupParams:
    """One node group: an Auto Scaling group of one instance type."""

    instance_type: str = setting(doc="its instance type (a type of pricing)")
    min_size: int = setting(0, minimum=0, key="min", doc="it never goes below; starts with it")
    max_size: int = setting(minimum=0, key="max", doc="it never goes above")
    labels: Mapping[str, str] = labels_setting()
    taints: tuple[TaintSpec, ...] = taints_setting()
    max_pods: int | str = max_pods_setting()
    zone: str = setting("", doc="the availability zone of its nodes")
    spot: SpotParams | None = setting(None, doc="its nodes are spot instances")
    reserved: Reserved = setting(
        default_factory=Reserved, doc="what each of its nodes keeps from pods"
    )
    priority: int | None = setting(None, doc="for the priority expander (higher wins)")

    def __post_init__(self) -> None:
        if self.max_size < self.min_size:
            raise ConfigError("max", self.max_size, "at least min")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterAutoscalerParams:
    """The Cluster Autoscaler's settings (its flags' defaults; SI units)."""

    node_groups: Mapping[str, NodeGroupParams] = setting(doc="node groups, by name")
    expander: str | tuple[str, ...] = setting(
        "least-waste",
        doc="which group grows: "
        + ", ".join(EXPANDER_NAMES)
        + "; a chain: [priority, least-waste]",
        expected="an expander's name, or a list of them (a chain)",
    )
    scan_interval_s: float = setting(10.0, unit="duration", above=0, doc="how often it looks")
    scale_down_enabled: bool = setting(True, doc="it removes unneeded nodes")
    scale_down_utilization_threshold: float = setting(
        0.5, minimum=0, maximum=1, doc="a node below this (requests / allocatable) may go"
    )
    scale_down_unneeded_time_s: float = setting(
        600.0, unit="duration", doc="unneeded this long, a node is deleted"
    )
    scale_down_delay_after_add_s: float = setting(
        600.0, unit="duration", doc="no scale-down this long after a scale-up"
    )
    scale_down_delay_after_delete_s: float = setting(
        0.0, unit="duration", doc="no scale-down this long after a deletion"
    )
    max_node_provision_time_s: float = setting(
        900.0, unit="duration", above=0, doc="a node not joined by then is removed"
    )
    max_empty_bulk_delete: int = setting(
        10, minimum=1, doc="nodes deleted at once (max-scale-down-parallelism)"
    )
    max_drain_parallelism: int = setting(1, minimum=1, doc="nodes drained at once")
    balance_similar_node_groups: bool = setting(False, doc="split scale-ups over similar groups")
    ignore_daemonsets_utilization: bool = setting(
        False, doc="leave DaemonSet pods out of a node's utilisation"
    )
    new_pod_scale_up_delay_s: float = setting(
        0.0, unit="duration", doc="pods pending less than this do not trigger a scale-up"
    )
    max_nodes_total: int = setting(0, minimum=0, doc="nodes in all groups at most; 0: no limit")
    unremovable_node_recheck_timeout_s: float = setting(
        300.0, unit="duration", doc="a node whose pods found no place is not rechecked sooner"
    )
    initial_node_group_backoff_s: float = setting(300.0, unit="duration", doc="first back-off")
    max_node_group_backoff_s: float = setting(1800.0, unit="duration", doc="longest back-off")
    node_group_backoff_reset_s: float = setting(
        10800.0, unit="duration", doc="back-offs start over after this without failure"
    )
    pod_price: PodPrices = setting(default_factory=PodPrices, doc="the price expander's pods")
    provision: Distribution = setting(LogNormal(65.0, 0.2), doc="launch to node ready")
    disk_bytes: int = setting(100_000_000_000, unit="size", above=0, doc="each node's disk")

    def __post_init__(self) -> None:
        if not self.node_groups:
            raise ConfigError("node_groups", "none", "at least one node group")
        names = self.expanders
        for name in names:
            if name not in EXPANDER_NAMES:
                raise ConfigError("expander", name, "one or more of " + ", ".join(EXPANDER_NAMES))
        if not names or len(set(names)) != len(names):
            raise ConfigError("expander", ",".join(names), "each expander once, at least one")

    @property
    def expanders(self) -> tuple[str, ...]:
        """The expander chain, in order (a name alone may list several, comma-separated,
        as upstream's flag does)."""
        names = (self.expander,) if isinstance(self.expander, str) else self.expander
        return tuple(part.strip() for name in names for part in name.split(",") if part.strip())

    def may_run_spot(self) -> bool:
        """Whether a node group runs spot instances."""
        return any(group.spot is not None for group in self.node_groups.values())


class ClusterAutoscaler:
    """The Cluster Autoscaler's loop over its node groups.

    Args:
        params: its settings.
        context: the cluster it scales.
        templates: each node group's template node, by group.
    """

    def __init__(
        self,
        params: ClusterAutoscalerParams,
        context: ScalerContext,
        templates: Mapping[str, Template],
    ) -> None:
        self.params = params
        self.env = context.env
        self.cloud = context.cloud
        self.scheduler = context.scheduler
        self.log = context.log
        self.templates = dict(templates)
        self.groups = dict(params.node_groups)
        self.tally = NodeTally()
        self.actions = 0
        self.node_metrics = True
        self.runs_to_horizon = True
        self.launcher = NodeLauncher(
            self.env,
            self.cloud,
            self.scheduler,
            self.log,
            context.generator("node-scaler/cluster-autoscaler/provision"),
            params.provision,
            params.disk_bytes,
            self.tally,
        )
        self.rng = context.generator("node-scaler/cluster-autoscaler/expander")
        self.chain = make_chain(params.expanders, params.pod_price)
        self.check = cluster_check(self.scheduler)
        self.backoff = Backoff(
            params.initial_node_group_backoff_s,
            params.max_node_group_backoff_s,
            params.node_group_backoff_reset_s,
        )
        self.unneeded = UnneededNodes()
        self._recheck_after: dict[str, float] = {}
        self._last_scale_up_s = -float("inf")
        self._last_delete_s = -float("inf")
        self._workloads: Workloads | None = None
        self._draining: set[str] = set()
        self.scheduler.addable = addable(
            {g: t for g, t in self.templates.items() if self.groups[g].max_size > 0}
        )
        for name, group in self.groups.items():
            for _ in range(group.min_size):
                self.launcher.launch(self.launcher.next_name(name), self.templates[name], True)

    # The protocol -------------------------------------------------------------------

    def start(self, workloads: Workloads) -> None:
        self._workloads = workloads
        self.env.process(self.run())

    def nodes(self) -> list[Host]:
        return [node.host for node in self.launcher.nodes]

    def node_kinds(self) -> list[tuple[str, str]]:
        return [(t.instance_type.name, t.capacity_type) for t in self.templates.values()]

    # The loop ------------------------------------------------------------------------

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The scan loop (a SimPy process body)."""
        while True:
            yield self.env.timeout(self.params.scan_interval_s)
            self.run_once()

    def run_once(self) -> None:
        """One loop: unregistered nodes, then scale-up, else scale-down."""
        now = self.env.now
        alive = self.launcher.alive()
        for node in alive:
            if (
                node.ready_s is None
                and now - node.launched_s >= self.params.max_node_provision_time_s
            ):
                self._unregistered(node)
        pending = self._pods_to_help(now)
        if pending is None:
            return  # every pending pod is very new: wait a loop, and do not scale down
        if pending and self._scale_up(pending):
            return
        if self.params.scale_down_enabled:
            self._scale_down(now)

    def _group_nodes(self, group: str) -> list[ManagedNode]:
        return [
            node
            for node in self.launcher.alive()
            if node.template.group == group and not node.deleting
        ]

    def _unregistered(self, node: ManagedNode) -> None:
        group = node.template.group
        self.launcher.give_up(node)
        until = self.backoff.fail(group, self.env.now)
        self.log.record(
            self.env.now, node.name, EventKind.NODE_GROUP_BACKOFF, group=group, until_s=until
        )

    # Scale-up ------------------------------------------------------------------------

    def _pods_to_help(self, now: float) -> list[Pod] | None:
        """The pending pods no node now or starting would take; None when every
        pending pod is younger than 2 s."""
        pending = self.scheduler.pending
        if not pending:
            return []
        since = self.scheduler.pending_since
        if all(now - since.get(name, now) < NEW_POD_BUFFER_S for name in pending):
            return None
        specs = self.scheduler.pending_pods
        pods = [
            Pod(name, request.vcpu, request.memory_bytes, specs.get(name))
            for name, request in pending.items()
            if now - since.get(name, now) >= self.params.new_pod_scale_up_delay_s
        ]
        rooms = Rooms(
            [host_room(host) for host in self.scheduler.hosts]
            + [
                Room.empty(node.template.shape, node.name)
                for node in self.launcher.alive()
                if node.ready_s is None
            ],
            self.check,
        )
        return [pod for pod in pods if rooms.place(pod) is None]

    def _scale_up(self, pods: list[Pod]) -> bool:
        """Grow the group the expanders choose for `pods`; whether any node was added."""
        now = self.env.now
        total = sum(len(self._group_nodes(g)) for g in self.groups)
        room_total = self.params.max_nodes_total - total if self.params.max_nodes_total else None
        if room_total is not None and room_total <= 0:
            return False
        options = []
        for name, group in self.groups.items():
            if self.backoff.backed_off(name, now):
                continue
            size = len(self._group_nodes(name))
            limit = group.max_size - size
            if room_total is not None:
                limit = min(limit, room_total)
            template = self.templates[name]
            fitting = [pod for pod in pods if fits_shape(pod, template.shape, self.check)]
            if limit <= 0 or not fitting:
                continue
            estimate_ = estimate(fitting, template.shape, limit, self.check)
            if estimate_.node_count <= 0:
                continue
            options.append(
                Option(
                    name,
                    estimate_.node_count,
                    estimate_.pods,
                    template.shape,
                    template.instance_type.vcpu,
                    template.instance_type.memory_bytes,
                    template.usd_per_hour,
                    group.priority,
                )
            )
        cluster = Cluster(len(self.scheduler.hosts))
        best = choose(options, self.chain, cluster, self.rng)
        if best is None:
            return False
        sizes = {best.group: len(self._group_nodes(best.group)) + best.node_count}
        if self.params.balance_similar_node_groups:
            sizes = self._balanced(best, options)
        growth = {
            name: sizes[name] - len(self._group_nodes(name))
            for name in self.groups
            if name in sizes
        }
        added = sum(count for count in growth.values() if count > 0)
        if not added:
            return False
        self._last_scale_up_s = now
        self.actions += 1
        self.tally.scale_ups += 1
        self.log.record(
            now,
            "cluster-autoscaler",
            EventKind.NODE_SCALE_UP,
            group=best.group,
            nodes=added,
            pods=len(best.pods),
            pending=len(self.scheduler.pending),
            expander=",".join(self.params.expanders),
            options=len(options),
            groups=",".join(sorted(sizes)),
        )
        for name, count in growth.items():
            for _ in range(count):
                self.launcher.launch(self.launcher.next_name(name), self.templates[name])
        return True

    def _balanced(self, best: Option, options: Sequence[Option]) -> dict[str, int]:
        """The chosen group and the similar ones that could take the pods, balanced."""

        def template_of(group: str) -> GroupTemplate:
            t = self.templates[group]
            return GroupTemplate(group, t.instance_type.vcpu, t.instance_type.memory_bytes, t.shape)

        candidates = [template_of(option.group) for option in options]
        similar = similar_groups(template_of(best.group), candidates)
        groups = [best.group, *similar]
        return balance_scale_up(
            [
                GroupSize(name, len(self._group_nodes(name)), self.groups[name].max_size)
                for name in groups
            ],
            best.node_count,
        )

    # Scale-down ----------------------------------------------------------------------

    def _in_use(self, node: ManagedNode, workloads: Workloads) -> tuple[NodeInUse, bool]:
        movable, pinned, starting = node_pods(workloads, node.host)
        template = node.template
        ds_vcpu = template.overhead[0] - template.reserved[0]
        ds_memory = template.overhead[1] - template.reserved[1]
        vcpu, memory = template.allocatable
        in_use = NodeInUse(
            node.name,
            template.group,
            vcpu,
            memory,
            tuple(movable),
            tuple(pinned),
            daemonset_pods(ds_vcpu, ds_memory),
            tuple(sorted(template.shape.labels.items())),
            template.shape.taints,
            template.shape.max_pods,
            node.host.node,
        )
        return in_use, starting

    def _scale_down(self, now: float) -> None:
        workloads = self._workloads
        assert workloads is not None
        ours = {node.name: node for node in self.launcher.alive() if node.ready}
        candidates: list[NodeInUse] = []
        by_name: dict[str, NodeInUse] = {}
        for node in ours.values():
            if node.deleting:
                continue
            in_use, starting = self._in_use(node, workloads)
            by_name[node.name] = in_use
            group = self.groups[node.template.group]
            if starting or len(self._group_nodes(node.template.group)) <= group.min_size:
                continue
            candidates.append(in_use)
        candidates.sort(
            key=lambda n: (self.unneeded.since(n.name) is None, self.unneeded.since(n.name) or 0.0)
        )
        destinations = []
        for host in self.scheduler.hosts:
            known = by_name.get(host.name)
            if known is not None:
                destinations.append(known)
                continue
            room = host_room(host)
            destinations.append(
                NodeInUse(host.name, None, room.vcpu_free, room.memory_free_bytes, node=host.node)
            )
        recent = {name for name, until in self._recheck_after.items() if until > now}
        removable, kept = find_removable(
            candidates,
            destinations,
            self.params.scale_down_utilization_threshold,
            self.params.ignore_daemonsets_utilization,
            recent,
            self.check,
        )
        for entry in kept:
            if entry.reason is Unremovable.NO_PLACE_TO_MOVE_PODS:
                self._recheck_after[entry.node] = (
                    now + self.params.unremovable_node_recheck_timeout_s
                )
        for found in removable:
            if self.unneeded.since(found.node) is None:
                self.log.record(
                    now,
                    found.node,
                    EventKind.NODE_UNNEEDED,
                    utilization=round(found.utilization.value, 4),
                    resource=found.utilization.resource,
                    empty=found.empty,
                )
        self.unneeded.update(removable, now)
        if (
            now < self._last_scale_up_s + self.params.scale_down_delay_after_add_s
            or now < self._last_delete_s + self.params.scale_down_delay_after_delete_s
        ):
            return
        deleting = [node for node in ours.values() if node.deleting]
        sizes = {
            name: PlannerGroupSize(len(self._group_nodes(name)), group.min_size)
            for name, group in self.groups.items()
        }
        chosen = nodes_to_delete(
            self.unneeded.nodes(),
            now,
            self.params.scale_down_unneeded_time_s,
            sizes,
            {},
            self.params.max_empty_bulk_delete,
            self.params.max_drain_parallelism,
            len(deleting),
            sum(1 for node in deleting if node.name in self._draining),
        )
        if not chosen.empty and not chosen.drain:
            return
        for removal in (*chosen.empty, *chosen.drain):
            node = ours[removal.node]
            self.unneeded.forget(removal.node)
            reason = Removal.EMPTY if removal.empty else Removal.UNDERUTILIZED
            self.log.record(
                now,
                removal.node,
                EventKind.NODE_SCALE_DOWN,
                reason=str(reason),
                utilization=round(removal.utilization.value, 4),
                pods=len(removal.moves),
            )
            if not removal.empty:
                self._draining.add(removal.node)
                self.tally.disruptions += 1
            self.env.process(self._remove(node, reason, workloads))
        self._last_delete_s = now
        self.actions += 1

    def _remove(
        self, node: ManagedNode, reason: Removal, workloads: Workloads
    ) -> Generator[simpy.Event, Any, None]:
        yield from self.launcher.remove(node, reason, workloads)
        self._draining.discard(node.name)


def templates_of(params: ClusterAutoscalerParams, context: ScalerContext) -> dict[str, Template]:
    """Each node group's template node: its instance type less reserves and DaemonSets,
    with the group's labels (and zone) and taints."""
    templates = {}
    for name, group in params.node_groups.items():
        instance_type = context.instance_types[group.instance_type]
        reserved = group.reserved.on(instance_type.vcpu)
        kept = overhead(reserved, context.daemonsets)
        labels = dict(group.labels)
        if group.zone:
            labels[ZONE_LABEL] = group.zone
        taints = tuple(taint.build() for taint in group.taints)
        max_pods = max_pods_of(group.max_pods, instance_type, f"node_groups.{name}.max_pods")
        price = instance_type.usd_per_hour * (group.spot.price_fraction if group.spot else 1.0)
        templates[name] = Template(
            name,
            instance_type,
            capacity_type_of(group.spot),
            price,
            kept,
            (reserved.vcpu, reserved.memory_bytes),
            NodeShape(
                name,
                instance_type.vcpu - kept[0],
                instance_type.memory_bytes - kept[1],
                labels,
                taints,
                max_pods,
            ),
            group.spot,
            group.zone,
        )
    return templates


def build(params: ClusterAutoscalerParams, context: ScalerContext) -> ClusterAutoscaler:
    return ClusterAutoscaler(params, context, templates_of(params, context))


KIND = Kind(
    "cluster-autoscaler",
    ClusterAutoscalerParams,
    build,
    "node groups grown by an expander for pending pods, underutilised nodes removed",
)
