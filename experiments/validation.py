"""Validation: every published case the model claims, run against the model, and the
model's start-up distributions against public measurements.

Each row is one case: what it is, where the expected value comes from, the expected
value, what the model gives, and whether they agree. Exact cases (scaling rules, digests,
byte counts, closed-form transfer times) must match exactly (times within 1e-9 s);
queueing cases compare the mean over independent replications with the formula, and pass
when the formula lies inside the 95 % confidence interval and the interval's half width
is under 5 % of it. The script exits with status 1 if any row fails.

The cases reuse the test suite's own data and model calls rather than restating them:
the Kubernetes HPA tables (``tests/test_hpa_upstream.py``, translated from upstream's
``replica_calculator_test.go`` and ``horizontal_test.go``), the AWS worked examples
(``tests/test_autoscaling.py``), the queueing replications (``tests/test_traffic.py``)
and the small pull worlds (``tests/worlds.py``); so it needs the ``test`` extra.

A second table sets simulated distributions beside measured ones (``experiments/measured.py``:
EC2 launch to SSH, Fargate task start; data in ``experiments/data/``), with quantiles and
the Kolmogorov-Smirnov distance. Those rows check the model against the world, not the
code against a specification, so they are reported, consistent or not, and do not change
the exit status.

Run ``python experiments/validation.py`` (about 15 s); ``--quick`` leaves out the
replications through the whole simulator (a few seconds).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))  # the test helpers import each other by name
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the experiments, as modules

import measured  # noqa: E402

import sim  # noqa: E402
from sim.core.distributions import Constant, Exponential  # noqa: E402
from sim.core.intervals import mean_ci  # noqa: E402
from sim.model.hosts.engine import EngineParams  # noqa: E402
from sim.model.images.image import chain_ids  # noqa: E402
from sim.model.images.snapshotters.lazy import SLACKER_STARTUP_READ_FRACTION, LazyParams  # noqa: E402
from sim.model.images.snapshotters.overlayfs import OverlayfsParams  # noqa: E402
from sim.policies.image_gc import (  # noqa: E402
    GcThresholds,
    ImageRecord,
    bytes_to_free,
    choose_images_to_delete,
)

MB = 1_000_000
GB = 10**9


@dataclass(frozen=True)
class Row:
    """One validated case."""

    case: str
    source: str
    expected: str
    simulated: str
    ok: bool


def load(name: str) -> ModuleType:
    """A fresh copy of ``tests/<name>.py``: its tables hold objects a run mutates (an
    HPA's history), so each validation starts from the module as written."""
    spec = importlib.util.spec_from_file_location(f"validation_{name}", TESTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# --- queueing ----------------------------------------------------------------------------


def _queue_row(case: str, source: str, analytical: float, means: list[float]) -> Row:
    mean, half = mean_ci(means)
    ok = abs(mean - analytical) <= half and half < 0.05 * analytical
    return Row(
        case,
        source,
        f"{analytical:.4f} s",
        f"{mean:.4f} ± {half:.4f} s ({len(means)} runs)",
        ok,
    )


def queueing_cases(full: bool) -> Iterator[Row]:
    traffic = load("test_traffic")
    rate, mu = 0.7, 1.0
    waits, latencies = traffic._replication_means(rate, Exponential(1 / mu), 1, 50_000, 101)
    yield _queue_row(
        "M/M/1 mean wait Wq, ρ = 0.7",
        "Wq = ρ / (μ − λ)",
        traffic._mm1_wait_s(rate, mu),
        waits,
    )
    yield _queue_row("M/M/1 mean time in system W", "W = 1 / (μ − λ)", 1 / (mu - rate), latencies)
    servers, rate = 4, 3.2
    erlang_wait = traffic._erlang_c(servers, rate / mu) / (servers * mu - rate)
    waits, _ = traffic._replication_means(rate, Exponential(1 / mu), servers, 100_000, 202)
    yield _queue_row(
        "M/M/4 mean wait Wq, ρ = 0.8", "Erlang C: C(c, a) / (cμ − λ)", erlang_wait, waits
    )
    rate, service_s = 0.7, 1.0
    pk_wait = rate * service_s**2 / (2 * (1 - rate * service_s))
    waits, _ = traffic._replication_means(rate, Constant(service_s), 1, 30_000, 303)
    yield _queue_row(
        "M/D/1 mean wait Wq, ρ = 0.7", "Pollaczek–Khinchine: λE[S²] / 2(1 − ρ)", pk_wait, waits
    )
    if full:
        yield _erlang_through_the_simulator()


def _erlang_through_the_simulator() -> Row:
    """Poisson traffic through a whole run: one replica with 4 workers (M/M/4, ρ = 0.75)."""
    service = load("test_service")
    means = []
    for seed in range(10):
        summary = sim.simulate(
            sim.load_config(
                [
                    f"seed={seed}",
                    "workload=poisson",
                    "autoscaler=none",
                    "platform=container",
                    "progress=false",
                    "log=summary",
                    "workload.service.initial_replicas=1",
                    "workload.apps.web.vcpu=4",
                    "workload.service.queue=100000",
                    "workload.service.timeout=1h",
                    "workload.traffic.arrivals.rate_per_s=30",
                    "workload.traffic.request.cpu={dist: exponential, mean: 100ms}",
                    "horizon=1h",
                    "cluster.scaler.enabled=false",
                ]
            )
        ).summary
        means.append(summary["latency_s_mean"])
    return _queue_row(
        "M/M/4 time in system W, whole simulator",
        "Erlang C + 1/μ",
        service.erlang_c_wait_s(30.0, 10.0, 4),
        means,
    )


# --- autoscaling -------------------------------------------------------------------------


def aws_cases() -> Iterator[Row]:
    scaling = load("test_autoscaling")
    policy = scaling.make_policy("composite", scaling.WORKED_EXAMPLE, scaling.KEY)
    capacity, steps = 10, []
    for now_s, metric in ((1000.0, 60.0), (2000.0, 70.0), (3000.0, 40.0), (4000.0, 30.0)):
        obs = scaling.observe(now_s, capacity, scaling.in_service(capacity), (metric,))
        capacity = policy.decide(obs).desired
        steps.append(capacity)
    expected = [11, 14, 13, 10]
    yield Row(
        "EC2 step scaling worked example (CPU 60, 70, 40, 30 %)",
        "EC2 Auto Scaling guide, step scaling",
        "10 → " + " → ".join(map(str, expected)),
        "10 → " + " → ".join(map(str, steps)),
        steps == expected,
    )

    warm = scaling.scale_out_policy(warmup_s=300.0)
    instance = scaling.Instance
    launching = instance(launched_s=1000.0, ready_s=None)
    warming = instance(launched_s=1000.0, ready_s=1100.0)
    desired = [
        warm.decide(scaling.observe(1000.0, 10, scaling.in_service(10), (60.0,))).desired,
        warm.decide(
            scaling.observe(1060.0, 11, [*scaling.in_service(10), launching], (62.0,))
        ).desired,
        warm.decide(
            scaling.observe(1120.0, 11, [*scaling.in_service(10), warming], (70.0,))
        ).desired,
        warm.decide(
            scaling.observe(1400.0, 11, [*scaling.in_service(10), warming], (70.0,))
        ).desired,
    ]
    yield Row(
        "EC2 instance warm-up: a warming instance is not current capacity",
        "EC2 Auto Scaling guide, instance warm-up",
        "11, 11, 13, 14",
        ", ".join(map(str, desired)),
        desired == [11, 11, 13, 14],
    )

    out = scaling.tracking().decide(scaling.observe(1000.0, 3, scaling.in_service(3), (75.0,) * 3))
    inward = scaling.tracking().decide(
        scaling.observe(1000.0, 3, scaling.in_service(3), (25.0,) * 15)
    )
    yield Row(
        "target tracking rounds conservatively (3 × 75/50 = 4.5; 3 × 25/50 = 1.5)",
        "EC2 Auto Scaling guide, target tracking",
        "out to 5, in to 2",
        f"out to {out.desired}, in to {inward.desired}",
        (out.desired, inward.desired) == (5, 2),
    )

    trigger = scaling.make_policy("beanstalk", {}, scaling.KEY)
    params = scaling.BeanstalkTriggerParams()
    shown = (
        f"{trigger.metric} {trigger.statistic} {trigger.period_s:g} s × "
        f"{trigger.datapoints_needed}, {params.min_capacity}–{params.max_capacity}, "
        f"cooldown {params.cooldown_s:g} s"
    )
    up = trigger.decide(scaling.observe(600.0, 1, scaling.in_service(1), (7e6,))).desired
    down = scaling.make_policy("beanstalk", {}, scaling.KEY).decide(
        scaling.observe(600.0, 3, scaling.in_service(3), (1e6,))
    )
    simulated = f"{shown}; 7 MB: 1 → {up}; 1 MB: 3 → {down.desired}"
    expected = "NetworkOut Average 300 s × 1, 1–4, cooldown 360 s; 7 MB: 1 → 2; 1 MB: 3 → 2"
    yield Row(
        "Elastic Beanstalk trigger defaults",
        "aws:autoscaling:trigger and :asg defaults",
        expected,
        simulated,
        simulated == expected,
    )


def hpa_cases() -> Iterator[Row]:
    upstream = load("test_hpa_upstream")

    def tally(
        name: str, source: str, cases: list[Any], check: Callable[[tuple[Any, ...]], bool]
    ) -> Row:
        failed = [case[0] for case in cases if not check(case)]
        return Row(
            name,
            source,
            f"{len(cases)} of {len(cases)} as upstream",
            f"{len(cases) - len(failed)} of {len(cases)}"
            + (f" (not: {', '.join(failed[:3])})" if failed else ""),
            not failed,
        )

    def calculator(case: tuple[Any, ...]) -> bool:
        _, current, target, pods, replicas, utilization = case
        found = upstream.calculator(target).recommend(upstream.observe(current, pods))
        return found is not None and (found.replicas, found.utilization) == (replicas, utilization)

    def controller(case: tuple[Any, ...]) -> bool:
        _, low, high, spec, target, pods, history, scale_up, desired = case
        policy = upstream.hpa(target, low, high, history, scale_up)
        return bool(policy.decide(upstream.observe(spec, pods)).desired == desired)

    def rate(case: tuple[Any, ...]) -> bool:
        _, up_events, down_events, low, high, up, down, current, wanted, expected = case
        behavior = upstream.HpaBehavior(
            up or upstream.DEFAULT_SCALE_UP, down or upstream.default_scale_down(300.0)
        )
        history = upstream.HpaHistory([], list(up_events), list(down_events))
        limited = upstream.limit_with_behavior(
            history, upstream.NOW_S, current, wanted, (low, high), behavior
        )
        return bool(limited == expected)

    def store(case: tuple[Any, ...]) -> bool:
        _, previous, longest_s, changed, stored = case
        events = [upstream.ScaleEvent(e.time_s, e.change, e.outdated) for e in previous]
        counted = upstream.replicas_changed(events, upstream.NOW_S, 60.0)
        upstream.store_scale_event(events, upstream.NOW_S, 5, longest_s)
        return counted == changed and [(e.change, e.outdated) for e in events] == stored

    source = "Kubernetes pkg/controller/podautoscaler"
    yield tally(
        "HPA replica calculator (CPU utilization)",
        f"{source}/replica_calculator_test.go",
        upstream.CALCULATOR_CASES,
        calculator,
    )
    yield tally(
        "HPA controller (unready, missing, behaviour)",
        f"{source}/horizontal_test.go",
        upstream.CONTROLLER_CASES,
        controller,
    )
    yield tally(
        "HPA scaling rules (TestScalingWithRules)",
        f"{source}/horizontal_test.go",
        upstream.RATE_CASES,
        rate,
    )
    yield tally(
        "HPA scale events (TestStoreScaleEvents)",
        f"{source}/horizontal_test.go",
        upstream.STORE_CASES,
        store,
    )
    scaling = load("test_autoscaling")
    decision = scaling.hpa(target=75).decide(scaling.observe(1000.0, 50, scaling.pods(50, 90.0)))
    yield Row(
        "HPA docs example: 50 pods at 90 % of a 75 % target",
        "kubernetes.io, Horizontal Pod Autoscaling",
        "60",
        str(decision.desired),
        decision.desired == 60,
    )


# --- images, pulls and garbage collection --------------------------------------------------


def image_cases() -> Iterator[Row]:
    def sha(text: str) -> str:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    diff_ids = ["sha256:" + c * 64 for c in "abc"]
    second = sha(f"{diff_ids[0]} {diff_ids[1]}")
    expected = (diff_ids[0], second, sha(f"{second} {diff_ids[2]}"))
    found = chain_ids(diff_ids)
    yield Row(
        "OCI ChainID of three layers",
        "OCI image spec: ChainID(n) = SHA256(ChainID(n−1) + ' ' + DiffID(n))",
        expected[2][:19] + "…",
        found[2][:19] + "…",
        found == expected,
    )

    worlds = load("worlds")
    base = worlds.layered_image("base", [(50 * MB, 20 * MB), (30 * MB, 10 * MB)])
    app = worlds.layered_image("app", [(8 * MB, 4 * MB)], parent="base")
    world = worlds.pull_world([base, app])
    world.pull("host-1", "base")
    world.pull("host-1", "app", at=5.0)
    world.env.run()
    shared = world.results[1]
    yield Row(
        '"Already exists": an app on a pulled base',
        "moby distribution/xfer: layers present by ChainID",
        "2 exist, 4000000 B fetched",
        f"{shared.layers_already_exists} exist, {shared.bytes_downloaded} B fetched",
        (shared.layers_already_exists, shared.bytes_downloaded) == (2, 4 * MB),
    )

    layer = (40 * MB, 20 * MB)
    first = worlds.layered_image("first", [(10 * MB, 5 * MB)])
    other = worlds.layered_image("second", [(12 * MB, 6 * MB)])
    tool = worlds.layered_image("tool", [layer], parent="first")
    tool2 = worlds.layered_image("tool2", [layer], parent="second")
    world = worlds.pull_world([first, other, tool, tool2])
    world.pull("host-1", "tool")
    world.pull("host-1", "tool2", at=10.0)
    world.env.run()
    again = world.results[1]
    yield Row(
        '"Already exists" stops at the first missing ChainID',
        "moby distribution/xfer: the walk up from the base",
        "same blob on another parent: 2 layers, 26000000 B fetched",
        f"same blob on another parent: {again.layers_downloaded} layers, "
        f"{again.bytes_downloaded} B fetched",
        (again.layers_downloaded, again.bytes_downloaded) == (2, 26 * MB),
    )


def gc_cases() -> Iterator[Row]:
    capacity = 100 * GB
    needed = [bytes_to_free(capacity, free, GcThresholds()) for free in (15 * GB, 16 * GB)]
    yield Row(
        "kubelet image GC thresholds: 85 % and 84 % used of 100 GB",
        "kubelet image_gc_manager.go: high 85 %, low 80 %",
        "free 5000000000 B; free 0 B",
        f"free {needed[0]} B; free {needed[1]} B",
        needed == [5 * GB, 0],
    )

    def record(name: str, last_used_s: float, first_detected_s: float = 0.0) -> ImageRecord:
        return ImageRecord(name, GB, False, last_used_s, first_detected_s)

    images = [
        record("new", 900),
        record("old", 100),
        record("late", 100, first_detected_s=50),
        record("alpha", 100, first_detected_s=10),
    ]
    order = choose_images_to_delete(images, 4 * GB, 1000.0, 120.0)
    expected = ["old", "alpha", "late", "new"]
    yield Row(
        "kubelet image GC order",
        "kubelet: least recently used first, ties by first detection",
        ", ".join(expected),
        ", ".join(order),
        order == expected,
    )

    worlds = load("worlds")
    images9 = [worlds.layered_image(f"i{n}", [(100 * MB, 40 * MB)]) for n in range(9)]
    world = worlds.pull_world(images9, disk_bytes=1000 * MB)
    for n in range(9):
        world.pull("host-1", f"i{n}", at=float(n))
    from types import SimpleNamespace

    from sim.model.hosts.engine import run_image_gc

    host = SimpleNamespace(engine=world.engines["host-1"])
    world.env.process(run_image_gc(world.env, [host], 300.0))
    # The images are first detected at 300 s, so the minimum age (2 min) keeps them then;
    # the run at 600 s collects.
    world.env.run(until=601.0)
    used = world.engines["host-1"].disk.used_bytes
    removed = [e.detail("image") for e in world.log.of_kind("image_removed")]
    yield Row(
        "kubelet periodic image GC: 90 % used → down to 80 %",
        "kubelet: every 5 min, above the high threshold, images detected at least 2 min",
        "800000000 B used, removed i0",
        f"{used} B used, removed {', '.join(removed)}",
        used == 800 * MB and removed == ["i0"],
    )


def storm_case() -> Row:
    """N hosts pull one image at once from a registry whose link is the bottleneck: with
    no latency the link stays full, so the last pull ends at exactly N × size / bandwidth."""
    worlds = load("worlds")
    image = worlds.layered_image("storm", [(200 * MB, 200 * MB), (100 * MB, 100 * MB)])
    hosts = [f"host-{i}" for i in range(1, 9)]
    world = worlds.pull_world([image], hosts=hosts, registry_bandwidth=100 * MB)
    for host in hosts:
        world.pull(host, "storm")
    world.env.run()
    last_s = max(record.finished_s for record in world.results)
    bound_s = len(hosts) * 300 * MB / (100 * MB)
    return Row(
        "pull storm: 8 hosts × 300 MB over a 100 MB/s registry link",
        "max-min fair sharing: N × size / bandwidth",
        f"{bound_s:g} s",
        f"{last_s:.9g} s",
        _close(last_s, bound_s),
    )


def slacker_cases() -> Iterator[Row]:
    """Slacker (Harter et al., FAST 2016): 6.4 % of an image's data is read at start-up;
    the lazy snapshotter prefetching all of it (and each layer's TOC) fetches that share
    before the start, and streams the rest at once (the upper bound of lazy pulling)."""
    worlds = load("worlds")
    sizes = [(200 * MB, 100 * MB), (100 * MB, 50 * MB), (20 * MB, 10 * MB)]
    image = worlds.layered_image("app", sizes)
    lazy = LazyParams(prefetch=1.0, background_delay=0.0)
    before = sum(lazy.toc_bytes + math.ceil(SLACKER_STARTUP_READ_FRACTION * c) for _, c in sizes)
    total = sum(c for _, c in sizes)
    finished = {}
    for name, snapshotter in (("overlayfs", OverlayfsParams()), ("lazy", lazy)):
        engine = EngineParams(serialize_image_pulls=False, snapshotter=snapshotter)
        world = worlds.pull_world([image], engine=engine)
        world.pull("host-1", "app")
        world.env.run()
        finished[name] = world.results[0].finished_s
        if name == "lazy":
            fetched = world.results[0].bytes_downloaded
            background = world.engines["host-1"].lazy_background_bytes
    yield Row(
        "lazy pull: bytes before the start (6.4 % + TOCs)",
        "Slacker, FAST 2016: 6.4 % of image data read at start-up",
        f"{before} B of {total} B ({100 * before / total:.2f} %)",
        f"{fetched} B, then {background} B in the background",
        fetched == before and fetched + background == total,
    )
    gain_s = (total - before) / (100 * MB)
    yield Row(
        "lazy pull: start-up gain on an idle link",
        "closed form: (image − start-up bytes) / bandwidth",
        f"{gain_s:.9g} s",
        f"{finished['overlayfs'] - finished['lazy']:.9g} s",
        _close(finished["overlayfs"] - finished["lazy"], gain_s),
    )


# --- the table ---------------------------------------------------------------------------


def rows(full: bool) -> list[Row]:
    """Every case, in the order printed."""
    return [
        *queueing_cases(full),
        *aws_cases(),
        *hpa_cases(),
        *image_cases(),
        *gc_cases(),
        storm_case(),
        *slacker_cases(),
    ]


def table(validated: list[Row]) -> str:
    """The rows as a Markdown table (docs/validation.md shows it as printed)."""
    lines = ["| case | source | expected | simulated | ok |", "|---|---|---|---|---|"]
    for row in validated:
        cells = (row.case, row.source, row.expected, row.simulated, "ok" if row.ok else "FAIL")
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table; the exit status is 1 if any case fails."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="leave out runs through the whole simulator"
    )
    args = parser.parse_args(argv)
    validated = rows(full=not args.quick)
    print(table(validated))
    failed = sum(not row.ok for row in validated)
    print(f"\n{len(validated) - failed} of {len(validated)} cases agree")
    compared = measured.comparisons()
    print("\nMeasured against simulated (reported; not part of the exit status):\n")
    print(measured.table(compared))
    consistent = sum(row.verdict == "consistent" for row in compared)
    print(f"\n{consistent} of {len(compared)} measured distributions consistent")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
