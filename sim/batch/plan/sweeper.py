"""sim-plan's Hydra sweeper: the search's batches, run through the configured launcher.

``sim-plan`` runs ``sim -m hydra/sweeper=plan hydra.sweeper.vary=[...] ...``: Hydra
composes the configuration, takes the sweep folder's lock (the ``SweepTable``
callback) and hands the command line's overrides to this sweeper. The sweeper asks the
search (`sim.batch.plan.search`) for a batch of points, turns each run of each point into a
job (the overrides, the point's values, and ``replications=R replication=r`` when a
point has several runs) and gives the batch to the launcher Hydra was configured with
(basic, joblib or Ray), as Hydra's own sweepers do. Each job runs the ``sim`` task
function, so each run is a normal run folder of the sweep folder; the sweeper reads its
``summary.json`` back (`sim.batch.runs.read_run`), tells the search, and rewrites
``plan.csv`` after every batch.

Runs already complete in the sweep folder are reused: before launching a job, the
sweeper composes its configuration as the launcher will and looks its digest up among
the complete runs of the folder (`sim.batch.runs.config_hash`, the digest the task function
records), so a plan run again, or one that changes only its objectives, runs only what
it has not run. New runs take the numbers after the folder's highest, so no run folder
is ever overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

from sim.api import to_plain
from sim.batch.plan.screen import (
    Fidelity,
    Judged,
    ScreenedSearch,
    meets_within_margin,
)
from sim.batch.plan.search import Point, Search, Space, Violation
from sim.batch.plan.spec import PlanSpec, plan_spec
from sim.batch.plan.table import (
    FLUID,
    PLAN_FILE,
    REQUESTS,
    RunRecord,
    describe,
    metric_text,
    plan_csv,
    point_records,
    run_record,
    space_of,
)
from sim.batch.runs import config_hash, read_run
from sim.batch.sweep import run_folders
from sim.core.files import write_atomic
from sim.core.provenance import version

FLUID_MODE = "workload.traffic.mode=fluid"
"""The override of a screening run."""


@dataclass(frozen=True)
class Job:
    """One run of a point: its overrides and the digest of its configuration ("" when
    not composed beforehand: the run's own record then says it)."""

    point: Point
    replication: int
    overrides: tuple[str, ...]
    digest: str
    fidelity: Fidelity = "requests"


class _Unscreened:
    """The plain search (``plan.screen=none``) asked and told as `ScreenedSearch` is."""

    def __init__(self, space: Space) -> None:
        self.search = Search(space)

    @property
    def violations(self) -> list[Violation]:
        return self.search.violations

    def objective(self, point: Point) -> float | None:
        return self.search.objective(point)

    def ask(self) -> list[tuple[Point, Fidelity]]:
        return [(point, "requests") for point in self.search.ask()]

    def tell(self, judged: dict[tuple[Point, Fidelity], Judged]) -> None:
        self.search.tell({point: result.evaluation for (point, _), result in judged.items()})


@dataclass(frozen=True)
class Outcome:
    """How a job ended: its run folder, its summary (None unless complete), whether it
    was read back from an earlier run, and why it has no summary."""

    folder: Path
    summary: dict[str, Any] | None
    reused: bool
    error: str = ""


class PlanSweeper(Sweeper):
    """Runs a plan's search through a Hydra launcher (see the module docstring).

    Args:
        vary, slo, minimize, replications, monotone, screen: the plan, as
            `sim.batch.plan.spec.plan_spec` reads it (``sim-plan`` fills them from its
            ``plan.*`` keys).
    """

    def __init__(
        self,
        vary: Sequence[str],
        slo: Sequence[str],
        minimize: str,
        replications: int,
        monotone: Sequence[str],
        screen: str = "fluid",
    ) -> None:
        super().__init__()
        self.spec: PlanSpec = plan_spec(
            [str(item) for item in vary],
            [str(item) for item in slo],
            str(minimize),
            replications,
            [str(item) for item in monotone],
            screen=str(screen),
        )
        self._context: HydraContext | None = None
        self._config: DictConfig | None = None
        self._launcher: Launcher | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self._context = hydra_context
        self._config = config
        self._launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> list[RunRecord]:
        """Search the plan's grid with `arguments` (the command line's overrides) under
        every run; returns the runs, as written to ``plan.csv``."""
        assert self._config is not None
        spec = self.spec
        sweep = Path(str(self._config.hydra.sweep.dir))
        sweep.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self._config, sweep / "multirun.yaml")
        folder = _SweepFolder.read(sweep, self._config.get("resume") == "any_version")
        search: ScreenedSearch | _Unscreened = (
            ScreenedSearch(space_of(spec), spec.slos)
            if spec.screen == "fluid"
            else _Unscreened(space_of(spec))
        )
        runs: list[RunRecord] = []
        write_atomic(sweep / PLAN_FILE, plan_csv(spec, runs))
        _say(_heading(spec))
        batch_number = 0
        while batch := search.ask():
            batch_number += 1
            # Composing a run's configuration to know its digest costs as much as a short
            # run's start: done only when the folder holds runs to reuse.
            resuming = bool(folder.complete)
            jobs = [
                self._job(arguments, point, replication, fidelity, resuming)
                for point, fidelity in batch
                for replication in range(spec.replications if fidelity == REQUESTS else 1)
            ]
            outcomes = self._run(jobs, folder)
            records = [
                run_record(spec, job.point, job.replication, outcome.summary, job.fidelity)
                for job, outcome in zip(jobs, outcomes, strict=True)
            ]
            runs.extend(records)
            write_atomic(sweep / PLAN_FILE, plan_csv(spec, runs))
            for job, outcome, record in zip(jobs, outcomes, records, strict=True):
                _say(_run_line(spec, batch_number, job, outcome, record))
            seen = len(search.violations)
            search.tell(_judged(spec, records))
            for violation in search.violations[seen:]:
                _say(_violation_line(spec, search, violation))
        return runs

    def _job(
        self,
        arguments: Sequence[str],
        point: Point,
        replication: int,
        fidelity: Fidelity,
        digested: bool = True,
    ) -> Job:
        """The job of one run (a screening run in the fluid mode with the root seed, a
        request-mode run with its replication's), with the digest of the configuration it
        will run if `digested`."""
        assert self._context is not None and self._config is not None
        spec = self.spec
        overrides = [
            *arguments,
            *(knob.override(index) for knob, index in zip(spec.knobs, point, strict=True)),
        ]
        if fidelity == FLUID:
            overrides.append(FLUID_MODE)
        elif spec.replications > 1:
            overrides += [f"replications={spec.replications}", f"replication={replication}"]
        if not digested:
            return Job(point, replication, tuple(overrides), "", fidelity)
        composed = self._context.config_loader.load_sweep_config(self._config, overrides)
        with open_dict(composed):
            del composed["hydra"]
        digest = config_hash(to_plain(composed))
        return Job(point, replication, tuple(overrides), digest, fidelity)

    def _run(self, jobs: Sequence[Job], folder: _SweepFolder) -> list[Outcome]:
        """Run the jobs not complete in the folder yet (each configuration once), as one
        batch of the launcher, and read every job's run folder back."""
        assert self._launcher is not None
        new: list[Job] = []
        for job in jobs:
            if job.digest not in folder.complete and all(_key(job) != _key(n) for n in new):
                new.append(job)
        first = folder.next_number
        launched: dict[str | tuple[str, ...], Path] = {}
        if new:
            returns = self._launcher.launch([list(job.overrides) for job in new], first)
            folder.next_number += len(new)
            for index, (job, returned) in enumerate(zip(new, returns, strict=True)):
                launched[_key(job)] = _output_folder(returned, folder.path / str(first + index))
        outcomes = []
        for job in jobs:
            reused = _key(job) not in launched
            run = folder.complete[job.digest] if reused else launched[_key(job)]
            state = read_run(run)
            digest = job.digest or state.config_hash
            if state.status == "complete" and state.config_hash == digest:
                folder.complete.setdefault(digest, run)
                outcomes.append(Outcome(run, dict(state.summary), reused))
            else:
                why = state.error or f"the run is {state.status}"
                outcomes.append(Outcome(run, None, reused, why))
        return outcomes


@dataclass
class _SweepFolder:
    """The runs already complete in a sweep folder, by digest, and the next run number."""

    path: Path
    complete: dict[str, Path]
    next_number: int

    @classmethod
    def read(cls, sweep: Path, any_version: bool = False) -> _SweepFolder:
        """The folder's runs; those another version of the simulator made count only
        if `any_version`."""
        complete: dict[str, Path] = {}
        numbers = [-1]
        for run in run_folders(sweep):
            numbers.append(int(run.name))
            state = read_run(run)
            if state.status == "complete" and (any_version or state.version == version()):
                complete.setdefault(state.config_hash, run)
        return cls(sweep, complete, max(numbers) + 1)


def _key(job: Job) -> str | tuple[str, ...]:
    """What tells a job's run from the others': its digest, else its overrides."""
    return job.digest or job.overrides


def _output_folder(returned: JobReturn, fallback: Path) -> Path:
    """Where a launched job wrote its run (Hydra's record of it, else its number)."""
    hydra_config = returned.hydra_cfg
    if hydra_config is not None:
        output = OmegaConf.select(hydra_config, "hydra.runtime.output_dir", default=None)
        if output:
            return Path(str(output))
    return fallback


def _say(line: str) -> None:
    print(line, flush=True)


def _judged(spec: PlanSpec, records: Sequence[RunRecord]) -> dict[tuple[Point, Fidelity], Judged]:
    """What a batch's runs say about each point at each fidelity."""
    judged: dict[tuple[Point, Fidelity], Judged] = {}
    fidelities: tuple[Fidelity, ...] = ("fluid", "requests")
    for fidelity in fidelities:
        chosen = [record for record in records if record.fidelity == fidelity]
        for point in point_records(spec, chosen):
            judged[point.point, fidelity] = Judged(
                point, meets_within_margin(spec.slos, point.slo_values)
            )
    return judged


def _heading(spec: PlanSpec) -> str:
    keys = ", ".join(f"{k.name} ({len(k.values)} values, {k.direction})" for k in spec.knobs)
    slos = ", ".join(slo.text for slo in spec.slos)
    runs = f"{spec.replications} run{'s' if spec.replications > 1 else ''} per point"
    screen = (
        ", screened in the fluid mode and confirmed in the request mode"
        if spec.screen == "fluid"
        else ""
    )
    return (
        f"plan: minimize {spec.minimize} subject to {slos} over {keys}: "
        f"a grid of {spec.grid_size} points, {runs}{screen}"
    )


def _run_line(spec: PlanSpec, batch: int, job: Job, outcome: Outcome, record: RunRecord) -> str:
    """``batch 2: key=value ...: meets (metrics) [run 3]`` for one run."""
    replication = (
        f" replication {job.replication}"
        if spec.replications > 1 and job.fidelity == REQUESTS
        else ""
    )
    where = f"run {outcome.folder.name}{', read back' if outcome.reused else ''}"
    if job.fidelity == FLUID:
        where += ", fluid"
    if outcome.summary is None:
        verdict = f"failed ({outcome.error})"
    else:
        (point,) = point_records(spec, [record])
        verdict = f"{'meets' if record.meets else 'misses'} ({metric_text(spec, point)})"
    return f"batch {batch}: {describe(spec, job.point)}{replication}: {verdict} [{where}]"


def _violation_line(
    spec: PlanSpec, search: ScreenedSearch | _Unscreened, violation: Violation
) -> str:
    lower, higher = describe(spec, violation.lower), describe(spec, violation.higher)
    if violation.kind == "meets":
        what = f"{lower} meets the objectives but {higher}, with more capacity, misses them"
    else:
        low_cost, high_cost = search.objective(violation.lower), search.objective(violation.higher)
        what = f"{lower} costs {low_cost!r} but {higher}, with more capacity, costs {high_cost!r}"
    free = [(k, violation.lower[i]) for i, k in enumerate(spec.knobs) if k.direction == "none"]
    where = " ".join(f"{k.name}={k.values[index]}" for k, index in free)
    where = f"the slice {where}" if free else "the grid"
    return f"assumption not met: {what}; scanning {where}"


__all__ = ["PlanSweeper"]
