"""``private``: an ECR-like registry: only the listed principals may pull; anyone else
is denied (not retried)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind, setting
from sim.model.images.registries import RegistryParams, build


@dataclass(frozen=True, kw_only=True)
class PrivateParams(RegistryParams):
    allowed_principals: tuple[str, ...] = setting((), doc="who may pull (IAM principals)")

    def denial(self, principal: str, repository: str) -> str | None:
        if principal in self.allowed_principals:
            return None
        return f"denied: {principal or 'anonymous'} may not pull {repository}"


KIND = Kind("private", PrivateParams, build, "only the listed principals may pull")
