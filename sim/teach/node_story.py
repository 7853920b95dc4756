"""Narration of node autoscaling: what the node scaler decided and why, in Kubernetes words.

A pod that fits no node is *Pending* (``FailedScheduling``); the node scaler finds it and
adds nodes — the Cluster Autoscaler grows a node group (``TriggeredScaleUp``), Karpenter
creates NodeClaims for a batch of pods; each node launches, joins the cluster and takes
its pods. Later the scaler finds nodes it no longer needs and disrupts them: it cordons
each, drains it (its pods are evicted and their owners replace them elsewhere) and
terminates it. Built from the event log only, like the other stories.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sim.core.records import Event, EventKind, ReplicaState
from sim.core.units import format_duration
from sim.teach.narrate import cluster_words, docker_lines, fault_words, stamp

_REPLICA_WORDS = {
    ReplicaState.PENDING: "Pending (FailedScheduling: {reason})",
    ReplicaState.SCHEDULED: "scheduled on {host}",
    ReplicaState.READY: "ready on {host}",
    ReplicaState.REMOVED: "docker stop, docker rm",
    ReplicaState.LOST: "lost with its node ({reason})",
    ReplicaState.FAILED: "failed: {reason}",
}
_REMOVAL_WORDS = {
    "idle": "idle for the scaler's idle time",
    "empty": "empty",
    "underutilized": "underutilized",
    "replaced": "replaced by a cheaper node",
    "expired": "expired (expireAfter)",
    "unregistered": "never joined",
}
_PULL_KINDS = (EventKind.PULL_REQUESTED, EventKind.PULL_COMPLETED, EventKind.IMAGE_PRESENT)
NODE_DECISIONS = (
    EventKind.NODE_SCALE_UP,
    EventKind.NODE_UNNEEDED,
    EventKind.NODE_SCALE_DOWN,
    EventKind.NODE_DISRUPTION,
    EventKind.NODE_GROUP_BACKOFF,
)
"""The node autoscalers' decisions (each told by `node_words`)."""


def node_story(events: Sequence[Event]) -> list[str]:
    """The story of the cluster's nodes, line by line, in time order: pods pending and
    placed, the scaler's decisions with their reasons, nodes launched, joined, drained
    and terminated, and the pulls on the nodes (a pull of an image a node is already
    pulling is told once)."""
    lines: list[str] = []
    pulling: set[tuple[str, str]] = set()
    for event in events:
        if event.kind in (EventKind.PULL_REQUESTED, EventKind.PULL_COMPLETED):
            pull = (event.source, str(event.detail("image")))
            requested = event.kind == EventKind.PULL_REQUESTED
            if (pull in pulling) == requested:
                continue
            (pulling.add if requested else pulling.discard)(pull)
        text = node_words(event)
        if text is not None:
            lines.append(f"{stamp(event.time_s)}{event.source}: {text}")
    return lines


def node_words(event: Event) -> str | None:
    """One event of a node-scaled cluster in Kubernetes words (None: not told)."""
    kind = event.kind
    if kind == EventKind.REPLICA_STATE:
        state = event.detail_or("state")
        if state not in _REPLICA_WORDS:
            return None
        reason = str(event.detail_or("reason", "")).removeprefix("unschedulable: ")
        return _REPLICA_WORDS[ReplicaState(state)].format(
            host=event.detail_or("host"), reason=reason
        )
    if kind == EventKind.NODE_SCALE_UP:
        return scale_up_words(event)
    if kind == EventKind.NODE_DISRUPTION:
        return disruption_words(event)
    if kind == EventKind.NODE_UNNEEDED:
        empty = ", empty" if event.detail_or("empty") else ""
        return (
            f"unneeded: utilization {_percent(event.detail('utilization'))} "
            f"({event.detail('resource')}){empty}"
        )
    if kind == EventKind.NODE_SCALE_DOWN:
        reason = str(event.detail("reason"))
        pods = event.detail_or("pods")
        moving = f", {pods} pods to reschedule" if pods else ""
        utilization = event.detail_or("utilization")
        at = f", utilization {_percent(utilization)}" if utilization is not None else ""
        return (
            f"scale-down: {_REMOVAL_WORDS.get(reason, reason)}{at}{moving}; cordoned, "
            "drained (its pods evicted, their owners replace them elsewhere), terminated"
        )
    if kind == EventKind.NODE_GROUP_BACKOFF:
        return (
            f"did not join within max_node_provision_time: removed; node group "
            f"{event.detail('group')} backed off until {float(str(event.detail('until_s'))):g} s"
        )
    if kind in (EventKind.CLUSTER_SCALE_OUT, EventKind.CLUSTER_SCALE_IN):
        return cluster_words(event)
    if kind == EventKind.INSTANCE_LAUNCHED:
        return f"instance launched ({event.detail('instance_type')}), provisioning"
    if kind == EventKind.HOST_JOINED:
        return "node joined the cluster (Ready)"
    if kind == EventKind.INSTANCE_TERMINATED:
        return "instance terminated"
    if kind == EventKind.SPOT_INTERRUPTION:
        return fault_words(event)
    if kind in _PULL_KINDS:
        said = docker_lines(event)
        return said[-1] if kind == EventKind.PULL_COMPLETED else said[0]
    return None


def scale_up_words(event: Event) -> str:
    """A node scale-up: the Cluster Autoscaler's group and expander, or Karpenter's batch
    and the NodeClaims it computed."""
    pods = event.detail("pods")
    if event.detail_or("nodeclaims") is not None:
        claims = ", ".join(
            f"{name} ({instance_type}, {capacity})"
            for name, instance_type, capacity in (
                claim.split(":") for claim in str(event.detail("nodes")).split(",")
            )
        )
        return (
            f"found {event.detail('pending')} provisionable pods; computed "
            f"{event.detail('nodeclaims')} new NodeClaims to fit {pods} of them: {claims}"
        )
    balanced = str(event.detail("groups"))
    groups = f" (balanced over {balanced})" if "," in balanced else ""
    return (
        f"TriggeredScaleUp: {pods} pending pods fit node group {event.detail('group')}; "
        f"expander {event.detail('expander')} chose it of {event.detail('options')} options; "
        f"+{event.detail('nodes')} nodes{groups}"
    )


def disruption_words(event: Event) -> str:
    """A Karpenter disruption command: the method, the decision, and what it saves."""
    replacement = str(event.detail_or("replacement", ""))
    instead = f" by one {replacement}" if replacement else ""
    saving = float(str(event.detail("savings_usd_per_hour")))
    return (
        f"disrupting {event.detail('nodes')} ({event.detail('method')}): "
        f"{event.detail('decision')}{instead}, saving ${saving:.4f}/h"
    )


def node_outcome(summary: Mapping[str, object]) -> list[str]:
    """What the node scaler did over the run, from the summary's node keys."""
    removed = ", ".join(
        f"{count} {key.removeprefix('nodes_removed_')}"
        for key, count in summary.items()
        if key.startswith("nodes_removed_") and count
    )
    hours = ", ".join(
        f"{key.removeprefix('node_hours:')} {float(str(value)):.2f} h"
        for key, value in summary.items()
        if key.startswith("node_hours:") and value
    )
    mean = summary["time_to_schedule_s_mean"]
    p95 = summary["time_to_schedule_s_p95"]
    waited = (
        f"time to schedule: mean {format_duration(float(str(mean)))}, "
        f"p95 {format_duration(float(str(p95)))}"
        if mean is not None and p95 is not None
        else "no pod placed"
    )
    return [
        f"pods pending at most {summary['pods_pending_max']} at once; {waited}",
        f"node scale-ups: {summary['node_scale_ups']}; nodes launched: "
        f"{summary['nodes_launched']}; removed: {summary['nodes_removed']}"
        + (f" ({removed})" if removed else ""),
        f"disruptions of nodes running pods: {summary['node_disruptions']}; "
        f"pods evicted: {summary['pods_evicted']}",
        f"node-hours: {float(str(summary['node_hours'])):.2f} ({hours}); "
        f"instances cost ${float(str(summary['cost_usd_instances'])):.4f}",
    ]


def _percent(value: object) -> str:
    return f"{100 * float(str(value)):.0f} %"
