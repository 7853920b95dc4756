"""CrashLoopBackOff: how long the kubelet waits before restarting a container that exited.

The kubelet restarts a crashed container after a back-off that starts at 10 s and
doubles with each crash up to 5 minutes; once the container has run for 10 minutes
without crashing, the back-off starts again from 10 s (Kubernetes documentation, "Pod
Lifecycle: container restarts").
"""

from __future__ import annotations


class CrashLoopBackoff:
    """The restart back-off of each container, by replica name.

    Args:
        initial_s: the first delay.
        max_s: delays double up to this.
        reset_after_s: a container that ran this long since its last start restarts its
            back-off from `initial_s`.
    """

    def __init__(
        self, initial_s: float = 10.0, max_s: float = 300.0, reset_after_s: float = 600.0
    ) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.reset_after_s = reset_after_s
        self._next_s: dict[str, float] = {}

    def next_delay_s(self, replica: str, running_since_s: float, now_s: float) -> float:
        """The delay before restarting `replica`, which crashed at `now_s` after running
        since `running_since_s`; the one after it doubles."""
        delay_s = self._next_s.get(replica, self.initial_s)
        if now_s - running_since_s >= self.reset_after_s:
            delay_s = self.initial_s
        self._next_s[replica] = min(2 * delay_s, self.max_s)
        return delay_s
