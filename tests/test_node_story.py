"""Node autoscaling told in Kubernetes words: each decision's line, exactly, and every
node decision of real runs told."""

from __future__ import annotations

from functools import cache

import pytest
from node_scaling import run_world

from sim.core.records import DetailValue, Event, EventKind
from sim.scenario import Scenario
from sim.teach.demos import run_demo
from sim.teach.node_story import NODE_DECISIONS, node_outcome, node_story, node_words


def event(kind: EventKind, source: str, **details: DetailValue) -> Event:
    return Event(12.0, source, kind, tuple(details.items()))


@pytest.mark.parametrize(
    ("told", "words"),
    [
        (
            event(
                EventKind.NODE_SCALE_UP,
                "karpenter",
                nodeclaims=2,
                pods=9,
                pending=10,
                nodes="default-1:m5.2xlarge:on-demand,default-2:c5.large:spot",
            ),
            "found 10 provisionable pods; computed 2 new NodeClaims to fit 9 of them: "
            "default-1 (m5.2xlarge, on-demand), default-2 (c5.large, spot)",
        ),
        (
            event(
                EventKind.NODE_SCALE_UP,
                "cluster-autoscaler",
                group="compute",
                nodes=2,
                pods=8,
                pending=8,
                expander="least-waste",
                options=3,
                groups="compute",
            ),
            "TriggeredScaleUp: 8 pending pods fit node group compute; expander least-waste "
            "chose it of 3 options; +2 nodes",
        ),
        (
            event(
                EventKind.NODE_SCALE_UP,
                "cluster-autoscaler",
                group="a",
                nodes=4,
                pods=8,
                pending=8,
                expander="random",
                options=2,
                groups="a,b",
            ),
            "TriggeredScaleUp: 8 pending pods fit node group a; expander random chose it of "
            "2 options; +4 nodes (balanced over a,b)",
        ),
        (
            event(
                EventKind.NODE_UNNEEDED, "general-1", utilization=0.3, resource="cpu", empty=False
            ),
            "unneeded: utilization 30 % (cpu)",
        ),
        (
            event(
                EventKind.NODE_SCALE_DOWN,
                "general-1",
                reason="underutilized",
                utilization=0.3,
                pods=1,
            ),
            "scale-down: underutilized, utilization 30 %, 1 pods to reschedule; cordoned, "
            "drained (its pods evicted, their owners replace them elsewhere), terminated",
        ),
        (
            event(
                EventKind.NODE_DISRUPTION,
                "karpenter",
                method="multi-node consolidation",
                decision="replace",
                nodes="default-1,default-2",
                replacement="m5.xlarge (on-demand)",
                savings_usd_per_hour=0.576,
            ),
            "disrupting default-1,default-2 (multi-node consolidation): replace by one "
            "m5.xlarge (on-demand), saving $0.5760/h",
        ),
        (
            event(EventKind.NODE_GROUP_BACKOFF, "general-1", group="general", until_s=1210.0),
            "did not join within max_node_provision_time: removed; node group general backed "
            "off until 1210 s",
        ),
        (
            event(EventKind.CLUSTER_SCALE_OUT, "cluster-scaler", hosts=2, pending=5),
            "cluster scaler adds 2 host(s): 5 replica(s) fit nowhere",
        ),
        (
            event(EventKind.REPLICA_STATE, "web-1", state="pending", reason="unschedulable: full"),
            "Pending (FailedScheduling: full)",
        ),
    ],
)
def test_each_decision_is_told_in_kubernetes_words(told: Event, words: str) -> None:
    assert node_words(told) == words


def test_a_pull_a_node_is_already_making_is_told_once() -> None:
    pulls = [
        Event(0.0, "n", EventKind.PULL_REQUESTED, (("image", "shop/web:1"),)),
        Event(0.0, "n", EventKind.PULL_REQUESTED, (("image", "shop/web:1"),)),
        Event(2.0, "n", EventKind.PULL_COMPLETED, (("image", "shop/web:1"), ("digest", "d"))),
        Event(2.0, "n", EventKind.PULL_COMPLETED, (("image", "shop/web:1"), ("digest", "d"))),
        Event(9.0, "n", EventKind.PULL_REQUESTED, (("image", "shop/web:1"),)),
    ]
    assert node_story(pulls) == [
        "[    0.000 s] n: $ docker pull shop/web:1",
        "[    2.000 s] n: Status: Downloaded newer image for shop/web:1",
        "[    9.000 s] n: $ docker pull shop/web:1",
    ]


@cache
def cluster_autoscaled(provision: str) -> Scenario:
    """Six 1-vCPU pods for 20 minutes on a full m5.xlarge: the general group grows for
    them, and its node is unneeded and removed once they are gone (or, when nodes take
    longer than 15 minutes to join, removed and the group backed off)."""
    overrides = [
        "cluster/scaler=cluster-autoscaler",
        "platform=container",
        "cluster.pools.node.count=1",
        "cluster.pools.node.instance_type=m5.xlarge",
        "cluster.scaler.expander=priority",
        "cluster.scaler.node_groups.general.priority=10",
        f"cluster.scaler.provision={provision}",
        "horizon=1h",
        "+workload.apps.web={image: web, vcpu: 1, memory: 1GiB}",
        "workload.deployments=[{app: web, replicas: 6, platform: container, lifetime: 20min}]",
    ]
    return run_world(overrides)


def test_every_node_decision_of_a_run_is_told() -> None:
    """Each node decision of Cluster Autoscaler runs (scale-ups, unneeded nodes,
    scale-downs, a back-off) and of the Karpenter demo has its line."""
    _, demo = run_demo("node-autoscaling")
    events = [*cluster_autoscaled("60s").log, *cluster_autoscaled("20min").log, *demo.events]
    decisions = [e for e in events if e.kind in NODE_DECISIONS]
    assert {e.kind for e in decisions} == set(NODE_DECISIONS)
    assert all(node_words(e) is not None for e in decisions)


def test_the_outcome_counts_what_the_scaler_did() -> None:
    _, result = run_demo("node-autoscaling")
    assert node_outcome(result.summary)[1:3] == [
        "node scale-ups: 1; nodes launched: 2; removed: 1 (1 replaced)",
        "disruptions of nodes running pods: 1; pods evicted: 2",
    ]
