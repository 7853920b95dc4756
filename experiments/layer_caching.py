"""Layer caching: how many apps share a base image, and the disk, against the cache.

A synthetic catalog of twelve apps (``adjust`` writes it into the composed config): each
app's image is 500 MB uncompressed (200 MB compressed), 60 % of it in a base chain of
three layers (OS, language runtime, common libraries) and 40 % in two layers of its own.
``apps_per_base`` apps share each base: 1 (every app has a base of its own, nothing is
shared), 2, 3, 6 or 12 (one base under all apps). The apps reach three hosts in four
waves of three apps, ten minutes apart, one replica of each app on every host, in an
order drawn per seed; then the same order again (a second round of deployments, as
apps are redeployed), so a cache that kept an app's layers spares the second pull; the
order is the same for every point of that seed (common random numbers). Each host's
disk is swept from 3 GB to 8 GB, from a disk that holds the whole
catalog over one base (2.8 GB at its peak) but not over twelve (6.2 GB), to one that
holds everything; the kubelet's image GC runs with its defaults (85 % → 80 %, every
5 min, and before a pull that would not fit).

Reported per point, each the mean over the seeds with its 95 % interval (a bootstrap
over the seeds, within each metric's range: a share stays within [0, 1]):

* ``hit_ratio`` — layers found on the host over layers needed by the replicas that
  started (``Already exists`` in a pull, or every layer when the image was present and
  nothing was pulled);
* ``gb_pulled`` — compressed bytes delivered by the registry; ``mb_per_requested`` the
  same per replica asked for (failed ones included: they count against the cache), and
  ``mb_per_started`` per replica that started;
* ``startup_s_p95`` — request to ready of the replicas that started;
* ``failed_share`` — replicas whose pull found no space (``no space left on device``)
  over replicas asked for; a failed pull is not retried here (``pull_attempts=1``) so a
  run ends. Failures of one run are not independent (a full disk fails the wave's
  pulls together), so the share's interval is over the seeds, not Wilson's over replicas;
* ``images_removed`` — images the GC deleted.

Each wave's replicas run for ``LIFETIME`` (8 minutes) after they are ready and then stop,
before the next wave comes, so their images become unused: when a pull would not fit,
the kubelet's GC removes the least recently used unused images first, and only a pull
that still does not fit fails. A smaller disk therefore evicts more, and the layers of
evicted images must be pulled again; sharing shrinks each app's footprint so more of
the catalog stays cached.

Run ``python experiments/layer_caching.py`` (10 seeds × 25 points, about two minutes
on two cores); ``--quick`` runs two sharing levels × two disks × 2 seeds.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.batch.study import (  # noqa: E402
    Measure,
    Point,
    StudyRun,
    print_table,
    run_study,
    study_table,
    summary_metric,
    write_table,
)
from sim.batch.study_figures import (  # noqa: E402
    error_bars,
    figure_options,
    save_figure,
)
from sim.core.intervals import NON_NEGATIVE, SHARE  # noqa: E402
from sim.output.results import Result  # noqa: E402

STUDY = "layer_caching"
APPS = 12
WAVES = 4
ROUNDS = 2
WAVE_GAP_S = 600
LIFETIME = "8min"
HOSTS = 3
MB = 10**6
IMAGE_BYTES = 500 * MB
COMPRESSION = 0.4  # compressed / uncompressed
BASE_SHARE = 0.6  # of each image's bytes in its base chain
BASE_LAYERS = (  # (instruction, text, share of the base's bytes)
    ("ADD", "rootfs-{base:02d}.tar.gz /", 0.5),
    ("RUN", "install the language runtime of base-{base:02d}", 0.35),
    ("RUN", "install the common libraries of base-{base:02d}", 0.15),
)
APP_LAYERS = (  # (instruction, text, share of the app's own bytes)
    ("RUN", "install the dependencies of app-{app:02d}", 0.8),
    ("COPY", "app-{app:02d}/ /app", 0.2),
)
REGISTRY = "ecr"

APPS_PER_BASE = (1, 2, 3, 6, 12)
DISKS_GB = (3, 4, 5, 6, 8)
QUICK_APPS_PER_BASE = (1, 12)
QUICK_DISKS_GB = (3, 8)
PRESET_APPS_PER_BASE = 3  # configs/experiment/layer_caching.yaml: catalog(3), 4 GB disks

COMMON = ("+experiment=layer_caching", "progress=false")


def _bytes_text(size_bytes: float) -> str:
    size = round(size_bytes)
    return f"{size // MB}MB" if size % MB == 0 else f"{size}B"


def _size(fraction: float, total_bytes: float) -> dict[str, str]:
    size = total_bytes * fraction
    return {"size": _bytes_text(size), "compressed": _bytes_text(size * COMPRESSION)}


def catalog(apps_per_base: int) -> dict[str, Any]:
    """The images: ``APPS // apps_per_base`` base chains and an app image over each.

    Layer digests follow from the step text and sizes, so every base's and app's steps
    name it: no two bases or apps share a layer by accident.
    """
    images: dict[str, Any] = {}
    for base in range(APPS // apps_per_base):
        images[f"base-{base:02d}"] = {
            "registry": REGISTRY,
            "repository": f"synthetic/base-{base:02d}",
            "tag": "1",
            "steps": [
                {instruction: text.format(base=base)} | _size(share, IMAGE_BYTES * BASE_SHARE)
                for instruction, text, share in BASE_LAYERS
            ],
        }
    for app in range(APPS):
        own = [
            {instruction: text.format(app=app)} | _size(share, IMAGE_BYTES * (1 - BASE_SHARE))
            for instruction, text, share in APP_LAYERS
        ]
        images[f"app-{app:02d}"] = {
            "registry": REGISTRY,
            "repository": f"synthetic/app-{app:02d}",
            "tag": "1",
            "steps": [{"FROM": f"base-{app // apps_per_base:02d}"}, *own],
        }
    return images


def workload(order: Sequence[int]) -> dict[str, Any]:
    """The apps, and the waves that deploy them in `order` (one replica per host)."""
    per_wave = APPS // WAVES
    return {
        "apps": {
            f"app-{app:02d}": {
                "image": f"app-{app:02d}",
                "vcpu": 0.25,
                "memory": "512MiB",
                "init": {"dist": "lognormal", "median": "1s", "sigma": 0.3},
            }
            for app in range(APPS)
        },
        "deployments": [
            {
                "app": f"app-{app:02d}",
                "per_host": True,
                "at": f"{(position // per_wave) * WAVE_GAP_S}s",
                "platform": "container",
                "lifetime": LIFETIME,
            }
            for position, app in enumerate(list(order) * ROUNDS)
        ],
    }


def arrival_order(seed: int, replication: int) -> list[int]:
    """The apps' deployment order for one seed and replication (the same at every point)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, replication, APPS]))
    return [int(app) for app in rng.permutation(APPS)]


def adjust(config: dict[str, Any]) -> None:
    """Write the synthetic catalog and waves for the point's ``study.apps_per_base``."""
    study = config.pop("study")
    config["images"] = catalog(int(study["apps_per_base"]))
    config["workload"] = workload(arrival_order(config["seed"], config["replication"]))


LAYERS_PER_APP = len(BASE_LAYERS) + len(APP_LAYERS)


def layers_found(result: Result) -> float:
    """Layers already on the host, for the replicas that started: a replica whose whole
    image was present (no pull: ``IfNotPresent``) found all its layers; one that pulled
    found those ``Already exists``."""
    found = sum(pull.layers_already_exists for pull in result.pulls if pull.ok)
    present = sum(event.kind == "image_present" for event in result.events)
    return float(found + present * LAYERS_PER_APP)


def layers_needed(result: Result) -> float:
    """Layers the started replicas needed: those found and those downloaded."""
    return layers_found(result) + sum(pull.layers_downloaded for pull in result.pulls if pull.ok)


def hit_ratio(result: Result) -> float | None:
    """One run's layer hit ratio (None if no replica started)."""
    needed = layers_needed(result)
    return layers_found(result) / needed if needed else None


def started(result: Result) -> int:
    return sum(replica.state == "ready" for replica in result.replicas)


def failed_share(result: Result) -> float | None:
    """Replicas that failed (no space) over replicas asked for."""
    requested = result.summary["replicas_requested"]
    return result.summary["replicas_failed"] / requested if requested else None


METRICS: dict[str, Measure] = {
    "hit_ratio": Measure(hit_ratio, SHARE),
    "gb_pulled": Measure(lambda result: result.summary["bytes_from_registry"] / 1e9, NON_NEGATIVE),
    "mb_per_requested": Measure(
        lambda result: (
            result.summary["bytes_from_registry"] / MB / result.summary["replicas_requested"]
        ),
        NON_NEGATIVE,
    ),
    "mb_per_started": Measure(
        lambda result: (
            result.summary["bytes_from_registry"] / MB / started(result)
            if started(result)
            else None
        ),
        NON_NEGATIVE,
    ),
    "startup_s_p95": summary_metric("startup_s_p95"),
    "failed_share": Measure(failed_share, SHARE),
    "images_removed": summary_metric("images_removed"),
    "disk_gb_peak": Measure(lambda result: result.summary["disk_bytes_peak"] / 1e9, NON_NEGATIVE),
}


def points(apps_per_base: Sequence[int], disks_gb: Sequence[int]) -> list[Point]:
    return [
        Point(
            f"{sharing} apps/base, {disk} GB",
            (f"+study.apps_per_base={sharing}", f"cluster.pools.node.disk={disk}GB"),
            {"apps_per_base": sharing, "disk_gb": disk},
        )
        for sharing in apps_per_base
        for disk in disks_gb
    ]


def plot_lines(
    rows: Sequence[dict[str, Any]], path: Path, replications: int, args: argparse.Namespace
) -> None:
    """Hit ratio, bytes pulled per replica asked for, start-up p95 and failed replicas
    against the apps per base, one line per disk size (mean, 95 % interval over seeds)."""
    disks = sorted({row["disk_gb"] for row in rows})
    sharing = sorted({row["apps_per_base"] for row in rows})
    panels = (
        ("hit_ratio", "layer hit ratio"),
        ("mb_per_requested", "MB pulled per replica asked for"),
        ("startup_s_p95", "start-up p95 (s)"),
        ("failed_share", "replicas failed: no space (share)"),
    )
    fig, axes = plt.subplots(2, 2, figsize=(6.6, 5.8), sharex=True)
    for ax, (metric, label) in zip(axes.flat, panels, strict=True):
        for index, disk in enumerate(disks):
            line = sorted(
                (row for row in rows if row["disk_gb"] == disk), key=lambda r: r["apps_per_base"]
            )
            nudge = 2 ** (0.04 * (index - (len(disks) - 1) / 2))  # keep equal lines apart
            ax.errorbar(
                [row["apps_per_base"] * nudge for row in line],
                [row[metric] for row in line],
                yerr=error_bars(line, metric),
                marker="o",
                markersize=4,
                capsize=3,
                label=f"{disk} GB",
            )
        ax.set_xscale("log", base=2)
        ax.set_xticks(sharing, [str(value) for value in sharing])
        ax.minorticks_off()
        ax.set_ylabel(label, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("apps per base image")
    axes[0, 0].legend(title="disk per host", fontsize=8, title_fontsize=8)
    removed = sum(row["images_removed"] for row in rows)
    axes[1, 1].text(
        0.97,
        0.95,
        f"images removed by GC: {removed:.0f}\n(mean per run, summed over points)",
        transform=axes[1, 1].transAxes,
        ha="right",
        va="top",
        fontsize=8,
    )
    fig.suptitle(
        f"Layer caching: {APPS} apps in {WAVES} waves on {HOSTS} hosts\n"
        f"(mean and 95 % interval over {replications} seeds)",
        fontsize=11,
    )
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the study; returns the table's rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="4 points, 2 seeds (for tests)")
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    replications = 2 if args.quick else args.replications
    sweep = (
        points(QUICK_APPS_PER_BASE, QUICK_DISKS_GB)
        if args.quick
        else points(APPS_PER_BASE, DISKS_GB)
    )
    runs: list[StudyRun] = run_study(
        sweep,
        replications,
        common=COMMON,
        adjust=adjust,
        progress=False if args.no_progress else None,
    )
    rows = study_table(runs, METRICS)
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    plot_lines(rows, args.out / f"{STUDY}_sharing", replications, args)
    print_table(
        rows,
        f"Layer caching by apps per base and disk ({replications} seeds; mean [95 % interval])",
        tuple(METRICS),
    )
    return rows


if __name__ == "__main__":
    main()
