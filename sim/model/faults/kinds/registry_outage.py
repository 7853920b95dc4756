"""``registry-outage``: a registry answers every request with HTTP 503 for a while.

Manifest and blob requests fail as retryable errors: the daemon retries each request
(``download_attempts``, waiting longer each time), then the pull fails and the kubelet
retries it with ``ImagePullBackOff`` (10 s doubling to 5 min). A pull-through mirror in
front of a registry that is down still serves what it holds; its misses fail like the
origin's requests. A mirror that is down fails everything, held or not."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind
from sim.model.faults.kinds import FaultParams, FaultWorld, Process, fault_name, fault_windows


@dataclass(frozen=True, kw_only=True)
class RegistryOutageParams(FaultParams):
    @property
    def target_classes(self) -> tuple[str, ...]:
        return ("registry",)


def _outage(params: RegistryOutageParams, world: FaultWorld) -> Process:
    name = fault_name(params, "registry-outage")

    def begin() -> bool:
        world.registry_down(params.target, name, True)
        return True

    return fault_windows(
        params,
        world.env,
        world.stream(f"registry-outage/{params.target}"),
        begin,
        lambda _: world.registry_down(params.target, name, False),
    )


def build(params: RegistryOutageParams, world: FaultWorld) -> list[Process]:
    return [_outage(params, world)]


KIND = Kind("registry-outage", RegistryOutageParams, build, "a registry answers 503 for a while")
