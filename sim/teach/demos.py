"""Narrated demos: small scenarios that show, in Docker's own words, what happens.

``sim-demo <name>`` runs one demo and prints what it teaches, the narration of the host
(or the scaled service) it watches (``docker pull`` lines and the containers' lifecycle,
with simulated timestamps) and, underneath, what moved and where the time went.
``sim-demo`` alone lists the demos. The same seed prints the same story every time. On a
terminal Docker's words are coloured as they are printed (`styled`); piped, or with
``NO_COLOR`` set, the output is the plain text the golden files hold.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from sim.api import load_config, to_plain
from sim.config import scenario_params
from sim.core.files import unwritable_reason
from sim.core.units import format_duration, format_size
from sim.model.service.arrivals.flash_crowd import FlashCrowdParams
from sim.output.plots import run_figures
from sim.output.results import Result
from sim.scenario import Scenario
from sim.teach.narrate import narrate, scaling_outcome, service_story, show, what_happened

ONE_HOST = ("platform=[container,vm]", "cluster.pools.node.count=1", "cluster.scaler.enabled=false")


@dataclass(frozen=True)
class Demo:
    """A named scenario, the host it narrates and what it teaches."""

    name: str
    title: str
    teaches: str
    overrides: tuple[str, ...]
    host: str = "node-1"
    service: str = ""
    """The fleet whose scaling the demo tells instead of a host's pulls ("" for none)."""


TEACHES_AUTOSCALING = (
    "An autoscaler watches a metric of the service and sets how many replicas it wants; "
    "target tracking asks for replicas x CPU / target (50 % here). The new capacity lags "
    "the spike: the alarm waits for 3 one-minute datapoints above the target, then each "
    "new replica is placed, pulled, started and must pass 2 health checks, and as CPU "
    "reads at most 100 % a step can only double the replicas; the next waits for the new "
    "ones to warm up (300 s). Scale-in waits longer on purpose: 15 datapoints below 90 % "
    "of the target."
)


TEACHES_HOST_FAILURE = (
    "Three replicas serve behind a load balancer on three of four hosts. At 5 min node-1 "
    "crashes: its replica is lost and the requests it was serving or had queued fail "
    "(host failure). Kubernetes does not know yet: 50 s later (the node monitor's grace "
    "period) the node is NotReady, and its pod is evicted after its 5 min toleration of "
    "that. Only then does the Deployment ask for a replacement; the scheduler puts it on "
    "the emptiest host, node-4, which has never pulled the image, so it pulls, starts and "
    "must pass its health checks before the service is back to three replicas. node-1 "
    "reboots 10 min after the crash with its layer cache, and stays idle: nothing moves "
    "back. (Had it come back before the eviction, its pod would have started on it again.)"
)


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
        Demo(
            "autoscaling",
            "An autoscaler reacting to a spike",
            TEACHES_AUTOSCALING,
            (
                "platform=container",
                "workload=flash_crowd",
                "autoscaler=target_tracking",
                "cluster.pools.node.count=2",
                "cluster.scaler.enabled=false",
                "horizon=40min",
                "workload.service.initial_replicas=1",
                "workload.traffic.arrivals={kind: flash_crowd, base_per_s: 4, peak_per_s: 40,"
                " start: 5min, duration: 15min, shape: step}",
            ),
            service="web-container",
        ),
        Demo(
            "host-failure",
            "A host crashes under a served app, and the app recovers",
            TEACHES_HOST_FAILURE,
            (
                "platform=container",
                "workload=constant",
                "autoscaler=none",
                "cluster.pools.node.count=4",
                "cluster.scaler.enabled=false",
                "horizon=16min",
                "workload.service.initial_replicas=3",
                "+faults=[{kind: host-crash, target: node-1, at: 5min, duration: 10min}]",
                "+slo={latency_p95: 250ms, drop_ratio: 0.01}",
            ),
            service="web-container",
        ),
    )
}


def disk_usage(scenario: Scenario, host_name: str) -> list[str]:
    """A ``docker system df``-like account of one host's disk, VM disks included."""
    host = scenario.cluster.host(host_name)
    store = host.engine.store
    holdings = [
        reservation
        for reservation in scenario.ledger.reservations(scenario.env.now)
        if scenario.ledger.get(reservation.replica) is not None
    ]
    containers = [scenario.ledger.get(r.replica) for r in holdings]
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


def run_demo(name: str, seed: int = 42) -> tuple[Scenario, Result]:
    """Build and run one demo's scenario; it stays inspectable afterwards."""
    demo = DEMOS[name]
    params = scenario_params(to_plain(load_config([*demo.overrides, f"seed={seed}"])))
    scenario = Scenario(params)
    return scenario, scenario.run()


def demo_lines(name: str, seed: int = 42) -> list[str]:
    """The whole printed story of one demo."""
    return story(name, *run_demo(name, seed))


def story(name: str, scenario: Scenario, result: Result) -> list[str]:
    """The printed story of a demo's finished run."""
    demo = DEMOS[name]
    lines = [f"== {demo.title} ==", demo.teaches, ""]
    if demo.service and scenario.params.faults:
        return lines + _fault_lines(demo, result)
    if demo.service:
        return lines + _service_lines(demo, scenario, result)
    lines += [f"-- on {demo.host} --"]
    lines += narrate(result.events, demo.host)
    lines += ["", "-- what happened --"]
    lines += what_happened(result.pulls, result.replicas)
    lines += ["", f"-- disk of {demo.host} (docker system df) --"]
    lines += disk_usage(scenario, demo.host)
    return lines


def crowd_of(scenario: Scenario) -> tuple[float, float, float, float]:
    """The flash crowd of a scenario's traffic: start, duration, base and peak rates."""
    service = scenario.params.service
    crowd = service.arrivals if service is not None else None
    if not isinstance(crowd, FlashCrowdParams):
        raise ValueError("the scenario's traffic has no flash crowd")
    return crowd.start_s, crowd.duration_s, crowd.base_per_s, crowd.peak_per_s


def _service_lines(demo: Demo, scenario: Scenario, result: Result) -> list[str]:
    start_s, duration_s, base_per_s, peak_per_s = crowd_of(scenario)
    notes = [
        (
            start_s,
            f"a flash crowd arrives: {base_per_s:g} -> {peak_per_s:g} requests/s "
            f"for {format_duration(duration_s)}",
        ),
        (start_s + duration_s, f"the crowd leaves: back to {base_per_s:g} requests/s"),
    ]
    autoscaler = scenario.service.autoscaler if scenario.service is not None else None
    policy = autoscaler.policy.name if autoscaler is not None else "nothing"
    lines = [f"-- {demo.service} behind its load balancer, scaled by {policy} --"]
    lines += service_story(result.events, result.timeseries, demo.service, notes)
    lines += ["", "-- what happened --"]
    lines += scaling_outcome(result.events, result.summary, (start_s, start_s + duration_s))
    lines += what_happened(result.pulls, result.replicas)
    return lines


def _fault_lines(demo: Demo, result: Result) -> list[str]:
    summary = result.summary
    lines = [f"-- {demo.service} behind its load balancer, while hosts fail --"]
    lines += service_story(result.events, result.timeseries, demo.service)
    lines += ["", "-- what happened --"]
    recover = summary["time_to_recover_s"]
    back = f", back to full strength {format_duration(recover)} after the crash" if recover else ""
    lines += [
        f"hosts failed: {summary['hosts_failed']}; replicas lost: {summary['replicas_lost']}, "
        f"replaced: {summary['replicas_replaced']}" + back,
        f"requests: {summary['requests_total']} arrived, {summary['requests_served']} served, "
        f"{summary['requests_dropped']} dropped, {summary['requests_failed']} failed "
        f"(host failure {summary['requests_failed_host_failure']})",
        f"availability (served within the SLO's latency): "
        f"{100 * (summary['availability'] or 0.0):.3f} %; "
        f"SLO broken for {format_duration(summary['slo_violation_s'])}",
    ]
    lines += what_happened(result.pulls, result.replicas)
    return lines


def draw(result: Result, folder: Path) -> list[Path]:
    """The demo's pictures: a timeline of its replicas, the network with the bytes each
    link carried, and the registries' egress over time."""
    return run_figures(result, folder)


USAGE = "usage: sim-demo <demo> [--figures DIR] [--html DIR]"
FOLDER_OPTIONS = ("--figures", "--html")


def replay(name: str, scenario: Scenario, result: Result, folder: Path) -> Path:
    """Write the demo's replay page, ``<folder>/<demo>.html``, captioned with its story."""
    from sim.teach.replay import write_replay

    demo = DEMOS[name]
    folder.mkdir(parents=True, exist_ok=True)
    return write_replay(
        result,
        folder / f"{name}.html",
        title=demo.title,
        about=demo.teaches,
        story=story(name, scenario, result),
    )


def main() -> None:
    """The ``sim-demo`` console script: ``sim-demo <demo> [--figures DIR] [--html DIR]``."""
    console = Console(highlight=False, soft_wrap=True)
    arguments: list[str] = []
    folders: dict[str, Path] = {}
    given = sys.argv[1:]
    while given:
        argument = given.pop(0)
        if argument in FOLDER_OPTIONS and given:
            folders[argument] = Path(given.pop(0))
        else:
            arguments.append(argument)
    if len(arguments) == 1 and arguments[0] not in DEMOS and not arguments[0].startswith("-"):
        print(
            f"sim-demo: no demo named {arguments[0]!r}; the demos: {', '.join(DEMOS)}",
            file=sys.stderr,
        )
        sys.exit(2)
    if len(arguments) != 1 or arguments[0] not in DEMOS:
        console.print(f"{USAGE}   demos:", markup=False)
        for demo in DEMOS.values():
            console.print(f"  {demo.name:16} {demo.title}", markup=False)
        sys.exit(0 if arguments in ([], ["-h"], ["--help"]) and not folders else 2)
    for option, folder in folders.items():
        reason = unwritable_reason(folder)
        if reason is not None:
            print(
                f"sim-demo: {option}: {folder}: a folder that can be written ({reason})",
                file=sys.stderr,
            )
            sys.exit(2)
    name = arguments[0]
    scenario, result = run_demo(name)
    show(story(name, scenario, result), console)
    for option, folder in folders.items():
        try:
            written = (
                draw(result, folder)
                if option == "--figures"
                else [replay(name, scenario, result, folder)]
            )
        except OSError as error:
            print(
                f"sim-demo: {option}: cannot write {error.filename or folder}: {error.strerror}",
                file=sys.stderr,
            )
            sys.exit(1)
        for path in written:
            console.print(f"wrote {path}", markup=False, soft_wrap=True)


if __name__ == "__main__":
    main()
