"""The public policy API: `sim.policies.build` makes a policy from a mapping written as a
config writes it, and a policy is scored on a hand-made observation."""

from __future__ import annotations

import pytest

import sim.policies
from sim.core.errors import ConfigError
from sim.policies import Decision, Instance, Observation, build
from sim.policies.autoscaling.hpa import Hpa
from sim.policies.balancing.least_outstanding import LeastOutstanding
from sim.policies.placement.binpack import BinPack


def ready(count: int, cpu_usage_vcpu: float | None = None) -> tuple[Instance, ...]:
    return tuple(
        Instance(0.0, 60.0, cpu_request_vcpu=1.0, cpu_usage_vcpu=cpu_usage_vcpu)
        for _ in range(count)
    )


def test_target_tracking_scores_a_hand_made_observation() -> None:
    policy = build(
        "autoscaler",
        {
            "policy": "target_tracking",
            "metric": "CPUUtilization",
            "target_value": 50,
            "max_capacity": 10,
        },
    )
    decision = policy.decide(
        Observation(now_s=600.0, desired=2, instances=ready(2), datapoints=(80.0, 80.0, 80.0))
    )
    assert decision.desired == 4  # 2 × 80 / 50 = 3.2, rounded up


def test_config_names_and_human_units() -> None:
    """`interval: 15s` as a config writes it, not the Python name `interval_s=15.0`."""
    policy = build(
        "autoscaler",
        {
            "policy": "hpa",
            "target_utilization": 60,
            "interval": "15s",
            "downscale_stabilization": "2min",
            "max_capacity": 8,
        },
    )
    assert isinstance(policy, Hpa)
    assert policy.interval_s == 15.0
    assert policy.params.downscale_stabilization_s == 120.0


def test_the_hpa_rule_on_a_hand_made_observation() -> None:
    """Kubernetes' rule: ceil(3 × 0.9 / 0.6) = 5 pods at 90 % of a 60 % target."""
    policy = build("autoscaler", {"policy": "hpa", "target_utilization": 60, "max_capacity": 10})
    decision = policy.decide(
        Observation(now_s=600.0, desired=3, instances=ready(3, 0.9), datapoints=())
    )
    assert decision == Decision(5, decision.reason) and decision.reason


def test_every_family_builds_its_kinds() -> None:
    assert isinstance(build("placement", {"kind": "binpack"}), BinPack)
    assert isinstance(build("balancer", {"kind": "least_outstanding"}), LeastOutstanding)
    for name in sim.policies.FAMILIES:
        family = sim.policies.family(name)
        for kind in family.names():
            assert family[kind].name == kind


@pytest.mark.parametrize(
    ("family", "mapping", "message"),
    [
        ("scheduler", {}, "family: scheduler: one of autoscaler, placement, balancer"),
        ("autoscaler", {"policy": "nosuch"}, "autoscaler.policy: nosuch: one of "),
        (
            "autoscaler",
            {"policy": "hpa", "target_utilization": 60, "intervall": "15s"},
            "autoscaler.intervall",
        ),
        (
            "autoscaler",
            {
                "policy": "hpa",
                "target_utilization": 60,
                "max_capacity": 4,
                "interval": "15 parsecs",
            },
            "autoscaler.interval: 15 parsecs",
        ),
        ("placement", {"kind": "spread", "weight": 2}, "placement.weight"),
    ],
)
def test_bad_input_is_one_config_error(
    family: str, mapping: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        build(family, mapping)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_exported_names_are_the_protocol_s() -> None:
    from sim.policies.autoscaling import protocol

    for name in ("Decision", "Instance", "Observation", "ScalingPolicy", "Series"):
        assert getattr(sim.policies, name) is getattr(protocol, name)
        assert name in sim.policies.__all__
    with pytest.raises(AttributeError):
        sim.policies.Nothing  # noqa: B018
