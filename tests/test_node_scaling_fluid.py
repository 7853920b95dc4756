"""The fluid traffic mode with every node scaler: the HPA's pods wait for nodes as in the
request mode, and spot capacity (which needs requests to fail) is refused in one line."""

from __future__ import annotations

from functools import cache

import pytest

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.core.errors import ConfigError
from sim.scenario import run_scenario

# A 20-minute crowd from 5 minutes, two 4-vCPU jobs from 10 to 25 minutes.
COMMON = [
    "+experiment=node_autoscaling",
    "horizon=40min",
    "workload.traffic.arrivals.start=5min",
    "workload.traffic.arrivals.duration=20min",
    "workload.deployments=[{app: cache, replicas: 6, platform: container},"
    " {app: etl, replicas: 2, platform: container, at: 10min, lifetime: 15min}]",
]
SCALERS = {
    "simple": (
        "cluster/scaler=simple",
        "cluster.scaler.enabled=true",
        "cluster.scaler.instance_type=m5.xlarge",
        "cluster.scaler.node_metrics=true",
    ),
    "cluster-autoscaler": ("cluster/scaler=cluster-autoscaler",),
    "karpenter": ("cluster/scaler=karpenter",),
}


@cache
def summary(scaler: str, mode: str) -> dict[str, object]:
    overrides = [*COMMON, *SCALERS[scaler], f"workload.traffic.mode={mode}"]
    return dict(run_scenario(scenario_params(to_plain(sim.load_config(overrides)))).summary)


@pytest.mark.parametrize("scaler", list(SCALERS))
def test_every_node_scaler_runs_in_the_fluid_mode_as_in_the_request_mode(scaler: str) -> None:
    """Nodes are added for the pending pods in both modes, as many times give or take
    one; requests are conserved, and the fluid serves within 2 % of the request mode."""
    fluid, requests = summary(scaler, "fluid"), summary(scaler, "requests")
    assert fluid["requests_total"] == (
        fluid["requests_served"] + fluid["requests_in_flight"] + fluid["requests_dropped"]
    )
    assert int(str(fluid["node_scale_ups"])) >= 3
    assert abs(int(str(fluid["node_scale_ups"])) - int(str(requests["node_scale_ups"]))) <= 1
    served_fluid = float(str(fluid["requests_served"]))
    served_requests = float(str(requests["requests_served"]))
    assert served_fluid == pytest.approx(served_requests, rel=0.02)
    assert float(str(fluid["node_hours"])) > 0.0


@pytest.mark.parametrize(
    "spot",
    [
        (
            "cluster/scaler=karpenter",
            "cluster.scaler.node_pools.default.capacity_types=[on-demand,spot]",
        ),
        ("cluster/scaler=cluster-autoscaler", "+cluster.scaler.node_groups.general.spot={}"),
    ],
)
def test_spot_nodes_need_the_request_mode(spot: tuple[str, ...]) -> None:
    config = to_plain(sim.load_config([*COMMON, *spot, "workload.traffic.mode=fluid"]))
    with pytest.raises(ConfigError) as raised:
        scenario_params(config)
    assert raised.value.key == "workload.traffic.mode"
    assert "spot capacity" in raised.value.allowed
