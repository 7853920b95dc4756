"""Token buckets: the request-rate limits of registries and of the kubelet's pulls."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestQuota:
    """A token bucket: `rate_per_s` sustained requests, bursts of up to `burst`."""

    rate_per_s: float
    burst: float


class TokenBucket:
    """Tokens refill continuously at the quota's rate up to its burst; a request takes one.

    The bucket starts full.
    """

    __slots__ = ("_quota", "_tokens", "_updated_s")

    def __init__(self, quota: RequestQuota) -> None:
        self._quota = quota
        self._tokens = quota.burst
        self._updated_s = 0.0

    def take(self, now_s: float) -> bool:
        """Take a token if one is there; False (and nothing taken) otherwise."""
        refill = (now_s - self._updated_s) * self._quota.rate_per_s
        self._tokens = min(self._quota.burst, self._tokens + refill)
        self._updated_s = now_s
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
