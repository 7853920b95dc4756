"""The config forms of scheduling constraints: node taints and labels, pod tolerations,
node selectors, affinities and topology spread constraints.

Each spec reads one entry as a config writes it (snake_case keys after the Kubernetes
fields: ``{key: dedicated, value: gpu, effect: NoSchedule}``) and builds the scheduler's
object (`sim.policies.scheduling.objects`).
"""

from __future__ import annotations

from sim.model.hosts.taints import EFFECTS, TaintSpec

__all__ = ["EFFECTS", "TaintSpec"]
