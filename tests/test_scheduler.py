"""The scheduler's ranking of hosts chooses exactly as a scan by the policy would."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.distributions import Constant
from sim.core.records import EventLog
from sim.model.cluster.scheduling.scheduler import Scheduler
from sim.model.hosts.engine import EngineParams
from sim.model.hosts.host import Host, HostList, HostParams, millicores
from sim.model.hosts.replica import App, replica_pod
from sim.policies.placement import PlacementPolicy
from sim.policies.placement.binpack import BinPack
from sim.policies.placement.spread import Spread
from sim.policies.scheduling.objects import HOSTNAME, LabelSelector, PodAffinityTerm, PodInfo

GIB = 2**30
SHAPES = [(4.0, 16 * GIB), (8.0, 32 * GIB), (2.0, 16 * GIB), (16.0, 8 * GIB)]
REQUESTS = [(1.0, 2 * GIB), (0.5, 4 * GIB), (2.0, 1 * GIB), (0.25, GIB // 2)]
POLICIES: list[PlacementPolicy] = [Spread(), BinPack()]


def host(env: simpy.Environment, name: str, shape: int) -> Host:
    vcpu, memory_bytes = SHAPES[shape]
    params = HostParams(name, vcpu, memory_bytes, 100 * GIB, "node", 1e9)
    return Host(env, params, EngineParams(), EventLog())


def try_place(scheduler: Scheduler, replica: str, policy: PlacementPolicy, request: int) -> str:
    """The host a placement takes at once, or "" when the replica would wait."""
    vcpu, memory_bytes = REQUESTS[request]
    pod = PodInfo(replica, milli_cpu=millicores(vcpu), memory_bytes=memory_bytes)
    placing = scheduler.place(replica, policy, pod, vcpu, memory_bytes)
    try:
        next(placing)
    except StopIteration as placed:
        return placed.value.name
    placing.close()
    return ""


operations = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.integers(0, 1), st.integers(0, len(REQUESTS) - 1)),
        st.tuples(st.just("release"), st.integers(0, 200), st.just(0)),
        st.tuples(st.just("join"), st.integers(0, len(SHAPES) - 1), st.just(0)),
        st.tuples(st.just("leave"), st.integers(0, 200), st.just(0)),
    ),
    max_size=80,
)


def replay(hosts_list: type[list[Host]], shapes: list[int], script: list[tuple[str, int, int]]):
    """Run `script` on a cluster of `shapes`; returns what each operation did."""
    env = simpy.Environment()
    hosts = hosts_list(host(env, f"h{index}", shape) for index, shape in enumerate(shapes))
    scheduler = Scheduler(env, hosts, EventLog())
    placed: list[tuple[Host, str, int]] = []
    outcomes: list[str] = []
    for step, (operation, first, second) in enumerate(script):
        if operation == "place":
            name = try_place(scheduler, f"r{step}", POLICIES[first], second)
            if name:
                placed.append((next(h for h in hosts if h.name == name), f"r{step}", second))
            outcomes.append(name)
        elif operation == "release" and placed:
            held, replica, request = placed.pop(first % len(placed))
            scheduler.release(held, replica, *REQUESTS[request])
            outcomes.append(held.name)
        elif operation == "join":
            hosts.append(host(env, f"h{len(shapes) + step}", first))
            outcomes.append(hosts[-1].name)
        elif operation == "leave" and hosts:
            idle = [h for h in hosts if h.replicas == 0]
            if idle:
                hosts.remove(idle[first % len(idle)])
                outcomes.append("left")
    return outcomes


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, len(SHAPES) - 1), min_size=1, max_size=12), operations)
def test_ranked_placement_equals_a_scan_of_every_host(
    shapes: list[int], script: list[tuple[str, int, int]]
) -> None:
    assert replay(HostList, shapes, script) == replay(list, shapes, script)


def test_identical_hosts_take_replicas_in_turn_under_spread() -> None:
    env = simpy.Environment()
    hosts = HostList(host(env, f"h{index}", 0) for index in range(3))
    scheduler = Scheduler(env, hosts, EventLog())

    chosen = [try_place(scheduler, f"r{n}", Spread(), 0) for n in range(7)]

    assert chosen == ["h0", "h1", "h2", "h0", "h1", "h2", "h0"]


def test_a_host_list_counts_joins_and_leaves() -> None:
    env = simpy.Environment()
    hosts = HostList([host(env, "a", 0)])
    hosts.append(host(env, "b", 0))
    hosts.remove(hosts[0])
    hosts += [host(env, "c", 1)]

    assert [h.name for h in hosts] == ["b", "c"]
    assert hosts.changes == 3


def test_a_pinned_pod_meets_the_required_anti_affinity_of_pods_placed_before_it() -> None:
    """The scheduler tells the filters which nodes hold pods with required anti-affinity
    only while it has placed none; once it has, they look, and after the last is
    released they need not."""
    env = simpy.Environment()
    hosts = HostList(host(env, f"h{index}", 0) for index in range(3))
    scheduler = Scheduler(env, hosts, EventLog())
    web = LabelSelector((("app", "web"),))

    def pinned(replica: str, at: Host, **fields: Any) -> str:
        pod = PodInfo(replica, labels={"app": "web"}, milli_cpu=100, memory_bytes=GIB, **fields)
        placing = scheduler.place(replica, Spread(), pod, 0.1, GIB, pinned=at)
        try:
            next(placing)
        except StopIteration as placed:
            return placed.value.name
        placing.close()
        return ""

    assert pinned("w0", hosts[0]) == "h0"
    loner = (PodAffinityTerm(web, HOSTNAME),)
    assert pinned("loner", hosts[0], required_anti_affinity=loner) == ""
    assert pinned("loner", hosts[2], required_anti_affinity=loner) == "h2"
    assert pinned("w1", hosts[2]) == ""
    assert pinned("w2", hosts[1]) == "h1"
    scheduler.release(hosts[2], "loner", 0.1, GIB)
    assert pinned("w3", hosts[2]) == "h2"


def test_a_replica_pod_is_its_apps_template_with_its_own_name_requests_and_image() -> None:
    """`replica_pod` builds the pod field by field: every field of the template is kept
    (a field PodInfo gains is caught here), but the name, requests and images."""
    template = PodInfo(*(object() for _ in dataclasses.fields(PodInfo)))
    image = SimpleNamespace(name="registry/app:1")
    app = App("app", image, 0.25, 64 * 2**20, Constant(0.0), pod_spec=template)  # type: ignore[arg-type]
    pod = replica_pod("app-container-7", app, 0.25, 64 * 2**20)
    assert pod == dataclasses.replace(
        template,
        name="app-container-7",
        milli_cpu=250,
        memory_bytes=64 * 2**20,
        images=("registry/app:1",),
    )
