"""The autoscaling control loop: observe the monitoring, ask the policy, act on the fleet.

Every ``policy.interval_s`` the loop gathers what the policy looks at — the recent
datapoints of its metric and statistic over its period, and each replica's launch and
ready times, its CPU request (the app's vCPUs) and the CPU it used over the last base
period, and, for a policy that scales to zero, the request rate its interceptor counted —
asks the policy for a decision and, when the desired capacity changes, sets it
on the fleet. The policy is a
pure decider (`sim.policies.autoscaling`); all SimPy is here.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.core.records import EventKind, EventLog
from sim.model.service.fleet import Fleet
from sim.model.service.interceptor import Interceptor
from sim.model.service.metric_queries import MetricQueries
from sim.model.service.monitoring import Monitoring
from sim.policies.autoscaling.protocol import Instance, Observation, ScalingPolicy


class Autoscaler:
    """Runs one scaling policy against one fleet.

    Args:
        env: the simulation environment.
        policy: the decider.
        fleet: the replicas it scales.
        monitoring: where the metrics come from (read through `MetricQueries`).
        log: the event log.
        interceptor: counts the requests a policy that scales to zero watches; None
            for other policies.
    """

    def __init__(
        self,
        env: simpy.Environment,
        policy: ScalingPolicy,
        fleet: Fleet,
        monitoring: Monitoring,
        log: EventLog,
        interceptor: Interceptor | None = None,
    ) -> None:
        self.env = env
        self.policy = policy
        self.fleet = fleet
        self.queries = MetricQueries(monitoring)
        self.log = log
        self.interceptor = interceptor
        self.actions = 0

    def observe(self) -> Observation:
        """What the policy sees now."""
        policy = self.policy
        queries = self.queries
        datapoints = (
            queries.datapoints(
                policy.metric, policy.statistic, policy.period_s, policy.datapoints_needed
            )
            if policy.datapoints_needed
            else ()
        )
        series = {
            extra: queries.datapoints(extra.metric, extra.statistic, extra.period_s, count)
            for extra, count in policy.extra_series
        }
        utilization = queries.latest_replica_values("CPUUtilization")
        # CPUUtilization is in percent of a replica's vCPUs, which are what it requests.
        request_vcpu = self.fleet.app.vcpu
        instances = tuple(
            Instance(
                launched_s=member.launched_s,
                ready_s=member.in_service_s,
                terminating=member.state == "draining",
                cpu_request_vcpu=request_vcpu,
                cpu_usage_vcpu=(
                    utilization[member.name] * request_vcpu / 100.0
                    if member.state == "in_service" and member.name in utilization
                    else None
                ),
            )
            for member in self.fleet.members.values()
            if member.state in ("launching", "in_service", "draining")
        )
        interceptor = self.interceptor
        request_rate = (
            interceptor.recent(self.env.now) / interceptor.window_s if interceptor else 0.0
        )
        return Observation(
            self.env.now, self.fleet.desired, instances, datapoints, series, request_rate
        )

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The control loop (a SimPy process body)."""
        while True:
            yield self.env.timeout(self.policy.interval_s)
            decision = self.policy.decide(self.observe())
            if decision.desired != self.fleet.desired:
                self.actions += 1
                self.log.record(
                    self.env.now,
                    f"autoscaler/{self.policy.name}",
                    EventKind.SCALING_ACTION,
                    desired=decision.desired,
                    previous=self.fleet.desired,
                    reason=decision.reason,
                )
                self.fleet.set_desired(decision.desired, decision.reason)
