"""The summary's fault part of a run without faults or spot capacity, apart from
`sim.model.faults.resilience`, so that such a run does not import what injects faults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def no_faults_report() -> Mapping[str, Any]:
    """The summary's fault part of a run without faults or spot capacity."""
    return {
        "hosts_failed": 0,
        "replicas_lost": 0,
        "replicas_replaced": 0,
        "time_to_recover_s": None,
        "time_to_recover_after_fault_s": None,
        "spot_interruptions": 0,
    }
