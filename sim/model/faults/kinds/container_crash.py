"""``container-crash``: an app's containers exit — all of them at ``at``, or each after a
lifetime drawn from ``mtbf`` (counted from when it last entered service). The requests
a container was serving fail with ``container crash``; the kubelet restarts it in place
with CrashLoopBackOff (10 s doubling to 5 min, reset after 10 min running); the restart
takes a draw of ``restart`` (the runtime's start and the app's initialisation), then the
load balancer's health check. Target: an app served by the run's service."""

from __future__ import annotations

from dataclasses import dataclass

from sim.core.distributions import Constant, Distribution
from sim.core.errors import ConfigError
from sim.core.settings import Kind, setting
from sim.model.faults.kinds import FaultParams, FaultWorld, Process, fault_name


@dataclass(frozen=True, kw_only=True)
class ContainerCrashParams(FaultParams):
    restart: Distribution = setting(Constant(1.0), doc="a restart's start and init (s)")

    def __post_init__(self) -> None:
        FaultParams.__post_init__(self)
        if self.duration_s is not None or self.mttr is not None:
            key = "duration" if self.duration_s is not None else "mttr"
            raise ConfigError(
                key, "set", "not for container-crash: CrashLoopBackOff times the restarts"
            )

    @property
    def target_classes(self) -> tuple[str, ...]:
        return ("app",)


def _crash(params: ContainerCrashParams, world: FaultWorld) -> Process:
    name = fault_name(params, "container-crash")
    if params.at_s is not None:
        yield world.env.timeout(max(params.at_s - world.env.now, 0.0))
        world.crash_containers(params.target, name, params.restart)
        return
    assert params.mtbf is not None
    world.watch_containers(params.target, name, params.mtbf, params.restart)


def build(params: ContainerCrashParams, world: FaultWorld) -> list[Process]:
    return [_crash(params, world)]


KIND = Kind("container-crash", ContainerCrashParams, build, "an app's containers exit")
