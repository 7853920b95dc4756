"""How long the control plane takes to give up on a node that stopped answering.

After the node lifecycle controller (``pkg/controller/nodelifecycle``) and taint-based
eviction: a node whose kubelet stops posting status is marked NotReady (Unknown) once the
``node-monitor-grace-period`` has passed (50 s since Kubernetes 1.32, 40 s before;
kubernetes#126287), and tainted ``node.kubernetes.io/unreachable:NoExecute``; its pods
carry the default toleration of that taint for 300 s (the DefaultTolerationSeconds
admission plugin), so they are evicted — and their controllers create replacements —
that long after the taint. A DaemonSet's pods tolerate it without a limit and are never
evicted. A node that comes back before its pods are evicted keeps them: the kubelet
starts their containers again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import setting


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeLifecycleParams:
    """When the pods of a node that stopped answering are replaced."""

    grace_period_s: float = setting(
        50.0, unit="duration", minimum=0, doc="node-monitor-grace-period: then NotReady"
    )
    toleration_s: float = setting(
        300.0,
        unit="duration",
        minimum=0,
        doc="the pods' not-ready/unreachable toleration: then evicted (0 and 0: at once)",
    )

    @property
    def eviction_delay_s(self) -> float:
        """From the crash to the pods' eviction."""
        return self.grace_period_s + self.toleration_s
