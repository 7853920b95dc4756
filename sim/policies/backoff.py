"""The kubelet's back-offs: CrashLoopBackOff and ImagePullBackOff.

Both are client-go's ``flowcontrol.Backoff`` (``util/flowcontrol/backoff.go``): an entry
per key with a back-off and the time it was last updated. ``Next`` starts an entry at
the initial back-off, or doubles it up to the maximum; an entry *expires* — the next
``Next`` starts it again — once the event being judged comes more than a span after the
entry's last update: twice the maximum by default (600 s), and for containers always 600
s (``kubelet.go`` sets ``HasExpiredFunc``), whatever the maximum.

* **CrashLoopBackOff** (``kuberuntime_manager.go`` ``doBackOff``): a container that exited
  at ``finished`` is held back while ``now - finished`` is under its entry's back-off;
  then ``Next`` runs as it restarts. The first exit finds no entry, so the first restart
  is immediate (and creates the entry at the initial back-off); the next waits 10 s, then
  20, 40 ... 300 s. An exit more than 600 s after the last restart (the container ran
  that long) finds the entry expired: the restart is immediate again and the back-off
  starts over. KEP-4603 makes the initial back-off and the maximum settings (1 s and 60 s
  with ``ReduceDefaultCrashLoopBackOffDecay``; ``KubeletCrashLoopBackOffMax``, beta since
  1.35, sets the maximum, which also lowers the initial back-off when it is smaller).
* **ImagePullBackOff** (``images/image_manager.go``): a failed pull calls ``Next`` at the
  failure, and the pod's next pull waits until the back-off since that update has passed:
  10 s, 20 s ... up to 300 s; a failure more than 600 s after the previous one starts the
  back-off over. The entry is the pod's (its UID and the image).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

CONTAINER_BACKOFF_EXPIRY_S = 600.0
"""Seconds after its last restart an exit must come for its back-off to start over."""


@dataclass(slots=True)
class _Entry:
    backoff_s: float
    last_update_s: float


def doubled_max_expiry(event_s: float, last_update_s: float, max_s: float) -> bool:
    """client-go's default expiry: more than twice the maximum since the last update."""
    return event_s - last_update_s > 2 * max_s


class Backoff:
    """Per-key exponential back-off (``flowcontrol.Backoff``).

    Args:
        initial_s: an entry's first back-off.
        max_s: back-offs double up to this.
        expired: whether an event at ``event_s`` finds an entry last updated at
            ``last_update_s`` expired (default: more than twice `max_s` later).
    """

    def __init__(
        self,
        initial_s: float,
        max_s: float,
        expired: Callable[[float, float, float], bool] = doubled_max_expiry,
    ) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.expired = expired
        self._entries: dict[str, _Entry] = {}

    def get(self, key: str) -> float:
        """The entry's back-off now (0 without an entry)."""
        entry = self._entries.get(key)
        return 0.0 if entry is None else entry.backoff_s

    def next(self, key: str, event_s: float, now_s: float) -> None:
        """Move the back-off on: start the entry (none yet, or expired at `event_s`) or
        double it up to the maximum; the entry is updated now."""
        entry = self._entries.get(key)
        if entry is None or self.expired(event_s, entry.last_update_s, self.max_s):
            entry = self._entries[key] = _Entry(self.initial_s, now_s)
        else:
            entry.backoff_s = min(2 * entry.backoff_s, self.max_s)
        entry.last_update_s = now_s

    def in_backoff_since(self, key: str, event_s: float, now_s: float) -> bool:
        """Whether less than the back-off has passed since `event_s`."""
        entry = self._entries.get(key)
        if entry is None or self.expired(event_s, entry.last_update_s, self.max_s):
            return False
        return now_s - event_s < entry.backoff_s

    def in_backoff_since_update(self, key: str, event_s: float) -> bool:
        """Whether less than the back-off has passed since the entry's last update."""
        entry = self._entries.get(key)
        if entry is None or self.expired(event_s, entry.last_update_s, self.max_s):
            return False
        return event_s - entry.last_update_s < entry.backoff_s


def _container_expiry(event_s: float, last_update_s: float, max_s: float) -> bool:
    return event_s - last_update_s > CONTAINER_BACKOFF_EXPIRY_S


class CrashLoopBackoff:
    """The kubelet's restart delays of crashed containers, by container.

    Args:
        initial_s: the back-off after the first restart (10 s; KEP-4603's reduced decay:
            1 s).
        max_s: the longest back-off (300 s; KEP-4603: 60 s, or a configured maximum; a
            maximum below the initial back-off lowers it too).
    """

    def __init__(self, initial_s: float = 10.0, max_s: float = 300.0) -> None:
        self.backoff = Backoff(min(initial_s, max_s), max_s, _container_expiry)

    def restart_delay_s(self, container: str, finished_s: float) -> float:
        """How long `container`, which exited at `finished_s`, waits before it restarts;
        the restart itself updates its entry."""
        delay_s = 0.0
        if self.backoff.in_backoff_since(container, finished_s, finished_s):
            delay_s = self.backoff.get(container)
        self.backoff.next(container, finished_s, finished_s + delay_s)
        return delay_s


class ImagePullBackoff:
    """The kubelet's waits between a pod's failed pulls of an image.

    Args:
        initial_s: the wait after the first failure (10 s).
        max_s: waits double up to this (300 s); failures more than twice this apart
            start over.
    """

    def __init__(self, initial_s: float = 10.0, max_s: float = 300.0) -> None:
        self.backoff = Backoff(initial_s, max_s)

    def wait_after_failure_s(self, image: str, failed_s: float) -> float:
        """A pull of `image` failed at `failed_s`: how long until the next may start."""
        self.backoff.next(image, failed_s, failed_s)
        return self.backoff.get(image)
