"""Registry storm: N hosts start the same image from Docker Hub at once, behind one uplink.

A DaemonSet-style roll-out (``workload=storm``: one replica per host at t = 0) of the
``storm-app`` image (350 MB compressed in three layers, from the public ``hub``) on N
hosts of ``cluster=large`` (a 10 Gbit/s star, no cluster scaler): the
``registry_storm`` preset (``sim +experiment=registry_storm``), with the network a real
cluster has between it and the hub. Docker Hub is a content delivery network, far faster
than any one cluster's way out to it, so here the hub's own link is 100 Gbit/s and every
pull from it crosses the cluster's **egress link** (``network.egress``: a NAT gateway
or an on-premises uplink) of 1 Gbit/s or 100 Mbit/s. The study varies

* hosts N = 1, 2, 4, ..., 128;
* the egress bandwidth: 1 Gbit/s, 100 Mbit/s;
* the mirror: none; a pull-through mirror inside the cluster at 10 Gbit/s; the same
  mirror at the egress bandwidth (equal bandwidth: what the mirror gains beyond
  bandwidth, by sending one copy through the uplink);
* how the hub counts its pull limit, without a mirror: per host (every host has its own
  address: the limit never binds), or all hosts behind **one NAT address**, at each of
  the two limits Docker Hub's documentation has given for anonymous pulls: 100 per 6 h
  per IPv4 address, and 10 per hour. A refused pull is retried with the kubelet's
  ``ImagePullBackOff`` (10 s doubling to 5 min) until the horizon (6 h).

Without a mirror the uplink carries N copies of the image, so the last replica cannot be
ready before N x 350 MB / egress bandwidth (``link_bound_s``). With the mirror the uplink
carries one copy and the mirror's link the N copies; the mirror fetches a whole blob
before serving it (no streaming), so the bound there is max(350 MB / egress bandwidth,
N x 350 MB / mirror bandwidth): with a mirror no faster than the uplink it is the same
bound as without one.

The storm is deterministic but for the containers' create, start and init draws (under
a second against tens to thousands of seconds of transfer), so each point runs **one
seed**: ten seeds would add nothing but time.

Run ``python experiments/registry_storm.py`` (80 points, one seed each, about a minute
on a 2-core machine); ``--quick`` runs N = 2 and 16 at 1 Gbit/s.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import sim  # noqa: E402
from sim.batch.study import (  # noqa: E402
    Measure,
    Point,
    print_table,
    run_study,
    study_table,
    summary_metric,
    write_table,
)
from sim.batch.study_figures import (  # noqa: E402
    figure_options,
    save_figure,
)
from sim.core.intervals import NON_NEGATIVE, SHARE  # noqa: E402
from sim.core.units import parse_bandwidth, parse_size  # noqa: E402
from sim.output.results import Result  # noqa: E402

STUDY = "registry_storm"
IMAGE = "storm-app"
ORIGIN = "hub"
MIRROR = "mirror"
GB = 1e9
HUB_CDN = "100Gbps"  # Docker Hub's side: far above any one cluster's uplink
MIRROR_FAST = "10Gbps"

COMMON = (
    "+experiment=registry_storm",
    "progress=false",
    f"registry.{ORIGIN}.bandwidth={HUB_CDN}",
)
HOSTS_FULL = (1, 2, 4, 8, 16, 32, 64, 128)
HOSTS_QUICK = (2, 16)
EGRESS_BANDWIDTHS = ("1Gbps", "100Mbps")
QUICK_EGRESS = ("1Gbps",)
QUICK = ("horizon=2h",)
MIRRORS = ("none", "fast", "equal")  # no mirror; 10 Gbit/s; the egress bandwidth
LIMITS = {  # how the hub counts pulls (without a mirror)
    "per host": (),
    "one NAT IP, 100 per 6 h": ("network.nat_gateways=1",),
    "one NAT IP, 10 per hour": (
        "network.nat_gateways=1",
        f"registry.{ORIGIN}.pull_limit={{count: 10, window: 1h}}",
    ),
}

COLUMNS = (  # printed; the CSV also has startup_s_max, gb_from_hub and more
    "startup_s_p50",
    "startup_s_p95",
    "link_bound_s",
    "ready_share",
    "pulls_failed",
    "gb_through_egress",
)


@dataclass(frozen=True)
class Storm:
    """What the bounds need: the image's compressed size."""

    image_bytes: int

    def link_bound_s(
        self, hosts: int, egress_bytes_s: float, mirror_bytes_s: float | None
    ) -> float:
        """A lower bound on the last replica's start-up set by the links: N copies
        through the uplink, or one through it and N through the mirror's link."""
        if mirror_bytes_s is None:
            return hosts * self.image_bytes / egress_bytes_s
        return max(self.image_bytes / egress_bytes_s, hosts * self.image_bytes / mirror_bytes_s)


def read_storm(common: Sequence[str]) -> Storm:
    """The image's compressed size, from the composed preset."""
    config = sim.load_config(list(common))
    image_bytes = 0
    for step in config.images[IMAGE].steps:
        layer_key = next((key for key in ("ADD", "COPY", "RUN") if key in step), None)
        if layer_key is not None:
            size = step.get("compressed", step["size"])
            image_bytes += parse_size(size, f"images.{IMAGE}")
    return Storm(image_bytes)


def label(mirror: str, egress: str, limit: str, hosts: int) -> str:
    """A point's label, as the table and the sensitivity study name it."""
    where = {"none": "no mirror", "fast": "mirror 10 Gbit/s", "equal": "mirror at uplink speed"}
    return f"{where[mirror]}, uplink {egress}, {limit}, N={hosts}"


def points(
    hosts: Sequence[int], storm: Storm, egresses: Sequence[str] = EGRESS_BANDWIDTHS
) -> list[Point]:
    """Every (mirror, uplink, limit, hosts) combination; the limit forms without a mirror
    only (through a mirror the hub sees one client pulling once)."""
    result = []
    for mirror in MIRRORS:
        for egress in egresses:
            egress_bytes_s = parse_bandwidth(egress, "network.egress.bandwidth")
            mirror_bandwidth = {"none": None, "fast": MIRROR_FAST, "equal": egress}[mirror]
            mirror_bytes_s = (
                parse_bandwidth(mirror_bandwidth, "registry.mirror.bandwidth")
                if mirror_bandwidth is not None
                else None
            )
            limits = LIMITS if mirror == "none" else {"per host": ()}
            for limit, limit_overrides in limits.items():
                for count in hosts:
                    overrides = [
                        f"cluster.pools.node.count={count}",
                        f"+network.egress={{bandwidth: {egress}, latency: 5ms, "
                        f"registries: [{ORIGIN}]}}",
                        *limit_overrides,
                    ]
                    if mirror_bandwidth is None:
                        overrides.append("~cluster.registry_mirrors")
                    else:
                        overrides.append(f"registry.{MIRROR}.bandwidth={mirror_bandwidth}")
                    extra = {
                        "hosts": count,
                        "mirror": mirror,
                        "egress": egress,
                        "limit": limit,
                        "link_bound_s": storm.link_bound_s(count, egress_bytes_s, mirror_bytes_s),
                    }
                    result.append(
                        Point(label(mirror, egress, limit, count), tuple(overrides), extra)
                    )
    return result


def pull_share(result: Result) -> float | None:
    """The mean share of a replica's start-up spent downloading and extracting its image."""
    shares = [
        (replica.pull_download_s + replica.pull_extract_s) / replica.startup_s
        for replica in result.replicas
        if replica.startup_s
    ]
    return statistics.fmean(shares) if shares else None


def gigabytes(key: str) -> Measure:
    return Measure(lambda result: result.summary[key] / GB, NON_NEGATIVE)


def gb_from_hub(result: Result) -> float:
    """What left the origin, all through the uplink: its blobs sent to hosts plus what
    mirrors fetched from it."""
    direct = sum(pull.bytes_downloaded for pull in result.pulls if pull.registry == ORIGIN)
    return (direct + result.summary["bytes_from_upstream"]) / GB


def ready_share(result: Result) -> float:
    """Replicas ready by the horizon over replicas asked for."""
    return result.summary["replicas_started"] / result.summary["replicas_requested"]


METRICS: dict[str, Measure] = {
    "startup_s_p50": summary_metric("startup_s_p50"),
    "startup_s_p95": summary_metric("startup_s_p95"),
    "startup_s_max": summary_metric("startup_s_max"),
    "pull_share": Measure(pull_share, SHARE),
    "gb_from_registry": gigabytes("bytes_from_registry"),
    "gb_from_upstream": gigabytes("bytes_from_upstream"),
    "gb_through_egress": Measure(gb_from_hub, NON_NEGATIVE),
    "pulls_failed": summary_metric("pulls_failed"),
    "replicas_started": summary_metric("replicas_started"),
    "ready_share": Measure(ready_share, SHARE),
}


# --- Figures -----------------------------------------------------------------------------


def _hosts_axis(axis: Any, hosts: Sequence[int], label_text: str) -> None:
    axis.set_xscale("log", base=2)
    axis.set_xticks(list(hosts), [str(count) for count in hosts])
    axis.minorticks_off()
    axis.set_xlabel(label_text)


def _series(
    rows: Sequence[dict[str, Any]], mirror: str, egress: str, limit: str = "per host"
) -> list[dict[str, Any]]:
    chosen = [
        r for r in rows if r["mirror"] == mirror and r["egress"] == egress and r["limit"] == limit
    ]
    return sorted(chosen, key=lambda row: row["hosts"])


def _hosts(rows: Sequence[dict[str, Any]]) -> list[int]:
    return sorted({row["hosts"] for row in rows})


MIRROR_STYLE = {
    "none": {"ls": "--", "marker": "s", "what": "no mirror"},
    "fast": {"ls": "-", "marker": "o", "what": "mirror at 10 Gbit/s"},
    "equal": {"ls": "-.", "marker": "^", "what": "mirror at uplink speed"},
}


def plot_p95(
    rows: Sequence[dict[str, Any]], path: Path, title: str, args: argparse.Namespace
) -> None:
    """Start-up p95 against the number of hosts, one panel per uplink, one line per
    mirror; each panel's dotted lines are its link bounds, labelled one by one."""
    egresses = [e for e in EGRESS_BANDWIDTHS if any(r["egress"] == e for r in rows)]
    fig, axes = plt.subplots(
        1, len(egresses), figsize=(max(7.0, 5.2 * len(egresses)), 4.6), squeeze=False
    )
    for axis, egress in zip(axes[0], egresses, strict=True):
        for index, mirror in enumerate(MIRRORS):
            series = _series(rows, mirror, egress)
            style = MIRROR_STYLE[mirror]
            axis.plot(
                [row["hosts"] for row in series],
                [row["startup_s_p95"] for row in series],
                ls=style["ls"],
                marker=style["marker"],
                ms=4,
                color=f"C{index}",
                label=f"{style['what']} (p95, one seed)",
            )
        bounds = {
            "N × image / uplink (no mirror; mirror at uplink speed)": "none",
            "max(image / uplink, N × image / 10 Gbit/s) (mirror at 10 Gbit/s)": "fast",
        }
        for index, (text, mirror) in enumerate(bounds.items()):
            series = _series(rows, mirror, egress)
            axis.plot(
                [row["hosts"] for row in series],
                [row["link_bound_s"] for row in series],
                color="0.4" if index == 0 else "0.7",
                ls=":",
                lw=1.2,
                label=f"bound: {text}",
            )
        _hosts_axis(axis, _hosts(rows), "hosts starting at once, N (log scale)")
        axis.set_yscale("log")
        axis.set_ylabel("start-up p95 (s, log scale)")
        axis.set_title(f"uplink {egress} (hub: a CDN behind it)", fontsize=9)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=6.5, loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def plot_limits(
    rows: Sequence[dict[str, Any]], path: Path, title: str, args: argparse.Namespace
) -> None:
    """Without a mirror, behind one NAT address: the share of replicas ready by the
    horizon and the p95 of those ready, per pull-limit form (1 Gbit/s uplink)."""
    egress = EGRESS_BANDWIDTHS[0]
    fig, (ready_axis, p95_axis) = plt.subplots(1, 2, figsize=(9, 3.8))
    for index, limit in enumerate(LIMITS):
        series = _series(rows, "none", egress, limit)
        hosts = [row["hosts"] for row in series]
        style = {"marker": "os^"[index], "color": f"C{index + 3}", "label": limit}
        ready_axis.plot(hosts, [row["ready_share"] for row in series], **style)
        p95_axis.plot(hosts, [row["startup_s_p95"] for row in series], **style)
    mirrored = _series(rows, "fast", egress)
    p95_axis.plot(
        [row["hosts"] for row in mirrored],
        [row["startup_s_p95"] for row in mirrored],
        marker="o",
        color="C1",
        ls="-",
        label="mirror at 10 Gbit/s (one pull)",
    )
    for axis in (ready_axis, p95_axis):
        _hosts_axis(axis, _hosts(rows), "hosts N (log scale)")
        axis.grid(True, which="both", alpha=0.3)
    ready_axis.set_ylim(0, 1.05)
    ready_axis.set_ylabel("replicas ready by the horizon (share)")
    p95_axis.set_yscale("log")
    p95_axis.set_ylabel("start-up p95 of those ready (s, log)")
    p95_axis.legend(fontsize=7)
    ready_axis.set_title("Docker Hub's anonymous limit behind one NAT address", fontsize=9)
    p95_axis.set_title(f"uplink {egress}; refused pulls back off and retry", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def plot_traffic(
    rows: Sequence[dict[str, Any]], path: Path, title: str, args: argparse.Namespace
) -> None:
    """What crosses the uplink, and how much faster each mirror makes the roll-out."""
    fig, (bytes_axis, ratio_axis) = plt.subplots(1, 2, figsize=(9, 3.8))
    reference = EGRESS_BANDWIDTHS[0]
    # Either mirror sends the same one copy through the uplink: one line, not two on
    # top of each other.
    for index, (mirror, what) in enumerate(
        (("none", "no mirror"), ("fast", "a mirror, at 10 Gbit/s or at uplink speed"))
    ):
        series = _series(rows, mirror, reference)
        bytes_axis.plot(
            [row["hosts"] for row in series],
            [row["gb_through_egress"] for row in series],
            ls=MIRROR_STYLE[mirror]["ls"],
            marker=MIRROR_STYLE[mirror]["marker"],
            ms=4,
            color=f"C{index}",
            label=what,
        )
    _hosts_axis(bytes_axis, _hosts(rows), "hosts N (log scale)")
    bytes_axis.set_yscale("log")
    bytes_axis.set_ylabel("GB through the uplink (log scale)")
    bytes_axis.set_title("Hub traffic through the uplink (either speed)", fontsize=9)
    bytes_axis.grid(True, which="both", alpha=0.3)
    bytes_axis.legend(fontsize=7)
    for e_index, egress in enumerate(
        e for e in EGRESS_BANDWIDTHS if any(r["egress"] == e for r in rows)
    ):
        direct = {row["hosts"]: row for row in _series(rows, "none", egress)}
        for m_index, mirror in enumerate(("fast", "equal")):
            series = _series(rows, mirror, egress)
            hosts = [row["hosts"] for row in series if row["hosts"] in direct]
            speedup = [
                direct[row["hosts"]]["startup_s_p95"] / row["startup_s_p95"]
                for row in series
                if row["hosts"] in direct
            ]
            ratio_axis.plot(
                hosts,
                speedup,
                marker=MIRROR_STYLE[mirror]["marker"],
                ls=MIRROR_STYLE[mirror]["ls"],
                ms=4,
                color=f"C{m_index + 1}",
                alpha=1.0 if e_index == 0 else 0.5,
                label=f"{MIRROR_STYLE[mirror]['what']}, uplink {egress}",
            )
    ratio_axis.axhline(1.0, color="0.5", lw=1, ls=":")
    _hosts_axis(ratio_axis, _hosts(rows), "hosts N (log scale)")
    ratio_axis.set_yscale("log")
    ratio_axis.set_ylabel("p95 without / with mirror (×, log)")
    ratio_axis.set_title("Mirror speed-up of start-up p95", fontsize=9)
    ratio_axis.grid(True, which="both", alpha=0.3)
    ratio_axis.legend(fontsize=6.5)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, args)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--replications", type=int, default=1, help="seeds per point (default 1: deterministic)"
    )
    parser.add_argument("--quick", action="store_true", help="N = 2 and 16, 1 Gbit/s uplink")
    parser.add_argument("--no-progress", action="store_true")
    figure_options(parser)
    args = parser.parse_args(argv)
    replications = args.replications
    common = (*COMMON, *QUICK) if args.quick else COMMON
    storm = read_storm(common)

    runs = run_study(
        points(
            HOSTS_QUICK if args.quick else HOSTS_FULL,
            storm,
            QUICK_EGRESS if args.quick else EGRESS_BANDWIDTHS,
        ),
        replications,
        common=common,
        progress=False if args.no_progress else None,
    )
    rows = study_table(runs, METRICS)

    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    image = f"{storm.image_bytes / 1e6:g} MB image"
    seeds = f"{replications} seed{'s' if replications > 1 else ''}"
    print_table(
        rows,
        f"Registry storm: N hosts start one {image} from the hub at once, behind one uplink "
        f"({seeds})",
        COLUMNS,
    )
    plot_p95(
        rows,
        args.out / f"{STUDY}_p95",
        f"Registry storm: start-up p95 against hosts\n({image}, one replica per host, {seeds})",
        args,
    )
    plot_traffic(
        rows,
        args.out / f"{STUDY}_traffic",
        f"Registry storm with and without a pull-through mirror ({image}, {seeds})",
        args,
    )
    plot_limits(
        rows,
        args.out / f"{STUDY}_limits",
        f"Registry storm without a mirror: the hub's pull limit per address ({image}, {seeds})",
        args,
    )
    return rows


if __name__ == "__main__":
    main()
