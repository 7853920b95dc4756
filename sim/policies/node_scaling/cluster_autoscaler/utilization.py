"""A node's utilisation as the Cluster Autoscaler computes it for scale-down.

Per resource, the sum of the requests of the pods on the node over the node's
allocatable; the node's utilisation is the larger of CPU and memory
(``simulator/utilization/info.go``). DaemonSet pods count by default; with
``ignore_daemonsets_utilization`` their requests are left out of the sum *and*
subtracted from the allocatable. Here "DaemonSet pods" are the cluster's DaemonSets
(kept on every node) and replicas pinned to their node.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.policies.node_scaling import Pod


@dataclass(frozen=True, slots=True)
class Utilization:
    """A node's CPU and memory utilisation (requests over allocatable)."""

    cpu: float
    memory: float

    @property
    def value(self) -> float:
        """The larger of the two: the node's utilisation."""
        return self.cpu if self.cpu > self.memory else self.memory

    @property
    def resource(self) -> str:
        """Which resource sets it: ``cpu`` when CPU is strictly higher, else ``memory``."""
        return "cpu" if self.cpu > self.memory else "memory"


def utilization(
    allocatable_vcpu: float,
    allocatable_memory_bytes: int,
    pods: Sequence[Pod],
    daemonset_pods: Sequence[Pod] = (),
    ignore_daemonsets: bool = False,
) -> Utilization:
    """The utilisation of a node of this allocatable running these pods.

    Args:
        allocatable_vcpu: the node's allocatable vCPU (capacity less reserves).
        allocatable_memory_bytes: its allocatable memory.
        pods: the pods on it other than DaemonSet pods.
        daemonset_pods: its DaemonSet pods.
        ignore_daemonsets: leave the DaemonSet pods out (of the requests and of the
            allocatable).

    Raises:
        ValueError: an allocatable of zero (upstream refuses such a node).
    """
    if allocatable_vcpu <= 0 or allocatable_memory_bytes <= 0:
        raise ValueError("a node with no allocatable CPU or memory has no utilisation")
    vcpu = sum(pod.vcpu for pod in pods)
    memory = sum(pod.memory_bytes for pod in pods)
    daemon_vcpu = sum(pod.vcpu for pod in daemonset_pods)
    daemon_memory = sum(pod.memory_bytes for pod in daemonset_pods)
    if ignore_daemonsets:
        return Utilization(
            vcpu / (allocatable_vcpu - daemon_vcpu),
            memory / (allocatable_memory_bytes - daemon_memory),
        )
    return Utilization(
        (vcpu + daemon_vcpu) / allocatable_vcpu,
        (memory + daemon_memory) / allocatable_memory_bytes,
    )
