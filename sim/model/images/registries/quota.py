"""``quota``: anyone may pull, limited only by request-rate quotas — a self-hosted or
cloud registry without per-client limits or IAM in the way, whose API quotas are what
a scale-out meets (requests over them are throttled and retried with back-off)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.errors import ConfigError
from sim.core.settings import Kind
from sim.model.images.registries import RegistryParams, build


@dataclass(frozen=True, kw_only=True)
class QuotaParams(RegistryParams):
    def __post_init__(self) -> None:
        if self.quotas.manifest_per_s is None or self.quotas.blob_per_s is None:
            raise ConfigError(
                "quotas",
                "missing",
                "manifest_per_s and blob_per_s: a quota registry is limited by both",
            )
        if self.pull_limit is not None:
            raise ConfigError("pull_limit", "given", "none: a quota registry limits requests")


KIND = Kind("quota", QuotaParams, build, "open, limited only by request-rate quotas")
