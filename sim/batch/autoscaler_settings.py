"""The settings a user changes on each autoscaler, as grids to tune them alike.

Each policy's grid covers its target (or its alarm thresholds), its reaction times
(cooldown, warm-up or stabilisation) and its minimum; the maximum stays at `MAX_CAPACITY`
for all. A *quick* grid keeps two values of the target and of the reaction time, for
tests. Targets and thresholds are CPU percentages; a lower one holds more capacity
(direction ``down``); a higher minimum holds more (``up``); a reaction time moves capacity
both ways (shorter: out sooner and in sooner), so it is assumed nothing (``none``) and
each of its values is searched on its own.

The policies are those of ``configs/autoscaler``: ``hpa``, ``target_tracking``,
``simple``, ``step`` (a composite of the AWS guide's two step policies) and ``beanstalk``
on CPUUtilization (its default trigger, NetworkOut, does not follow CPU load).
"""

from __future__ import annotations

from sim.batch.tune import Setting, setting

MAX_CAPACITY = 10
TARGETS = (30, 40, 50, 60, 70, 80)
QUICK_TARGETS = (40, 80)
REACTIONS = ("60s", "300s")
MINIMUMS = (1, 2)

DEFAULTS: dict[str, tuple[str, ...]] = {
    "hpa": ("autoscaler=hpa",),
    "target_tracking": ("autoscaler=target_tracking",),
    "simple": ("autoscaler=simple",),
    "step": ("autoscaler=step",),
    "beanstalk": ("autoscaler=beanstalk",),
}
"""Each policy as ``configs/autoscaler`` sets it: the ``defaults`` row of a study."""

BASE: dict[str, tuple[str, ...]] = {
    "hpa": ("autoscaler=hpa", f"autoscaler.max_capacity={MAX_CAPACITY}"),
    "target_tracking": ("autoscaler=target_tracking", f"autoscaler.max_capacity={MAX_CAPACITY}"),
    "simple": ("autoscaler=simple", f"autoscaler.max_capacity={MAX_CAPACITY}"),
    "step": ("autoscaler=step", f"autoscaler.max_capacity={MAX_CAPACITY}"),
    "beanstalk": (
        "autoscaler=beanstalk",
        "autoscaler.metric=CPUUtilization",
        "autoscaler.unit=Percent",
        f"autoscaler.max_capacity={MAX_CAPACITY}",
    ),
}
"""What every point of a policy's grid shares."""


def _thresholds(name: str, upper: str, lower: str, targets: tuple[int, ...]) -> Setting:
    """Scale out above each target, in below half of it (the simple and Beanstalk pair)."""
    return Setting(
        name,
        tuple(str(t) for t in targets),
        tuple((f"{upper}={t}", f"{lower}={t // 2}") for t in targets),
        "down",
    )


def grid(policy: str, quick: bool = False) -> list[Setting]:
    """The settings to tune `policy` over (see the module docstring)."""
    targets = QUICK_TARGETS if quick else TARGETS
    minimum = [] if quick else [setting("min", "autoscaler.min_capacity", MINIMUMS, "up")]
    if policy == "hpa":
        return [
            setting("target", "autoscaler.target_utilization", targets, "down"),
            setting("stabilisation", "autoscaler.downscale_stabilization", REACTIONS, "none"),
            *minimum,
        ]
    if policy == "target_tracking":
        return [
            setting("target", "autoscaler.target_value", targets, "down"),
            setting(
                "cooldown_warmup",
                (
                    "autoscaler.scale_out_cooldown",
                    "autoscaler.scale_in_cooldown",
                    "autoscaler.estimated_instance_warmup",
                ),
                REACTIONS,
                "none",
            ),
            *minimum,
        ]
    if policy == "simple":
        return [
            _thresholds(
                "threshold",
                "autoscaler.alarms.0.threshold",
                "autoscaler.alarms.1.threshold",
                targets,
            ),
            setting("cooldown", "autoscaler.cooldown", REACTIONS, "none"),
            *minimum,
        ]
    if policy == "step":
        return [
            setting(
                "threshold",
                ("autoscaler.policies.0.alarm.threshold", "autoscaler.policies.1.alarm.threshold"),
                targets,
                "down",
            ),
            setting(
                "warmup", "+autoscaler.policies.0.estimated_instance_warmup", REACTIONS, "none"
            ),
            *minimum,
        ]
    if policy == "beanstalk":
        return [
            _thresholds(
                "threshold", "autoscaler.upper_threshold", "autoscaler.lower_threshold", targets
            ),
            setting("cooldown", "autoscaler.cooldown", REACTIONS, "none"),
            *minimum,
        ]
    raise ValueError(f"no grid for autoscaler {policy!r}; allowed: {', '.join(BASE)}")
