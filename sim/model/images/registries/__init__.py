"""Registry kinds: where images come from, and who may pull them. One module per kind.

Every registry serves manifests and layer blobs over the network (`sim.model.images.registry`);
what differs between kinds is who may pull and where a miss goes:

* ``public`` (Docker Hub-like): anyone may pull; a pull-rate limit per client is usual;
* ``private`` (ECR-like): only the listed principals may pull;
* ``mirror`` (a pull-through cache): serves what it holds, fetches misses from its
  upstream — once however many clients ask at the same time (``coalesce_misses``, the
  default), or once per concurrent miss, as Docker Distribution's proxy mode does;
* ``quota``: anyone may pull, limited only by request-rate quotas.

Each kind module holds the kind's parameter dataclass (a `RegistryParams` with the
settings every registry has, plus its own) and declares ``KIND``. A config chooses one
with ``registry.<name>: {kind: <kind>, ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.core.settings import Family, setting
from sim.model.images.image import Image
from sim.model.primitives.ratelimit import RequestQuota

REGISTRIES = Family(
    "registry",
    __name__,
    summary="where images come from, and who may pull them (registry.<name>)",
)


@dataclass(frozen=True, slots=True)
class PullRateLimit:
    """At most `count` manifest pulls per client in any sliding window of `window_s`."""

    count: int = setting(minimum=1, doc="manifest pulls allowed per client per window")
    window_s: float = setting(unit="duration", doc="the sliding window")


@dataclass(frozen=True, slots=True)
class Quotas:
    """Request-rate quotas (token buckets refilling at the rate, bursting to it)."""

    manifest_per_s: float | None = setting(
        None, minimum=0.001, doc="manifest requests per second (BatchGetImage on ECR)"
    )
    blob_per_s: float | None = setting(
        None, minimum=0.001, doc="blob requests per second (GetDownloadUrlForLayer on ECR)"
    )

    @property
    def manifest_quota(self) -> RequestQuota | None:
        return _quota(self.manifest_per_s)

    @property
    def blob_quota(self) -> RequestQuota | None:
        return _quota(self.blob_per_s)


def _quota(rate_per_s: float | None) -> RequestQuota | None:
    return None if rate_per_s is None else RequestQuota(rate_per_s, burst=max(rate_per_s, 1.0))


@dataclass(frozen=True, slots=True)
class Prices:
    """What the registry bills."""

    storage_usd_per_gb_month: float = setting(0.0, minimum=0, doc="stored blobs, prorated")
    egress_usd_per_gb: float = setting(0.0, minimum=0, doc="bytes sent to clients")


@dataclass(frozen=True, kw_only=True)
class RegistryParams:
    """The settings every registry has (SI units); each kind adds its own.

    The hooks `denial`, `upstream_name`, `coalesces_misses` and `published` are what the
    model asks a kind.
    """

    name: str = setting("", entry_name=True)
    bandwidth_bytes_s: float = setting(unit="bandwidth", above=0, doc="egress: its access link")
    latency_s: float = setting(0.0, unit="duration", doc="one way, on its access link")
    request_time_s: float = setting(0.01, unit="duration", doc="its own work per request")
    principal: str = setting("", doc="who it is to an upstream (default: its name)")
    pull_limit: PullRateLimit | None = setting(
        None, doc="manifest pulls per client per window; over it: toomanyrequests"
    )
    quotas: Quotas = setting(default_factory=Quotas, doc="request-rate quotas (throttled)")
    failure_probability: float = setting(
        0.0, minimum=0, maximum=1, doc="chance a blob request fails with 503 (retried)"
    )
    prices: Prices = setting(default_factory=Prices, doc="storage and egress prices")

    def denial(self, principal: str, repository: str) -> str | None:
        """Why `principal` may not pull `repository` (None: it may)."""
        return None

    @property
    def upstream_name(self) -> str | None:
        """The registry a miss is fetched from (a pull-through mirror's), or None."""
        return None

    @property
    def coalesces_misses(self) -> bool:
        """Whether concurrent misses of one manifest or blob share a single upstream fetch
        (True) or each fetch it upstream themselves (False). Only a mirror has misses."""
        return True

    def published(self, catalog: Mapping[str, Image]) -> list[Image]:
        """The images it holds at the start: those whose origin it is."""
        return [image for image in catalog.values() if image.registry == self.name]


def build(params: RegistryParams, **context: Any) -> RegistryParams:
    """A registry kind contributes its parameters; `sim.model.images.registry.Registry` serves."""
    return params


__all__ = ["REGISTRIES", "Prices", "PullRateLimit", "Quotas", "RegistryParams"]
