"""``link-failure``: a network link fails (target ``<a>--<b>``, e.g. ``switch--node-1``,
a link of the topology). Flows crossing it are cut: their blob requests fail with a
retryable error and the daemon retries them. Routes are recomputed around the link, so
a retry succeeds if another path exists (racks under a spine have one only between
switches that are linked twice; a star has none); a host cut off from every registry
sees ``network is unreachable`` until the link is back."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind
from sim.model.faults.kinds import FaultParams, FaultWorld, Process, fault_name, fault_windows


@dataclass(frozen=True, kw_only=True)
class LinkFailureParams(FaultParams):
    @property
    def target_classes(self) -> tuple[str, ...]:
        return ("link",)

    @property
    def ends(self) -> tuple[str, str]:
        """The link's two ends."""
        u, v = self.target.split("--", 1)
        return u, v


def _failure(params: LinkFailureParams, world: FaultWorld) -> Process:
    name = fault_name(params, "link-failure")
    return fault_windows(
        params,
        world.env,
        world.stream(f"link-failure/{params.target}"),
        # Already down (an overlapping fault): that one brings it back.
        lambda: True if world.link_down(params.ends, name, True) else None,
        lambda _: world.link_down(params.ends, name, False),
    )


def build(params: LinkFailureParams, world: FaultWorld) -> list[Process]:
    return [_failure(params, world)]


KIND = Kind("link-failure", LinkFailureParams, build, "a network link fails for a while")
