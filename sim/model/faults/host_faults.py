"""Hosts that fail and come back: crashes, disk pressure and spot reclaims.

A host that crashes leaves the cluster at once (the scheduler places nothing more on it);
every replica on it — ready, serving, draining or still starting — is lost: it leaves the
load balancer and what it held is released. Its owner asks for a replacement when the
control plane gives up on the host (`sim.model.cluster.node_lifecycle`): the node is
NotReady after the grace period, and its pods are evicted after their toleration (50 s +
300 s by default; both 0: at once). Until then the lost replicas still count toward the
owner's desired size. A host that reboots before its pods are evicted gets them back:
each starts again on it. A DaemonSet's pods are never evicted. A start-up in
progress on the crashed host runs on to its end in the model (a pull's flows already on
the wire finish) and then fails with the fault's reason. A host comes back by *reboot*
(the same host rejoins, its layer cache still on its disk, billed throughout as a
rebooting instance is) or *replace* (the instance is terminated and a new one of the same
size and price, with an empty disk, joins in its place).

Disk pressure fills a host's disk and, past the kubelet's hard eviction threshold,
collects unused images, taints the node and evicts its pods. A spot instance is
reclaimed an exponential time after its launch, after a two-minute notice in which it is
cordoned and drained.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import Any

import simpy

from sim.core.records import EventKind, EventLog, FailReason
from sim.core.streams import RandomStreams
from sim.model.cluster.cluster import Cluster
from sim.model.cluster.node_lifecycle import NodeLifecycleParams
from sim.model.faults.tally import Tally
from sim.model.hosts.host import Host
from sim.model.hosts.spot import SpotParams


class HostFaults:
    """Crashes, recoveries, disk pressure and spot reclaims of the cluster's hosts.

    Args:
        env: the simulation environment.
        cluster: the hosts, the cloud and the scheduler.
        tally: where losses and recoveries are counted.
        log: the event log.
        streams: the run's named random streams (spot clocks draw from ``spot/<host>``).
        node_lifecycle: when the pods of a crashed host are evicted and replaced.
    """

    def __init__(
        self,
        env: simpy.Environment,
        cluster: Cluster,
        tally: Tally,
        log: EventLog,
        streams: RandomStreams,
        node_lifecycle: NodeLifecycleParams | None = None,
    ) -> None:
        self.env = env
        self.cluster = cluster
        self.tally = tally
        self.log = log
        self.streams = streams
        self.node_lifecycle = node_lifecycle or NodeLifecycleParams()
        self._unreachable: dict[str, tuple[int, list[str]]] = {}
        """The lost replicas of each crashed host whose pods are not evicted yet, with the
        number of the crash that took them."""
        self._crashes = 0
        self.filled_bytes: dict[str, int] = {}
        """Bytes disk-pressure faults hold on each host's disk now."""
        self._reclaimed: set[str] = set()
        self._pressured: set[str] = set()
        self._replaced: dict[str, int] = {}
        self._current: dict[str, Host] = {host.name: host for host in cluster.hosts}
        """Each pool host's name -> the host now in its place (a replacement)."""

    @property
    def hosts_down(self) -> int:
        """Pool hosts (as they are now) that are down."""
        return sum(host.down for host in self._current.values())

    # Crash and recovery ------------------------------------------------------------

    def crash(self, hosts: Sequence[Host], fault: str, recovery: str) -> None:
        """The hosts (as they are now: a replaced one's successor) fail together."""
        now = self.env.now
        running = self.tally.running()
        crashed: list[str] = []
        for original in hosts:
            host = self._current[original.name]
            if host.down:
                continue  # already down (overlapping faults): nothing more to lose
            host.down = True
            self._faulted(host)
            crashed.append(original.name)
            self.tally.hosts_failed += 1
            names = self.tally.ledger.on_host(host)
            self.log.record(
                now,
                host.name,
                EventKind.HOST_FAILED,
                fault=fault,
                replicas_lost=len(names),
                recovery=recovery,
            )
            if recovery == "replace":
                self.cluster.cloud.terminate(host)
            else:
                self.cluster.cloud.crash(host)
            at_once = self.node_lifecycle.eviction_delay_s <= 0
            for name in names:
                self.tally.lose(name, FailReason.HOST_FAILURE, replace=at_once)
            if not at_once:
                self._crashes += 1
                self._unreachable[host.name] = (self._crashes, names)
                self.env.process(self._evict_later(host, fault, self._crashes))
        if crashed:
            self.tally.recovering(fault, running, tuple(crashed))

    def recover(self, hosts: Sequence[Host], fault: str) -> None:
        """The hosts come back: rebooted, or replaced by new instances."""
        now = self.env.now
        self.tally.fault_ended(fault, tuple(original.name for original in hosts))
        for original in hosts:
            host = self._current[original.name]
            if not host.down or host.name in self._reclaimed:
                continue
            record = self.cluster.cloud.records[host.name]
            if record.terminated_s is not None:
                new = self._replace(original.name, host)
                self.log.record(
                    now,
                    new.name,
                    EventKind.HOST_RECOVERED,
                    fault=fault,
                    how="replace",
                    replaces=host.name,
                )
            else:
                host.down = False
                self.cluster.cloud.reboot(host, rejoin=host.name not in self._pressured)
                if host.params.spot is not None:
                    self.env.process(self._spot_clock(host))
                self.log.record(now, host.name, EventKind.HOST_RECOVERED, fault=fault, how="reboot")
                _, lost = self._unreachable.pop(host.name, (0, []))
                for name in lost:
                    self.tally.replace_unreachable(name, pinned=host)
        self.cluster.scheduler.capacity_changed()

    def _evict_later(self, host: Host, fault: str, crash: int) -> Generator[simpy.Event, Any, None]:
        """The control plane gives up on a crashed host: NotReady after the grace period,
        its pods evicted (and replaced) after their toleration — unless it is back."""
        lifecycle = self.node_lifecycle
        yield self.env.timeout(lifecycle.grace_period_s)
        if self._unreachable.get(host.name, (0, []))[0] != crash:
            return
        self.log.record(
            self.env.now,
            host.name,
            EventKind.NODE_NOT_READY,
            fault=fault,
            evict_in_s=lifecycle.toleration_s,
        )
        yield self.env.timeout(lifecycle.toleration_s)
        if self._unreachable.get(host.name, (0, []))[0] != crash:
            return
        _, lost = self._unreachable.pop(host.name)
        daemons = [name for name in lost if self.tally.deployer.is_daemon(name)]
        if daemons:
            self._unreachable[host.name] = (crash, daemons)
        for name in lost:
            if name not in daemons:
                self.tally.replace_unreachable(name)
        self.cluster.scheduler.capacity_changed()

    def _replace(self, original: str, host: Host, on_demand: bool = False) -> Host:
        """A new instance in the place of the pool host `original` (now `host`)."""
        count = self._replaced[original] = self._replaced.get(original, 0) + 1
        new = self.cluster.cloud.replace(host, f"{original}-r{count}", on_demand=on_demand)
        self._current[original] = new
        return new

    def _faulted(self, host: Host) -> None:
        if host not in self.cluster.faulted:
            self.cluster.faulted.append(host)

    # Disk pressure -------------------------------------------------------------------

    def fill_disk(
        self, host: Host, fault: str, fill_bytes: int, eviction_percent: float
    ) -> tuple[Host, int]:
        """Fill the (current) host's disk, then act as the kubelet at its hard eviction
        threshold: collect unused images, then taint the node and evict its pods."""
        host = self._current.get(host.name, host)
        if host.down:
            return host, 0
        disk = host.disk
        filled = min(fill_bytes, disk.available_bytes)
        disk.allocate(filled)
        self.filled_bytes[host.name] = self.filled_bytes.get(host.name, 0) + filled
        over = self._over_threshold(host, eviction_percent)
        self.log.record(
            self.env.now,
            host.name,
            EventKind.DISK_PRESSURE,
            fault=fault,
            filled_bytes=filled,
            evicting=over,
        )
        if over:
            running = self.tally.running()
            self._faulted(host)
            self.cluster.cloud.cordon(host)
            self._pressured.add(host.name)
            for name in self.tally.ledger.on_host(host):
                self.tally.replicas_evicted += 1
                self.tally.lose(name, FailReason.EVICTED)
            # The evicted pods' images are unused now: the kubelet collects them too.
            self._over_threshold(host, eviction_percent)
            self.tally.recovering(fault, running, (host.name,))
        return host, filled

    def _over_threshold(self, host: Host, eviction_percent: float) -> bool:
        disk = host.disk
        limit = disk.capacity_bytes * eviction_percent / 100.0
        if disk.used_bytes < limit:
            return False
        host.engine.collect_garbage(int(disk.used_bytes - limit) + 1, reason="disk pressure")
        return disk.used_bytes >= limit

    def release_disk(
        self, host: Host, fault: str, filled_bytes: int, eviction_percent: float
    ) -> None:
        """The fill is gone; the node's taint is lifted once it is under the threshold."""
        if filled_bytes:
            host.disk.free(filled_bytes)
            self.filled_bytes[host.name] -= filled_bytes
        limit = host.disk.capacity_bytes * eviction_percent / 100.0
        if host.name in self._pressured and not host.down and host.disk.used_bytes < limit:
            self._pressured.discard(host.name)
            self.tally.fault_ended(fault, (host.name,))
            self.cluster.cloud.join(host)
            self.cluster.scheduler.capacity_changed()
            self.log.record(
                self.env.now, host.name, EventKind.HOST_RECOVERED, fault=fault, how="untainted"
            )

    # Spot capacity -------------------------------------------------------------------

    def start_spot_clocks(self) -> None:
        """Start the reclaim clock of every spot host, now and as instances launch."""
        for host in self.cluster.pool_hosts:
            if host.params.spot is not None:
                self.env.process(self._spot_clock(host))
        self.cluster.cloud.launch_listeners.append(self._launched)

    def _launched(self, host: Host) -> None:
        if host.params.spot is not None:
            self.env.process(self._spot_clock(host))

    def _spot_clock(self, host: Host) -> Generator[simpy.Event, Any, None]:
        """When the cloud reclaims the spot instance: an exponential time from its launch."""
        spot = host.params.spot
        assert spot is not None
        if spot.interruptions_per_h <= 0:
            return
        uniform = self.streams.generator(f"spot/{host.name}").random()
        yield self.env.timeout(-math.log1p(-uniform) * 3600.0 / spot.interruptions_per_h)
        if host.down or self.cluster.cloud.records[host.name].terminated_s is not None:
            return
        yield from self._interrupt(host, spot)

    def _interrupt(self, host: Host, spot: SpotParams) -> Generator[simpy.Event, Any, None]:
        """The two-minute notice: cordon and drain; then the instance is reclaimed."""
        now = self.env.now
        fault = f"spot:{host.name}"
        self.tally.spot_interruptions += 1
        self.log.record(now, host.name, EventKind.SPOT_INTERRUPTION, notice_s=spot.notice_s)
        running = self.tally.running()
        self._faulted(host)
        self.cluster.cloud.cordon(host)
        fleet = self.tally.fleet
        for name in self.tally.ledger.on_host(host):
            if fleet is not None and name in fleet.members:
                fleet.evict(name)
        self.tally.recovering(fault, running, (host.name,))
        yield self.env.timeout(spot.notice_s)
        self.cluster.cloud.reclaim(host)
        host.down = True
        self._reclaimed.add(host.name)
        for name in self.tally.ledger.on_host(host):
            self.tally.lose(name, FailReason.SPOT_INTERRUPTION)
        self.tally.check_recovered()
        original = next((name for name, current in self._current.items() if current is host), None)
        if original is None:
            self.tally.fault_ended(fault)
            return  # the scaler's instance: pending replicas bring capacity back
        yield self.env.timeout(spot.replace_after_s)
        new = self._replace(original, host, on_demand=spot.on_demand_fallback)
        self.tally.fault_ended(fault)
        how = "on-demand fallback" if spot.on_demand_fallback else "spot replacement"
        self.log.record(self.env.now, new.name, EventKind.HOST_RECOVERED, fault=fault, how=how)
        self.cluster.scheduler.capacity_changed()
        if new.params.spot is not None:
            self.env.process(self._spot_clock(new))
