"""What faults cost and how a run recovers from them.

A lost replica is handed to its owner (the service's fleet, or the deployer), which asks
for a replacement. Each fault that takes replicas is a *recovery* to watch: the service
(or the deployments) had so many replicas running just before it; it has recovered when
as many run again, and ``time_to_recover_s`` is how long that took from the fault's start
(a fault not recovered by the end counts until the end). While hosts stay down there may
be no room to recover in, so ``time_to_recover_after_fault_s`` times it from the fault's
end instead (its hosts back, a reclaimed spot instance replaced, a full disk freed): what
the system itself takes once the fault is over. The tally keeps the counts the summary
and the time series report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import simpy

from sim.core.records import EventKind, EventLog
from sim.model.cluster.deployments import Deployer
from sim.model.faults.report import no_faults_report
from sim.model.hosts.host import Host
from sim.model.hosts.replica import Ledger
from sim.model.service.fleet import Fleet
from sim.model.service.service import Service


@dataclass(slots=True)
class Recovery:
    """One fault's recovery: from when, back to how many running replicas, and when;
    the hosts the fault took and when it ended (None while it lasts)."""

    fault: str
    since_s: float
    target: int
    recovered_s: float | None = None
    hosts: tuple[str, ...] = ()
    ended_s: float | None = None


class Tally:
    """Losses, recoveries and the fault counts of a run.

    Args:
        env: the simulation environment.
        ledger: every replica's holdings and start-ups.
        deployer: the deployments (owner of their replicas).
        service: the served app (its fleet owns its replicas), or None.
        log: the event log.
    """

    def __init__(
        self,
        env: simpy.Environment,
        ledger: Ledger,
        deployer: Deployer,
        service: Service | None,
        log: EventLog,
    ) -> None:
        self.env = env
        self.ledger = ledger
        self.deployer = deployer
        self.fleet: Fleet | None = service.fleet if service is not None else None
        self.log = log
        self.hosts_failed = 0
        self.spot_interruptions = 0
        self.replicas_evicted = 0
        self.recoveries: list[Recovery] = []
        if self.fleet is not None:
            self.fleet.in_service_listeners.append(self.check_recovered)
        deployer.ready_listeners.append(self.check_recovered)

    def lose(self, replica: str, reason: str, replace: bool = True) -> None:
        """The replica is gone with a fault: its owner is told, and replaces it (at once,
        or — not `replace` — when `replace_unreachable` says so)."""
        self.ledger.lost[replica] = reason
        if self.fleet is not None and replica in self.fleet.members:
            self.fleet.lose(replica, reason, replace)
        elif self.deployer.owns(replica):
            self.deployer.lose(replica, reason, replace)

    def replace_unreachable(self, replica: str, pinned: Host | None = None) -> None:
        """Replace a replica lost with an unreachable host and not replaced yet: where the
        scheduler places it, or (`pinned`) on that host, back from a reboot."""
        if self.fleet is not None and replica in self.fleet.unreachable:
            self.fleet.replace_unreachable(replica, pinned=pinned)
        else:
            self.deployer.replace_unreachable(replica, pinned=pinned)

    def running(self) -> int:
        """Replicas running now: the fleet's in service, else the deployments'."""
        if self.fleet is not None:
            return self.fleet.count("in_service")
        return self.deployer.running

    def recovering(self, fault: str, running: int, hosts: tuple[str, ...] = ()) -> None:
        """Watch the run recover from `fault`, which took `hosts`, to the `running`
        replicas it had before."""
        self.recoveries.append(Recovery(fault, self.env.now, running, hosts=hosts))
        self.check_recovered()

    def fault_ended(self, fault: str, hosts: tuple[str, ...] = ()) -> None:
        """`fault` is over for `hosts` (or for every host it took, if none are named):
        its recoveries from now on count as the system's own."""
        for recovery in self.recoveries:
            if (
                recovery.ended_s is None
                and recovery.fault == fault
                and set(recovery.hosts) <= set(hosts or recovery.hosts)
            ):
                recovery.ended_s = self.env.now

    def check_recovered(self, replica: str = "") -> None:
        """Mark (and log) every recovery the replicas running now complete."""
        running = None
        for recovery in self.recoveries:
            if recovery.recovered_s is not None:
                continue
            if running is None:
                running = self.running()
            if running >= recovery.target:
                recovery.recovered_s = self.env.now
                self.log.record(
                    self.env.now,
                    recovery.fault,
                    EventKind.SERVICE_RECOVERED,
                    time_to_recover_s=self.env.now - recovery.since_s,
                )

    def _replicas(self) -> dict[str, int]:
        fleet = self.fleet
        return {
            "replicas_lost": self.deployer.replicas_lost + (fleet.replicas_lost if fleet else 0),
            "replicas_replaced": self.deployer.replicas_replaced
            + (fleet.replicas_replaced if fleet else 0),
        }

    def report(self, end_s: float) -> dict[str, Any]:
        """The summary's fault part: hosts failed, replicas lost and replaced, the longest
        time to recover from a fault's start and from its end (a fault not recovered
        counts until `end_s`, one recovered before it ended as 0; None without one)."""
        times = [
            (r.recovered_s if r.recovered_s is not None else end_s) - r.since_s
            for r in self.recoveries
        ]
        after = [
            max(0.0, (r.recovered_s if r.recovered_s is not None else end_s) - r.ended_s)
            for r in self.recoveries
            if r.ended_s is not None
        ]
        return {
            "hosts_failed": self.hosts_failed,
            **self._replicas(),
            "time_to_recover_s": max(times) if times else None,
            "time_to_recover_after_fault_s": max(after) if after else None,
            "spot_interruptions": self.spot_interruptions,
        }

    def sample(self, hosts_down: int) -> dict[str, int]:
        """The time series' fault columns: hosts down now; hosts failed, replicas lost and
        replaced, spot interruptions so far."""
        return {
            "hosts_down": hosts_down,
            "hosts_failed": self.hosts_failed,
            **self._replicas(),
            "spot_interruptions": self.spot_interruptions,
        }


__all__ = ["Tally", "no_faults_report"]
