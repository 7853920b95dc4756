"""The simulated host under sim-docker's daemon, and the clock its operations advance.

The node is the first host of a cluster built from the scenario's parameters (its
registries, network, disk and image catalog), with the container runtime every run's
platforms use. Each daemon operation runs the simulation until it is done (`simulate`),
so simulated time advances by what it costs; what is left running goes on in the
background until the next operation or a ``sleep`` (`advance`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from sim.config import ScenarioParams
from sim.core.records import EventLog
from sim.core.streams import RandomStreams
from sim.model.hosts.runtime import ContainerRuntime, ContainerSettings
from sim.scenario import build_cluster


class Node:
    """The cluster's first host, its container engine and runtime, and the clock.

    Args:
        params: a validated scenario; its first host, registries, network, image catalog
            and first container platform's runtime settings are used.
    """

    def __init__(self, params: ScenarioParams) -> None:
        self.seed = params.seed
        self.env = simpy.Environment()
        self.log = EventLog()
        self.streams = RandomStreams(params.seed)
        self.cluster = build_cluster(self.env, params, self.log, self.streams)
        self.host = self.cluster.hosts[0]
        self.engine = self.host.engine
        settings = next(
            platform
            for platform in params.platforms.values()
            if isinstance(platform, ContainerSettings)
        )
        self.rng = self.streams.generator("docker/runtime")
        self.runtime = ContainerRuntime(
            self.env,
            settings,
            self.cluster.source_for,
            self.rng,
            self.init_rng,
            self.log,
            [],
        )
        self._ids = 0

    def init_rng(self, app: str) -> np.random.Generator:
        """The stream an app's initialisation draws from (as in a run)."""
        return self.streams.generator(f"app/{app}/init")

    @property
    def now(self) -> float:
        return float(self.env.now)

    def new_id(self, kind: str) -> str:
        """A fresh 64-hex-digit ID, reproducible for the seed."""
        self._ids += 1
        return hashlib.sha256(f"{kind}|{self.seed}|{self._ids}".encode()).hexdigest()

    def advance(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass (what runs in the background goes on);
        none passes for 0."""
        if seconds > 0:
            self.env.run(until=self.env.now + seconds)

    def simulate(self, body: Generator[simpy.Event, Any, Any]) -> Any:
        """Run the simulation until `body` ends; return its value (or raise its error)."""
        return self.env.run(until=self.env.process(body))

    def wait(self, seconds: float) -> None:
        """Run the simulation for an operation that takes `seconds`."""
        self.simulate(self._timed(seconds))

    def join(self, process: simpy.Process) -> bool:
        """Run the simulation until `process` ends (as `simulate` would, event by event);
        False, with the clock where nothing is left to happen, if it never can (a server
        waits for a request or a stop that no event will bring)."""
        waiter = self.env.process(self._join(process))
        while not waiter.processed:
            if self.env.peek() == math.inf:
                return False
            self.env.step()
        return True

    def _timed(self, seconds: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(seconds)

    def _join(self, process: simpy.Process) -> Generator[simpy.Event, Any, None]:
        yield process
