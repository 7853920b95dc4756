"""Measured against simulated: the model's start-up distributions beside public
measurements (``experiments/data/``, sources and licences in its README).

Each comparison runs the simulator in the setting the measurement describes and sets
the two samples side by side: their 10th, 50th and 90th percentiles, the relative error
of the simulated median, and the two-sample Kolmogorov-Smirnov distance D (the largest
gap between the two empirical distribution functions). D is set against its 5 %
critical value, 1.358 * sqrt((n + m) / (n m)) (the asymptotic two-sample bound; with
9-11 measurements it is conservative): below it the samples are *consistent*, above it
they *differ*. These are checks of the model, not of the code, so a difference is a
finding to report, not a failure: `experiments/validation.py` prints them apart from
its verification cases and they do not change its exit status.

* **EC2 launch to SSH** (brevdev/ec2-coldboot-research, 2026; 11 launches of six
  instance types in us-west-2 and of m7i.large in five regions): RunInstances until
  port 22 answers. Simulated: a VM as its own EC2 instance
  (``+platform.vm.instance_type=m5.large`` with the provisioning the VM platform's
  preset documents for that case: lognormal, median 14.5 s, sigma 0.55), provisioning
  plus guest boot of 200 instances.
* **Fargate task start** (ElasticScale, 2024; 9 tasks of a 413 MB PHP image started at
  once): the task's creation to its start. Simulated: 10 Fargate tasks of the web app
  with its image scaled to 413 MB compressed (its layers ×3.9, so 1.25 GB unpacked, the
  web image's ratio: the post gives no unpacked size), no app init, over 5 seeds.
"""

from __future__ import annotations

import csv
import datetime
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sim
from sim.api import to_plain
from sim.config import scenario_params
from sim.core.units import parse_size
from sim.output.summary import percentile
from sim.scenario import run_scenario

DATA = Path(__file__).resolve().parent / "data"
KS_95 = 1.358
"""The two-sample Kolmogorov-Smirnov statistic's 5 % coefficient, c(0.05)."""
WEB_COMPRESSED_MB = 106.4  # the catalog's web image, compressed (debian + python + app)
FARGATE_IMAGE_MB = 413.0


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by linear interpolation (numpy's default)."""
    value = percentile(values, 100.0 * q)
    assert value is not None  # a sample is never empty here
    return value


def ks_distance(first: Sequence[float], second: Sequence[float]) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest vertical gap between the
    samples' empirical distribution functions."""
    a, b = sorted(first), sorted(second)
    gap = 0.0
    i = j = 0
    while i < len(a) and j < len(b):
        x = min(a[i], b[j])
        while i < len(a) and a[i] == x:
            i += 1
        while j < len(b) and b[j] == x:
            j += 1
        gap = max(gap, abs(i / len(a) - j / len(b)))
    return gap


@dataclass(frozen=True)
class Comparison:
    """A measured sample and the simulated one of the same quantity."""

    quantity: str
    source: str
    measured: tuple[float, ...]
    simulated: tuple[float, ...]

    @property
    def distance(self) -> float:
        return ks_distance(self.measured, self.simulated)

    @property
    def critical(self) -> float:
        n, m = len(self.measured), len(self.simulated)
        return KS_95 * math.sqrt((n + m) / (n * m))

    @property
    def verdict(self) -> str:
        return "consistent" if self.distance <= self.critical else "differs"

    @property
    def median_error(self) -> float:
        """The simulated median's relative error against the measured one."""
        measured = quantile(self.measured, 0.5)
        return (quantile(self.simulated, 0.5) - measured) / measured

    def cells(self) -> tuple[str, ...]:
        def spread(values: Sequence[float]) -> str:
            p10, p50, p90 = (quantile(values, q) for q in (0.1, 0.5, 0.9))
            return f"{p10:.1f} / {p50:.1f} / {p90:.1f} s"

        return (
            self.quantity,
            f"{self.source} (n = {len(self.measured)})",
            spread(self.measured),
            f"{spread(self.simulated)} (n = {len(self.simulated)})",
            f"{100 * self.median_error:+.0f} %",
            f"{self.distance:.2f} ({self.critical:.2f})",
            self.verdict,
        )


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, newline="") as file:
        return list(csv.DictReader(file))


def measured_ec2_launch_s() -> tuple[float, ...]:
    """RunInstances to SSH of each measured launch, in seconds."""
    return tuple(int(row["total_ms"]) / 1000 for row in _rows("ec2_launch_to_ssh.csv"))


def measured_fargate_start_s() -> tuple[float, ...]:
    """Creation to start of each measured Fargate task (the timestamps' difference),
    without the row the post repeats."""
    times = []
    for row in _rows("fargate_task_start.csv"):
        if row["note"]:
            continue
        created, started = (
            datetime.datetime.fromisoformat(row[key].replace("Z", "+00:00"))
            for key in ("created_at", "started_at")
        )
        times.append((started - created).total_seconds())
    return tuple(times)


def _simulate(
    overrides: Sequence[str], adjust: Callable[[dict[str, Any]], None] | None = None
) -> Any:
    plain = to_plain(sim.load_config([*overrides, "progress=false", "log=summary"]))
    if adjust is not None:
        adjust(plain)
    return run_scenario(scenario_params(plain))


def simulated_ec2_launch_s(instances: int = 200) -> tuple[float, ...]:
    """Provisioning plus boot of VMs launched as their own EC2 instances."""
    result = _simulate(
        [
            "platform=vm",
            "+platform.vm.instance_type=m5.large",
            "platform.vm.provision={dist: lognormal, median: 14.5s, sigma: 0.55}",
            "autoscaler=none",
            f"workload.deployments=[{{app: web, replicas: {instances}, at: 0s, platform: vm}}]",
            "workload.apps.web.init=0s",
        ]
    )
    return tuple(r.provision_s + r.boot_s for r in result.replicas if r.state == "ready")


def _scale_web(factor: float) -> Callable[[dict[str, Any]], None]:
    def adjust(config: dict[str, Any]) -> None:
        for name in ("debian-12", "python-3.12", "web"):
            for step in config["images"][name]["steps"]:
                for key in ("size", "compressed"):
                    if key in step:
                        step[key] = f"{round(parse_size(step[key], 'images') * factor)}B"

    return adjust


def simulated_fargate_start_s(tasks: int = 10, seeds: int = 5) -> tuple[float, ...]:
    """Creation to start of Fargate tasks of a 413 MB image (no app init)."""
    times: list[float] = []
    for seed in range(seeds):
        result = _simulate(
            [
                f"seed={seed}",
                "platform=fargate",
                "autoscaler=none",
                f"workload.deployments=[{{app: web, replicas: {tasks}, at: 0s, "
                "platform: fargate}]",
                "workload.apps.web.init=0s",
            ],
            _scale_web(FARGATE_IMAGE_MB / WEB_COMPRESSED_MB),
        )
        times += [r.startup_s for r in result.replicas if r.state == "ready"]
    return tuple(times)


def comparisons() -> list[Comparison]:
    """Every measured quantity beside its simulated sample."""
    return [
        Comparison(
            "EC2 launch to SSH (RunInstances → port 22)",
            "brevdev/ec2-coldboot-research, 2026",
            measured_ec2_launch_s(),
            simulated_ec2_launch_s(),
        ),
        Comparison(
            "Fargate task, 413 MB image: created → started",
            "ElasticScale, 2024",
            measured_fargate_start_s(),
            simulated_fargate_start_s(),
        ),
    ]


HEADER = (
    "quantity",
    "measured (source, n)",
    "measured p10 / p50 / p90",
    "simulated p10 / p50 / p90",
    "median error",
    "KS D (5 % critical)",
    "verdict",
)


def table(rows: Sequence[Comparison]) -> str:
    """The comparisons as a Markdown table (docs/validation.md shows it as printed)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row.cells()) + " |")
    return "\n".join(lines)
