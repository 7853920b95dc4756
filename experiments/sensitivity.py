"""Sensitivity: which uncertain defaults, if off by 2x, would flip a study's conclusion.

The confidence intervals of the studies show seed noise only. Here each uncertain
default is halved and doubled, one at a time, and each study's headline conclusion is
re-measured as a *margin* whose sign is the conclusion (positive: it holds). A bar that
crosses zero is a default that flips it. The defaults:

* ``vm_boot``, ``vm_provision`` — the guest boot and the provisioning of VMs and
  microVMs (for a VM on its own instance, the EC2 launch);
* ``extraction`` — the hosts' image extraction rate (150 MB/s);
* ``registry_bandwidth`` — every registry's link (hub 1, mirror 10, private 5 Gbit/s);
* ``app_init`` — the web app's initialisation (lognormal, median 2 s);
* ``container_start`` — the runtime's start of a container (median 0.57 s);
* ``request_cpu`` — the CPU time of a request (exponential, mean 50 ms), i.e. the load.

The conclusions, each with the runs it needs, smaller than its study's to keep the whole
screen near two minutes of CPU:

1. *startup/microvm*: a microVM starts faster than a warm container (warm mean minus
   microVM mean, seconds; 3 seeds × 6 replicas each);
2. *startup/pull*: the cold pull is a smaller share of container start-up than Slacker's
   76 % (0.76 minus the share; same runs);
3. *autoscalers/hpa*: the HPA drops a smaller share of a flash crowd than target
   tracking (the difference of the shares; the study's quick crowd, 2 seeds);
4. *cost/web*: one web service costs more on EKS than on right-sized VMs (USD a day;
   a 2-hour cycle, 1 seed);
5. *cost/small*: 16 small services cost less on EKS than on VMs (USD a day; same).

Run ``python experiments/sensitivity.py`` (about 2 minutes on a 2-core machine). A
Morris or Sobol screen (SALib) would also vary the defaults together; it is not done
here: one-at-a-time ×0.5/×2 answers the question asked (which single default flips a
conclusion) with 15 evaluations per conclusion.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling study scripts

import autoscalers  # noqa: E402
import resource_cost  # noqa: E402
import startup  # noqa: E402

from sim.batch.study import Point, StudyRun, run_study, write_table  # noqa: E402
from sim.output.results import Result  # noqa: E402

STUDY = "sensitivity"
FACTORS = (0.5, 2.0)


@dataclass(frozen=True)
class Default:
    """An uncertain default and how to scale it by a factor on each study's config."""

    name: str
    overrides: Callable[[float, frozenset[str]], tuple[str, ...]]
    """The overrides for a factor, given the platforms the study's config has."""


def _lognormal(median_s: float, sigma: float) -> str:
    return f"{{dist: lognormal, median: {median_s:g}s, sigma: {sigma:g}}}"


def _vm_boot(factor: float, platforms: frozenset[str]) -> tuple[str, ...]:
    overrides = []
    if "vm" in platforms:
        overrides.append(f"platform.vm.boot={_lognormal(13.0 * factor, 0.6)}")
    if "microvm" in platforms:
        overrides.append(f"platform.microvm.boot={_lognormal(0.060 * factor, 0.32)}")
    return tuple(overrides)


def _vm_provision(factor: float, platforms: frozenset[str]) -> tuple[str, ...]:
    overrides = []
    if "vm-instance" in platforms:  # a VM on its own EC2 instance: the calibrated launch
        overrides.append(f"platform.vm.provision={_lognormal(14.5 * factor, 0.55)}")
    elif "vm" in platforms:
        overrides.append(f"platform.vm.provision={_lognormal(8.0 * factor, 0.3)}")
    if "microvm" in platforms:
        overrides.append(f"platform.microvm.provision={_lognormal(0.040 * factor, 0.3)}")
    return tuple(overrides)


def _extraction(factor: float, _: frozenset[str]) -> tuple[str, ...]:
    return (f"cluster.engine.extraction={150 * factor:g}MB/s",)


def _registry_bandwidth(factor: float, _: frozenset[str]) -> tuple[str, ...]:
    return tuple(
        f"registry.{name}.bandwidth={gbps * factor:g}Gbps"
        for name, gbps in (("hub", 1.0), ("mirror", 10.0), ("ecr", 5.0))
    )


def _app_init(factor: float, _: frozenset[str]) -> tuple[str, ...]:
    return (f"workload.apps.web.init={_lognormal(2.0 * factor, 0.3)}",)


def _container_start(factor: float, platforms: frozenset[str]) -> tuple[str, ...]:
    if "container" not in platforms:
        return ()
    return (f"platform.container.runtime_start={_lognormal(0.57 * factor, 0.25)}",)


def _request_cpu(factor: float, platforms: frozenset[str]) -> tuple[str, ...]:
    if "traffic" not in platforms:
        return ()
    return (f"workload.traffic.request.cpu={{dist: exponential, mean: {50 * factor:g}ms}}",)


DEFAULTS = (
    Default("vm_boot", _vm_boot),
    Default("vm_provision", _vm_provision),
    Default("extraction", _extraction),
    Default("registry_bandwidth", _registry_bandwidth),
    Default("app_init", _app_init),
    Default("container_start", _container_start),
    Default("request_cpu", _request_cpu),
)


@dataclass(frozen=True)
class Conclusion:
    """A study's headline conclusion as a margin (positive: it holds)."""

    name: str
    statement: str
    unit: str


@dataclass(frozen=True)
class Experiment:
    """The runs some conclusions share: their points, seeds and common overrides, what
    the study's config holds (platforms, and ``traffic`` if requests are served), and
    how the conclusions' margins come from the runs."""

    points: tuple[Point, ...]
    replications: int
    common: tuple[str, ...]
    has: frozenset[str]
    conclusions: tuple[Conclusion, ...]
    margins: Callable[[Sequence[StudyRun]], dict[str, float]]


def _of(runs: Sequence[StudyRun], label: str) -> list[Result]:
    return [run.result for run in runs if run.point.label == label]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


# 1, 2: start-up --------------------------------------------------------------------------

STARTUP_LABELS = ("microvm", "container warm", "container cold")


def _startup_margins(runs: Sequence[StudyRun]) -> dict[str, float]:
    def measured(label: str) -> list[Any]:
        return [
            replica
            for result in _of(runs, label)
            for replica in startup.measured(result, startup.MEASURED_FROM_S[label])
        ]

    def mean_startup(label: str) -> float:
        return _mean([r.startup_s for r in measured(label)])

    cold = measured("container cold")
    pull = sum(r.pull_download_s + r.pull_extract_s for r in cold)
    share = pull / sum(r.startup_s for r in cold)
    return {
        "startup/microvm": mean_startup("container warm") - mean_startup("microvm"),
        "startup/pull": startup.SLACKER_PULL_SHARE - share,
    }


STARTUP = Experiment(
    points=tuple(s.point for s in startup.SCENARIOS if s.point.label in STARTUP_LABELS),
    replications=3,
    common=startup.COMMON,
    has=frozenset({"container", "vm", "microvm", "beanstalk-docker"}),
    conclusions=(
        Conclusion("startup/microvm", "a microVM starts faster than a warm container", "seconds"),
        Conclusion("startup/pull", "the cold pull is under Slacker's 76 % of start-up", "share"),
    ),
    margins=_startup_margins,
)

# 3: autoscalers --------------------------------------------------------------------------


def _autoscaler_margins(runs: Sequence[StudyRun]) -> dict[str, float]:
    def share(label: str) -> float:
        results = _of(runs, label)
        dropped = sum(result.summary["requests_dropped"] for result in results)
        return dropped / sum(result.summary["requests_total"] for result in results)

    return {"autoscalers/hpa": share("target_tracking") - share("hpa")}


AUTOSCALERS = Experiment(
    points=tuple(
        Point(policy, autoscalers.POLICIES[policy]) for policy in ("target_tracking", "hpa")
    ),
    replications=2,
    common=(*autoscalers.COMMON, *autoscalers.QUICK.overrides()),
    has=frozenset({"container", "traffic"}),
    conclusions=(
        Conclusion(
            "autoscalers/hpa",
            "the HPA drops fewer requests than target tracking",
            "share of requests",
        ),
    ),
    margins=_autoscaler_margins,
)

# 4, 5: resource cost ---------------------------------------------------------------------

COST_CYCLE = (
    "horizon=2h",
    "workload.traffic.arrivals.period=2h",
    "workload.traffic.arrivals.peak_at=1h",
)
COST_CYCLES_PER_DAY = 12.0
SMALL_SERVICES = 16


def _cost_points() -> tuple[Point, ...]:
    return tuple(
        Point(
            f"{profile.name} {platform}",
            (*overrides, *profile.overrides(profile.services_peak_per_s)),
            {"platforms": (platform,)},
        )
        for profile in (resource_cost.WEB, resource_cost.SMALL)
        for platform, overrides in resource_cost.PLATFORM_OVERRIDES.items()
    )


def _cost_per_day(result: Result, profile: Any, platform: str, services: int) -> float:
    if platform == "vm":
        usd = resource_cost.cheapest_vm(
            profile,
            resource_cost.vm_instance_hours(result),
            resource_cost.used_vcpu_hours(result),
        )[1]
        return usd * services * COST_CYCLES_PER_DAY
    packing = resource_cost.cheapest_packing(
        profile,
        [resource_cost.held_replicas(result)] * services,
        resource_cost.sample_period_s(result),
        resource_cost.used_vcpu_hours(result) * services,
    )
    return packing.usd * COST_CYCLES_PER_DAY


def _cost_margins(runs: Sequence[StudyRun]) -> dict[str, float]:
    def cost(profile: Any, platform: str, services: int) -> float:
        results = _of(runs, f"{profile.name} {platform}")
        return _mean([_cost_per_day(result, profile, platform, services) for result in results])

    web, small = resource_cost.WEB, resource_cost.SMALL
    return {
        "cost/web": cost(web, "container", 1) - cost(web, "vm", 1),
        "cost/small": cost(small, "vm", SMALL_SERVICES) - cost(small, "container", SMALL_SERVICES),
    }


COST = Experiment(
    points=_cost_points(),
    replications=1,
    common=(*resource_cost.COMMON, *COST_CYCLE),
    has=frozenset({"container", "vm", "vm-instance", "traffic"}),
    conclusions=(
        Conclusion("cost/web", "one web service costs more on EKS than on VMs", "USD/day"),
        Conclusion("cost/small", f"{SMALL_SERVICES} small services cost less on EKS", "USD/day"),
    ),
    margins=_cost_margins,
)

EXPERIMENTS = (STARTUP, AUTOSCALERS, COST)


def _for_point(point: Point, extra: Sequence[str]) -> tuple[str, ...]:
    """The overrides a point's config can take: a point that names its platforms
    (``extra["platforms"]``) takes no other platform's settings."""
    platforms = point.extra.get("platforms")
    if platforms is None:
        return tuple(extra)
    return tuple(
        override
        for override in extra
        if not override.startswith("platform.") or override.split(".")[1] in platforms
    )


def evaluate(experiment: Experiment, extra: Sequence[str]) -> dict[str, float]:
    """The experiment's margins with `extra` overrides after its own."""
    points = [
        Point(p.label, (*p.overrides, *_for_point(p, extra)), p.extra) for p in experiment.points
    ]
    runs = run_study(points, experiment.replications, common=experiment.common, progress=False)
    return experiment.margins(runs)


def screen(experiments: Sequence[Experiment] = EXPERIMENTS) -> list[dict[str, Any]]:
    """One row per conclusion and default: the baseline margin and the margins at ×0.5
    and ×2, and whether either flips the conclusion."""
    rows = []
    for experiment in experiments:
        baseline = evaluate(experiment, ())
        scaled: dict[tuple[str, float], dict[str, float]] = {}
        for default in DEFAULTS:
            for factor in FACTORS:
                overrides = default.overrides(factor, experiment.has)
                scaled[default.name, factor] = (
                    evaluate(experiment, overrides) if overrides else baseline
                )
        for conclusion in experiment.conclusions:
            base = baseline[conclusion.name]
            for default in DEFAULTS:
                low = scaled[default.name, FACTORS[0]][conclusion.name]
                high = scaled[default.name, FACTORS[1]][conclusion.name]
                rows.append(
                    {
                        "conclusion": conclusion.name,
                        "statement": conclusion.statement,
                        "unit": conclusion.unit,
                        "default": default.name,
                        "baseline": base,
                        "at_half": low,
                        "at_double": high,
                        "applies": bool(default.overrides(1.0, experiment.has)),
                        "flips": flips(base, low, high),
                    }
                )
    return rows


def flips(baseline: float, *varied: float) -> bool:
    """Whether a varied margin has the other sign than the baseline (or is zero)."""
    return any(value * baseline <= 0 for value in varied)


def plot_tornado(rows: Sequence[dict[str, Any]], axis: Any) -> None:
    """One conclusion's tornado: per default, a bar from its margin at ×0.5 to its
    margin at ×2, widest swing on top; red where the margin crosses zero."""
    ordered = sorted(rows, key=lambda row: abs(row["at_double"] - row["at_half"]))
    base = rows[0]["baseline"]
    for index, row in enumerate(ordered):
        colour = "#d62728" if row["flips"] else "#4878a8"
        for value, hatch in ((row["at_half"], ""), (row["at_double"], "//")):
            axis.barh(
                index,
                value - base,
                left=base,
                color=colour,
                alpha=0.45 if hatch else 0.8,
                hatch=hatch,
                edgecolor=colour,
                height=0.6,
            )
    axis.axvline(base, color="k", lw=0.8)
    axis.axvline(0.0, color="#d62728", ls=":", lw=1.0)
    axis.set_yticks(
        range(len(ordered)),
        [row["default"] + ("" if row["applies"] else " (n/a)") for row in ordered],
        fontsize=7,
    )
    axis.set_xlabel(f"margin ({rows[0]['unit']}); > 0: holds", fontsize=7)
    axis.tick_params(axis="x", labelsize=7)
    axis.set_title(f"{rows[0]['conclusion']}: {rows[0]['statement']}", fontsize=8)


def plot(rows: Sequence[dict[str, Any]], folder: Path) -> list[Path]:
    """A tornado per conclusion, and all of them in one figure."""
    names = list(dict.fromkeys(row["conclusion"] for row in rows))
    paths = []
    columns = 2
    grid_rows = math.ceil(len(names) / columns)
    combined, axes = plt.subplots(grid_rows, columns, figsize=(10, 2.6 * grid_rows), dpi=110)
    for axis, name in zip(axes.flat, names, strict=False):
        plot_tornado([row for row in rows if row["conclusion"] == name], axis)
    for axis in axes.flat[len(names) :]:
        axis.set_visible(False)
    combined.suptitle(
        "Which default, halved (solid) or doubled (hatched), moves each conclusion's margin "
        "(black: as calibrated; red dotted: the conclusion flips)",
        fontsize=9,
    )
    combined.tight_layout()
    path = folder / f"{STUDY}_tornado.png"
    combined.savefig(path)
    plt.close(combined)
    paths.append(path)
    for name in names:
        figure, axis = plt.subplots(figsize=(6, 2.8), dpi=110)
        plot_tornado([row for row in rows if row["conclusion"] == name], axis)
        figure.tight_layout()
        single = folder / f"{STUDY}_{name.replace('/', '_')}.png"
        figure.savefig(single)
        plt.close(figure)
        paths.append(single)
    return paths


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument(
        "--quick", action="store_true", help="the autoscaler conclusion only (for tests)"
    )
    parser.add_argument("--no-progress", action="store_true")  # runs are few; no bar
    args = parser.parse_args(argv)
    rows = screen((AUTOSCALERS,) if args.quick else EXPERIMENTS)
    args.out.mkdir(parents=True, exist_ok=True)
    write_table(rows, args.out / f"{STUDY}.csv")
    plot(rows, args.out)
    for row in rows:
        mark = "FLIPS" if row["flips"] else ""
        print(
            f"{row['conclusion']:18} {row['default']:20} base {row['baseline']:+.4g}  "
            f"x0.5 {row['at_half']:+.4g}  x2 {row['at_double']:+.4g}  {mark}"
        )
    return rows


if __name__ == "__main__":
    main()
