"""The interceptor in front of a service that scales to zero: it holds requests while
no replica is ready and counts the requests it sees.

Modelled on the KEDA HTTP add-on's interceptor (``interceptor/middleware/
endpoint_resolver.go``): every request passes through it; one that arrives while the
service has no ready replica waits there until one is ready, then goes on to it, or
fails when its wait exceeds the readiness timeout. The add-on sets no bound on how many
requests wait; here the buffer is bounded, as Knative's activator bounds its own
(``breakerQueueDepth``), so a burst onto a cold service cannot grow without limit. What
the KEDA scaler reads is the interceptor's request count over a sliding window (the
add-on's ``requestRate`` metric, one-second buckets over a one-minute window by
default): at zero replicas there is no CPU to measure, only requests arriving.

A held request keeps its arrival time: the time it waited here is part of its wait
(queue time) and latency once a replica serves it. Expiry is settled lazily, whenever
the interceptor is next asked (an arrival, a replica becoming ready, a poll, the end of
the run): a request whose wait ran out before then is dropped at its deadline, which
yields the same counts as settling it at the deadline.
"""

from __future__ import annotations

import math
from collections import deque

from sim.core.records import DropReason

ACTIVATION_TIMEOUT = DropReason.ACTIVATION_TIMEOUT
ACTIVATION_BUFFER_FULL = DropReason.ACTIVATION_BUFFER_FULL


class HeldRequest:
    """A request waiting at the interceptor for a ready replica."""

    __slots__ = ("arrival_s", "cpu_s", "response_bytes")

    def __init__(self, arrival_s: float, cpu_s: float, response_bytes: float) -> None:
        self.arrival_s = arrival_s
        self.cpu_s = cpu_s
        self.response_bytes = response_bytes


class Interceptor:
    """Holds requests for a service with no ready replica; counts every request.

    Args:
        timeout_s: the longest a request waits for a ready replica.
        capacity: the most requests held at once; one more is dropped.
        window_s: the span over which `recent` counts arrivals.
        granularity_s: the width of one counting bucket.

    Raises:
        ValueError: for a timeout, window or granularity not above 0, or a capacity
            below 1.
    """

    def __init__(
        self, timeout_s: float, capacity: int, window_s: float, granularity_s: float = 1.0
    ) -> None:
        if not (timeout_s > 0 and window_s > 0 and granularity_s > 0 and capacity >= 1):
            raise ValueError(
                f"interceptor needs timeout, window and granularity above 0 and capacity "
                f"at least 1, not {timeout_s}, {window_s}, {granularity_s}, {capacity}"
            )
        self.timeout_s = timeout_s
        self.capacity = capacity
        self.window_s = window_s
        self.granularity_s = granularity_s
        self.held: deque[HeldRequest] = deque()
        self.held_total = 0
        """Requests ever held (served later or dropped)."""
        self._buckets: deque[list[float]] = deque()
        self._bucket_count = max(1, round(window_s / granularity_s))

    def count(self, arrival_s: float) -> None:
        """One request arrived (held or not): it counts toward `recent`."""
        index = float(math.floor(arrival_s / self.granularity_s))
        buckets = self._buckets
        if buckets and buckets[-1][0] == index:
            buckets[-1][1] += 1
        else:
            buckets.append([index, 1.0])

    def recent(self, now_s: float) -> int:
        """Requests that arrived in the window ending at `now_s`: the buckets of the
        last ``window / granularity`` whole granules, the current one included."""
        newest = math.floor(now_s / self.granularity_s)
        oldest = newest - self._bucket_count + 1
        buckets = self._buckets
        while buckets and buckets[0][0] < oldest:
            buckets.popleft()
        return int(sum(count for index, count in buckets if index <= newest))

    def expired(self, now_s: float) -> list[HeldRequest]:
        """Remove and return the held requests whose wait ran out by `now_s` (a request
        whose deadline is exactly `now_s` still goes to a replica ready at `now_s`)."""
        held = self.held
        gone = []
        while held and held[0].arrival_s + self.timeout_s < now_s:
            gone.append(held.popleft())
        return gone

    def hold(self, arrival_s: float, cpu_s: float, response_bytes: float) -> bool:
        """Hold a request that found no ready replica; False when the buffer is full."""
        if len(self.held) >= self.capacity:
            return False
        self.held.append(HeldRequest(arrival_s, cpu_s, response_bytes))
        self.held_total += 1
        return True

    def release(self) -> list[HeldRequest]:
        """Remove and return every held request, oldest first (a replica is ready)."""
        released = list(self.held)
        self.held.clear()
        return released
