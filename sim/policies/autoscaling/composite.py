"""Several EC2 scaling policies on one group, combined as AWS combines them.

When several policies want to act at once, AWS gives the group the largest capacity
any of them asks for; target tracking policies, which always have an opinion, add a
veto: the group scales out if any policy says so, but in only if every target
tracking policy (with scale-in enabled) says so too. Simple and step policies whose
alarm is not in ALARM abstain.

Every member is asked on every evaluation (the composite evaluates as often as its most
frequent member), and every member then notes the group's decision, whichever member
made it: cooldowns and activities belong to the group.

Members may watch different series. The composite reads the first member's series
through ``datapoints`` and lists the others in ``extra_series``; the control loop passes
their datapoints in `Observation.series`.

A config lists the members under ``policies``, each ``{name: step, ...its settings}``,
and sets the group's size once, on the composite. The policies a composite may combine
are the kinds of `COMPOSABLE`: the modules of simple, step and target tracking scaling
declare each, besides the policy itself (``KIND``), its form as a member (``MEMBER``),
whose parameters lack the group's size and whose ``build(rules, min_capacity,
max_capacity)`` adds it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from sim.core.errors import ConfigError
from sim.core.settings import Family, Kind, setting
from sim.policies.autoscaling.protocol import (
    Decision,
    Observation,
    ScalingPolicy,
    Series,
    check_capacity_range,
)

COMPOSABLE = Family(
    "composite member",
    "sim.policies.autoscaling",
    selector="name",
    summary="policies one EC2 Auto Scaling group may combine (autoscaler.policies)",
    declared="MEMBER",
)


P = TypeVar("P")

GROUP_SIZE_KEYS: Mapping[str, str] = {
    "min_capacity": "set once, on the composite",
    "max_capacity": "set once, on the composite",
}
"""The keys a member of a composite refuses (its ``REFUSED_KEYS``), and why."""


def in_group(params: Callable[..., P], rules: Any, min_capacity: int, max_capacity: int) -> P:
    """A policy's parameters from its rules and its group's size.

    The members of a composite share one group, whose size the composite sets once:
    each member is written without it, as its rules (a parameter dataclass), and gets
    the size here, as `params` (that dataclass with the size added).
    """
    given = {each.name: getattr(rules, each.name) for each in dataclasses.fields(rules)}
    return params(**given, min_capacity=min_capacity, max_capacity=max_capacity)


class ComposablePolicy(ScalingPolicy, Protocol):
    """A policy a `Composite` can combine: it proposes, then notes the group's decision.

    Attributes:
        min_capacity: the group's minimum; the same for every member.
        max_capacity: the group's maximum; the same for every member.
        vetoes_scale_in: whether the group may scale in only if this policy agrees.
    """

    min_capacity: int
    max_capacity: int
    vetoes_scale_in: bool

    def propose(self, observation: Observation) -> Decision:
        """What the policy would decide, without noting anything."""
        ...

    def record(self, observation: Observation, decision: Decision) -> None:
        """Note the decision the group took, whoever proposed it."""
        ...


class Composite:
    """Several policies on one group: out if any says so, in only if all voters do.

    Args:
        members: the policies, at least one, sharing one capacity range.
        name: the name the policy goes by.

    Raises:
        ValueError: for no members or members with different capacity ranges.
    """

    vetoes_scale_in = False

    def __init__(self, members: Sequence[ComposablePolicy], name: str = "composite") -> None:
        if not members:
            raise ValueError("a composite policy needs at least one member")
        ranges = {(member.min_capacity, member.max_capacity) for member in members}
        if len(ranges) != 1:
            raise ValueError(f"members of one group share one capacity range, not {ranges}")
        self.members = tuple(members)
        self.name = name
        first = self.members[0]
        self.min_capacity = first.min_capacity
        self.max_capacity = first.max_capacity
        self.metric = first.metric
        self.statistic = first.statistic
        self.period_s = first.period_s
        self._primary = Series(first.metric, first.statistic, first.period_s)
        self.datapoints_needed = max(
            member.datapoints_needed
            for member in self.members
            if self._series_of(member) == self._primary
        )
        self.interval_s = min(member.interval_s for member in self.members)
        needed: dict[Series, int] = {}
        for member in self.members:
            series = self._series_of(member)
            if series != self._primary:
                needed[series] = max(needed.get(series, 0), member.datapoints_needed)
        self.extra_series: tuple[tuple[Series, int], ...] = tuple(needed.items())

    @staticmethod
    def _series_of(member: ComposablePolicy) -> Series:
        return Series(member.metric, member.statistic, member.period_s)

    def _member_view(self, observation: Observation, member: ComposablePolicy) -> Observation:
        """The observation with the member's own series as its datapoints."""
        series = self._series_of(member)
        if series == self._primary:
            return observation
        if series not in observation.series:
            raise ValueError(
                f"the observation lacks the datapoints of {series}, listed in extra_series"
            )
        return replace(observation, datapoints=observation.series[series])

    def decide(self, observation: Observation) -> Decision:
        """Ask every member, combine, and let every member note the result."""
        views = [(member, self._member_view(observation, member)) for member in self.members]
        proposals = [(member, member.propose(view)) for member, view in views]
        decision = self._combine(observation.desired, proposals)
        for member, view in views:
            member.record(view, decision)
        return decision

    @staticmethod
    def _combine(current: int, proposals: Sequence[tuple[ComposablePolicy, Decision]]) -> Decision:
        """The largest capacity asked for; a scale-in only without a voter's veto."""
        outward = [decision for _, decision in proposals if decision.desired > current]
        if outward:
            return max(outward, key=lambda decision: decision.desired)
        inward = [decision for _, decision in proposals if decision.desired < current]
        vetoed = any(
            member.vetoes_scale_in and decision.desired >= current for member, decision in proposals
        )
        if inward and not vetoed:
            return max(inward, key=lambda decision: decision.desired)
        return Decision(current, "")


@dataclass(frozen=True, slots=True)
class CompositeParams:
    """Several policies on one group, and the group's size, which they share.

    Raises:
        ConfigError: for no policy or a bad capacity range; keys are the config names.
    """

    policies: tuple[object, ...] = setting(
        family=COMPOSABLE, doc="the group's policies, each {name: <policy>, ...its settings}"
    )
    max_capacity: int = setting(minimum=0, doc="the group's MaxSize, for every policy")
    min_capacity: int = setting(1, minimum=0, doc="the group's MinSize, for every policy")

    def __post_init__(self) -> None:
        if not self.policies:
            raise ConfigError("policies", "[]", "at least one policy")
        check_capacity_range(self.min_capacity, self.max_capacity)


def build(params: CompositeParams) -> Composite:
    """The composite of its members, each given the group's size."""
    return Composite(
        [
            COMPOSABLE.kind_of(rules).build(rules, params.min_capacity, params.max_capacity)
            for rules in params.policies
        ]
    )


KIND = Kind(
    "composite",
    CompositeParams,
    build,
    "several EC2 policies on one group (policies: [...]), combined as AWS combines them",
)
