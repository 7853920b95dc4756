"""The served app: its replicas behind a load balancer, its traffic, its autoscaler.

A `Service` assembles what serving an app takes: the traffic driver that sends each
request to a ready replica, the fleet that keeps the desired number of replicas on the
app's platform, the request statistics, and — when configured — the autoscaling control
loop. It is built only when the workload has a service, starts the traffic at once or
when the initial replicas serve, and reports its own part of the summary (requests,
latency, scaling) and of each time-series row.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.core.errors import ConfigError
from sim.core.records import EventKind, EventLog
from sim.core.streams import RandomStreams
from sim.model.hosts.replica import App, Ledger, Platform
from sim.model.service.autoscaler import Autoscaler
from sim.model.service.fleet import Fleet
from sim.model.service.interceptor import Interceptor
from sim.model.service.monitoring import Monitoring
from sim.model.service.slo import SloTracker
from sim.model.service.traffic_modes import TRAFFIC_MODES, TrafficContext
from sim.model.service.workload import ServiceParams
from sim.policies.autoscaling import AUTOSCALING
from sim.policies.autoscaling.protocol import hold_of


class Service:
    """The served app, its traffic and its scaling.

    Args:
        env: the simulation environment.
        params: the service and its traffic.
        app: the application served.
        platform: where its replicas run.
        autoscaler: the scaling policy's parameters (a kind of `AUTOSCALING`), or None
            for a fixed fleet.
        monitoring: the run's monitoring (told about every request and replica).
        ledger: where each start-up's record goes.
        log: the event log.
        streams: the run's named random streams.
        slo: judges each period against the service level objective, if one is set.
    """

    def __init__(
        self,
        env: simpy.Environment,
        params: ServiceParams,
        app: App,
        platform: Platform,
        autoscaler: Any,
        monitoring: Monitoring,
        ledger: Ledger,
        log: EventLog,
        streams: RandomStreams,
        slo: SloTracker | None = None,
    ) -> None:
        self.env = env
        self.params = params
        self.log = log
        self.slo = slo
        self.monitoring = monitoring
        self.started_s: float | None = None
        """When the service opened to traffic (None: not yet)."""
        self.held_at_end = 0
        """Requests still held for a replica when the run ended (see `finish`)."""
        policy = (
            AUTOSCALING.kind_of(autoscaler).build(autoscaler) if autoscaler is not None else None
        )
        hold = hold_of(policy)
        mode = TRAFFIC_MODES[params.mode]
        self.traffic, self.stats = mode.build(
            mode.params(),
            TrafficContext(
                env,
                params.arrivals,
                params.request,
                params.balancer,
                streams.generator,
                monitoring,
                slo,
            ),
        )
        interceptor = None
        if hold is not None and policy is not None:
            if not hasattr(self.traffic, "interceptor"):
                raise ConfigError(
                    "workload.traffic.mode",
                    params.mode,
                    f"requests: the {policy.name} autoscaler holds each request that "
                    "arrives while no replica is ready",
                )
            interceptor = Interceptor(hold.timeout_s, hold.capacity, hold.window_s)
            self.traffic.interceptor = interceptor
        self.fleet = Fleet(
            env,
            app,
            platform,
            params.fleet,
            self.traffic,
            monitoring,
            log,
            ledger.finished,
            ledger,
            self._failed,
        )
        self.autoscaler = (
            Autoscaler(env, policy, self.fleet, monitoring, log, interceptor)
            if policy is not None
            else None
        )

    def start(self) -> None:
        """Ask for the initial replicas, open to traffic, start the autoscaler."""
        self.fleet.set_desired(self.params.initial_replicas, "initial capacity")
        self.env.process(self._serve())
        if self.autoscaler is not None:
            self.env.process(self.autoscaler.run())

    def _serve(self) -> Generator[simpy.Event, Any, None]:
        """Open the service to traffic: at once, or once the fleet is ready for it
        (`Fleet.ready_for_traffic`); a trace's rows before then are dropped, ``not
        started``."""
        if self.params.start_traffic == "when_ready" and self.params.initial_replicas > 0:
            yield self.fleet.live
        self.started_s = self.env.now
        self.traffic.drop_unstarted(self.env.now, self.monitoring.open_since_s)
        self.log.record(self.env.now, self.fleet.name, EventKind.TRAFFIC_STARTED)
        yield from self.traffic.run()

    def finish(self) -> None:
        """The run ends now: if traffic never started, a trace's rows so far are dropped,
        ``not started``; requests held for a replica whose wait ran out are dropped
        (call before the last monitoring period closes)."""
        if self.started_s is None:
            self.traffic.drop_unstarted(self.env.now, self.monitoring.open_since_s)
        self.held_at_end = self.held()

    def held(self) -> int:
        """Requests held for a replica now (their wait not run out): neither served nor
        dropped yet."""
        settle = getattr(self.traffic, "settle_held", None)
        return int(settle(self.env.now)) if settle is not None else 0

    def warnings(self) -> list[str]:
        """Why the service served nothing, when traffic never started."""
        if self.started_s is not None:
            return []
        fleet = self.fleet
        served = sum(m.state in ("in_service", "restarting") for m in fleet.members.values())
        failed = sum(m.state == "failed" for m in fleet.history)
        why = f"{served} of the {fleet.desired} replicas desired had passed the health check"
        if failed:
            why += f", {failed} failed to start"
        return [
            f"traffic never started: {fleet.name} waits until its replicas serve "
            f"(workload.traffic.start=when_ready), and by the end of the run {why}; "
            "a longer horizon or workload.traffic.start=at_zero sends requests"
        ]

    def _failed(self, requests: list[tuple[float, float, float]], reason: str) -> None:
        """Requests cut by a lost replica: no longer served, failed for `reason`."""
        self.stats.failed(requests, reason)
        for arrival_s, start_s, _ in requests:
            self.monitoring.withdraw_wait(start_s - arrival_s)
        if self.slo is not None:
            self.slo.failed(self.env.now, requests)

    @property
    def requested(self) -> int:
        """Replicas the fleet asked for so far."""
        return len(self.fleet.history)

    def sample(self) -> dict[str, int]:
        """The service's columns of a time-series row: its fleet now."""
        return {
            "desired": self.fleet.desired,
            "in_service": self.fleet.count("in_service"),
            "draining": self.fleet.count("draining"),
        }

    def report_scaling(self) -> dict[str, int]:
        """Its part of the summary about scaling: replica actions, most replicas."""
        return {
            "scaling_actions": self.autoscaler.actions if self.autoscaler else 0,
            "replicas_max": self.fleet.size_max,
        }
