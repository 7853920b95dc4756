"""Node scaling decisions, as pure functions of plain values (no SimPy).

What the node scalers of `sim.model.cluster.scalers` decide is decided here, so that it
can be table-tested alone, as upstream tests it:

* `fit`: the one seam through which every decision asks whether a pod fits a node or a
  template node (today's fit: free vCPU and memory after reserves and DaemonSets, and
  the node's taints), and the bin-packing simulations built on it;
* `cluster_autoscaler`: the Cluster Autoscaler's utilisation, scale-down eligibility and
  drain simulation, binpacking estimator, expanders, balancing of similar node groups
  and node group back-off;
* `karpenter`: Karpenter's instance type catalogue and requirements, its provisioning
  scheduler (pods bin-packed onto the cheapest instance types that fit), disruption
  budgets and disruption methods (emptiness, multi- and single-node consolidation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod as a node scaler sees it: its name and what it requests."""

    name: str
    vcpu: float
    memory_bytes: int


@dataclass(frozen=True, slots=True)
class Taint:
    """A node taint (``key=value:Effect``); a pod that does not tolerate a ``NoSchedule``
    or ``NoExecute`` taint is not scheduled on the node."""

    key: str
    value: str = ""
    effect: TaintEffect = "NoSchedule"

    def __str__(self) -> str:
        value = f"={self.value}" if self.value else ""
        return f"{self.key}{value}:{self.effect}"


@dataclass(frozen=True, slots=True)
class NodeShape:
    """A node, or the template of the nodes a group or an instance type would add: what
    its pods may request in all (its allocatable less its DaemonSets' pods), its labels
    and taints.

    Attributes:
        name: the node's (or template's) name.
        vcpu: vCPU its pods may request.
        memory_bytes: memory its pods may request.
        labels: its labels.
        taints: its taints.
    """

    name: str
    vcpu: float
    memory_bytes: int
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    taints: tuple[Taint, ...] = ()


__all__ = ["NodeShape", "Pod", "Taint", "TaintEffect"]
