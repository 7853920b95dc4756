"""Narrated demos: small scenarios that show, in Docker's own words, what happens.

``sim-demo <name>`` runs one demo and prints what it teaches, the narration of the host
it watches (``docker pull`` lines and the containers' lifecycle, with simulated
timestamps) and, underneath, what moved and where the time went. ``sim-demo`` alone
lists the demos. The same seed prints the same story every time.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from rich.console import Console

from sim.cli import load_config, to_plain
from sim.config import scenario_params
from sim.core.units import format_size
from sim.narrate import narrate, what_happened
from sim.scenario import World

ONE_HOST = ("platform=[container,vm]", "cluster.pools.node.count=1", "cluster.scaler.enabled=false")


@dataclass(frozen=True)
class Demo:
    """A named scenario, the host it narrates and what it teaches."""

    name: str
    title: str
    teaches: str
    overrides: tuple[str, ...]
    host: str = "node-1"


DEMOS = {
    demo.name: demo
    for demo in (
        Demo(
            "first-pull",
            "First pull, then a second: the layer cache at work",
            "An image is a stack of read-only layers, each named by its digest. The first "
            "replica pulls every layer from the registry; the second finds the image on "
            "the host and pulls nothing.",
            (
                *ONE_HOST,
                "workload.deployments=[{app: web, replicas: 1, platform: container},"
                " {app: web, replicas: 1, platform: container, at: 1min}]",
            ),
        ),
        Demo(
            "shared-base",
            "Two apps that share a base image",
            "worker and web are both built FROM python-3.12 (itself FROM debian-12). After "
            "worker's pull, web's pull finds those base layers ('Already exists', by "
            "ChainID) and downloads only its own.",
            (
                *ONE_HOST,
                "workload.deployments=[{app: worker, replicas: 1, platform: container},"
                " {app: web, replicas: 1, platform: container, at: 1min}]",
            ),
        ),
        Demo(
            "copy-on-write",
            "Three containers share one image; three VMs hold three disks",
            "Each container gets only a thin writable layer over the image's read-only "
            "layers, which the host stores once; each VM gets a full copy of its disk "
            "image. The host's disk, as `docker system df` would show it, tells the "
            "difference.",
            (
                *ONE_HOST,
                "workload.deployments=[{app: web, replicas: 3, platform: container},"
                " {app: web, replicas: 3, platform: vm}]",
            ),
        ),
        Demo(
            "vm-vs-container",
            "A VM and a container of the same app, side by side",
            "The VM copies a full disk image and boots a guest OS before the app can start; "
            "the container shares the host's kernel and needs only the image's layers and a "
            "thin writable layer.",
            (
                *ONE_HOST,
                "workload.deployments=[{app: web, replicas: 1, platform: vm},"
                " {app: web, replicas: 1, platform: container}]",
            ),
        ),
    )
}


def disk_usage(world: World, host_name: str) -> list[str]:
    """A ``docker system df``-like account of one host's disk, VM disks included."""
    host = next(host for host in world.hosts if host.name == host_name)
    store = host.engine.store
    holdings = [
        reservation
        for reservation in world.ledger.reservations(world.env.now)
        if world.ledger.get(reservation.replica) is not None
    ]
    containers = [world.ledger.get(r.replica) for r in holdings]
    on_host = [h for h in containers if h is not None and h.host is host]
    writable = [h for h in on_host if h.image]
    vm_disks = [h for h in on_host if not h.image]
    layer_count = len(store.layers)
    rows = [
        ("TYPE", "TOTAL", "SIZE", "NOTE"),
        (
            "Images",
            str(len(store.images)),
            format_size(store.layer_bytes()),
            f"{layer_count} read-only layers, each stored once",
        ),
        (
            "Containers",
            str(len(writable)),
            format_size(sum(h.disk_bytes for h in writable)),
            "thin writable layers (copy-on-write)",
        ),
        (
            "VM disks",
            str(len(vm_disks)),
            format_size(sum(h.disk_bytes for h in vm_disks)),
            "a full disk image each",
        ),
    ]
    return [f"{a:<12}{b:>6}  {c:>9}  {d}" for a, b, c, d in rows] + [
        f"disk used on {host_name}: {format_size(host.disk.used_bytes)} "
        f"of {format_size(host.disk.capacity_bytes)}"
    ]


def demo_lines(name: str, seed: int = 42) -> list[str]:
    """The whole printed story of one demo."""
    demo = DEMOS[name]
    params = scenario_params(to_plain(load_config([*demo.overrides, f"seed={seed}"])))
    world = World(params)
    result = world.run()
    lines = [f"== {demo.title} ==", demo.teaches, "", f"-- on {demo.host} --"]
    lines += narrate(result.events, demo.host)
    lines += ["", "-- what happened --"]
    lines += what_happened(result.pulls, result.replicas)
    lines += ["", f"-- disk of {demo.host} (docker system df) --"]
    lines += disk_usage(world, demo.host)
    return lines


def main() -> None:
    """The ``sim-demo`` console script."""
    console = Console(highlight=False, soft_wrap=True)
    arguments = sys.argv[1:]
    if len(arguments) != 1 or arguments[0] not in DEMOS:
        console.print("usage: sim-demo <demo>   demos:")
        for demo in DEMOS.values():
            console.print(f"  {demo.name:16} {demo.title}")
        sys.exit(0 if not arguments else 2)
    for line in demo_lines(arguments[0]):
        style = "bold" if line.startswith(("==", "--")) else None
        console.print(line, style=style, markup=False)
