"""The instance types a NodePool may launch, and which one a launch takes.

An instance type's family and size are its name's two parts (``m5.xlarge``: family
``m5``, size ``xlarge``), as ``karpenter.k8s.aws/instance-family`` and
``karpenter.k8s.aws/instance-size`` label it. A NodePool's requirements allow an
instance type when each requirement that lists values lists its value; an *offering* is
an allowed type in an allowed capacity type, priced on demand or at the spot price.

Which offering a launch takes (aws/karpenter-provider-aws ``pkg/providers/instance``):
spot before on-demand when both are allowed and a spot offering is there
(``getCapacityType``), spot offerings dearer than the cheapest on-demand one dropped
first (``spotOfferingFilter``); then the cheapest of that capacity type (EC2 Fleet's
``lowest-price``; for spot, ``price-capacity-optimized`` here is the cheapest, as every
spot pool is taken as equally deep).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sim.policies.node_scaling import NodeShape

ON_DEMAND = "on-demand"
SPOT = "spot"
CAPACITY_TYPES = (ON_DEMAND, SPOT)


@dataclass(frozen=True, slots=True)
class InstanceTypeInfo:
    """What the pricing catalogue says of an instance type."""

    name: str
    vcpu: float
    memory_bytes: int
    usd_per_hour: float
    architecture: str = "amd64"

    @property
    def family(self) -> str:
        """``m5`` of ``m5.xlarge``."""
        return self.name.split(".", 1)[0]

    @property
    def size(self) -> str:
        """``xlarge`` of ``m5.xlarge``."""
        return self.name.split(".", 1)[1] if "." in self.name else ""


@dataclass(frozen=True, slots=True)
class Requirements:
    """A NodePool's requirements (``In`` lists; an empty list allows any value)."""

    families: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    instance_types: tuple[str, ...] = ()
    architectures: tuple[str, ...] = ()
    capacity_types: tuple[str, ...] = (ON_DEMAND,)

    def allows(self, instance_type: InstanceTypeInfo) -> bool:
        """Whether `instance_type` meets every requirement that lists values."""
        return all(
            not allowed or value in allowed
            for allowed, value in (
                (self.families, instance_type.family),
                (self.sizes, instance_type.size),
                (self.instance_types, instance_type.name),
                (self.architectures, instance_type.architecture),
            )
        )


@dataclass(frozen=True, slots=True)
class Offering:
    """An instance type in one capacity type: its price and the node it would make.

    Attributes:
        instance_type: the instance type.
        capacity_type: ``on-demand`` or ``spot``.
        usd_per_hour: its price (spot: the on-demand price times the spot fraction).
        shape: what the node's pods may request (allocatable less DaemonSets), its
            labels, taints and ``maxPods``.
    """

    instance_type: InstanceTypeInfo
    capacity_type: str
    usd_per_hour: float
    shape: NodeShape

    @property
    def name(self) -> str:
        return self.instance_type.name

    def __str__(self) -> str:
        return f"{self.instance_type.name} ({self.capacity_type})"


def by_price(offerings: Iterable[Offering]) -> list[Offering]:
    """Cheapest first; ties by instance type, then on-demand before spot."""
    return sorted(
        offerings,
        key=lambda o: (o.usd_per_hour, o.name, CAPACITY_TYPES.index(o.capacity_type)),
    )


def launch_choice(offerings: Sequence[Offering]) -> Offering | None:
    """The offering a launch takes among `offerings` (None if there are none): spot
    before on-demand, spot offerings dearer than the cheapest on-demand one left out, the
    cheapest of the capacity type chosen."""
    if not offerings:
        return None
    on_demand = [o for o in offerings if o.capacity_type == ON_DEMAND]
    spot = [o for o in offerings if o.capacity_type == SPOT]
    if on_demand and spot:
        cheapest_on_demand = min(o.usd_per_hour for o in on_demand)
        spot = [o for o in spot if o.usd_per_hour <= cheapest_on_demand]
    chosen = spot or on_demand
    return by_price(chosen)[0]
