"""Node scaling decisions, as pure functions of plain values (no SimPy).

What the node scalers of `sim.model.cluster.scalers` decide is decided here, so that it
can be table-tested alone, as upstream tests it:

* `fit`: the one seam through which every decision asks whether a pod fits a node or a
  template node that does not exist yet: the scheduler framework's filters
  (`sim.policies.scheduling`), and the bin-packing simulations built on them;
* `cluster_autoscaler`: the Cluster Autoscaler's utilisation, scale-down eligibility and
  drain simulation, binpacking estimator, expanders, balancing of similar node groups
  and node group back-off;
* `karpenter`: Karpenter's instance type catalogue and requirements, its provisioning
  scheduler (pods bin-packed onto the cheapest instance types that fit them), disruption
  budgets and disruption methods (emptiness, multi- and single-node consolidation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sim.policies.scheduling.objects import NodeInfo, PodInfo, Resources, Taint

DEFAULT_MAX_PODS = 110
"""The kubelet's default ``maxPods``."""


def millicores(vcpu: float) -> int:
    """vCPUs as whole millicores, as a Kubernetes CPU quantity counts them."""
    return round(vcpu * 1000)


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod as a node scaler sees it: its name, what it requests, and (when the scheduler
    placed or tried to place it) the pod the scheduler's filters look at, with its
    labels, tolerations, selectors and spread constraints."""

    name: str
    vcpu: float
    memory_bytes: int
    spec: PodInfo | None = field(default=None, compare=False, hash=False)

    @property
    def info(self) -> PodInfo:
        """The pod as the scheduler's filters see it (its requests, its constraints)."""
        if self.spec is not None:
            return self.spec
        return PodInfo(self.name, milli_cpu=millicores(self.vcpu), memory_bytes=self.memory_bytes)

    @classmethod
    def of(cls, info: PodInfo) -> Pod:
        """A pod from the scheduler's view of it."""
        return cls(info.name, info.request_milli_cpu / 1000, info.request_memory_bytes, info)


@dataclass(frozen=True, slots=True)
class NodeShape:
    """A node, or the template of the nodes a group or an instance type would add: what
    its pods may request in all (its allocatable less its DaemonSets' pods), its labels,
    taints and pod limit.

    Attributes:
        name: the node's (or template's) name.
        vcpu: vCPU its pods may request.
        memory_bytes: memory its pods may request.
        labels: its labels.
        taints: its taints.
        max_pods: the kubelet's ``maxPods``.
    """

    name: str
    vcpu: float
    memory_bytes: int
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    taints: tuple[Taint, ...] = ()
    max_pods: int = DEFAULT_MAX_PODS

    def node(self, name: str = "") -> NodeInfo:
        """An empty node of this shape, as the scheduler's filters see a node."""
        return NodeInfo(
            name or self.name,
            self.labels,
            Resources(millicores(self.vcpu), self.memory_bytes, self.max_pods),
            self.taints,
        )


__all__ = ["DEFAULT_MAX_PODS", "NodeShape", "Pod", "Taint", "millicores"]
