"""A node taint as a config writes it (``{key: dedicated, value: gpu, effect: NoSchedule}``).

The model's node groups and pools take their taints in this form (snake_case keys after
the Kubernetes fields) and build the scheduler's `Taint` from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import setting
from sim.policies.scheduling.objects import Taint

EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaintSpec:
    """A node taint."""

    key: str = setting(doc="the taint's key")
    value: str = setting("", doc="its value")
    effect: str = setting(
        "NoSchedule", choices=EFFECTS, doc="what it does to pods not tolerating it"
    )

    def build(self) -> Taint:
        return Taint(self.key, self.value, self.effect)  # type: ignore[arg-type]
