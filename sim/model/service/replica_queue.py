"""A replica serving requests: a first-come-first-served multi-server queue, solved on arrival.

A replica has `workers` servers (its vCPUs) and a waiting room of `queue_capacity`
places. Requests are served in arrival order, each by the worker that frees up first,
for its CPU time. Under that discipline everything about a request is known the moment
it arrives: it starts when the earliest-free worker frees (or at once), and finishes its
service time later. Nothing that arrives afterwards can overtake it. So
`ReplicaQueue.offer` settles a request at its arrival, without a SimPy event, and the
replica only keeps each worker's next free time (a heap) and the start times of the
requests still waiting (a deque: starts are non-decreasing in arrival order). A request
costs O(log workers), and memory is bounded by the workers and the waiting room, not by
the number of requests.

A request is dropped at arrival with a reason instead of being queued:

* ``"queue full"``: it would have to wait and `queue_capacity` requests are already
  waiting (assigned, not started).
* ``"timeout"``: it would wait longer than `timeout_s` before starting. The client gives
  up, and since the request would never reach a worker it is not queued at all: for
  first-come-first-served workers this is exact (a reneging request changes nobody's
  start). It does not hold a place in the waiting room while it would have waited, a
  simplification: the room counts only requests that will be served.

Outstanding requests (assigned and not finished) follow without a heap of finish times,
because the queue is work-conserving: while any request waits, every worker is busy. So
outstanding at ``t`` is ``workers + waiting`` when some request waits, else the number
of workers whose last request finishes after ``t``.

Times given to a replica never decrease: its queries prune what has started, so each
must be at or after the previous one.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

from sim.core.records import DropReason

QUEUE_FULL = DropReason.QUEUE_FULL
TIMEOUT = DropReason.TIMEOUT


class ReplicaQueue:
    """One replica's workers and waiting room.

    Args:
        name: the replica's name.
        workers: how many requests it serves at once (its vCPUs), at least 1.
        queue_capacity: how many requests may wait for a worker; 0 for none, and
            ``math.inf`` for an unbounded waiting room.
        timeout_s: the longest a request waits before its client gives up;
            ``math.inf`` for never.
        track_requests: keep each assigned request until it finishes, so that `cut`
            can say which ones a crash takes (runs with faults; it costs a heap push per
            request).
    """

    __slots__ = (
        "name",
        "workers",
        "queue_capacity",
        "timeout_s",
        "last_finish_s",
        "draining",
        "_free_at_s",
        "_waiting_starts_s",
        "_latest_s",
        "_assigned",
    )

    def __init__(
        self,
        name: str,
        workers: int,
        queue_capacity: float,
        timeout_s: float,
        track_requests: bool = False,
    ) -> None:
        if workers < 1 or int(workers) != workers:
            raise ValueError(f"{name}: workers must be a whole number of at least 1, not {workers}")
        if not queue_capacity >= 0:
            raise ValueError(f"{name}: queue_capacity must be at least 0, not {queue_capacity}")
        if not timeout_s >= 0:
            raise ValueError(f"{name}: timeout_s must be at least 0, not {timeout_s}")
        self.name = name
        self.workers = int(workers)
        self.queue_capacity = queue_capacity
        self.timeout_s = timeout_s
        self.last_finish_s = 0.0
        """When the last request assigned so far finishes (0 before any)."""
        self.draining = False
        """True once drained: it takes no new request."""
        self._free_at_s = [0.0] * self.workers
        self._waiting_starts_s: deque[float] = deque()
        self._latest_s = -math.inf
        self._assigned: list[tuple[float, float, float]] | None = [] if track_requests else None

    def offer(self, arrival_s: float, service_s: float) -> tuple[float, float] | str:
        """Assign a request arriving at `arrival_s` needing `service_s` of one worker.

        Returns:
            ``(start_s, finish_s)`` when it is served, or the reason it is dropped:
            ``"queue full"`` or ``"timeout"``.

        Raises:
            RuntimeError: the replica is draining.
            ValueError: `arrival_s` is before a time already given.
        """
        if self.draining:
            raise RuntimeError(f"{self.name} is draining and takes no new request")
        if arrival_s < self._latest_s:
            raise ValueError(f"{self.name}: time {arrival_s} is before {self._latest_s}")
        self._latest_s = arrival_s
        waiting = self._waiting_starts_s
        while waiting and waiting[0] <= arrival_s:
            waiting.popleft()
        free_at_s = self._free_at_s
        earliest_free_s = free_at_s[0]
        if earliest_free_s <= arrival_s:
            start_s = arrival_s
        else:
            if len(waiting) >= self.queue_capacity:
                return QUEUE_FULL
            if earliest_free_s - arrival_s > self.timeout_s:
                return TIMEOUT
            start_s = earliest_free_s
            waiting.append(start_s)
        finish_s = start_s + service_s
        heapq.heapreplace(free_at_s, finish_s)
        if finish_s > self.last_finish_s:
            self.last_finish_s = finish_s
        assigned = self._assigned
        if assigned is not None:
            while assigned and assigned[0][0] <= arrival_s:
                heapq.heappop(assigned)
            heapq.heappush(assigned, (finish_s, arrival_s, start_s))
        return start_s, finish_s

    def _advance(self, t_s: float) -> deque[float]:
        if t_s < self._latest_s:
            raise ValueError(f"{self.name}: time {t_s} is before {self._latest_s}")
        self._latest_s = t_s
        waiting = self._waiting_starts_s
        while waiting and waiting[0] <= t_s:
            waiting.popleft()
        return waiting

    def waiting(self, t_s: float) -> int:
        """Requests assigned and not yet started at `t_s`."""
        return len(self._advance(t_s))

    def outstanding(self, t_s: float) -> int:
        """Requests assigned and not finished at `t_s`: waiting plus in service."""
        waiting = len(self._advance(t_s))
        if waiting:
            return self.workers + waiting
        return sum(1 for free_s in self._free_at_s if free_s > t_s)

    def drain(self) -> None:
        """Take no new request; those assigned still run to their finish."""
        self.draining = True

    def drained_at_s(self) -> float:
        """When the last assigned request finishes: the replica is idle from then on.

        May be in the past (0 when it never served): wait ``max(0, drained_at_s() − now)``.
        """
        return self.last_finish_s

    def cut(self, t_s: float) -> list[tuple[float, float, float]]:
        """The replica goes away at `t_s` (its host crashed, its instance was reclaimed):
        the requests assigned and not finished are cut, as ``(arrival_s, start_s,
        finish_s)`` in finish order; it takes no new request and is idle from `t_s`.

        Raises:
            RuntimeError: the queue does not track its requests.
        """
        assigned = self._assigned
        if assigned is None:
            raise RuntimeError(f"{self.name} does not track its requests")
        cut = sorted(
            (arrival_s, start_s, finish_s)
            for finish_s, arrival_s, start_s in assigned
            if finish_s > t_s
        )
        cut.sort(key=lambda request: (request[2], request[0]))
        assigned.clear()
        self._waiting_starts_s.clear()
        self._free_at_s = [min(free_s, t_s) for free_s in self._free_at_s]
        heapq.heapify(self._free_at_s)
        self.last_finish_s = min(self.last_finish_s, t_s)
        self.draining = True
        return cut
