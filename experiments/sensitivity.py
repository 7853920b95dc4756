"""Sensitivity: which uncertain defaults flip the studies' headline conclusions.

The studies' figures carry seed noise only. Here each uncertain default is multiplied by
0.5 and by 2, one at a time, around the current defaults, and each study's headline
conclusion, as docs/studies.md states it, is measured again with the same seeds (common
random numbers: a scaled start-up time scales every draw, so a change is the default's
effect, not new noise). The defaults:

* ``VM boot`` — the ``vm`` platform's guest boot (not the microVM's);
* ``VM provisioning`` — the ``vm`` platform's provisioning draw and the disk image it
  copies, so the whole provisioning phase (API, scheduling, disk copy) scales;
* ``extraction`` — the engine's image extraction throughput (×0.5: half as fast);
* ``registry bandwidth`` — every registry's egress bandwidth (the hub, the mirror, ECR)
  and the cluster's uplink to the internet where a study has one;
* ``app init`` — every app's initialisation time;
* ``container start`` — the container runtime's create and start times (containers and
  Beanstalk's Docker platform);
* ``request CPU`` — the CPU time a request needs (only the autoscaler study serves
  requests).
* ``policy cooldowns/warm-up`` — every reaction time of the autoscaler (cooldowns,
  warm-up, the HPA's scale-down stabilisation; a step policy's unset warm-up from its
  default);
* ``Beanstalk boot`` — the ``beanstalk-docker`` platform's instance boot;
* ``image sizes`` — every image layer's size and compressed size.

A factor multiplies the default's value: ×2 of a time is twice as slow, ×2 of a
throughput or bandwidth twice as fast. A default a study's config does not contain
(requests in the start-up study) leaves its config unchanged, and its runs are the base
runs. The conclusions (their points and metrics are the studies' own: each study's
points, `run_study` and table or metrics, so the base column is the study's own value
for these seeds):

* start-up (``experiments/startup.py``): a container starts faster than a VM (the VM's
  mean start-up over the cold container's); a microVM edges out a warm container (the
  warm container's mean minus the microVM's); the cold pull is about half of container
  start-up (taken as 40-60 %); extraction, not download, dominates the pull;
* layer caching (``experiments/layer_caching.py``): one base shared by all 12 apps cuts
  the bytes pulled per started replica, on 8 GB and on 3 GB disks (the saving against a
  base per app);
* registry storm (``experiments/registry_storm.py``, Docker Hub behind a 1 Gbit/s uplink):
  a 10 Gbit/s pull-through mirror speeds start-up p95 up at N = 128 and at N = 2 hosts,
  and at N = 1 it is slightly slower (the p95 without the mirror over the p95 with it);
* autoscalers (``experiments/autoscalers.py``, the flash crowd): the HPA drops the
  fewest requests of the reactive policies (every policy but the fixed pair and
  Beanstalk's default trigger, a fixed fleet of 4); the margin is the next best policy's
  drop share minus the HPA's.

Whether a conclusion holds is decided against seed noise: each seed's own runs give the
conclusion's value for that seed (within a seed every point shares its draws, common
random numbers, so the value is a paired comparison), and the seeds' values give a 95 %
interval (Student's t: the quantities are differences and ratios, unbounded). A variant
*holds* when the whole interval is on the claimed side of the line, *flips* when it is
wholly on the other side, and is a *tie* when the seeds cannot tell; a study run with
one seed (the deterministic storm) is judged by its value. The ``base``, ``x0.5`` and
``x2`` columns are the values from each study's table over all its seeds.

It prints ``conclusion | default | ×0.5 | base | ×2 | flips?``, writes it as
``sensitivity.csv`` (with each variant's interval and verdict) and one tornado figure
per conclusion that some default moves (``sensitivity_<key>.png``: one bar per default
from the base to its ×0.5 and its ×2 value, whiskers their intervals over the seeds,
red where the conclusion no longer holds, grey where it is a tie) into
``experiments/out/sensitivity/``; a conclusion no default moves gets no figure (its
row says so).

Then the interactions: for each conclusion the `SCREENED` (3) defaults that move it
most one at a time are varied together in a full two-level factorial (8 corners at ×0.5
and ×2, the study's own seeds), giving each main effect and two-factor interaction and
the corners where the conclusion stops holding (``sensitivity_screening.csv`` and
``screening ...`` lines).

Run ``python experiments/sensitivity.py`` (start-up 10 seeds, layer caching 5, registry
storm 1 (deterministic), autoscalers 2 seeds on the full two-hour crowd); ``--quick``
runs 1 seed each, the autoscalers with the HPA and target tracking only on a 5-minute
crowd in a 15-minute run.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the studies, as modules

import autoscalers  # noqa: E402
import layer_caching  # noqa: E402
import registry_storm  # noqa: E402
import startup  # noqa: E402

from sim.batch.study import (  # noqa: E402
    Point,
    StudyRun,
    cached_compose,
    run_study,
    study_table,
    write_table,
)
from sim.batch.study_figures import (  # noqa: E402
    figure_options,
    save_figure,
)
from sim.core.distributions import (  # noqa: E402
    Constant,
    Exponential,
    LogNormal,
    Normal,
    Uniform,
    parse_distribution,
)
from sim.core.intervals import UNBOUNDED, Interval, Verdict, mean_interval  # noqa: E402
from sim.core.schema import defaults as setting_defaults  # noqa: E402
from sim.core.streams import RandomStreams  # noqa: E402
from sim.core.units import parse_bandwidth, parse_duration, parse_size  # noqa: E402
from sim.output.report import output_console  # noqa: E402
from sim.policies.autoscaling.step import StepScalingRules  # noqa: E402

STUDY = "sensitivity"
FACTORS = (0.5, 2.0)
STEP_WARMUP_S = setting_defaults(StepScalingRules)["estimated_instance_warmup"]
Config = dict[str, Any]


# --- The defaults and how a factor scales them in a composed (plain) config ----------


def scaled_distribution(spec: object, factor: float, key: str) -> object:
    """A time distribution whose every draw is `factor` times the original's (the same
    uniform gives the scaled value: the scale parameters and the bounds are scaled, a
    lognormal's sigma is not). Written in plain seconds, so nothing is rounded."""
    dist = parse_distribution(spec, key)
    if isinstance(dist, Constant):
        return dist.value * factor
    if isinstance(dist, Exponential):
        return {"dist": "exponential", "mean": dist.scale * factor}
    if isinstance(dist, Uniform):
        return {"dist": "uniform", "low": dist.low * factor, "high": dist.high * factor}
    written: dict[str, Any]
    if isinstance(dist, LogNormal):
        written = {"dist": "lognormal", "median": dist.median * factor, "sigma": dist.sigma}
    elif isinstance(dist, Normal):
        written = {"dist": "normal", "mean": dist.mu * factor, "sd": dist.sigma * factor}
    else:  # pragma: no cover - every kind of sim.core.distributions is handled above
        raise TypeError(f"{key}: cannot scale {dist!r}")
    if dist.minimum is not None:
        written["min"] = dist.minimum * factor
    if dist.maximum is not None:
        written["max"] = dist.maximum * factor
    return written


def _scale_time(section: dict[str, Any], name: str, factor: float, key: str) -> None:
    if section.get(name) is not None:
        section[name] = scaled_distribution(section[name], factor, f"{key}.{name}")


def scale_vm_boot(config: Config, factor: float) -> None:
    vm = config.get("platform", {}).get("vm")
    if vm is not None:
        _scale_time(vm, "boot", factor, "platform.vm")


def scale_vm_provisioning(config: Config, factor: float) -> None:
    vm = config.get("platform", {}).get("vm")
    if vm is not None:
        _scale_time(vm, "provision", factor, "platform.vm")
        vm["disk_image"] = round(parse_size(vm["disk_image"], "platform.vm.disk_image") * factor)


def scale_extraction(config: Config, factor: float) -> None:
    engine = config["cluster"]["engine"]
    engine["extraction"] = (
        parse_bandwidth(engine["extraction"], "cluster.engine.extraction") * factor
    )


def scale_registry_bandwidth(config: Config, factor: float) -> None:
    for name, registry in config.get("registry", {}).items():
        if registry.get("bandwidth") is not None:
            bandwidth = parse_bandwidth(registry["bandwidth"], f"registry.{name}.bandwidth")
            registry["bandwidth"] = bandwidth * factor
    egress = config.get("network", {}).get("egress")
    if egress is not None:
        egress["bandwidth"] = parse_bandwidth(egress["bandwidth"], "network.egress") * factor


def scale_app_init(config: Config, factor: float) -> None:
    for name, app in config["workload"].get("apps", {}).items():
        _scale_time(app, "init", factor, f"workload.apps.{name}")


def scale_container_start(config: Config, factor: float) -> None:
    for name, platform in config.get("platform", {}).items():
        if "runtime_start" in platform:
            _scale_time(platform, "create", factor, f"platform.{name}")
            _scale_time(platform, "runtime_start", factor, f"platform.{name}")


REACTION_KEYS = (
    "cooldown",
    "scale_out_cooldown",
    "scale_in_cooldown",
    "estimated_instance_warmup",
    "downscale_stabilization",
)
"""An autoscaler's reaction times: cooldowns, warm-up, the HPA's scale-down window."""


def _scale_reaction(section: dict[str, Any], factor: float, key: str) -> None:
    for name in REACTION_KEYS:
        if section.get(name) is not None:
            section[name] = parse_duration(section[name], f"{key}.{name}") * factor


def scale_policy_reaction(config: Config, factor: float) -> None:
    """Every reaction time of the autoscaler; a step policy's warm-up, unset in the
    preset, scaled from its default."""
    autoscaler = config.get("autoscaler")
    if not autoscaler:
        return
    _scale_reaction(autoscaler, factor, "autoscaler")
    for index, member in enumerate(autoscaler.get("policies") or ()):
        member.setdefault("estimated_instance_warmup", STEP_WARMUP_S)
        _scale_reaction(member, factor, f"autoscaler.policies[{index}]")


def scale_beanstalk_boot(config: Config, factor: float) -> None:
    beanstalk = config.get("platform", {}).get("beanstalk-docker")
    if beanstalk is not None:
        _scale_time(beanstalk, "boot", factor, "platform.beanstalk-docker")


def scale_image_sizes(config: Config, factor: float) -> None:
    """Every layer's size and compressed size (the bytes pulled, extracted and stored)."""
    for name, image in config.get("images", {}).items():
        for index, step in enumerate(image.get("steps") or ()):
            for field in ("size", "compressed"):
                if step.get(field) is not None:
                    key = f"images.{name}.steps[{index}].{field}"
                    step[field] = max(1, round(parse_size(step[field], key) * factor))


def scale_request_cpu(config: Config, factor: float) -> None:
    traffic = config["workload"].get("traffic")
    if traffic is not None:
        _scale_time(traffic["request"], "cpu", factor, "workload.traffic.request")


@dataclass(frozen=True)
class Default:
    """An uncertain default: its name in tables and how a factor scales it."""

    key: str
    name: str
    scale: Callable[[Config, float], None]


DEFAULTS = (
    Default("vm_boot", "VM boot", scale_vm_boot),
    Default("vm_provisioning", "VM provisioning", scale_vm_provisioning),
    Default("extraction", "extraction throughput", scale_extraction),
    Default("registry_bandwidth", "registry bandwidth", scale_registry_bandwidth),
    Default("app_init", "app init", scale_app_init),
    Default("container_start", "container start", scale_container_start),
    Default("request_cpu", "request CPU", scale_request_cpu),
    Default("policy_reaction", "policy cooldowns/warm-up", scale_policy_reaction),
    Default("beanstalk_boot", "Beanstalk boot", scale_beanstalk_boot),
    Default("image_sizes", "image sizes", scale_image_sizes),
)


# --- The studies, as their own scripts define them -----------------------------------


@dataclass(frozen=True)
class Study:
    """A study's points and how its script composes and tabulates them."""

    name: str
    points: tuple[Point, ...]
    replications: int
    common: tuple[str, ...]
    table: Callable[[Sequence[StudyRun]], list[dict[str, Any]]]
    adjust: Callable[[Config], None] | None = None


STARTUP_POINTS = ("vm", "microvm", "container cold", "container warm")
STORM_HOSTS = (1, 2, 128)
STORM_UPLINK = "1Gbps"
STORM_MIRRORS = ("none", "fast")
SHARING = (1, 12)  # apps per base: none shared, one base under all 12
SHARING_DISKS_GB = (3, 8)
REACTIVE = ("beanstalk_cpu", "simple", "step", "target_tracking", "hpa")
QUICK_REACTIVE = ("target_tracking", "hpa")
QUICK_CROWD = autoscalers.Crowd(start_s=300.0, duration_s=300.0, horizon_s=900.0)


def studies(quick: bool) -> dict[str, Study]:
    """The four studies at the size the sensitivity runs them."""
    storm = registry_storm.read_storm(registry_storm.COMMON)
    crowd = QUICK_CROWD if quick else autoscalers.FULL
    policies = QUICK_REACTIVE if quick else REACTIVE
    return {
        study.name: study
        for study in (
            Study(
                "startup",
                tuple(s.point for s in startup.SCENARIOS if s.point.label in STARTUP_POINTS),
                1 if quick else 10,
                startup.COMMON,
                startup.table_rows,
            ),
            Study(
                "layer_caching",
                tuple(layer_caching.points(SHARING, SHARING_DISKS_GB)),
                1 if quick else 5,
                layer_caching.COMMON,
                lambda runs: study_table(runs, layer_caching.METRICS),
                layer_caching.adjust,
            ),
            Study(
                "registry_storm",
                tuple(
                    point
                    for point in registry_storm.points(STORM_HOSTS, storm, (STORM_UPLINK,))
                    if point.extra["mirror"] in STORM_MIRRORS and point.extra["limit"] == "per host"
                ),
                1,  # deterministic: one seed
                registry_storm.COMMON,
                lambda runs: study_table(runs, registry_storm.METRICS),
            ),
            Study(
                "autoscalers",
                tuple(Point(policy, autoscalers.POLICIES[policy]) for policy in policies),
                1 if quick else 2,
                (*autoscalers.COMMON, *crowd.overrides()),
                lambda runs: study_table(runs, {"drop_ratio": autoscalers.DROP_RATIO}),
            ),
        )
    }


# --- The conclusions ------------------------------------------------------------------

Rows = Mapping[str, Mapping[str, Any]]  # a study's table, by point label


@dataclass(frozen=True)
class Conclusion:
    """A headline conclusion: the quantity that carries it and when it holds."""

    key: str
    study: str
    claim: str
    quantity: str
    value: Callable[[Rows], float]
    holds: Callable[[float], bool]
    lines: tuple[float, ...]  # where it stops holding, for the figures
    unit: str = ""

    def show(self, value: float) -> str:
        return f"{value:.3g}{self.unit}"


def _storm_speedup(hosts: int) -> Callable[[Rows], float]:
    def value(rows: Rows) -> float:
        without = rows[registry_storm.label("none", STORM_UPLINK, "per host", hosts)]
        mirrored = rows[registry_storm.label("fast", STORM_UPLINK, "per host", hosts)]
        return float(without["startup_s_p95"] / mirrored["startup_s_p95"])

    return value


def _sharing_saving(disk_gb: int) -> Callable[[Rows], float]:
    def value(rows: Rows) -> float:
        alone = rows[f"1 apps/base, {disk_gb} GB"]["mb_per_started"]
        shared = rows[f"12 apps/base, {disk_gb} GB"]["mb_per_started"]
        return float(100 * (1 - shared / alone))

    return value


def _hpa_margin(rows: Rows) -> float:
    """The next best reactive policy's drop share minus the HPA's, in percentage points."""
    others = [row["drop_ratio"] for label, row in rows.items() if label != "hpa"]
    return float(100 * (min(others) - rows["hpa"]["drop_ratio"]))


CONCLUSIONS = (
    Conclusion(
        "container_vs_vm",
        "startup",
        "a container starts faster than a VM",
        "VM / cold container mean start-up",
        lambda rows: rows["vm"]["startup_s_mean"] / rows["container cold"]["startup_s_mean"],
        lambda value: value > 1,
        (1.0,),
        "×",
    ),
    Conclusion(
        "microvm_vs_warm",
        "startup",
        "a microVM edges out a warm container",
        "warm container − microVM mean start-up (s)",
        lambda rows: rows["container warm"]["startup_s_mean"] - rows["microvm"]["startup_s_mean"],
        lambda value: value > 0,
        (0.0,),
        " s",
    ),
    Conclusion(
        "pull_share",
        "startup",
        "the cold pull is about half of container start-up",
        "cold pull share of container start-up (%; about half: 40–60 %)",
        lambda rows: 100 * rows["container cold"]["pull_share"],
        lambda value: 40 <= value <= 60,
        (40.0, 60.0),
        " %",
    ),
    Conclusion(
        "extraction_dominates",
        "startup",
        "extraction, not download, dominates the cold pull",
        "cold pull: extract / download time",
        lambda rows: (
            rows["container cold"]["pull_extract_s"] / rows["container cold"]["pull_download_s"]
        ),
        lambda value: value > 1,
        (1.0,),
        "×",
    ),
    Conclusion(
        "sharing_8gb",
        "layer_caching",
        "one shared base cuts the bytes pulled per replica (8 GB disks)",
        "MB pulled per started replica saved by one base for 12 apps (%, 8 GB)",
        _sharing_saving(8),
        lambda value: value > 0,
        (0.0,),
        " %",
    ),
    Conclusion(
        "sharing_3gb",
        "layer_caching",
        "one shared base cuts the bytes pulled per replica (3 GB disks)",
        "MB pulled per started replica saved by one base for 12 apps (%, 3 GB)",
        _sharing_saving(3),
        lambda value: value > 0,
        (0.0,),
        " %",
    ),
    Conclusion(
        "mirror_n128",
        "registry_storm",
        "a mirror speeds start-up p95 up at N = 128",
        "p95 without / with the mirror, N = 128, hub behind a 1 Gbit/s uplink",
        _storm_speedup(128),
        lambda value: value > 1,
        (1.0,),
        "×",
    ),
    Conclusion(
        "mirror_n2",
        "registry_storm",
        "a mirror speeds start-up p95 up at N = 2",
        "p95 without / with the mirror, N = 2, hub behind a 1 Gbit/s uplink",
        _storm_speedup(2),
        lambda value: value > 1,
        (1.0,),
        "×",
    ),
    Conclusion(
        "mirror_n1",
        "registry_storm",
        "at N = 1 a mirror is slightly slower",
        "p95 without / with the mirror, N = 1, hub behind a 1 Gbit/s uplink",
        _storm_speedup(1),
        lambda value: value < 1,
        (1.0,),
        "×",
    ),
    Conclusion(
        "hpa_drops_least",
        "autoscalers",
        "the HPA drops the fewest requests on the flash crowd",
        "next best reactive policy's drop share − the HPA's (percentage points)",
        _hpa_margin,
        lambda value: value > 0,
        (0.0,),
        " pp",
    ),
)


# --- Running the variants --------------------------------------------------------------

Variant = tuple[str | None, float]  # (default key, factor); (None, 1.0) is the base
BASE: Variant = (None, 1.0)


def _adjuster(study: Study, default: Default | None, factor: float) -> Callable[[Config], None]:
    def adjust(config: Config) -> None:
        if study.adjust is not None:
            study.adjust(config)
        if default is not None:
            default.scale(config, factor)

    return adjust


def changes_config(
    study: Study, default: Default, factor: float, compose: Callable[[Sequence[str]], Config]
) -> bool:
    """Whether scaling `default` changes any of the study's composed configs."""
    for point in study.points:
        overrides = [*study.common, *point.overrides, f"replications={study.replications}"]
        base = compose([*overrides, "replication=0"])
        _adjuster(study, None, 1.0)(base)
        scaled = copy.deepcopy(base)
        default.scale(scaled, factor)
        if scaled != base:
            return True
    return False


def run_variants(
    study: Study,
    defaults: Sequence[Default] = DEFAULTS,
    factors: Sequence[float] = FACTORS,
    compose: Callable[[Sequence[str]], Config] | None = None,
) -> dict[Variant, list[StudyRun]]:
    """The study's runs at its base and with each default scaled by each factor; a
    variant that leaves every config unchanged reuses the base runs."""
    compose = compose or cached_compose()

    def run(default: Default | None, factor: float) -> list[StudyRun]:
        return run_study(
            study.points,
            study.replications,
            common=study.common,
            adjust=_adjuster(study, default, factor),
            progress=False,
            compose=compose,
        )

    variants: dict[Variant, list[StudyRun]] = {BASE: run(None, 1.0)}
    for default in defaults:
        for factor in factors:
            changed = changes_config(study, default, factor, compose)
            variants[default.key, factor] = run(default, factor) if changed else variants[BASE]
    return variants


def tables(
    study: Study, variants: Mapping[Variant, Sequence[StudyRun]]
) -> dict[Variant, dict[str, dict[str, Any]]]:
    """Each variant's study table, by point label."""
    return {
        variant: {row["point"]: row for row in study.table(runs)}
        for variant, runs in variants.items()
    }


SeedTables = dict[Variant, list[dict[str, dict[str, Any]]]]


def seed_tables(study: Study, variants: Mapping[Variant, Sequence[StudyRun]]) -> SeedTables:
    """Each variant's study table for each seed alone, by point label: the conclusion's
    value per seed."""
    result: SeedTables = {}
    for variant, runs in variants.items():
        replications = sorted({run.replication for run in runs})
        result[variant] = [
            {
                row["point"]: row
                for row in study.table([run for run in runs if run.replication == replication])
            }
            for replication in replications
        ]
    return result


def judge(conclusion: Conclusion, values: Sequence[float], name: str) -> tuple[Interval, Verdict]:
    """The conclusion's 95 % interval over the seeds' values (Student's t: its quantity
    is a difference or a ratio) and whether it holds, flips or is a tie against that
    noise; one value is judged alone (a tie on the line)."""
    rng = RandomStreams(0).generator(f"sensitivity/{name}")
    interval = mean_interval(values, UNBOUNDED, rng)
    ends = (interval.low, interval.high)
    if any(math.isnan(end) for end in ends):
        ends = (interval.estimate, interval.estimate)
    holding = [conclusion.holds(end) for end in ends]
    if all(holding):
        return interval, "holds"
    crossed = any(ends[0] <= line <= ends[1] for line in conclusion.lines)
    return interval, "tie" if any(holding) or crossed else "flips"


def flips(verdicts: Mapping[float, Verdict]) -> str:
    """Which factors make the conclusion stop holding against seed noise ("no" if
    none): "×2" where it flips, "×0.5 (tie)" where the seeds cannot tell."""
    named = [
        f"×{factor:g}" + (" (tie)" if verdict == "tie" else "")
        for factor, verdict in verdicts.items()
        if verdict != "holds"
    ]
    return ", ".join(named) if named else "no"


def _judged(
    conclusion: Conclusion,
    by_variant: Mapping[Variant, Rows],
    seeds: SeedTables | None,
    variant: Variant,
) -> tuple[Interval, Verdict]:
    """A variant's conclusion over its seeds (or its table's value, without them)."""
    values = (
        [conclusion.value(table) for table in seeds[variant]]
        if seeds is not None
        else [conclusion.value(by_variant[variant])]
    )
    key, factor = variant
    return judge(conclusion, values, f"{conclusion.key}/{key or 'base'}/{factor:g}")


def sensitivity_rows(
    study_tables: Mapping[str, Mapping[Variant, Rows]],
    conclusions: Sequence[Conclusion] = CONCLUSIONS,
    defaults: Sequence[Default] = DEFAULTS,
    per_seed: Mapping[str, SeedTables] | None = None,
) -> list[dict[str, Any]]:
    """One row per (conclusion, default): the conclusion's value at ×0.5, base and ×2
    (from the tables over all seeds), each variant's interval over the seeds and its
    verdict (from `per_seed`; without it, each value is judged alone)."""
    rows = []
    for conclusion in conclusions:
        by_variant = study_tables[conclusion.study]
        seeds = per_seed[conclusion.study] if per_seed is not None else None

        base = conclusion.value(by_variant[BASE])
        base_interval, base_verdict = _judged(conclusion, by_variant, seeds, BASE)
        for default in defaults:
            values = {f: conclusion.value(by_variant[default.key, f]) for f in FACTORS}
            verdicts: dict[float, Verdict] = {}
            row: dict[str, Any] = {
                "conclusion": conclusion.key,
                "claim": conclusion.claim,
                "study": conclusion.study,
                "quantity": conclusion.quantity,
                "default": default.name,
                "x0.5": values[FACTORS[0]],
                "base": base,
                "x2": values[FACTORS[1]],
                "base_low": base_interval.low,
                "base_high": base_interval.high,
                "verdict_base": base_verdict,
            }
            for factor in FACTORS:
                variant = (default.key, factor)
                interval, verdicts[factor] = _judged(conclusion, by_variant, seeds, variant)
                row[f"x{factor:g}_low"] = interval.low
                row[f"x{factor:g}_high"] = interval.high
                row[f"verdict_x{factor:g}"] = verdicts[factor]
            row["holds_at_base"] = base_verdict == "holds"
            row["flips"] = flips(verdicts)
            row["moved"] = any(value != base for value in values.values())
            rows.append(row)
    return rows


# --- Screening the top defaults' interactions ------------------------------------------

SCREENED = 3
"""How many defaults, those that move a conclusion most one at a time, are screened."""

Corner = tuple[tuple[str, float], ...]
"""The screened defaults' factors at one corner of the design, as (key, factor) pairs."""


def top_defaults(conclusion: Conclusion, rows: Sequence[Mapping[str, Any]]) -> list[Default]:
    """The `SCREENED` defaults whose ×0.5-to-×2 swing of the conclusion is widest (in
    `DEFAULTS` order among equals), leaving out those that do not move it."""
    by_name = {default.name: default for default in DEFAULTS}
    mine = [row for row in rows if row["conclusion"] == conclusion.key and row["x2"] != row["x0.5"]]
    mine.sort(key=lambda row: -abs(row["x2"] - row["x0.5"]))
    return [by_name[row["default"]] for row in mine[:SCREENED]]


def run_corner(
    study: Study, corner: Corner, compose: Callable[[Sequence[str]], Config]
) -> dict[str, dict[str, Any]]:
    """The study's table with every default of the corner scaled by its factor at once."""
    scales = [(next(d for d in DEFAULTS if d.key == key), factor) for key, factor in corner]

    def adjust(config: Config) -> None:
        if study.adjust is not None:
            study.adjust(config)
        for default, factor in scales:
            default.scale(config, factor)

    runs = run_study(
        study.points,
        study.replications,
        common=study.common,
        adjust=adjust,
        progress=False,
        compose=compose,
    )
    return {row["point"]: row for row in study.table(runs)}


def effects(
    names: Sequence[str], values: Mapping[tuple[int, ...], float]
) -> list[tuple[str, float]]:
    """Main effects and two-factor interactions of a full two-level factorial: the mean
    response where the term's sign (the product of its factors' -1/+1 codes) is + minus
    the mean where it is -. `values` maps each corner's codes to the response."""
    terms: list[tuple[int, ...]] = [(i,) for i in range(len(names))]
    terms += list(itertools.combinations(range(len(names)), 2))
    found = []
    for term in terms:
        plus = [v for codes, v in values.items() if math.prod(codes[i] for i in term) > 0]
        minus = [v for codes, v in values.items() if math.prod(codes[i] for i in term) < 0]
        effect = sum(plus) / len(plus) - sum(minus) / len(minus)
        found.append((" × ".join(names[i] for i in term), effect))
    return found


def screening_rows(
    rows: Sequence[Mapping[str, Any]],
    quick: bool,
    compose: Callable[[Sequence[str]], Config] | None = None,
    conclusions: Sequence[Conclusion] = CONCLUSIONS,
) -> list[dict[str, Any]]:
    """For each conclusion, a full 2^k factorial (k <= `SCREENED`, every default at ×0.5
    (-1) or ×2 (+1)) over the defaults that move it most one at a time, on the study's
    own seeds: each main effect and two-factor interaction, and at how many of the
    corners the conclusion stops holding. A conclusion that fewer than two defaults move
    gets one row saying so."""
    compose = compose or cached_compose()
    all_studies = studies(quick)
    cache: dict[tuple[str, frozenset[tuple[str, float]]], dict[str, dict[str, Any]]] = {}
    found: list[dict[str, Any]] = []
    for conclusion in conclusions:
        top = top_defaults(conclusion, rows)
        head = {"conclusion": conclusion.key, "claim": conclusion.claim}
        if len(top) < 2:
            found.append({**head, "term": "(fewer than two defaults move it)", "effect": 0.0})
            continue
        values: dict[tuple[int, ...], float] = {}
        for codes in itertools.product((-1, 1), repeat=len(top)):
            corner = tuple(
                (default.key, FACTORS[0] if code < 0 else FACTORS[1])
                for default, code in zip(top, codes, strict=True)
            )
            key = (conclusion.study, frozenset(corner))
            if key not in cache:
                cache[key] = run_corner(all_studies[conclusion.study], corner, compose)
            values[codes] = conclusion.value(cache[key])
        flipping = sum(1 for value in values.values() if not conclusion.holds(value))
        for term, effect in effects([d.name for d in top], values):
            found.append(
                {
                    **head,
                    "term": term,
                    "effect": effect,
                    "corners": len(values),
                    "corners_not_holding": flipping,
                    "low": min(values.values()),
                    "high": max(values.values()),
                }
            )
    return found


def print_screening(rows: Sequence[Mapping[str, Any]]) -> None:
    """One line per term: ``screening conclusion=... term=... effect=...``, and per
    conclusion the corners where it stops holding."""
    seen = set()
    for row in rows:
        print(
            f"screening conclusion={row['conclusion']} term={row['term']!r} "
            f"effect={row['effect']:.4g}"
        )
        if "corners" in row and row["conclusion"] not in seen:
            seen.add(row["conclusion"])
            print(
                f"screening conclusion={row['conclusion']} corners={row['corners']} "
                f"not_holding={row['corners_not_holding']} "
                f"range=[{row['low']:.4g}, {row['high']:.4g}]"
            )


# --- Output -----------------------------------------------------------------------------

VERDICT_COLOURS = {"holds": "#4e79a7", "flips": "#e15759", "tie": "#a0a0a0"}


def plot_tornado(
    conclusion: Conclusion,
    rows: Sequence[Mapping[str, Any]],
    path: Path,
    args: argparse.Namespace | None = None,
) -> None:
    """Two bars per default, from the base to its ×0.5 value (solid, above) and to its
    ×2 value (hatched, below), the widest swing on top, only the defaults that move it;
    whiskers are each value's 95 % interval over the seeds; a bar is blue where the
    conclusion holds against that noise, red where it flips, grey where it is a tie."""
    from matplotlib.patches import Patch

    moved = [row for row in rows if row["moved"]]
    ordered = sorted(moved, key=lambda row: abs(row["x2"] - row["x0.5"]))
    base = rows[0]["base"]
    fig, axis = plt.subplots(figsize=(6.6, 1.2 + 0.55 * max(len(ordered), 1)))
    for index, row in enumerate(ordered):
        for column, offset, hatch in (("x0.5", 0.18, ""), ("x2", -0.18, "//")):
            value = row[column]
            colour = VERDICT_COLOURS[row[f"verdict_{column}"]]
            axis.barh(
                index + offset, value - base, left=base, color=colour, hatch=hatch, height=0.34
            )
            low, high = row[f"{column}_low"], row[f"{column}_high"]
            if not (math.isnan(low) or math.isnan(high)):
                axis.errorbar(
                    value,
                    index + offset,
                    xerr=[[max(value - low, 0.0)], [max(high - value, 0.0)]],
                    fmt="none",
                    ecolor="black",
                    capsize=2,
                    lw=0.8,
                )
            if value != base:
                axis.text(
                    value,
                    index + offset,
                    f" {conclusion.show(value)} ",
                    va="center",
                    ha="left" if value > base else "right",
                    fontsize=6.5,
                )
    axis.set_yticks(range(len(ordered)), [row["default"] for row in ordered], fontsize=8)
    axis.axvline(base, color="black", lw=1)
    for line in conclusion.lines:
        axis.axvline(line, color="#e15759", lw=1, ls="--")
    values = [row[c] for row in ordered for c in ("x0.5", "x2")]
    values += [row[f"{c}_{e}"] for row in ordered for c in ("x0.5", "x2") for e in ("low", "high")]
    values = [v for v in values if not math.isnan(v)] or [base]
    low, high = min(*values, *conclusion.lines, base), max(*values, *conclusion.lines, base)
    span = max(high - low, abs(base) * 0.05, 1e-9)
    axis.set_xlim(low - 0.2 * span, high + 0.2 * span)
    axis.set_xlabel(conclusion.quantity, fontsize=8)
    unmoved = len(rows) - len(moved)
    axis.set_title(
        f"“{conclusion.claim}”: base {conclusion.show(base)} (black line);\n"
        "each default ×0.5 and ×2, one at a time; dashed: where the conclusion stops holding"
        + (f"\n({unmoved} defaults leave it unchanged: not shown)" if unmoved else ""),
        fontsize=8,
    )
    axis.legend(
        handles=[
            Patch(facecolor=VERDICT_COLOURS["holds"], label="holds (×0.5 solid, ×2 hatched)"),
            Patch(facecolor=VERDICT_COLOURS["tie"], label="tie: within seed noise"),
            Patch(facecolor=VERDICT_COLOURS["flips"], label="flips"),
        ],
        fontsize=7,
        loc="best",
    )
    axis.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    if args is None:
        fig.savefig(path.with_suffix(".png"), dpi=110)
    else:
        save_figure(fig, path, args)
    plt.close(fig)


def print_rows(rows: Sequence[Mapping[str, Any]], title: str) -> None:
    """The table ``conclusion | default | ×0.5 | base | ×2 | flips?``."""
    from rich.table import Table

    units = {conclusion.key: conclusion for conclusion in CONCLUSIONS}
    table = Table(title=title)
    for column in ("conclusion", "default", "×0.5", "base", "×2", "flips?"):
        table.add_column(column, justify="left" if column in ("conclusion", "default") else "right")
    for row in rows:
        conclusion = units[row["conclusion"]]
        table.add_row(
            row["claim"],
            row["default"],
            *(conclusion.show(row[column]) for column in ("x0.5", "base", "x2")),
            row["flips"],
        )
    output_console().print(table)


def evaluate(
    quick: bool, compose: Callable[[Sequence[str]], Config] | None = None
) -> tuple[dict[str, dict[Variant, dict[str, dict[str, Any]]]], list[dict[str, Any]]]:
    """Every study's tables at every variant, and the sensitivity table."""
    compose = compose or cached_compose()
    study_tables = {}
    per_seed = {}
    for name, study in studies(quick).items():
        variants = run_variants(study, compose=compose)
        study_tables[name] = tables(study, variants)
        per_seed[name] = seed_tables(study, variants)
    return study_tables, sensitivity_rows(study_tables, per_seed=per_seed)


def write_outputs(
    rows: Sequence[dict[str, Any]], out: Path, args: argparse.Namespace | None = None
) -> None:
    """The table as CSV and a tornado figure per conclusion some default moves."""
    out.mkdir(parents=True, exist_ok=True)
    write_table(rows, out / f"{STUDY}.csv")
    for conclusion in CONCLUSIONS:
        mine = [row for row in rows if row["conclusion"] == conclusion.key]
        if any(row["moved"] for row in mine):
            plot_tornado(conclusion, mine, out / f"{STUDY}_{conclusion.key}", args)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the sensitivity; returns the table's rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("experiments/out") / STUDY)
    parser.add_argument("--quick", action="store_true", help="1 seed, short crowd (tests)")
    parser.add_argument("--no-progress", action="store_true", help="(runs print nothing)")
    figure_options(parser)
    args = parser.parse_args(argv)
    _, rows = evaluate(args.quick)
    write_outputs(rows, args.out, args)
    screened = screening_rows(rows, args.quick)
    write_table(screened, args.out / f"{STUDY}_screening.csv")
    print_screening(screened)
    print_rows(
        rows,
        "Each default ×0.5 and ×2, one at a time: the headline conclusions' values "
        "(same seeds as the base)",
    )
    return rows


if __name__ == "__main__":
    main()
