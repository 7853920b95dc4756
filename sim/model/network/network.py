"""A flow-level network: transfers are fluid flows sharing links max-min fairly.

Transfers are not simulated packet by packet. Once the one-way latency of its path has
elapsed, a transfer's bytes flow as a fluid at a rate set by max-min fair sharing of the
directed links on its path among all active flows. Links are full duplex: each direction
has the link's whole bandwidth. Rates change only when a flow starts or ends, so between
those instants every flow progresses linearly and its completion time is exact.

Large scenarios (thousands of hosts pulling images, all at once or one after another)
stay cheap. All the starts and ends of one instant are folded into one update of the
rates, run after every other event of that instant, and that update touches only the
flows whose share changes (`sim.model.network.maxmin`): flows over the same links form one
*path class*, classes held back by the same link one *bottleneck group* with one virtual
clock, so a start or an end costs O(log n) in the common case. A single pending timer
serves the next completion.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import simpy

from sim.model.network.delivery import Delivery, Done, TransferFailed, check_size
from sim.model.network.flows import Path
from sim.model.network.graph import GraphLike
from sim.model.network.links import Link
from sim.model.network.maxmin import RELATIVE_TIME_TOLERANCE, MaxMinSharing
from sim.model.network.twins import TwinFlow, TwinSets, in_order
from sim.model.primitives.clock import after
from sim.model.primitives.instant import AFTER_INSTANT, Soon

__all__ = ["Delivery", "Link", "Network", "Path", "TransferFailed"]


class Network(TwinSets):
    """Links between hosts, switches and registries (`sim.model.network.links`), and the
    transfers crossing them: each follows the lowest-latency path and shares the bandwidth
    of its directed links max-min fairly with every other active flow.

    Args:
        env: the simulation environment.
        graph: the topology: a `Graph`, or any graph with networkx's reading interface
            (``nodes(data=True)``, ``adj``, ``is_directed()``, ``is_multigraph()``),
            such as a ``networkx.Graph``. The network keeps a copy, ordered as
            ``networkx.Graph.copy`` orders one, so later changes to ``graph`` do not
            affect it; add nodes at run time with :meth:`attach`.
        adopt: take `graph`, a `Graph` built for this network alone (as
            `sim.model.network.topology.build_topology` builds one, already in that
            order), as it is rather than a copy.

    Raises:
        ValueError: for a directed graph or multigraph, a self-loop, or a link without
            valid ``bandwidth_bytes_s`` (> 0) and ``latency_s`` (>= 0).
    """

    def __init__(self, env: simpy.Environment, graph: GraphLike, adopt: bool = False) -> None:
        super().__init__(graph, adopt, MaxMinSharing())
        self.env = env
        self._next_seq = 0
        self._update_pending = False
        self._timer: simpy.Event | None = None
        self._timer_at_s = math.inf

    @property
    def active_flows(self) -> int:
        """Transfers whose bytes are flowing now (past their latency, not yet complete)."""
        return self._sharing.active_flows

    @property
    def recomputations(self) -> int:
        """How many times the fair rates were updated: once per instant with a start or
        an end, however many flows started or ended then."""
        return self._sharing.updates

    @property
    def full_recomputations(self) -> int:
        """How many of those updates recomputed every rate, because a bottleneck moved
        (the others updated only the groups of flows whose share changed)."""
        return self._sharing.full_updates

    def fail_link(self, u: str, v: str) -> int:
        """The link u-v fails: flows crossing it are cut (their transfers fail with
        `TransferFailed`), and routes are recomputed around it. Returns the flows cut.

        Raises:
            ValueError: no such link up.
        """
        ids = self._take_down(u, v)
        # A twin's own link: the set goes on as one flow per member, of which one is cut.
        self._split_twins_on(tuple(ids))
        cut = self._sharing.cancel(ids, self.env.now)
        self._forget_ended_twins()
        transfers_cut = 0
        for flow, members in in_order(cut):
            error = TransferFailed(f"link {u}-{v} failed")
            done = flow.done
            if members:
                transfers_cut += len(members)
                Soon(self.env, partial(_fail_twins, done, members, error))
            elif isinstance(done, simpy.Event):
                transfers_cut += 1
                done.fail(error)
            else:
                # As a waiter on an event would: later in the instant, after the failure.
                transfers_cut += 1
                Soon(self.env, partial(_deliver_failure, done, error))
        self._arm_timer()
        return transfers_cut

    def transfer(self, src: str, dst: str, size_bytes: float) -> simpy.Event:
        """Send `size_bytes` from `src` to `dst`.

        The path's latency elapses first; then the bytes flow, sharing bandwidth with all
        other active flows. Uncongested, a transfer takes exactly
        ``latency + size / bottleneck_bandwidth``.

        Returns:
            An event that succeeds with `size_bytes` when the last byte arrives: after the
            latency alone for zero bytes, at once when `src` is `dst`.

            While a link is down and no path joins them, the event fails at once with
            `TransferFailed`.

        Raises:
            ValueError: for an unknown node, an unreachable `dst` or a negative size.
        """
        done = self.env.event()
        self._transfer(src, dst, size_bytes, done)
        return done

    def send(
        self,
        src: str,
        dst: str,
        size_bytes: float,
        arrived: Callable[[float], None],
        failed: Callable[[TransferFailed], None],
    ) -> None:
        """`transfer` with callbacks instead of an event: `arrived(size_bytes)` runs as
        the last byte arrives (at once for zero hops), `failed(error)` when a link on the
        path fails under the transfer (later in that instant) or none joins the ends.

        Raises:
            ValueError: as `transfer`.
        """
        self._transfer(src, dst, size_bytes, Delivery(arrived, failed))

    def _transfer(self, src: str, dst: str, size_bytes: float, done: Done) -> None:
        check_size(size_bytes)
        if self._down and not self.reachable(src, dst):
            done.fail(TransferFailed(f"no path from {src} to {dst}: a link is down"))
            return
        path = self.path(src, dst)
        if len(path) == 1:
            done.succeed(size_bytes)
            return
        seq = self._next_seq
        self._next_seq += 1
        latency_s = self._routes[src][0][dst]
        if latency_s > 0:
            after(self.env, latency_s, partial(self._start_flow, path, size_bytes, seq, done))
        else:
            self._start_flow(path, size_bytes, seq, done)

    def link_bytes(self, u: str, v: str) -> float:
        """Bytes carried on the directed link u->v from the start until now.

        Raises:
            ValueError: if there is no link between `u` and `v`.
        """
        return self._sharing.link_bytes(self._link_id(u, v), self.env.now)

    def carried_bytes(self) -> dict[Link, float]:
        """`link_bytes` of every directed link, failed ones included."""
        now_s = self.env.now
        link_bytes = self._sharing.link_bytes
        return {ends: link_bytes(link, now_s) for ends, link in self._link_ids.items()}

    def link_rates(self) -> dict[Link, float]:
        """The current rate (bytes/s) on every directed link that carries a flow.

        For checking and debugging: once an instant's events are done, no rate exceeds
        its link's capacity.
        """
        return {
            self._link_ends[link]: rate_bytes_s
            for link, rate_bytes_s in self._sharing.link_rates().items()
            if link < len(self._link_ends)  # not a twin set's stand-in link
        }

    def path_rates(self) -> dict[Path, float]:
        """The current rate (bytes/s) of each flow, by path; flows on one path share it."""
        rates: dict[Path, float] = {}
        for path, rate_bytes_s in self._sharing.path_rates().items():
            twins = self._twin_sets.get(path)
            if twins is None:
                rates[path] = rate_bytes_s
            else:
                rates.update((member_path, rate_bytes_s) for member_path, _ in twins.paths)
        return rates

    def _start_flow(
        self, path: Path, size_bytes: float, seq: int, done: Done, _: object = None
    ) -> None:
        """Put a transfer's bytes on the wire; its rate is set at the end of this instant."""
        if size_bytes == 0:
            done.succeed(size_bytes)
            return
        links = self._links_of(path)
        if self._down_ids and not self._down_ids.isdisjoint(links):
            done.fail(TransferFailed("a link on its path failed during its latency"))
            return
        if self._twin_tails and not self._twin_tails.keys().isdisjoint(links):
            self._split_twins_on(links)
        self._sharing.start(path, links, size_bytes, seq, done, self.env.now)
        self._request_update()

    def _request_update(self) -> None:
        if not self._update_pending:
            self._update_pending = True
            # After every other event of this instant: by then its starts and ends are known.
            Soon(self.env, self._update, AFTER_INSTANT)

    def _update(self, _: simpy.Event) -> None:
        """Update the fair rates after every start and end of this instant; arm the timer."""
        self._update_pending = False
        self._sharing.update(self.env.now)
        self._forget_ended_twins()
        self._arm_timer()

    def _arm_timer(self) -> None:
        """Make sure a timer fires no later than the next completion.

        An armed timer that fires earlier is kept: it finds nothing due and re-arms. A new,
        earlier timer makes the armed one stale; SimPy cannot cancel it, so it fires and
        is ignored.
        """
        next_finish_s = self._sharing.next_finish_s()
        if next_finish_s == math.inf:
            return
        if self._timer is not None and self._timer_at_s <= next_finish_s:
            return
        now_s = self.env.now
        delay_s = max(next_finish_s - now_s, 0.0)
        timer = self.env.timeout(delay_s)
        timer.callbacks.append(self._on_timer)
        self._timer = timer
        self._timer_at_s = now_s + delay_s

    def _on_timer(self, timer: simpy.Event) -> None:
        """End the flows due now, in start order; their shares go to the others at the
        end of the instant."""
        if timer is not self._timer:
            return
        self._timer = None
        self._timer_at_s = math.inf
        now_s = self.env.now
        deadline_s = now_s + RELATIVE_TIME_TOLERANCE * max(1.0, abs(now_s))
        if self._sharing.next_finish_s() > deadline_s:
            if not self._update_pending:
                self._arm_timer()
            return
        for flow, members in in_order(self._sharing.finish_due(now_s, deadline_s)):
            if members:
                flow.done.arrived(flow.done.index, members)
            else:
                flow.done.succeed(flow.size_bytes)
        self._request_update()


def _deliver_failure(done: Delivery, error: TransferFailed, _: simpy.Event) -> None:
    done.fail(error)


def _fail_twins(flow: TwinFlow, members: list[int], error: TransferFailed, _: simpy.Event) -> None:
    flow.failed(flow.index, members, error)
