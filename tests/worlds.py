"""Small hand-built worlds for model tests: one registry, a few hosts, a star network."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np
import simpy

from sim.core.records import EventLog
from sim.model.hosts.cohort import PullCohorts
from sim.model.hosts.engine import ContainerEngine, EngineParams
from sim.model.images.image import BuildStep, Image, ImageSpec, build_catalog
from sim.model.images.registries import RegistryParams
from sim.model.images.registries.public import PublicParams
from sim.model.images.registry import Registry
from sim.model.images.store import DiskAccount
from sim.model.network.network import Network
from sim.model.primitives.clock import Environment

MB = 1_000_000


def layered_image(
    name: str, layers: Sequence[tuple[int, int]], parent: str | None = None, registry: str = "hub"
) -> ImageSpec:
    """An image spec with one RUN layer per (size, compressed) pair."""
    steps = [BuildStep("FROM", parent)] if parent else []
    steps += [
        BuildStep("RUN", f"{name} step {i}", size, compressed)
        for i, (size, compressed) in enumerate(layers)
    ]
    return ImageSpec(name, f"library/{name}", "1", registry, tuple(steps))


@dataclass
class PullWorld:
    env: simpy.Environment
    log: EventLog
    network: Network
    registries: dict[str, Registry]
    engines: dict[str, ContainerEngine]
    images: dict[str, Image]
    results: list = field(default_factory=list)

    def pull(self, host: str, image: str, registry: str = "hub", at: float = 0.0) -> None:
        def process():
            if at:
                yield self.env.timeout(at)
            record = yield from self.engines[host].pull(
                self.images[image], self.registries[registry]
            )
            self.results.append(record)

        self.env.process(process())

    def times(self, kind: str, host: str | None = None) -> list[float]:
        return [e.time_s for e in self.log if e.kind == kind and (host is None or e.source == host)]


def pull_world(
    specs: Sequence[ImageSpec],
    hosts: Sequence[str] = ("host-1",),
    registry_bandwidth: float = 100 * MB,
    host_bandwidth: float = 1000 * MB,
    extraction_bytes_s: float = math.inf,
    disk_bytes: int = 10**12,
    engine: EngineParams | None = None,
    registry: RegistryParams | None = None,
    mirror: RegistryParams | None = None,
    principal: str = "node",
    latency_s: float = 0.0,
    together: bool = False,
) -> PullWorld:
    """A star: the hub (and the mirror) and the hosts on one switch; every link has
    `latency_s` one way. `together`: as a run does it — on the run's own environment,
    where waits that end together share an event and blobs that reach the registry
    together travel together (`sim.model.primitives.clock`), hosts pulling in step as a
    cohort (`sim.model.hosts.cohort`); else on SimPy's, every wait its own event, every
    blob its own flow, every pull on its own."""
    env = Environment() if together else simpy.Environment()
    log = EventLog()
    graph = nx.Graph()
    graph.add_edge("hub", "switch", bandwidth_bytes_s=registry_bandwidth, latency_s=latency_s)
    for host in hosts:
        graph.add_edge(host, "switch", bandwidth_bytes_s=host_bandwidth, latency_s=latency_s)
    if mirror is not None:
        graph.add_edge(
            mirror.name, "switch", bandwidth_bytes_s=mirror.bandwidth_bytes_s, latency_s=0.0
        )
    network = Network(env, graph)
    images = build_catalog({spec.name: spec for spec in specs})
    registry = registry or PublicParams(
        name="hub", bandwidth_bytes_s=registry_bandwidth, request_time_s=0.0
    )
    registries = {
        "hub": Registry(
            env,
            registry,
            network,
            log,
            np.random.default_rng(1),
            {image.reference: image for image in images.values()},
        )
    }
    if mirror is not None:
        registries[mirror.name] = Registry(
            env, mirror, network, log, np.random.default_rng(2), {}, upstream=registries["hub"]
        )
    engine = engine or EngineParams(
        extraction_bytes_s=extraction_bytes_s, serialize_image_pulls=False
    )
    if engine.extraction_bytes_s != extraction_bytes_s and not math.isinf(extraction_bytes_s):
        engine = replace(engine, extraction_bytes_s=extraction_bytes_s)
    cohorts = PullCohorts() if together else None
    engines = {
        host: ContainerEngine(env, host, principal, DiskAccount(disk_bytes), engine, log, cohorts)
        for host in hosts
    }
    return PullWorld(env, log, network, registries, engines, images)
