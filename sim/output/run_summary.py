"""The keys of a run's summary, typed: `RunSummary`.

`Result.summary` (and ``summary.json``) is a flat mapping whose keys are fixed by
`sim.output.summary.Summary`; `RunSummary` writes them out as a `TypedDict`, so an
editor completes ``result.summary["startup_s_`` and a type checker knows each value's
type. A test checks it against `Summary`, key by key and type by type. The keys a run
adds per platform (``startup_s_p95_vm``) depend on the platforms it used and are not
listed: read them with ``result.summary.get(...)``, which a type checker accepts. The
node autoscaling keys (`sim.output.summary.NodeScaling`) are present only with a node
scaler that reports them, so they are not required keys; the per-type node-hours
(``node_hours:m5.xlarge:spot``) are not listed either. Each
key's unit and meaning: `sim.output.summary.key_doc`, or ``result.frames().summary``.
"""

from __future__ import annotations

from typing import TypedDict


class _EveryRun(TypedDict):
    """The keys every run writes."""

    seed: int
    replication: int
    sim_time_s: float
    hosts: int
    replicas_requested: int
    replicas_started: int
    replicas_failed: int
    replicas_unfinished: int
    startup_s_mean: float | None
    startup_s_p50: float | None
    startup_s_p95: float | None
    startup_s_max: float | None
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
    bytes_from_upstream: int
    disk_bytes_peak: int
    images_removed: int
    requests_total: int
    requests_served: int
    requests_in_flight: int
    requests_dropped: int
    requests_dropped_activation_buffer_full: int
    requests_dropped_activation_timeout: int
    requests_dropped_no_ready_replica: int
    requests_dropped_not_started: int
    requests_dropped_queue_full: int
    requests_dropped_timeout: int
    requests_failed: int
    requests_failed_container_crash: int
    requests_failed_evicted: int
    requests_failed_host_failure: int
    requests_failed_spot_interruption: int
    availability: float | None
    slo_violation_s: float
    latency_s_mean: float | None
    latency_s_p50: float | None
    latency_s_p95: float | None
    latency_s_p99: float | None
    wait_s_mean: float | None
    wait_s_p50: float | None
    wait_s_p95: float | None
    wait_s_p99: float | None
    scaling_actions: int
    cluster_scaling_actions: int
    replicas_max: int
    hosts_max: int
    cost_usd: float
    cost_usd_instances: float
    cost_usd_registries: float
    spot_interruptions: int
    spot_savings_usd: float
    hosts_failed: int
    replicas_lost: int
    replicas_replaced: int
    time_to_recover_s: float | None
    time_to_recover_after_fault_s: float | None
    vcpu_seconds_reserved: float
    vcpu_seconds_used: float
    memory_byte_seconds_reserved: float
    memory_byte_seconds_used: float


class RunSummary(_EveryRun, total=False):
    """The metrics of one run, in the order of ``summary.json``: every run's, then the
    node autoscaling keys of a run with a node scaler that reports them."""

    pods_pending_max: int
    time_to_schedule_s_mean: float | None
    time_to_schedule_s_p95: float | None
    node_hours: float
    node_scale_ups: int
    nodes_launched: int
    nodes_removed: int
    nodes_removed_idle: int
    nodes_removed_empty: int
    nodes_removed_underutilized: int
    nodes_removed_replaced: int
    nodes_removed_expired: int
    nodes_removed_unregistered: int
    node_disruptions: int
    pods_evicted: int
