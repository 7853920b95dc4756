"""The fluid traffic mode against the request mode: does the fast approximation hold?

Every workload preset with a service (``bursty``, ``constant``, ``diurnal``,
``flash_crowd``, ``poisson``, ``trace``) × the autoscalers ``beanstalk``,
``target_tracking`` and ``hpa``, on containers, runs in both modes over 3 seeds; the
table compares the means over the seeds:

* served (requests finished) within 1 %;
* the bill within 2 %;
* scaling actions within ±1;
* latency p95 within 10 %, where the request mode's CPU utilisation stays below 90 %
  in every monitoring period (``n/a`` otherwise: near saturation the fluid's stationary
  approximation does not apply, and the request mode's p95 is itself dominated by the
  queue bound).

The diurnal preset runs 12 h of its day (trough to near the peak) to keep the study
under about two minutes of CPU; ``--diurnal-horizon 1d`` runs the whole day.

Run ``python experiments/fluid_validation.py`` (``--seeds 3``); one row per case,
``ok`` when every criterion holds, else ``miss`` and which. Exits 1 on a miss only with
``--strict``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import sim
from sim.cli.main import to_plain
from sim.config import scenario_params
from sim.scenario import Scenario

WORKLOADS = ("bursty", "constant", "diurnal", "flash_crowd", "poisson", "trace")
AUTOSCALERS = ("beanstalk", "target_tracking", "hpa")
SERVED_TOLERANCE = 0.01
COST_TOLERANCE = 0.02
ACTIONS_TOLERANCE = 1
P95_TOLERANCE = 0.10
UTILISATION_LIMIT = 90.0


@dataclass(frozen=True)
class Outcome:
    """The means over seeds of one mode's runs of one case."""

    served: float
    cost_usd: float
    scaling_actions: float
    latency_p95_s: float
    cpu_percent_max: float
    cpu_s: float


def run_case(
    workload: str, autoscaler: str, mode: str, seeds: Sequence[int], extra: Sequence[str]
) -> Outcome:
    rows = []
    for seed in seeds:
        overrides = [
            f"workload={workload}",
            f"autoscaler={autoscaler}",
            "platform=container",
            f"workload.traffic.mode={mode}",
            f"seed={seed}",
            "log=summary",
            *extra,
        ]
        params = scenario_params(to_plain(sim.load_config(overrides)))
        started = time.process_time()
        result = Scenario(params).run()
        cpu_s = time.process_time() - started
        summary = result.summary
        rows.append(
            (
                summary["requests_served"],
                summary["cost_usd"],
                summary["scaling_actions"],
                summary["latency_s_p95"] or 0.0,
                max(float(row["cpu_percent_avg"]) for row in result.timeseries),
                cpu_s,
            )
        )
    means = [statistics.fmean(column) for column in zip(*rows, strict=True)]
    return Outcome(means[0], means[1], means[2], means[3], max(r[4] for r in rows), means[5])


def relative(fluid: float, requests: float) -> float:
    return abs(fluid - requests) / abs(requests) if requests else abs(fluid)


def compare(requests: Outcome, fluid: Outcome) -> tuple[list[str], list[str]]:
    """The row's cells and the criteria missed."""
    missed = []
    served = relative(fluid.served, requests.served)
    cost = relative(fluid.cost_usd, requests.cost_usd)
    actions = fluid.scaling_actions - requests.scaling_actions
    if served > SERVED_TOLERANCE:
        missed.append("served")
    if cost > COST_TOLERANCE:
        missed.append("cost")
    if abs(actions) > ACTIONS_TOLERANCE:
        missed.append("actions")
    if requests.cpu_percent_max < UTILISATION_LIMIT:
        p95 = relative(fluid.latency_p95_s, requests.latency_p95_s)
        p95_cell = f"{requests.latency_p95_s:.3f}/{fluid.latency_p95_s:.3f} ({p95:+.1%})"
        if p95 > P95_TOLERANCE:
            missed.append("p95")
    else:
        p95_cell = f"{requests.latency_p95_s:.3f}/{fluid.latency_p95_s:.3f} (n/a)"
    cells = [
        f"{requests.served:.0f}/{fluid.served:.0f} ({served:.2%})",
        f"{requests.cost_usd:.3f}/{fluid.cost_usd:.3f} ({cost:.2%})",
        f"{requests.scaling_actions:.1f}/{fluid.scaling_actions:.1f}",
        p95_cell,
        f"{requests.cpu_percent_max:.0f}",
        f"{requests.cpu_s:.2f}/{fluid.cpu_s:.2f}",
    ]
    return cells, missed


HEADER = (
    "workload",
    "autoscaler",
    "served req/fluid (diff)",
    "cost USD req/fluid (diff)",
    "actions req/fluid",
    "p95 s req/fluid (diff)",
    "max CPU %",
    "CPU s req/fluid",
    "ok",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--autoscalers", nargs="*", default=list(AUTOSCALERS))
    parser.add_argument("--diurnal-horizon", default="12h")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any case misses")
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    misses = 0
    for workload in args.workloads:
        extra = [f"horizon={args.diurnal_horizon}"] if workload == "diurnal" else []
        for autoscaler in args.autoscalers:
            requests = run_case(workload, autoscaler, "requests", seeds, extra)
            fluid = run_case(workload, autoscaler, "fluid", seeds, extra)
            cells, missed = compare(requests, fluid)
            verdict = "ok" if not missed else "miss: " + ", ".join(missed)
            misses += bool(missed)
            print("| " + " | ".join([workload, autoscaler, *cells, verdict]) + " |", flush=True)
    return 1 if misses and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
