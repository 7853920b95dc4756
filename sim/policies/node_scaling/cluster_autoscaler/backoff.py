"""Node group back-off: a group whose new nodes failed to join is not grown for a while
(``utils/backoff/exponential_backoff.go``).

The first failure backs the group off for ``initial_s`` (5 minutes); a failure after a
back-off ended doubles the duration, up to ``max_s`` (30 minutes); failures during a
back-off keep its duration. A group that has not failed for ``reset_s`` (3 hours)
starts again from ``initial_s``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Entry:
    duration_s: float
    until_s: float
    last_failure_s: float


class Backoff:
    """Each node group's back-off.

    Args:
        initial_s: ``initial-node-group-backoff-duration``.
        max_s: ``max-node-group-backoff-duration``.
        reset_s: ``node-group-backoff-reset-timeout``.
    """

    def __init__(self, initial_s: float = 300.0, max_s: float = 1800.0, reset_s: float = 10800.0):
        self.initial_s = initial_s
        self.max_s = max_s
        self.reset_s = reset_s
        self._entries: dict[str, _Entry] = {}

    def fail(self, group: str, now_s: float) -> float:
        """A node of `group` failed to join at `now_s`: back it off; returns until when."""
        self._forget_stale(now_s)
        duration = self.initial_s
        entry = self._entries.get(group)
        if entry is not None:
            duration = (
                min(2 * entry.duration_s, self.max_s) if entry.until_s < now_s else entry.duration_s
            )
        until = now_s + duration
        self._entries[group] = _Entry(duration, until, now_s)
        return until

    def backed_off(self, group: str, now_s: float) -> bool:
        """Whether `group` is backed off at `now_s`."""
        entry = self._entries.get(group)
        return entry is not None and entry.until_s > now_s

    def _forget_stale(self, now_s: float) -> None:
        for group in [
            g for g, e in self._entries.items() if e.last_failure_s + self.reset_s < now_s
        ]:
            del self._entries[group]
