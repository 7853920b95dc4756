"""Registry storm: N hosts start the same image from one public registry at once.

A DaemonSet-style roll-out (``workload=storm``: one replica per host at t = 0) of the
``storm-app`` image (350 MB compressed in three layers, from the public ``hub``) on N
hosts of ``cluster=large`` (a 10 Gbit/s star, no cluster scaler), at two hub egress
bandwidths (1 Gbit/s and 100 Mbit/s), with and without a pull-through mirror next to the
cluster (10 Gbit/s, ``cluster.registry_mirrors.hub=mirror``). Everything else is the
``registry_storm`` preset (``sim +experiment=registry_storm``).

The hub keeps Docker Hub's anonymous limit (100 manifest pulls per 6 h per client): a
client is a host's address, and each host pulls the image once, so the limit never
binds here (``pulls_failed`` stays 0); with the mirror, the mirror is the hub's only
client and fetches the manifest and each blob once.

Without a mirror the hub's link carries N copies of the image, so the last replica
cannot be ready before N x 350 MB / hub bandwidth (``link_bound_s``). With the mirror
the hub sends one copy and the mirror's 10 Gbit/s link carries the N copies; the mirror
fetches a whole blob before serving it (no streaming), so the bound there is
max(350 MB / hub bandwidth, N x 350 MB / mirror bandwidth).

Run ``python experiments/registry_storm.py`` (8 host counts x 2 bandwidths x mirror
yes/no, 10 seeds: about a minute on a 2-core machine); ``--quick`` runs N = 2 and 8 with
2 seeds.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import sim  # noqa: E402
from sim.batch.study import (  # noqa: E402
    Point,
    print_table,
    run_study,
    study_table,
    summary_metric,
    write_table,
)
from sim.core.units import parse_bandwidth, parse_size  # noqa: E402
from sim.output.results import Result  # noqa: E402

STUDY = "registry_storm"
IMAGE = "storm-app"
ORIGIN = "hub"
MIRROR = "mirror"
GB = 1e9

COMMON = ("+experiment=registry_storm", "progress=false")
HOSTS_FULL = (1, 2, 4, 8, 16, 32, 64, 128)
HOSTS_QUICK = (2, 8)
HUB_BANDWIDTHS = ("1Gbps", "100Mbps")
QUICK = ("horizon=1h",)

COLUMNS = (  # printed; the CSV also has startup_s_max, gb_from_hub and replicas_started
    "startup_s_p50",
    "startup_s_p95",
    "link_bound_s",
    "pull_share",
    "gb_from_registry",
    "gb_from_upstream",
    "pulls_failed",
)


@dataclass(frozen=True)
class Storm:
    """What the bounds need: the image's compressed size and the mirror's bandwidth."""

    image_bytes: int
    mirror_bytes_s: float

    def link_bound_s(self, hosts: int, hub_bytes_s: float, mirror: bool) -> float:
        """A lower bound on the last replica's start-up set by the registries' links."""
        if not mirror:
            return hosts * self.image_bytes / hub_bytes_s
        return max(self.image_bytes / hub_bytes_s, hosts * self.image_bytes / self.mirror_bytes_s)


def read_storm(common: Sequence[str]) -> Storm:
    """The image's compressed size and the mirror's bandwidth, from the composed preset."""
    config = sim.load_config(list(common))
    image_bytes = 0
    for step in config.images[IMAGE].steps:
        layer_key = next((key for key in ("ADD", "COPY", "RUN") if key in step), None)
        if layer_key is not None:
            size = step.get("compressed", step["size"])
            image_bytes += parse_size(size, f"images.{IMAGE}")
    mirror_bytes_s = parse_bandwidth(config.registry[MIRROR].bandwidth, f"registry.{MIRROR}")
    return Storm(image_bytes, mirror_bytes_s)


def points(hosts: Sequence[int], storm: Storm) -> list[Point]:
    """Every (mirror, hub bandwidth, hosts) combination."""
    result = []
    for mirror in (False, True):
        for bandwidth in HUB_BANDWIDTHS:
            hub_bytes_s = parse_bandwidth(bandwidth, f"registry.{ORIGIN}.bandwidth")
            for count in hosts:
                overrides = [
                    f"cluster.pools.node.count={count}",
                    f"registry.{ORIGIN}.bandwidth={bandwidth}",
                ]
                if not mirror:
                    overrides.append("~cluster.registry_mirrors")
                label = f"{'mirror' if mirror else 'no mirror'}, hub {bandwidth}, N={count}"
                extra = {
                    "hosts": count,
                    "mirror": mirror,
                    "hub_bandwidth": bandwidth,
                    "link_bound_s": storm.link_bound_s(count, hub_bytes_s, mirror),
                }
                result.append(Point(label, tuple(overrides), extra))
    return result


def pull_share(result: Result) -> float | None:
    """The mean share of a replica's start-up spent downloading and extracting its image."""
    shares = [
        (replica.pull_download_s + replica.pull_extract_s) / replica.startup_s
        for replica in result.replicas
        if replica.startup_s
    ]
    return statistics.fmean(shares) if shares else None


def gigabytes(key: str) -> Callable[[Result], float | None]:
    return lambda result: result.summary[key] / GB


def gb_from_hub(result: Result) -> float:
    """What left the origin: its blobs sent to hosts plus what mirrors fetched from it."""
    direct = sum(pull.bytes_downloaded for pull in result.pulls if pull.registry == ORIGIN)
    return (direct + result.summary["bytes_from_upstream"]) / GB


METRICS: dict[str, Callable[[Result], float | None]] = {
    "startup_s_p50": summary_metric("startup_s_p50"),
    "startup_s_p95": summary_metric("startup_s_p95"),
    "startup_s_max": summary_metric("startup_s_max"),
    "pull_share": pull_share,
    "gb_from_registry": gigabytes("bytes_from_registry"),
    "gb_from_upstream": gigabytes("bytes_from_upstream"),
    "gb_from_hub": gb_from_hub,
    "pulls_failed": summary_metric("pulls_failed"),
    "replicas_started": summary_metric("replicas_started"),
}


def _hosts_axis(axis: Any, hosts: Sequence[int], label: str) -> None:
    axis.set_xscale("log", base=2)
    axis.set_xticks(list(hosts), [str(count) for count in hosts])
    axis.minorticks_off()
    axis.set_xlabel(label)


def _finite(value: float | None) -> float:
    return 0.0 if value is None or math.isnan(value) else value


def _series(rows: Sequence[dict[str, Any]], mirror: bool, bandwidth: str) -> list[dict[str, Any]]:
    chosen = [r for r in rows if r["mirror"] == mirror and r["hub_bandwidth"] == bandwidth]
    return sorted(chosen, key=lambda row: row["hosts"])


def _hosts(rows: Sequence[dict[str, Any]]) -> list[int]:
    return sorted({row["hosts"] for row in rows})


def _style(mirror: bool, bandwidth: str) -> dict[str, Any]:
    return {
        "color": f"C{HUB_BANDWIDTHS.index(bandwidth)}",
        "ls": "-" if mirror else "--",
        "marker": "o" if mirror else "s",
        "label": f"hub {bandwidth}, {'10 Gbit/s mirror' if mirror else 'no mirror'}",
    }


def plot_p95(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """Start-up p95 against the number of hosts, one line per (mirror, hub bandwidth)."""
    fig, axis = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    for mirror in (False, True):
        for bandwidth in HUB_BANDWIDTHS:
            series = _series(rows, mirror, bandwidth)
            axis.errorbar(
                [row["hosts"] for row in series],
                [row["startup_s_p95"] for row in series],
                yerr=[_finite(row["startup_s_p95_ci95"]) for row in series],
                capsize=3,
                ms=4,
                **_style(mirror, bandwidth),
            )
    for index, bandwidth in enumerate(HUB_BANDWIDTHS):
        series = _series(rows, False, bandwidth)
        axis.plot(
            [row["hosts"] for row in series],
            [row["link_bound_s"] for row in series],
            color="0.5",
            ls=":",
            lw=1,
            label="N × image / hub bandwidth" if index == 0 else None,
        )
    _hosts_axis(axis, _hosts(rows), "hosts starting at once, N (log scale)")
    axis.set_yscale("log")
    axis.set_ylabel("start-up p95 (s, log scale)")
    axis.set_title(title, fontsize=9)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_traffic(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """What the hub sends, and how much faster the mirror makes the roll-out."""
    fig, (bytes_axis, ratio_axis) = plt.subplots(1, 2, figsize=(8, 3.6), dpi=120)
    reference = HUB_BANDWIDTHS[0]  # the hub's egress does not depend on its bandwidth
    for mirror in (False, True):
        series = _series(rows, mirror, reference)
        style = _style(mirror, reference) | {"color": "C2" if mirror else "C3"}
        style["label"] = "10 Gbit/s mirror" if mirror else "no mirror"
        bytes_axis.errorbar(
            [row["hosts"] for row in series],
            [row["gb_from_hub"] for row in series],
            yerr=[_finite(row["gb_from_hub_ci95"]) for row in series],
            capsize=3,
            ms=4,
            **style,
        )
    _hosts_axis(bytes_axis, _hosts(rows), "hosts N (log scale)")
    bytes_axis.set_yscale("log")
    bytes_axis.set_ylabel("GB sent by the hub (log scale)")
    bytes_axis.set_title("Hub egress (either hub bandwidth)", fontsize=9)
    bytes_axis.grid(True, which="both", alpha=0.3)
    bytes_axis.legend(fontsize=7)
    slower: list[str] = []
    for bandwidth in HUB_BANDWIDTHS:
        direct = _series(rows, False, bandwidth)
        mirrored = {row["hosts"]: row for row in _series(rows, True, bandwidth)}
        hosts = [row["hosts"] for row in direct if row["hosts"] in mirrored]
        speedup = [
            row["startup_s_p95"] / mirrored[row["hosts"]]["startup_s_p95"]
            for row in direct
            if row["hosts"] in mirrored
        ]
        ratio_axis.plot(
            hosts,
            speedup,
            marker="o",
            ms=4,
            color=_style(True, bandwidth)["color"],
            label=f"hub {bandwidth}",
        )
        slower.extend(
            f"{ratio:.2f}× (N = {count}, {bandwidth})"
            for count, ratio in zip(hosts, speedup, strict=True)
            if ratio < 1.0
        )
    if slower:  # store-and-forward: with one host the mirror only adds its own copy
        ratio_axis.text(
            0.97,
            0.04,
            "below 1: " + ", ".join(slower) + "\n(the mirror stores a blob, then forwards it)",
            transform=ratio_axis.transAxes,
            ha="right",
            fontsize=6.5,
        )
    ratio_axis.axhline(1.0, color="0.5", lw=1, ls=":")
    _hosts_axis(ratio_axis, _hosts(rows), "hosts N (log scale)")
    ratio_axis.set_yscale("log")
    ratio_axis.set_ylim(bottom=0.5)
    ratio_axis.set_ylabel("p95 without / with mirror (×, log)")
    ratio_axis.set_title("Mirror speed-up of start-up p95", fontsize=9)
    ratio_axis.grid(True, which="both", alpha=0.3)
    ratio_axis.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications", type=int, default=None, help="seeds per point (default 10; 2 quick)"
    )
    parser.add_argument("--quick", action="store_true", help="N = 2 and 8, 2 seeds")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    replications = args.replications or (2 if args.quick else 10)
    common = (*COMMON, *QUICK) if args.quick else COMMON
    storm = read_storm(common)

    runs = run_study(
        points(HOSTS_QUICK if args.quick else HOSTS_FULL, storm),
        replications,
        common=common,
        progress=False if args.no_progress else None,
    )
    rows = study_table(runs, METRICS)

    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    image = f"{storm.image_bytes / 1e6:g} MB image"
    print_table(
        rows,
        f"Registry storm: N hosts start one {image} from the hub at once "
        f"(mean ± 95 % CI of {replications} seeds)",
        COLUMNS,
    )
    plot_p95(
        rows,
        args.out / f"{STUDY}_p95.png",
        f"Registry storm: start-up p95 vs hosts ({image}, one replica per host)\n"
        f"mean ± 95 % CI of {replications} seeds; dotted: the hub link's bound",
    )
    plot_traffic(
        rows,
        args.out / f"{STUDY}_traffic.png",
        f"Registry storm with and without a pull-through mirror ({image}, {replications} seeds)",
    )
    return rows


if __name__ == "__main__":
    main()
