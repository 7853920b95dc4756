"""The settings every kind of node takes in a config — a pool's hosts, a node group's or
a NodePool's nodes, the simple scaler's hosts: its labels, its taints and the kubelet's
``maxPods``. Declared once here, so each reads and validates the same everywhere."""

from __future__ import annotations

from typing import Any

from sim.core.settings import setting
from sim.model.hosts.host import DEFAULT_MAX_PODS


def labels_setting() -> Any:
    """``labels``: the nodes' labels, which node selectors and affinity match."""
    return setting(
        default_factory=dict, doc="its nodes' labels (node selectors and affinity match them)"
    )


def taints_setting() -> Any:
    """``taints``: the nodes' taints, as `sim.model.hosts.taints.TaintSpec` mappings."""
    return setting((), doc="its nodes' taints ({key, value, effect})")


def max_pods_setting() -> Any:
    """``max_pods``: the kubelet's maxPods, a count or ``eks`` (from the instance type's
    network interfaces, as the EKS AMI sets it)."""
    return setting(
        DEFAULT_MAX_PODS,
        minimum=1,
        choices=("eks",),
        doc="the kubelet's maxPods; eks: ENIs x (IPv4 per ENI - 1) + 2 of the instance type",
        expected="a whole number of pods, or eks (from the instance type's network interfaces)",
    )
