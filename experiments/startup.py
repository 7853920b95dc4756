"""Start-up: VMs, microVMs, containers with a cold, warm or base-cached image, lazy pulls,
Beanstalk.

The same app (``web``: 1 vCPU, 1 GiB, a Python image of 106 MB compressed and 320 MB
uncompressed in the private ECR-like registry, about 2 s of initialisation) is started
once on every one of six hosts (``configs/experiment/startup.yaml``) on each platform,
and each replica's start-up (request to ready) is broken into its phases: waiting,
provisioning, booting, pulling (download, extract), creating, starting, app init.

* ``vm`` — a KVM guest per replica: API and scheduling, an 8 GiB disk image copied at
  the host's disk write rate, a guest OS boot; it reserves the guest memory plus KVM's
  overhead.
* ``vm, cloned disk`` — the same guest, but its disk is a thin clone of a base image the
  host already holds (a first wave at t = 0 copies the base; the measured second wave,
  5 min later, clones it): the hypervisor and the guest's boot without the disk copy.
* ``microvm`` — a Firecracker-like guest: a thin clone of a small disk, a 125 ms boot.
* ``container cold`` — the image is pulled onto six empty hosts at once.
* ``container cold lazy`` — as ``container cold``, with the lazy snapshotter
  (``cluster.engine.snapshotter=lazy``): each container starts once the layers' tables of
  contents are in; its init reads Slacker's 6.4 % of each layer on demand, in 50 kB
  ranges of a round trip each, until the layer's background stream (5 s later) is in.
* ``container cold lazy, prefetched`` — every byte the app reads prefetched before the
  start, the rest streamed at once (``{prefetch: 1, background_delay: 0s}``): the
  model before read costs, an upper bound on what lazy pulling can gain.
* ``container warm`` — a first wave at t = 0 pulls the image; the measured second wave,
  5 min later, finds it on every host.
* ``container base cached`` — a first wave of ``worker`` (the same debian and python
  layers, 126 of web's 320 MB uncompressed) at t = 0; the measured ``web`` wave at
  5 min downloads only its own layers.
* ``beanstalk-docker`` — each replica is a new instance that is provisioned and boots,
  then pulls the image into its empty cache.

Only the measured replicas (the app ``web`` requested at or after the scenario's
measurement time) enter the table and the figures. Each metric is the mean over a
seed's six replicas, with its 95 % interval over the seeds (a bootstrap: every metric
here is at least 0). The claims the write-up makes are decided seed by seed
(``startup_claims.csv``): every point of a seed sees the same app init draws, so the
paired difference carries less noise than either point.

Lazy pulling pays off with larger images: ``startup_lazy.csv`` scales every layer of
the web image (and its bases) by 1, 4 and 16 (106 MB to 1.7 GB compressed; the read set
stays 6.4 %) and starts it cold with overlayfs, with lazy pulls read on demand, and with
the prefetched upper bound.

A sanity line compares the cold pull share of container start-up with Slacker's 76 %
(HelloBench, FAST 2016) and is written to ``sanity.txt``.

Run ``python experiments/startup.py`` (20 seeds, 6 replicas each per scenario, about a
minute); ``--quick`` runs 2 seeds and the lazy sweep at 1 and 4.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.batch.claims import compare  # noqa: E402
from sim.batch.study import (  # noqa: E402
    Measure,
    Point,
    StudyRun,
    print_table,
    run_study,
    study_table,
    write_table,
)
from sim.batch.study_figures import (  # noqa: E402
    error_bars,
    figure_options,
    save_figure,
)
from sim.core.intervals import NON_NEGATIVE, SHARE  # noqa: E402
from sim.core.records import EventKind, ReplicaRecord  # noqa: E402
from sim.output.results import Result  # noqa: E402
from sim.output.summary import percentile  # noqa: E402

STUDY = "startup"
APP = "web"
MIB = 2**20
SLACKER_PULL_SHARE = 0.76  # Slacker (FAST 2016): pulling is 76 % of container start time
WAVE_GAP = "5min"
WAVE_GAP_S = 300.0
CDF_TICKS_S = (1, 2, 5, 10, 20, 50, 100, 200, 500)
ZOOM_S = 10.0  # the breakdown's second panel shows the scenarios faster than this
SEEDS = 20  # the claims compare means within 0.1-0.5 s: 20 seeds resolve them
LAZY_SCALES = (1, 4, 16)
QUICK_LAZY_SCALES = (1, 4)

COMMON = ("+experiment=startup", "progress=false")
LAZY = "cluster.engine.snapshotter=lazy"
UPPER_BOUND = "cluster.engine.snapshotter={kind: lazy, prefetch: 1, background_delay: 0s}"

PHASES = (
    ("wait_s", "wait"),
    ("provision_s", "provision"),
    ("boot_s", "boot"),
    ("pull_download_s", "pull: download"),
    ("pull_extract_s", "pull: extract"),
    ("create_s", "create"),
    ("start_s", "start"),
    ("init_s", "app init"),
)
PHASE_COLORS = (
    "#bab0ac",
    "#9c755f",
    "#edc948",
    "#4e79a7",
    "#76b7b2",
    "#b07aa1",
    "#ff9da7",
    "#59a14f",
)


def _deployments(*waves: str) -> str:
    return "workload.deployments=[" + ",".join(waves) + "]"


def _wave(app: str, platform: str, at: str = "0s") -> str:
    return f"{{app:{app},per_host:true,at:{at},platform:{platform}}}"


@dataclass(frozen=True)
class Scenario:
    """One point of the study and which of its replicas are measured."""

    point: Point
    measured_from_s: float = 0.0


SCENARIOS = (
    Scenario(Point("vm", (_deployments(_wave(APP, "vm")),), {"platform": "vm"})),
    Scenario(
        Point(
            "vm, cloned disk",
            (
                _deployments(_wave(APP, "vm"), _wave(APP, "vm", WAVE_GAP)),
                "platform.vm.disk_mode=clone",
            ),
            {"platform": "vm"},
        ),
        measured_from_s=WAVE_GAP_S,
    ),
    Scenario(Point("microvm", (_deployments(_wave(APP, "microvm")),), {"platform": "microvm"})),
    Scenario(Point("container cold", (), {"platform": "container"})),
    Scenario(Point("container cold lazy", (LAZY,), {"platform": "container"})),
    Scenario(Point("container cold lazy, prefetched", (UPPER_BOUND,), {"platform": "container"})),
    Scenario(
        Point(
            "container warm",
            (_deployments(_wave(APP, "container"), _wave(APP, "container", WAVE_GAP)),),
            {"platform": "container"},
        ),
        measured_from_s=WAVE_GAP_S,
    ),
    Scenario(
        Point(
            "container base cached",
            (_deployments(_wave("worker", "container"), _wave(APP, "container", WAVE_GAP)),),
            {"platform": "container"},
        ),
        measured_from_s=WAVE_GAP_S,
    ),
    Scenario(
        Point(
            "beanstalk-docker",
            ("workload.deployments=[{app:web,replicas:6,at:0s,platform:beanstalk-docker}]",),
            {"platform": "beanstalk-docker"},
        ),
    ),
)
MEASURED_FROM_S = {scenario.point.label: scenario.measured_from_s for scenario in SCENARIOS}


def measured(result: Result, measured_from_s: float) -> list[ReplicaRecord]:
    """The ready replicas of the measured app requested at or after `measured_from_s`."""
    return [
        replica
        for replica in result.replicas
        if replica.app == APP
        and replica.state == "ready"
        and replica.requested_s >= measured_from_s
    ]


def reserved_memory_bytes(result: Result) -> dict[str, int]:
    """The memory each VM replica reserved on its host, from its ``scheduled`` event."""
    reserved = {}
    for event in result.events:
        if event.kind == "replica_state" and event.detail_or("state") == "scheduled":
            memory_bytes = event.detail_or("memory_bytes")
            if isinstance(memory_bytes, int):
                reserved[event.source] = memory_bytes
    return reserved


def stalls_s(result: Result) -> dict[str, float]:
    """How long each replica's init waited for lazy reads on demand, from the events."""
    stalls: dict[str, float] = {}
    for event in result.events:
        if event.kind == EventKind.ON_DEMAND_READ:
            replica = str(event.detail_or("replica"))
            stall_s = event.detail_or("stall_s")
            assert isinstance(stall_s, int | float)
            stalls[replica] = stalls.get(replica, 0.0) + stall_s
    return stalls


def metrics(measured_from_s: float) -> dict[str, Measure]:
    """The table's metrics over one run's measured replicas."""

    def over(
        function: Callable[[list[ReplicaRecord]], float], bounds: Any = NON_NEGATIVE
    ) -> Measure:
        def metric(result: Result) -> float | None:
            replicas = measured(result, measured_from_s)
            return function(replicas) if replicas else None

        return Measure(metric, bounds)

    def phase(name: str) -> Callable[[list[ReplicaRecord]], float]:
        return lambda replicas: statistics.fmean(getattr(r, name) for r in replicas)

    def startup(replicas: list[ReplicaRecord]) -> list[float]:
        return [r.startup_s for r in replicas if r.startup_s is not None]

    def pull_share(replicas: list[ReplicaRecord], without_init: bool = False) -> float:
        pull = sum(r.pull_download_s + r.pull_extract_s for r in replicas)
        total = sum(startup(replicas)) - (sum(r.init_s for r in replicas) if without_init else 0)
        return pull / total

    def memory_reserved_mib(result: Result) -> float | None:
        reserved = reserved_memory_bytes(result)
        replicas = measured(result, measured_from_s)
        values = [reserved[r.replica] for r in replicas if r.replica in reserved]
        return statistics.fmean(values) / MIB if values else None

    def read_stall(result: Result) -> float | None:
        replicas = measured(result, measured_from_s)
        stalls = stalls_s(result)
        return statistics.fmean(stalls.get(r.replica, 0.0) for r in replicas) if replicas else None

    table: dict[str, Measure] = {
        "replicas": over(len),
        "startup_s_mean": over(lambda rs: statistics.fmean(startup(rs))),
        "startup_s_p50": over(lambda rs: percentile(startup(rs), 50) or 0.0),
        "startup_s_p95": over(lambda rs: percentile(startup(rs), 95) or 0.0),
    }
    table.update({name: over(phase(name)) for name, _ in PHASES})
    table["read_stall_s"] = Measure(read_stall, NON_NEGATIVE)
    table["pull_share"] = over(pull_share, SHARE)
    table["pull_share_without_init"] = over(lambda rs: pull_share(rs, without_init=True), SHARE)
    table["memory_reserved_mib"] = Measure(memory_reserved_mib, NON_NEGATIVE)
    return table


def table_rows(runs: Sequence[StudyRun]) -> list[dict[str, Any]]:
    """One row per scenario, each metric over that scenario's own measured replicas."""
    rows = []
    for scenario in SCENARIOS:
        members = [run for run in runs if run.point.label == scenario.point.label]
        if members:
            rows.extend(study_table(members, metrics(scenario.measured_from_s)))
    return rows


# --- The claims, decided seed by seed ---------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A claim about two scenarios' mean start-up: `first` minus `second` (or their
    ratio) above or below a line."""

    claim: str
    first: str
    second: str
    ratio: bool = False
    above: bool = True

    @property
    def line(self) -> float:
        return 1.0 if self.ratio else 0.0


CLAIMS = (
    Claim("a container starts faster than a VM", "vm", "container cold", ratio=True),
    Claim(
        "... even when the VM's disk is a clone", "vm, cloned disk", "container cold", ratio=True
    ),
    Claim("a microVM edges out a warm container", "container warm", "microvm"),
    Claim("lazy pulling read on demand beats a cold pull", "container cold", "container cold lazy"),
    Claim(
        "prefetching the read set beats reading it on demand",
        "container cold lazy",
        "container cold lazy, prefetched",
    ),
)


def claims_rows(runs: Sequence[StudyRun], claims: Sequence[Claim] = CLAIMS) -> list[dict[str, Any]]:
    """Each claim's paired estimate over the seeds (each run's mean start-up over the
    replicas its scenario measures), its 95 % interval and its verdict."""
    rows = []
    for claim in claims:
        comparison = compare(
            runs,
            claim.first,
            claim.second,
            metrics(MEASURED_FROM_S[claim.first])["startup_s_mean"],
            line=claim.line,
            above=claim.above,
            ratio=claim.ratio,
            second_metric=metrics(MEASURED_FROM_S[claim.second])["startup_s_mean"],
        )
        interval = comparison.interval
        rows.append(
            {
                "claim": claim.claim,
                "quantity": f"{claim.first} {'/' if claim.ratio else '−'} {claim.second}",
                "estimate": interval.estimate,
                "low": interval.low,
                "high": interval.high,
                "method": interval.method,
                "seeds": comparison.seeds,
                "verdict": comparison.verdict,
            }
        )
    return rows


def print_claims(rows: Sequence[dict[str, Any]], title: str) -> None:
    """The claims as ``claim | quantity | estimate [low, high] | verdict``."""
    from rich.table import Table

    from sim.output.report import output_console

    table = Table(title=title)
    for column in ("claim", "quantity", "estimate [95 % interval]", "verdict"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["claim"],
            row["quantity"],
            f"{row['estimate']:.3g} [{row['low']:.3g}, {row['high']:.3g}]",
            row["verdict"],
        )
    output_console().print(table)


# --- Lazy pulling against image size -----------------------------------------------------

LAZY_MODES = (
    ("overlayfs", ()),
    ("lazy, read on demand", (LAZY,)),
    ("lazy, prefetched (upper bound)", (UPPER_BOUND,)),
)
LAZY_IMAGES = ("debian-12", "python-3.12", APP)


def lazy_points(scales: Sequence[int]) -> list[Point]:
    """Every (image scale, snapshotter) pair, the cold container wave."""
    return [
        Point(
            f"{mode}, ×{scale}",
            (*overrides, f"+study.image_scale={scale}"),
            {"mode": mode, "image_scale": scale},
        )
        for scale in scales
        for mode, overrides in LAZY_MODES
    ]


def scale_images(config: dict[str, Any]) -> None:
    """Multiply every layer of the web image and its bases by ``study.image_scale``."""
    scale = int(config.pop("study", {}).get("image_scale", 1))
    for name in LAZY_IMAGES:
        for step in config["images"][name]["steps"]:
            for key in ("size", "compressed"):
                if key in step:
                    step[key] = f"{_bytes(step[key]) * scale}B"


def _bytes(text: str) -> int:
    from sim.core.units import parse_size

    return parse_size(text, "images")


def lazy_rows(runs: Sequence[StudyRun]) -> list[dict[str, Any]]:
    """The lazy sweep's table: start-up and its parts per image size and snapshotter."""
    return study_table(runs, metrics(0.0))


# --- Figures -------------------------------------------------------------------------------


def startup_times(runs: Sequence[StudyRun], label: str) -> list[float]:
    """Every measured replica's start-up time of one scenario, over all its runs."""
    return [
        replica.startup_s
        for run in runs
        if run.point.label == label
        for replica in measured(run.result, MEASURED_FROM_S[label])
        if replica.startup_s is not None
    ]


def sanity_line(rows: Sequence[dict[str, Any]], replications: int) -> str:
    """The cold pull share of container start-up against Slacker's published 76 %."""
    cold = next(row for row in rows if row["point"] == "container cold")
    share, without = cold["pull_share"], cold["pull_share_without_init"]
    return (
        f"sanity: cold pull share of container start-up (download + extract over request "
        f"to ready, {replications} seeds) = {100 * share:.1f} % [95 % interval "
        f"{100 * cold['pull_share_low']:.1f}, {100 * cold['pull_share_high']:.1f}] vs "
        f"Slacker's {100 * SLACKER_PULL_SHARE:.0f} % (HelloBench); without the app's ~2 s "
        f"init it is {100 * without:.1f} % [{100 * cold['pull_share_without_init_low']:.1f}, "
        f"{100 * cold['pull_share_without_init_high']:.1f}]. The difference: HelloBench "
        f"measures until a trivial 'hello' output (almost no init), and our 106 MB image "
        f"comes over a 5 Gbit/s in-region registry link, so the 320 MB extraction at "
        f"150 MB/s, not the download, dominates the pull."
    )


def plot_breakdown(
    rows: Sequence[dict[str, Any]], path: Path, replications: int, args: argparse.Namespace
) -> None:
    """Stacked horizontal bars of the mean phase seconds per scenario, with the 95 %
    interval of the mean start-up over the seeds, and a zoom on the scenarios that start
    within seconds. A lazy container's read stall is hatched inside its init."""
    fast = [row for row in rows if row["startup_s_mean"] < ZOOM_S]
    fig, axes = plt.subplots(2, 1, figsize=(7, 7.4), height_ratios=(len(rows), max(len(fast), 1)))
    for ax, shown in zip(axes, (rows, fast), strict=True):
        labels = [row["point"] for row in shown]
        left = [0.0] * len(shown)
        for (name, title), color in zip(PHASES, PHASE_COLORS, strict=True):
            widths = [row[name] for row in shown]
            ax.barh(labels, widths, left=left, color=color, label=title, height=0.6)
            if name == "init_s":
                stalls = [row["read_stall_s"] for row in shown]
                ax.barh(
                    labels,
                    stalls,
                    left=[a + w - s for a, w, s in zip(left, widths, stalls, strict=True)],
                    color="none",
                    edgecolor="#2f5d2a",
                    hatch="///",
                    height=0.6,
                    label="of which: lazy reads stalled",
                )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.errorbar(
            [row["startup_s_mean"] for row in shown],
            labels,
            xerr=error_bars(shown, "startup_s_mean"),
            fmt="none",
            ecolor="black",
            capsize=3,
            lw=1,
        )
        ax.invert_yaxis()
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
        ax.set_xlabel("mean start-up time (s); whisker: 95 % interval over the seeds")
    axes[0].set_title("all scenarios", fontsize=10)
    axes[1].set_title(f"zoom: the scenarios that start within {ZOOM_S:.0f} s", fontsize=10)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(f"Replica start-up by phase (6 replicas × {replications} seeds per scenario)")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    save_figure(fig, path, args)
    plt.close(fig)


def plot_cdf(
    runs: Sequence[StudyRun], path: Path, replications: int, args: argparse.Namespace
) -> None:
    """The start-up time CDF of each scenario's measured replicas, every seed's
    (log time axis)."""
    fig, ax = plt.subplots(figsize=(8.6, 4.4))
    styles = ("-", "--", ":", "-.")
    for index, scenario in enumerate(SCENARIOS):
        times = sorted(startup_times(runs, scenario.point.label))
        if not times:
            continue
        fractions = [(i + 1) / len(times) for i in range(len(times))]
        ax.step(
            times,
            fractions,
            where="post",
            label=scenario.point.label,
            ls=styles[index % len(styles)],
            color=f"C{index}",
        )
    ax.set_xscale("log")
    ax.set_xticks(CDF_TICKS_S, [f"{tick:g}" for tick in CDF_TICKS_S])
    ax.set_xlabel("start-up time, request to ready (s, log scale)")
    ax.set_ylabel("fraction of replicas")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title(
        f"Start-up time CDF (all {replications} seeds × 6 replicas per scenario)", fontsize=10
    )
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def plot_lazy(
    rows: Sequence[dict[str, Any]], path: Path, replications: int, args: argparse.Namespace
) -> None:
    """Cold start-up against image size per snapshotter (mean and 95 % interval over
    the seeds), and the lazy reads' stall."""
    fig, (startup_ax, stall_ax) = plt.subplots(1, 2, figsize=(9, 3.8))
    markers = ("s", "o", "^")
    for index, (mode, _) in enumerate(LAZY_MODES):
        line = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["image_scale"])
        sizes = [106 * row["image_scale"] for row in line]
        panels = [(startup_ax, "startup_s_mean")]
        if any(row["read_stall_s"] > 0 for row in line):
            panels.append((stall_ax, "read_stall_s"))
        for ax, column in panels:
            ax.errorbar(
                sizes,
                [row[column] for row in line],
                yerr=error_bars(line, column),
                marker=markers[index],
                capsize=3,
                label=mode,
                color=f"C{index}",
            )
    for ax, title in (
        (startup_ax, "mean start-up (s)"),
        (stall_ax, "init's wait for lazy reads (s)"),
    ):
        ax.set_xscale("log")
        scales = sorted({row["image_scale"] for row in rows})
        ax.set_xticks([106 * s for s in scales], [f"{106 * s:g}" for s in scales])
        ax.minorticks_off()
        ax.set_xlabel("compressed image (MB; read set 6.4 %)")
        ax.set_ylabel(title)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    startup_ax.legend(fontsize=7)
    stall_ax.legend(fontsize=7, loc="lower right")
    stall_ax.text(
        0.03,
        0.95,
        "overlayfs and the prefetched\nupper bound never wait (0 s)",
        transform=stall_ax.transAxes,
        va="top",
        fontsize=7,
    )
    fig.suptitle(
        f"Cold start of one web replica per host on six hosts, by image size "
        f"({replications} seeds; mean and 95 % interval)",
        fontsize=9,
    )
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the study; returns the table's rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument("--replications", type=int, default=SEEDS)
    parser.add_argument("--quick", action="store_true", help="2 seeds (for tests)")
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    replications = 2 if args.quick else args.replications
    progress = False if args.no_progress else None

    runs = run_study(
        [scenario.point for scenario in SCENARIOS], replications, common=COMMON, progress=progress
    )
    rows = table_rows(runs)
    claims = claims_rows(runs)
    lazy_runs = run_study(
        lazy_points(QUICK_LAZY_SCALES if args.quick else LAZY_SCALES),
        replications,
        common=COMMON,
        adjust=scale_images,
        progress=progress,
    )
    lazy = lazy_rows(lazy_runs)
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    write_table(claims, args.out / f"{STUDY}_claims.csv")
    write_table(lazy, args.out / f"{STUDY}_lazy.csv")
    plot_breakdown(rows, args.out / f"{STUDY}_breakdown", replications, args)
    plot_cdf(runs, args.out / f"{STUDY}_cdf", replications, args)
    plot_lazy(lazy, args.out / f"{STUDY}_lazy", replications, args)
    sanity = sanity_line(rows, replications)
    (args.out / "sanity.txt").write_text(sanity + "\n")

    print_table(
        rows,
        f"Start-up of the web app by platform and cache ({replications} seeds × 6 replicas; "
        "mean [95 % interval], seconds)",
        (
            "startup_s_mean",
            "startup_s_p95",
            "provision_s",
            "boot_s",
            "pull_download_s",
            "pull_extract_s",
            "init_s",
            "read_stall_s",
            "pull_share",
        ),
    )
    print_claims(claims, f"The claims, seed by seed ({replications} seeds, paired)")
    print_table(
        lazy,
        f"Cold start against image size ({replications} seeds; mean [95 % interval], seconds)",
        ("startup_s_mean", "startup_s_p95", "pull_download_s", "pull_extract_s", "read_stall_s"),
    )
    print(sanity)
    return rows


if __name__ == "__main__":
    main()
