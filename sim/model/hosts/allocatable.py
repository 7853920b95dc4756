"""A node's allocatable resources: its capacity less what its pods can never use.

Kubernetes schedules pods against a node's *allocatable*, not its capacity:

    allocatable = capacity - kube-reserved - system-reserved - eviction threshold

(https://kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources/). Every
DaemonSet also runs one pod on every node, so its requests are taken on every node
before any other pod is placed. Here the three reserves are one `Reserved` per pool
(their sum, or EKS's formula with ``eks_max_pods``), and `DaemonSet` entries are
cluster-wide; `overhead` adds them up. The
node is still billed whole: only what the scheduler can place changes.

EKS's AMI sets the reserves from the instance size (``eks_reserved_vcpu``,
``eks_reserved_memory_bytes``): CPU 6 % of the first core, 1 % of the second, 0.5 % of
the third and fourth and 0.25 % of each core above; memory 255 MiB plus 11 MiB per pod
the node may run (the bootstrap script of awslabs/amazon-eks-ami). An m5.large (2 vCPU,
29 pods) keeps 70 m CPU and 574 MiB.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.core.errors import ConfigError
from sim.core.settings import setting

MIB = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Reserved:
    """What a node keeps from its pods: kube-reserved + system-reserved + eviction
    threshold, summed (vCPU and bytes)."""

    vcpu: float = setting(0.0, unit="cpu", minimum=0, doc="vCPU kept (0.07 or 70m)")
    memory_bytes: int = setting(0, unit="size", minimum=0, doc="memory kept (574MiB)")
    eks_max_pods: int | None = setting(
        None,
        minimum=1,
        doc="instead of vcpu and memory: the EKS AMI's reserves for this many pods (m5.large: 29)",
    )

    def __post_init__(self) -> None:
        if self.eks_max_pods is not None and (self.vcpu or self.memory_bytes):
            raise ConfigError(
                "eks_max_pods", self.eks_max_pods, "without vcpu and memory (it sets both)"
            )

    def on(self, vcpu: float) -> Reserved:
        """The reserves of a host of `vcpu` cores (EKS's formula, when asked for)."""
        if self.eks_max_pods is None:
            return self
        return Reserved(
            vcpu=eks_reserved_vcpu(vcpu),
            memory_bytes=eks_reserved_memory_bytes(self.eks_max_pods),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonSet:
    """A DaemonSet: one pod on every node, its requests taken on each (vCPU and bytes)."""

    name: str = setting(doc="its name (logs, kube-proxy, a CNI agent)")
    vcpu: float = setting(0.0, unit="cpu", minimum=0, doc="vCPU its pod requests (100m)")
    memory_bytes: int = setting(0, unit="size", minimum=0, doc="memory its pod requests")


def overhead(reserved: Reserved, daemonsets: Sequence[DaemonSet]) -> tuple[float, int]:
    """The vCPU and bytes a node's pods can never have: its reserves plus one pod of
    every DaemonSet."""
    vcpu = reserved.vcpu + sum(daemonset.vcpu for daemonset in daemonsets)
    memory = reserved.memory_bytes + sum(daemonset.memory_bytes for daemonset in daemonsets)
    return vcpu, memory


def eks_reserved_vcpu(vcpu: float) -> float:
    """The EKS AMI's reserved CPU for a node of `vcpu` cores: 6 % of the first core, 1 %
    of the second, 0.5 % of the third and fourth, 0.25 % of every core above, in whole
    millicores."""
    cores = int(vcpu)
    millicores = 0.0
    for core in range(1, cores + 1):
        millicores += 60 if core == 1 else 10 if core == 2 else 5 if core <= 4 else 2.5
    return int(millicores) / 1000


def eks_reserved_memory_bytes(max_pods: int) -> int:
    """The EKS AMI's reserved memory for a node that may run `max_pods` pods:
    255 MiB + 11 MiB per pod."""
    return (255 + 11 * max_pods) * MIB
