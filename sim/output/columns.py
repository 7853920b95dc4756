"""What each column of a run's time series holds: its unit, and whether it is a gauge,
a counter or a period value.

A row of ``timeseries.csv`` (`Result.timeseries`) is written at the end of each sample
period, and its columns mix three kinds of value, which a reader must not confuse:

* ``gauge``: the state at the sample's instant (hosts running, replicas in service);
* ``counter``: a running total since the run began, which never decreases (bytes a
  registry has sent, hosts failed so far): a period's amount is the difference of two
  rows;
* ``period``: a statistic of the sample period the row closes (requests that arrived
  in it, their mean latency); the first row, at time 0, closes no period and holds
  zeros.

``time_s`` is the sample's time. `TIMESERIES_COLUMNS` lists every column a run may write
but those a node scaler adds (`NODE_COLUMNS`); `column_doc` also answers for the
per-registry columns (``registry_bytes_served:<name>``) and the nodes of each instance
type and capacity type (``nodes:<type>:<capacity>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sim.core.records import NODES_COLUMN, REGISTRY_BYTES_COLUMN

ColumnKind = Literal["time", "gauge", "counter", "period"]


@dataclass(frozen=True, slots=True)
class ColumnDoc:
    """One time-series column: its unit ("" for a count), kind and meaning."""

    unit: str
    kind: ColumnKind
    meaning: str


TIMESERIES_COLUMNS: dict[str, ColumnDoc] = {
    "time_s": ColumnDoc("s", "time", "simulated time of the sample (the end of its period)"),
    "replicas_ready": ColumnDoc(
        "", "counter", "start-ups that ended ready so far (a replica stopped later still counts)"
    ),
    "replicas_failed": ColumnDoc("", "counter", "start-ups that failed so far"),
    "replicas_starting": ColumnDoc("", "gauge", "replicas asked for and still starting"),
    "desired": ColumnDoc("", "gauge", "the served app's desired replicas (0 without a service)"),
    "in_service": ColumnDoc("", "gauge", "the served app's replicas taking requests"),
    "draining": ColumnDoc("", "gauge", "the served app's replicas draining before they stop"),
    "hosts": ColumnDoc("", "gauge", "instances running"),
    "flows_active": ColumnDoc("", "gauge", "transfers crossing the network"),
    "disk_bytes_used": ColumnDoc("B", "gauge", "disk used, over every host"),
    "registry_bytes_served": ColumnDoc(
        "B", "counter", "bytes every registry and mirror has sent (hosts and mirrors)"
    ),
    "requests": ColumnDoc("", "period", "requests that arrived in the period"),
    "completed": ColumnDoc("", "period", "requests that finished in the period"),
    "dropped": ColumnDoc("", "period", "requests turned away in the period"),
    "latency_s_avg": ColumnDoc("s", "period", "mean latency of the period's finished requests"),
    "cpu_percent_avg": ColumnDoc(
        "%", "period", "CPUUtilization Average of the serving replicas over the period"
    ),
    "network_out_bytes": ColumnDoc("B", "period", "response bytes sent in the period"),
    "wait_s_mean": ColumnDoc(
        "s", "period", "mean wait for a worker of the requests that started in the period"
    ),
    "wait_s_p50": ColumnDoc("s", "period", "its median (0 when none started)"),
    "wait_s_p95": ColumnDoc("s", "period", "its 95th percentile (0 when none started)"),
    "wait_s_p99": ColumnDoc("s", "period", "its 99th percentile (0 when none started)"),
    "hosts_down": ColumnDoc("", "gauge", "hosts down after a fault (with faults or spot)"),
    "hosts_failed": ColumnDoc("", "counter", "host crashes so far (with faults or spot)"),
    "replicas_lost": ColumnDoc("", "counter", "replicas lost with their host so far"),
    "replicas_replaced": ColumnDoc("", "counter", "replacements in service so far"),
    "spot_interruptions": ColumnDoc("", "counter", "spot instances reclaimed so far"),
    "requests_failed": ColumnDoc("", "counter", "requests cut by a lost replica so far"),
    "slo_violated": ColumnDoc("", "period", "1 if the period broke the SLO, else 0 (with an slo)"),
}
"""Every column a time series may have (a run writes those its scenario has), in the
order a row holds them; the per-registry columns follow ``registry_bytes_served``."""


NODE_COLUMNS: dict[str, ColumnDoc] = {
    "pods_pending": ColumnDoc("", "gauge", "replicas pending (fitting no node)"),
    "node_scale_ups": ColumnDoc("", "counter", "the node scaler's decisions to add nodes so far"),
    "nodes_removed": ColumnDoc("", "counter", "nodes the node scaler removed so far"),
    "node_disruptions": ColumnDoc("", "counter", "drains of nodes running pods so far"),
}
"""The columns a node scaler that reports them adds (``cluster-autoscaler``,
``karpenter``, ``simple`` with ``node_metrics``), the ``nodes:<type>:<capacity>``
columns after ``pods_pending``."""

FRAGMENTATION_COLUMNS: dict[str, ColumnDoc] = {
    "cpu_allocatable": ColumnDoc("vCPU", "gauge", "vCPU the nodes' pods may request in all"),
    "cpu_free": ColumnDoc("vCPU", "gauge", "of it, vCPU no pod requests"),
    "cpu_stranded": ColumnDoc(
        "vCPU", "gauge", "of that, vCPU on nodes where the stranded probe's pod fits no more"
    ),
    "nodes_underused": ColumnDoc(
        "", "gauge", "nodes whose pods request under half their allocatable CPU and memory"
    ),
}
"""The fragmentation columns ``cluster.stranded_probe`` adds
(`sim.model.cluster.fragmentation`)."""


def column_doc(name: str) -> ColumnDoc:
    """The unit, kind and meaning of a time-series column.

    Raises:
        KeyError: no run writes such a column.
    """
    if name.startswith(REGISTRY_BYTES_COLUMN):
        registry = name.removeprefix(REGISTRY_BYTES_COLUMN)
        return ColumnDoc("B", "counter", f"bytes registry {registry} has sent")
    if name.startswith(NODES_COLUMN):
        kind = name.removeprefix(NODES_COLUMN).replace(":", " ", 1)
        return ColumnDoc("", "gauge", f"nodes running of instance and capacity type {kind}")
    if name in NODE_COLUMNS:
        return NODE_COLUMNS[name]
    if name in FRAGMENTATION_COLUMNS:
        return FRAGMENTATION_COLUMNS[name]
    return TIMESERIES_COLUMNS[name]
