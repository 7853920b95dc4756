"""The summary of a run: every metric of ``summary.json``, documented in one place.

`Summary` is the contract between a run and what reads it: its fields are the keys of
``summary.json`` (in that order), each with its unit, its meaning and the range of values
it can take (`key_bounds`: a study chooses its intervals by it); two of them expand into
one key per platform (``startup_s_p95_vm``) and per drop reason
(``requests_dropped_timeout``). The table in docs/results.md is checked against it by a test. Its
parts are pure functions of what the run recorded: start-up records, pull records, the
request statistics, and what the cluster reports (its bills, its disks).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sim.core.intervals import NON_NEGATIVE, SHARE, Bounds
from sim.core.records import DropReason, FailReason, NodeLife, PullRecord, ReplicaRecord
from sim.output.run_summary import RunSummary

NODE_REMOVAL_REASONS = (
    "idle",
    "empty",
    "underutilized",
    "replaced",
    "expired",
    "unregistered",
)
"""Why a node scaler removes a node (`sim.model.cluster.scalers.tally.Removal`)."""


def metric(doc: str, unit: str = "", bounds: Bounds = NON_NEGATIVE) -> Any:
    """A summary field with its meaning, unit and range (every key but a share, which
    lies in [0, 1], is a count, time, size or price: at least 0)."""
    return field(metadata={"doc": doc, "unit": unit, "bounds": bounds})


@dataclass(frozen=True, slots=True)
class StartupStats:
    """Start-up times (request to ready) of the replicas that became ready; None if none."""

    mean: float | None
    p50: float | None
    p95: float | None
    max: float | None

    def flat(self, suffix: str = "") -> dict[str, float | None]:
        return {
            f"startup_s_mean{suffix}": self.mean,
            f"startup_s_p50{suffix}": self.p50,
            f"startup_s_p95{suffix}": self.p95,
            f"startup_s_max{suffix}": self.max,
        }


@dataclass(frozen=True, slots=True)
class NodeScaling:
    """What a node autoscaler did, and what the cluster's nodes cost in time.

    Present with a node scaler of kind ``cluster-autoscaler`` or ``karpenter`` (and
    ``simple`` with ``node_metrics: true``); a run without one has none of these keys.
    """

    pods_pending_max: int = metric("the most replicas pending (fitting no node) at once")
    time_to_schedule_s_mean: float | None = metric(
        "request to placed on a node, mean over the replicas the scheduler placed", "s"
    )
    time_to_schedule_s_p95: float | None = metric("its 95th percentile", "s")
    node_hours: float = metric("hours the cluster's nodes ran (pools' and the scaler's)", "h")
    node_hours_by_type: Mapping[str, float] = metric(
        "node_hours:<type>:<capacity>, e.g. node_hours:m5.xlarge:on-demand", "h"
    )
    node_scale_ups: int = metric("decisions to add nodes (a Karpenter batch that launched)")
    nodes_launched: int = metric("nodes the scaler launched (replacements included)")
    nodes_removed: int = metric("nodes the scaler removed")
    nodes_removed_by_reason: Mapping[str, int] = metric(
        "nodes_removed_<reason>: " + ", ".join(NODE_REMOVAL_REASONS)
    )
    node_disruptions: int = metric(
        "decisions that drained nodes running pods (scale-down, consolidation, expiry)"
    )
    pods_evicted: int = metric("pods those drains evicted (each replaced elsewhere)")

    def flat(self) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for summary_field in dataclasses.fields(self):
            value = getattr(self, summary_field.name)
            if summary_field.name == "node_hours_by_type":
                flat.update({f"node_hours:{kind}": hours for kind, hours in value.items()})
            elif summary_field.name == "nodes_removed_by_reason":
                flat.update({f"nodes_removed_{reason}": n for reason, n in value.items()})
            else:
                flat[summary_field.name] = value
        return flat


def node_part(
    lives: Sequence[NodeLife],
    replicas: Sequence[ReplicaRecord],
    report: Mapping[str, Any],
    end_s: float,
) -> NodeScaling:
    """The node part of the summary: node-hours by instance type and capacity type over
    the nodes' lives, time to schedule over the replicas placed on the cluster's nodes,
    and the scaler's counts (`report`)."""
    hours: dict[str, float] = {}
    for life in lives:
        until = end_s if life.terminated_s is None else life.terminated_s
        kind = f"{life.instance_type}:{life.capacity_type}"
        hours[kind] = hours.get(kind, 0.0) + (until - life.launched_s) / 3600.0
    names = {life.name for life in lives}
    waits = [r.wait_s for r in replicas if r.host in names]
    removed = dict(report["removed"])
    return NodeScaling(
        pods_pending_max=report["pods_pending_max"],
        time_to_schedule_s_mean=sum(waits) / len(waits) if waits else None,
        time_to_schedule_s_p95=percentile(waits, 95),
        node_hours=sum(hours.values()),
        node_hours_by_type=dict(sorted(hours.items())),
        node_scale_ups=report["node_scale_ups"],
        nodes_launched=report["nodes_launched"],
        nodes_removed=sum(removed.values()),
        nodes_removed_by_reason={reason: removed.get(reason, 0) for reason in NODE_REMOVAL_REASONS},
        node_disruptions=report["node_disruptions"],
        pods_evicted=report["pods_evicted"],
    )


def node_keys() -> list[str]:
    """The node autoscaling keys of ``summary.json`` in order (present only with a node
    scaler that reports them), but for the per-type node-hours."""
    names: list[str] = []
    for summary_field in dataclasses.fields(NodeScaling):
        if summary_field.name == "nodes_removed_by_reason":
            names += [f"nodes_removed_{reason}" for reason in NODE_REMOVAL_REASONS]
        elif summary_field.name != "node_hours_by_type":
            names.append(summary_field.name)
    return names


@dataclass(frozen=True)
class Summary:
    """The flat metrics of a run, in the order of ``summary.json``."""

    seed: int = metric("the run's seed (derived per replication)")
    replication: int = metric("which replication of its configuration the run is")
    sim_time_s: float = metric(
        "simulated time until the last replica was ready or failed (or the horizon)", "s"
    )
    hosts: int = metric("hosts of the cluster's pools")
    replicas_requested: int = metric("replicas asked for, by deployments and fleets")
    replicas_started: int = metric("replicas that became ready")
    replicas_failed: int = metric("replicas whose start-up failed")
    replicas_unfinished: int = metric("still starting at the end: requested - started - failed")
    startup: StartupStats = metric(
        "startup_s_mean, _p50, _p95, _max: request to ready, over ready replicas", "s"
    )
    startup_by_platform: Mapping[str, StartupStats] = metric(
        "the same per platform, e.g. startup_s_p95_vm", "s"
    )
    pulls_requested: int = metric("image pulls asked for")
    pulls_completed: int = metric("pulls that ended complete")
    pulls_failed: int = metric("pulls that ended failed (with a reason)")
    pulls_unfinished: int = metric("pulls in progress at the end")
    pull_retries: int = metric("download or request attempts retried after a retryable error")
    layers_downloaded: int = metric("layers pulls fetched")
    layers_already_exists: int = metric("layers pulls found by ChainID")
    layers_shared: int = metric("layers awaited from another pull on the same host")
    bytes_from_registry: int = metric("compressed bytes registries and mirrors sent hosts", "B")
    bytes_before_start: int = metric(
        "of those, what pulls fetched before their containers could start (lazy: TOCs and "
        "start-up reads; overlayfs: all)",
        "B",
    )
    lazy_background_bytes: int = metric(
        "of those, what lazy pulls fetched after their containers started: init's reads on "
        "demand, and a layer's rest once it has fully arrived, by the end of the run",
        "B",
    )
    bytes_from_upstream: int = metric("bytes mirrors fetched from their upstream", "B")
    disk_bytes_peak: int = metric("the highest disk use any single host reached", "B")
    images_removed: int = metric("images removed by image garbage collection")
    requests_total: int = metric("requests that arrived: served + in flight + dropped + failed")
    requests_served: int = metric("requests finished by the end")
    requests_in_flight: int = metric(
        "requests assigned to a replica, or held for one (scaled to zero), not finished at the end"
    )
    requests_dropped: int = metric("requests turned away, whatever the reason")
    drops_by_reason: Mapping[str, int] = metric(
        "requests_dropped_<reason>: activation_buffer_full, activation_timeout, "
        "no_ready_replica, not_started, queue_full, timeout"
    )
    requests_failed: int = metric("requests cut before they finished: their replica was lost")
    failures_by_reason: Mapping[str, int] = metric(
        "requests_failed_<reason>: container_crash, evicted, host_failure, spot_interruption"
    )
    availability: float | None = metric(
        "requests served (finished or in flight) within slo.latency_p95, over requests_total",
        bounds=SHARE,
    )
    slo_violation_s: float = metric(
        "time in periods whose p95 latency or drop ratio broke the slo", "s"
    )
    latency_s_mean: float | None = metric("arrival to finish, mean over served requests", "s")
    latency_s_p50: float | None = metric("its median (within 1 %, from a bounded sketch)", "s")
    latency_s_p95: float | None = metric("its 95th percentile (within 1 %)", "s")
    latency_s_p99: float | None = metric("its 99th percentile (within 1 %)", "s")
    wait_s_mean: float | None = metric(
        "arrival to start of service (the wait in the replica's queue), mean over served", "s"
    )
    wait_s_p50: float | None = metric("its median (within 1 %, from a bounded sketch)", "s")
    wait_s_p95: float | None = metric("its 95th percentile (within 1 %)", "s")
    wait_s_p99: float | None = metric("its 99th percentile (within 1 %)", "s")
    scaling_actions: int = metric("changes of the served app's desired replicas")
    cluster_scaling_actions: int = metric("host scale-outs and scale-ins")
    replicas_max: int = metric("the most replicas of the served app at once")
    hosts_max: int = metric("the most instances running at once")
    cost_usd: float = metric("the bill: instances and registries", "USD")
    cost_usd_instances: float = metric("instances, per second with the billing minimum", "USD")
    cost_usd_registries: float = metric("registry storage and egress", "USD")
    spot_interruptions: int = metric("spot instances the cloud reclaimed (after the notice)")
    spot_savings_usd: float = metric("spot instances at on-demand prices, minus their bill", "USD")
    hosts_failed: int = metric("host crashes (a zone outage counts each of its hosts)")
    replicas_lost: int = metric("replicas lost with their host (ready, serving or starting)")
    replicas_replaced: int = metric("replacements of lost replicas that came into service")
    time_to_recover_s: float | None = metric(
        "the longest from a fault to as many replicas running as before (or to the end)", "s"
    )
    time_to_recover_after_fault_s: float | None = metric(
        "the same from the fault's end (its hosts back, a reclaimed spot instance replaced, a "
        "full disk freed); 0 if they ran again before it ended; None if none ended",
        "s",
    )
    vcpu_seconds_reserved: float = metric("vCPU held by replicas, over time", "vCPU s")
    vcpu_seconds_used: float = metric("the requests' CPU time", "vCPU s")
    memory_byte_seconds_reserved: float = metric("memory held by replicas, over time", "B s")
    memory_byte_seconds_used: float = metric(
        "the apps' own memory (working set, else request), over time", "B s"
    )
    node_scaling: NodeScaling | None = metric(
        "the node autoscaling keys (`NodeScaling`), with a node scaler that reports them"
    )

    def flat(self) -> RunSummary:
        """The summary as ``summary.json`` holds it: one key per metric, in order."""
        flat: dict[str, Any] = {}
        for summary_field in dataclasses.fields(self):
            value = getattr(self, summary_field.name)
            if summary_field.name == "startup":
                flat.update(value.flat())
            elif summary_field.name == "startup_by_platform":
                for platform, stats in value.items():
                    flat.update(stats.flat(f"_{platform}"))
            elif summary_field.name == "drops_by_reason":
                for reason, count in value.items():
                    flat[drop_key(reason)] = count
            elif summary_field.name == "failures_by_reason":
                for reason, count in value.items():
                    flat[failure_key(reason)] = count
            elif summary_field.name == "node_scaling":
                if value is not None:
                    flat.update(value.flat())
            else:
                flat[summary_field.name] = value
        return cast(RunSummary, flat)


def drop_key(reason: str) -> str:
    """The summary key of the requests dropped for `reason`."""
    return f"requests_dropped_{reason.replace(' ', '_')}"


def failure_key(reason: str) -> str:
    """The summary key of the requests failed for `reason`."""
    return f"requests_failed_{reason.replace(' ', '_')}"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile with linear interpolation (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def startup_stats(replicas: Sequence[ReplicaRecord]) -> StartupStats:
    """Mean, median, 95th percentile and maximum start-up time of the ready replicas."""
    times = [r.startup_s for r in replicas if r.startup_s is not None]
    return StartupStats(
        sum(times) / len(times) if times else None,
        percentile(times, 50),
        percentile(times, 95),
        max(times) if times else None,
    )


@dataclass(frozen=True, slots=True)
class ReplicaPart:
    """What a run's replica records say (see `replica_part`)."""

    replicas_requested: int
    replicas_started: int
    replicas_failed: int
    replicas_unfinished: int
    startup: StartupStats
    startup_by_platform: Mapping[str, StartupStats]


def replica_part(requested: int, replicas: Sequence[ReplicaRecord]) -> ReplicaPart:
    """Counts and start-up times of the replicas (unfinished ones are those requested
    that neither became ready nor failed)."""
    ended = [r for r in replicas if r.state in ("ready", "failed")]
    platforms = sorted({r.platform for r in ended})
    return ReplicaPart(
        replicas_requested=requested,
        replicas_started=sum(r.state == "ready" for r in replicas),
        replicas_failed=sum(r.state == "failed" for r in replicas),
        replicas_unfinished=requested - len(ended),
        startup=startup_stats(replicas),
        startup_by_platform={
            platform: startup_stats([r for r in replicas if r.platform == platform])
            for platform in platforms
        },
    )


@dataclass(frozen=True, slots=True)
class PullPart:
    """What a run's pull records say (see `pull_part`)."""

    pulls_requested: int
    pulls_completed: int
    pulls_failed: int
    pulls_unfinished: int
    pull_retries: int
    layers_downloaded: int
    layers_already_exists: int
    layers_shared: int
    bytes_from_registry: int
    bytes_before_start: int
    lazy_background_bytes: int


def pull_part(requested: int, pulls: Sequence[PullRecord], background_bytes: int = 0) -> PullPart:
    """Counts, layers and bytes of the pulls that ended (skipped ones, which found the
    image present and asked no registry, do not count), and the bytes lazy pulls
    streamed after their containers started (`background_bytes`): registries sent
    hosts the bytes before the start plus those."""
    ended = [pull for pull in pulls if not pull.skipped]
    before_start = sum(pull.bytes_downloaded for pull in ended)
    return PullPart(
        pulls_requested=requested,
        pulls_completed=sum(pull.ok for pull in ended),
        pulls_failed=sum(not pull.ok for pull in ended),
        pulls_unfinished=requested - len(ended),
        pull_retries=sum(pull.retries for pull in ended),
        layers_downloaded=sum(pull.layers_downloaded for pull in ended),
        layers_already_exists=sum(pull.layers_already_exists for pull in ended),
        layers_shared=sum(pull.layers_shared for pull in ended),
        bytes_from_registry=before_start + background_bytes,
        bytes_before_start=before_start,
        lazy_background_bytes=background_bytes,
    )


@dataclass(frozen=True, slots=True)
class RequestPart:
    """What a run's request statistics say (see `request_part`)."""

    requests_total: int
    requests_served: int
    requests_in_flight: int
    requests_dropped: int
    drops_by_reason: Mapping[str, int]
    requests_failed: int
    failures_by_reason: Mapping[str, int]
    availability: float | None
    latency_s_mean: float | None
    latency_s_p50: float | None
    latency_s_p95: float | None
    latency_s_p99: float | None
    wait_s_mean: float | None
    wait_s_p50: float | None
    wait_s_p95: float | None
    wait_s_p99: float | None


def request_part(traffic: Any, in_flight: int, held: int = 0) -> RequestPart:
    """Requests, latency and wait (zeros and nulls without traffic).

    Every request that arrived is served (finished by the end), in flight at the end,
    dropped with a reason, or failed with a reason (cut when its replica was lost):
    ``requests_total = requests_served + requests_in_flight + requests_dropped +
    requests_failed``.

    Args:
        traffic: the request statistics' summary (`sim.model.service.requests.TrafficSummary`),
            or None.
        in_flight: requests assigned to a replica and not finished at the end.
        held: requests held for a replica at the end (a service scaled to zero), not
            yet settled: they count as arrived and in flight.
    """
    dropped = dict(traffic.dropped) if traffic is not None else {}
    failed = dict(traffic.failed) if traffic is not None else {}
    served = traffic is not None and traffic.served > 0
    reasons = sorted(set(DropReason) | set(dropped))
    failures = sorted(set(FailReason) | set(failed))
    arrived = traffic.arrived + held if traffic is not None else 0
    return RequestPart(
        requests_total=arrived,
        requests_served=traffic.served - in_flight if traffic is not None else 0,
        requests_in_flight=in_flight + held,
        requests_dropped=sum(dropped.values()),
        drops_by_reason={str(reason): dropped.get(reason, 0) for reason in reasons},
        requests_failed=sum(failed.values()),
        failures_by_reason={str(reason): failed.get(reason, 0) for reason in failures},
        availability=traffic.served_within_slo / arrived if arrived else None,
        latency_s_mean=traffic.mean_latency_s if served else None,
        latency_s_p50=traffic.latency_p50_s if served else None,
        latency_s_p95=traffic.latency_p95_s if served else None,
        latency_s_p99=traffic.latency_p99_s if served else None,
        wait_s_mean=traffic.mean_wait_s if served else None,
        wait_s_p50=traffic.wait_p50_s if served else None,
        wait_s_p95=traffic.wait_p95_s if served else None,
        wait_s_p99=traffic.wait_p99_s if served else None,
    )


def assemble(*parts: Any, **values: Any) -> Summary:
    """A `Summary` from its parts (dataclasses or mappings) and single values."""
    merged: dict[str, Any] = {}
    for part in parts:
        if isinstance(part, Mapping):
            merged.update(part)
        else:
            merged.update({f.name: getattr(part, f.name) for f in dataclasses.fields(part)})
    merged.update(values)
    return Summary(**merged)


def keys() -> list[str]:
    """The keys of ``summary.json`` in order, but for the per-platform start-up keys
    (which depend on the platforms a run used) and the node autoscaling keys
    (`node_keys`, present only with a node scaler that reports them)."""
    names: list[str] = []
    for summary_field in dataclasses.fields(Summary):
        if summary_field.name == "startup":
            names += list(StartupStats(None, None, None, None).flat())
        elif summary_field.name == "drops_by_reason":
            names += [drop_key(reason) for reason in sorted(DropReason)]
        elif summary_field.name == "failures_by_reason":
            names += [failure_key(reason) for reason in sorted(FailReason)]
        elif summary_field.name not in ("startup_by_platform", "node_scaling"):
            names.append(summary_field.name)
    return names


@dataclass(frozen=True, slots=True)
class KeyDoc:
    """What one key of ``summary.json`` holds: its unit ("" for a count or a share) and
    its meaning."""

    unit: str
    meaning: str


_STARTUP_STATS = {"mean": "mean", "p50": "median", "p95": "95th percentile", "max": "maximum"}


def key_doc(key: str) -> KeyDoc:
    """The unit and meaning of a key of ``summary.json``, per-platform and per-reason
    keys included (``startup_s_p95_vm``, ``requests_dropped_timeout``), and the node
    autoscaling keys (``node_hours:m5.xlarge:spot``, ``nodes_removed_empty``).

    Raises:
        KeyError: no run writes such a key.
    """
    by_name = {f.name: f for f in dataclasses.fields(Summary)}
    nested = ("startup", "startup_by_platform", "node_scaling")
    if key in by_name and key not in nested:
        return KeyDoc(by_name[key].metadata["unit"], by_name[key].metadata["doc"])
    node_fields = {f.name: f for f in dataclasses.fields(NodeScaling)}
    if key in node_fields and key not in ("node_hours_by_type", "nodes_removed_by_reason"):
        return KeyDoc(node_fields[key].metadata["unit"], node_fields[key].metadata["doc"])
    if key.startswith("node_hours:"):
        kind = key.removeprefix("node_hours:").replace(":", " ", 1)
        return KeyDoc("h", f"hours the nodes of instance and capacity type {kind} ran")
    for removal in NODE_REMOVAL_REASONS:
        if key == f"nodes_removed_{removal}":
            return KeyDoc("", f"nodes the scaler removed because: {removal}")
    for reason in DropReason:
        if key == drop_key(reason):
            return KeyDoc("", f"requests turned away because: {reason}")
    for failure in FailReason:
        if key == failure_key(failure):
            return KeyDoc("", f"requests cut before they finished because: {failure}")
    for stat, words in _STARTUP_STATS.items():
        prefix = f"startup_s_{stat}"
        if key == prefix:
            return KeyDoc("s", f"start-up (request to ready), {words} over ready replicas")
        if key.startswith(prefix + "_"):
            platform = key.removeprefix(prefix + "_")
            return KeyDoc("s", f"start-up on platform {platform}, {words} over its ready replicas")
    raise KeyError(key)


def key_bounds(key: str) -> Bounds:
    """The range of a key of ``summary.json``, per-platform and per-reason keys included
    (``startup_s_p95_vm``, ``requests_dropped_timeout``): every one is at least 0, and
    the shares (``availability``) are at most 1.

    Raises:
        KeyError: no run writes such a key.
    """
    by_name = {f.name: f for f in dataclasses.fields(Summary)}
    if key in by_name and key not in ("startup", "startup_by_platform", "node_scaling"):
        bounds: Bounds = by_name[key].metadata["bounds"]
        return bounds
    key_doc(key)
    return NON_NEGATIVE
