"""The event log: what happened, when, where.

The model appends one small record per step (a layer downloaded, a replica ready); the
results module writes them out as ``events.csv``. Records keep their details in the order
they were given, so that the file is the same byte for byte in every process.

A large run records millions of steps, so recording is cheap: a record is kept as a plain
tuple (time, source, kind, detail names, detail values), each distinct tuple of names
stored once, and `Event` objects are built only when the log is read. A run that needs
only its summary keeps no records at all (`EventTally`), just a count per kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import itemgetter
from typing import NamedTuple, overload

DetailValue = str | int | float | bool | None


REGISTRY_BYTES_COLUMN = "registry_bytes_served:"
"""The prefix of a time-series column per registry: ``registry_bytes_served:<name>``,
the bytes that registry had sent by the sample (the column without a name sums them)."""

NODES_COLUMN = "nodes:"
"""The prefix of a time-series column per instance type and capacity type:
``nodes:<type>:<capacity>``, the nodes of that kind running at the sample."""


class EventKind(StrEnum):
    """Every kind of event the model records; the ``kind`` column of ``events.csv``.

    A `StrEnum`: each kind is its own snake_case word, written as such in the file.
    """

    # Deployments and replicas
    DEPLOYMENT = "deployment"
    """A deployment asked for replicas (details: app, replicas, platform)."""
    REPLICA_STATE = "replica_state"
    """A replica entered a `ReplicaState` (details: state, and its particulars)."""
    TRAFFIC_STARTED = "traffic_started"
    """A service started taking requests."""
    DESIRED_CAPACITY = "desired_capacity"
    """A fleet's desired number of replicas changed (details: desired, previous, reason)."""
    SCALING_ACTION = "scaling_action"
    """An autoscaling policy changed the desired capacity (details: its reason)."""
    # Hosts and instances
    INSTANCE_LAUNCHED = "instance_launched"
    INSTANCE_TERMINATED = "instance_terminated"
    HOST_JOINED = "host_joined"
    CLUSTER_SCALE_OUT = "cluster_scale_out"
    CLUSTER_SCALE_IN = "cluster_scale_in"
    PREEMPTED = "preempted"
    """A pod that fit nowhere preempted pods of lower priority (details: the node, the
    victims evicted)."""
    # Node autoscalers (see sim.model.cluster.scalers)
    NODE_SCALE_UP = "node_scale_up"
    """A node scaler decided to add nodes (details: the group or NodePool, nodes, the
    pending pods they are for, and how it chose)."""
    NODE_UNNEEDED = "node_unneeded"
    """The Cluster Autoscaler found a node unneeded (details: utilization, resource)."""
    NODE_SCALE_DOWN = "node_scale_down"
    """A node scaler decided to remove a node (details: reason, pods to move)."""
    NODE_DISRUPTION = "node_disruption"
    """Karpenter decided to disrupt nodes (details: method, decision, nodes, the
    replacement and the saving)."""
    NODE_GROUP_BACKOFF = "node_group_backoff"
    """A node did not join in time: it is removed and its group backed off (details:
    group, until_s)."""
    # Pulls, in the order Docker prints them
    PULL_REQUESTED = "pull_requested"
    MANIFEST_RECEIVED = "manifest_received"
    LAYER_ALREADY_EXISTS = "layer_already_exists"
    LAYER_QUEUED = "layer_queued"
    LAYER_DOWNLOADING = "layer_downloading"
    LAYER_DOWNLOADED = "layer_downloaded"
    LAYER_EXTRACTING = "layer_extracting"
    LAYER_EXTRACTED = "layer_extracted"
    RETRYING = "retrying"
    ON_DEMAND_READ = "on_demand_read"
    """A lazily pulled container's init read part of a layer that had not arrived, range
    by range (details: replica, layer, bytes, ranges, stall_s)."""
    PULL_COMPLETED = "pull_completed"
    PULL_FAILED = "pull_failed"
    IMAGE_PRESENT = "image_present"
    """A pull was not needed: the image is on the host (IfNotPresent)."""
    IMAGE_REMOVED = "image_removed"
    """Image garbage collection removed an image (details: reason, bytes)."""
    # Registries
    UPSTREAM_FETCH = "upstream_fetch"
    """A mirror fetched what it lacked from its upstream."""
    PULL_DENIED = "pull_denied"
    PULL_RATE_LIMITED = "pull_rate_limited"
    REQUEST_THROTTLED = "request_throttled"
    MANIFEST_UNKNOWN = "manifest_unknown"
    BLOB_FAILED = "blob_failed"
    # Faults (see sim.model.faults.kinds)
    HOST_FAILED = "host_failed"
    """A host crashed (details: fault, replicas_lost, recovery)."""
    HOST_RECOVERED = "host_recovered"
    """A crashed host is back (details: how: reboot or replace, down_s)."""
    NODE_NOT_READY = "node_not_ready"
    """The control plane marked a crashed host NotReady after the grace period (details:
    fault, evict_in_s: until its pods are evicted and replaced)."""
    DISK_PRESSURE = "disk_pressure"
    """A host's disk filled (details: fault, filled_bytes, evicting: over the kubelet's
    hard eviction threshold after image GC)."""
    SPOT_INTERRUPTION = "spot_interruption"
    """The cloud will reclaim a spot instance after the notice (details: notice_s)."""
    LINK_DOWN = "link_down"
    """A network link failed: its flows are cut (details: fault, flows_cut)."""
    LINK_UP = "link_up"
    """A failed link works again (details: fault)."""
    REGISTRY_DOWN = "registry_down"
    """A registry went down: every request fails with 503 (details: fault)."""
    REGISTRY_UP = "registry_up"
    """A registry that was down serves again (details: fault)."""
    SERVICE_RECOVERED = "service_recovered"
    """After a fault, the service is back to as many replicas in service as before it
    (details: fault, time_to_recover_s)."""


class ReplicaState(StrEnum):
    """Where a replica is in its life: the ``state`` of a ``replica_state`` event.

    requested → pending (while nothing fits) → scheduled → (provisioning → booting)
    and/or (pulling → pull_backoff → creating → starting) → initializing → ready; or
    failed. A fleet then puts a ready replica in service, drains it and stops it
    (removed, stopped or terminated, by platform).
    """

    REQUESTED = "requested"
    PENDING = "pending"
    SCHEDULED = "scheduled"
    PROVISIONING = "provisioning"
    BOOTING = "booting"
    PULLING = "pulling"
    PULL_BACKOFF = "pull_backoff"
    CREATING = "creating"
    STARTING = "starting"
    INITIALIZING = "initializing"
    READY = "ready"
    FAILED = "failed"
    IN_SERVICE = "in_service"
    DRAINING = "draining"
    REMOVED = "removed"
    STOPPED = "stopped"
    TERMINATED = "terminated"
    CRASH_LOOP_BACKOFF = "crash_loop_backoff"
    """Its container exited; the kubelet restarts it after a back-off (details: reason,
    backoff_s)."""
    LOST = "lost"
    """Gone with its host (a crash, an outage); its owner replaces it."""


class DropReason(StrEnum):
    """Why a request was turned away at arrival (never silently lost)."""

    NO_READY_REPLICA = "no ready replica"
    NOT_STARTED = "not started"
    """A recorded arrival (a trace's row) before the service opened to traffic."""
    QUEUE_FULL = "queue full"
    TIMEOUT = "timeout"
    ACTIVATION_TIMEOUT = "activation timeout"
    """Held at the interceptor of a service scaled to zero longer than its timeout
    before a replica was ready (`sim.model.service.interceptor`)."""
    ACTIVATION_BUFFER_FULL = "activation buffer full"
    """Arrived while no replica was ready and the interceptor already held as many
    requests as it can."""


class FailReason(StrEnum):
    """Why a request already assigned to a replica did not finish: the replica went
    away under it (never silently lost)."""

    HOST_FAILURE = "host failure"
    SPOT_INTERRUPTION = "spot interruption"
    CONTAINER_CRASH = "container crash"
    EVICTED = "evicted"


_Record = tuple[float, str, EventKind, tuple[str, ...], tuple[DetailValue, ...]]
_KIND = itemgetter(2)


class Event(NamedTuple):
    """One step of the simulation.

    Attributes:
        time_s: simulated time of the step, in seconds.
        source: what did it (a host, a registry, a replica, the network).
        kind: what happened (`EventKind`).
        details: ordered ``(name, value)`` pairs with the particulars.
    """

    time_s: float
    source: str
    kind: EventKind
    details: tuple[tuple[str, DetailValue], ...] = ()

    def detail(self, name: str) -> DetailValue:
        """The value of one detail; KeyError when the event has no such detail."""
        for key, value in self.details:
            if key == name:
                return value
        raise KeyError(name)

    def detail_or(self, name: str, default: DetailValue = None) -> DetailValue:
        """The value of one detail, or `default` when the event has no such detail."""
        for key, value in self.details:
            if key == name:
                return value
        return default


def _event(record: _Record) -> Event:
    time_s, source, kind, names, values = record
    return Event(time_s, source, kind, tuple(zip(names, values, strict=True)))


class EventLog(Sequence[Event]):
    """An append-only sequence of `Event` records, in the order they happened."""

    def __init__(self) -> None:
        self._records: list[_Record] = []
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.append: Callable[[_Record], None] = self._records.append
        """`add` for the busiest steps, given the record as one tuple ``(time_s, source,
        kind, names, values)``: the list's own append, no call of ours."""

    def record(self, time_s: float, source: str, kind: EventKind, **details: DetailValue) -> None:
        """Append one event; details keep the order they were given in."""
        names = tuple(details)
        self.add(
            time_s, source, kind, self._names.setdefault(names, names), tuple(details.values())
        )

    def add(
        self,
        time_s: float,
        source: str,
        kind: EventKind,
        names: tuple[str, ...],
        values: tuple[DetailValue, ...],
    ) -> None:
        """Append one event given its detail names and values apart: `record` for the
        model's busiest steps, which keep each tuple of names as a constant (a record
        holds the names by reference, so they cost nothing per event)."""
        self._records.append((time_s, source, kind, names, values))

    def count(self, kind: EventKind) -> int:
        """How many events of one kind were recorded."""
        return list(map(_KIND, self._records)).count(kind)

    def __iter__(self) -> Iterator[Event]:
        return map(_event, self._records)

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [_event(record) for record in self._records[index]]
        return _event(self._records[index])

    def of_kind(self, kind: EventKind) -> list[Event]:
        """Every event of one kind, in order."""
        return [_event(record) for record in self._records if record[2] == kind]


class EventTally(EventLog):
    """An event log that keeps no events, only how many of each kind were recorded.

    For long or large runs that need their summary, not their ``events.csv``: memory
    stays flat however many steps the run takes. As a sequence it is empty.
    """

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[EventKind, int] = {}
        self.append = self._count_record

    def _count_record(self, record: _Record) -> None:
        kind = record[2]
        self._counts[kind] = self._counts.get(kind, 0) + 1

    def record(self, time_s: float, source: str, kind: EventKind, **details: DetailValue) -> None:
        """Count one event of `kind`."""
        self._counts[kind] = self._counts.get(kind, 0) + 1

    def add(
        self,
        time_s: float,
        source: str,
        kind: EventKind,
        names: tuple[str, ...],
        values: tuple[DetailValue, ...],
    ) -> None:
        """Count one event of `kind`."""
        self._counts[kind] = self._counts.get(kind, 0) + 1

    def count(self, kind: EventKind) -> int:
        return self._counts.get(kind, 0)


@dataclass(frozen=True, slots=True)
class PullRecord:
    """How one image pull on one host ended.

    ``skipped`` pulls found the image already present and did not contact the registry
    (the kubelet's ``IfNotPresent`` policy). Layer counts split the image's layers into
    those that already existed, those this pull downloaded, and those another pull in
    progress on the same host was already downloading (shared, not downloaded twice).
    """

    host: str
    image: str
    registry: str
    started_s: float
    finished_s: float
    ok: bool
    reason: str
    skipped: bool
    queued_s: float
    layers_already_exists: int
    layers_downloaded: int
    layers_shared: int
    bytes_downloaded: int
    download_s: float
    extract_s: float
    retries: int


@dataclass(frozen=True, slots=True)
class ReplicaRecord:
    """One replica's start-up, phase by phase (seconds), and how it ended.

    Phases that do not apply to the platform are zero. ``startup_s`` runs from the
    deployment's request to the replica being ready (``None`` if it never was).
    """

    replica: str
    app: str
    platform: str
    host: str
    requested_s: float
    ready_s: float | None
    state: str
    reason: str
    wait_s: float = 0.0
    provision_s: float = 0.0
    boot_s: float = 0.0
    pull_download_s: float = 0.0
    pull_extract_s: float = 0.0
    create_s: float = 0.0
    start_s: float = 0.0
    init_s: float = 0.0

    @property
    def startup_s(self) -> float | None:
        return None if self.ready_s is None else self.ready_s - self.requested_s


@dataclass(frozen=True, slots=True)
class NodeLife:
    """One node of the cluster from launch to termination (None: still running), with its
    instance type (empty for a host of no priced type) and capacity type."""

    name: str
    instance_type: str
    capacity_type: str
    launched_s: float
    terminated_s: float | None


class LinkUsage(NamedTuple):
    """One network link, its ends' roles, what it carried each way, and its bandwidth:
    what the topology figure draws."""

    u: str
    v: str
    role_u: str
    role_v: str
    bytes_u_to_v: float
    bytes_v_to_u: float
    bandwidth_bytes_s: float
