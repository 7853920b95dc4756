"""The config forms of scheduling constraints: node taints and labels, pod tolerations,
node selectors, affinities and topology spread constraints.

Each spec reads one entry as a config writes it (snake_case keys after the Kubernetes
fields: ``{key: dedicated, value: gpu, effect: NoSchedule}``) and builds the scheduler's
object (`sim.policies.scheduling.objects`).
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
