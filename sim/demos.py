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
from sim.narrate import narrate, what_happened
from sim.scenario import run_scenario

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


def demo_lines(name: str, seed: int = 42) -> list[str]:
    """The whole printed story of one demo."""
    demo = DEMOS[name]
    params = scenario_params(to_plain(load_config([*demo.overrides, f"seed={seed}"])))
    result = run_scenario(params)
    lines = [f"== {demo.title} ==", demo.teaches, "", f"-- on {demo.host} --"]
    lines += narrate(result.events, demo.host)
    lines += ["", "-- what happened --"]
    lines += what_happened(result.pulls, result.replicas)
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
