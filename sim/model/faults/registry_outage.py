"""``registry-outage``: a registry answers every request with HTTP 503 for a while.

Manifest and blob requests fail as retryable errors: the daemon retries each request
(``download_attempts``, waiting longer each time), then the pull fails and the kubelet
retries it with ``ImagePullBackOff`` (10 s doubling to 5 min). A pull-through mirror in
front of a registry that is down still serves what it holds; its misses fail like the
origin's requests. A mirror that is down fails everything, held or not."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.settings import Kind
from sim.model.faults import FaultParams, FaultWorld, Process, fault_name


@dataclass(frozen=True, kw_only=True)
class RegistryOutageParams(FaultParams):
    @property
    def target_classes(self) -> tuple[str, ...]:
        return ("registry",)


def _outage(params: RegistryOutageParams, world: FaultWorld) -> Process:
    env = world.env
    name = fault_name(params, "registry-outage")
    rng = world.stream(f"registry-outage/{params.target}")
    while True:
        if params.at_s is not None:
            yield env.timeout(max(params.at_s - env.now, 0.0))
        else:
            assert params.mtbf is not None
            yield env.timeout(params.mtbf.sample(rng))
        world.registry_down(params.target, name, True)
        if params.at_s is not None:
            if params.duration_s is None:
                return
            yield env.timeout(params.duration_s)
        else:
            if params.mttr is None:
                return
            yield env.timeout(params.mttr.sample(rng))
        world.registry_down(params.target, name, False)
        if params.at_s is not None:
            return


def build(params: RegistryOutageParams, world: FaultWorld) -> list[Process]:
    return [_outage(params, world)]


KIND = Kind("registry-outage", RegistryOutageParams, build, "a registry answers 503 for a while")
