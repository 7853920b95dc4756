"""``sim-plan``: the cheapest configuration that meets service-level objectives.

``sim-plan [overrides] plan.vary=[...] plan.slo=[...] [plan.minimize=...]
[plan.replications=N] [plan.monotone=[...]]`` checks everything first (the ``plan.*``
keys, every varied value in the configuration, the metrics the objectives name, the
sweep folder), so a mistake ends with one line ``config error: <key>: <value>:
<allowed>`` and exit status 2 before anything is written. It then runs ``sim -m
hydra/sweeper=plan`` with the plan as the sweeper's settings (`sim.batch.plan.sweeper`), so
the runs go through whichever launcher the command line chose, and finally reads the
answer back from ``plan.csv``, prints it with the frontier, draws ``plan.png`` and
ends with one machine-readable line (`sim.batch.plan.table.best_line`); exit status 1 when no
point meets the objectives.

The ``plan.*`` settings are the sweeper's, not the runs': they are not part of a run's
configuration, so a run's digest does not change with the objectives, and a plan asked
again with other objectives reuses the runs it shares with the first.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.api import first_line, load_config, to_plain
from sim.batch.plan.metrics import metric_names
from sim.batch.plan.spec import (
    DEFAULT_OBJECTIVE,
    DEFAULT_SCREEN,
    PLAN_KEYS,
    Knob,
    PlanSpec,
    Screen,
    plan_spec,
    read_knobs,
    read_screen,
    split_items,
)
from sim.batch.plan.sweeper import FLUID_MODE
from sim.batch.plan.table import (
    FIGURE_FILE,
    FLUID,
    PLAN_FILE,
    REQUESTS,
    best_line,
    choose,
    describe,
    frontier_lines,
    metric_text,
    point_records,
    read_plan_csv,
)
from sim.cli import main as sim_cli
from sim.cli.interrupt import interruptible
from sim.config import scenario_params
from sim.core.errors import ConfigError
from sim.core.files import unwritable_reason
from sim.scenario import run_scenario

EXIT_NO_ANSWER = 1
EXIT_CONFIG_ERROR = 2
QUIET_HYDRA = "hydra.hydra_logging.root.level=WARNING"
"""Hydra's note of each batch it launches says less than the sweeper's line per run; its
warnings and errors still show (a later override on the command line wins)."""
PROBE_HORIZON = "1ms"
"""A run this short builds the scenario and reports every metric the plan's runs will have."""

USAGE = """\
usage: sim-plan [overrides] plan.vary=[...] plan.slo=[...] [plan.minimize=METRIC|KEY]
                [plan.replications=N] [plan.monotone=[KEY=up|down|none, ...]]
                [plan.screen=fluid|none]

The cheapest configuration that meets every objective, over the grid of varied keys:
  plan.vary=[key=low:high[:step], key=a,b,c]   values to try (ranges, or choices in order)
  plan.slo=[metric<=number, metric>=number]      objectives every run of a point must meet
  plan.minimize=cost_usd                         a metric, or a varied key with numbers
  plan.replications=1                            runs per point (seeds derived per run)
  plan.monotone=[key=up]                         how a key moves capacity (ranges: up)
  plan.screen=fluid                              screen in the fluid mode, confirm in the
                                                 request mode (none: request mode only)
Overrides are sim's (any group, key or hydra setting, e.g. hydra/launcher=joblib).
Writes run folders, plan.csv and plan.png into hydra.sweep.dir; the last line is
`best: <key>=<value> ... <metric>=<value> ... runs=<n> grid=<points>` (exit 1: none)."""


@dataclass(frozen=True)
class Request:
    """A checked command line: the plan, the runs' overrides and the sweep folder."""

    spec: PlanSpec
    overrides: tuple[str, ...]
    sweep: Path


def _plan_values(arguments: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """The ``plan.*`` values (the last of each key wins) and the other arguments.

    Raises:
        ConfigError: a flag, or a ``plan.`` key sim-plan does not know.
    """
    plan: dict[str, str] = {}
    overrides = []
    for argument in arguments:
        if argument in ("-m", "--multirun"):
            continue
        if argument.startswith("-"):
            raise ConfigError(
                "command line", argument, "overrides and plan.* keys only (sim-plan --help)"
            )
        key, equals, value = argument.partition("=")
        if key.startswith("plan."):
            name = key.removeprefix("plan.")
            if name not in PLAN_KEYS or not equals:
                keys = ", ".join(f"plan.{k}" for k in PLAN_KEYS)
                raise ConfigError(key, value or "(no value)", f"one of {keys}, with a value")
            plan[name] = value
        else:
            overrides.append(argument)
    return plan, overrides


def _items(plan: dict[str, str], key: str) -> list[str]:
    """The items of a list-valued plan key (none when it is not given)."""
    return split_items(key, plan[key]) if key in plan else []


def _refuse_what_the_plan_sets(overrides: Sequence[str], knobs: Sequence[Knob]) -> None:
    """Refuse overrides that would fight the plan: sweeps, replications, the sweeper,
    and a key the plan varies.

    Raises:
        ConfigError: naming the override.
    """
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as error:
        raise ConfigError("overrides", " ".join(overrides), first_line(error)) from None
    varied = {knob.name for knob in knobs}
    for override in parsed:
        key = override.get_key_element().lstrip("+~")
        value = (override.input_line or "").partition("=")[2]
        if override.is_sweep_override():
            allowed = "one value (sim-plan varies keys with plan.vary)"
        elif key in ("replications", "replication"):
            allowed = "set by sim-plan (runs per point: plan.replications)"
        elif key == "hydra/sweeper" or key.startswith("hydra.sweeper"):
            allowed = "set by sim-plan (the plan is given with plan.* keys)"
        elif key in varied:
            allowed = "given once: plan.vary varies it"
        else:
            continue
        raise ConfigError(key, value, allowed)


def _composed(overrides: Sequence[str]) -> DictConfig:
    """The configuration of some overrides, Hydra's settings composed and set apart.

    Raises:
        ConfigError: the overrides do not compose, or the configuration is not valid.
    """
    composed = load_config(list(overrides), with_hydra=True)
    with open_dict(composed):
        composed.pop("hydra")
    scenario_params(to_plain(composed))
    return composed


def _check_values(knobs: Sequence[Knob], overrides: Sequence[str]) -> list[str]:
    """Compose and validate the first point, then every choice and both ends of every
    range (one value at a time, the other keys at their first); returns the first
    point's overrides. A value of a key that picks no config group is set on the first
    point's configuration (a composition costs a quarter of a second: nine instance types
    took three); a group's option, or a key the override adds, is composed.

    Raises:
        ConfigError: the first value that makes no valid configuration.
    """
    first = [knob.override(0) for knob in knobs]
    base = load_config([*overrides, *first], with_hydra=True)
    groups = set(base.hydra.runtime.choices)
    with open_dict(base):
        base.pop("hydra")
    scenario_params(to_plain(base))
    tree = OmegaConf.to_container(base, resolve=False)
    parser = OverridesParser.create()
    for index, knob in enumerate(knobs):
        checked = [len(knob.values) - 1] if knob.is_range else range(len(knob.values))
        for value_index in checked:
            if value_index == 0:
                continue
            point = [*first[:index], knob.override(value_index), *first[index + 1 :]]
            if knob.key != knob.name or knob.name in groups:
                _composed([*overrides, *point])
                continue
            varied = OmegaConf.create(tree)
            value = parser.parse_override(knob.override(value_index)).value()
            OmegaConf.update(varied, knob.name, value, merge=False)
            scenario_params(to_plain(varied))
    return first


def _probe_metrics(overrides: Sequence[str], first: Sequence[str]) -> list[str]:
    """The metrics the plan's runs will have: those of the first point run for a
    moment."""
    composed = _composed([*overrides, *first, f"horizon={PROBE_HORIZON}"])
    return metric_names(run_scenario(scenario_params(to_plain(composed))).summary)


def _screen(plan: dict[str, str], overrides: Sequence[str], first: Sequence[str]) -> Screen:
    """``plan.screen``: as given, or the default; a scenario the fluid mode cannot run
    is not screened by default, and refused when ``plan.screen=fluid`` is given.

    Raises:
        ConfigError: a value other than fluid or none, or fluid for such a scenario.
    """
    screen = read_screen(plan.get("screen", DEFAULT_SCREEN))
    if screen == "fluid":
        try:
            _composed([*overrides, *first, FLUID_MODE])
        except ConfigError as error:
            if "screen" not in plan:
                return "none"
            why = f"{error.key}: {error.allowed}" if error.key else error.allowed
            raise ConfigError(
                "plan.screen", "fluid", f"none for this scenario (in the fluid mode, {why})"
            ) from None
    return screen


def _sweep_folder(overrides: Sequence[str]) -> Path:
    """The sweep folder, its interpolations (a date, say) resolved once, here.

    Raises:
        ConfigError: it does not resolve, or cannot be written.
    """
    settings = load_config(list(overrides), with_hydra=True).hydra
    try:
        folder = str(OmegaConf.select(settings, "sweep.dir", throw_on_missing=True))
    except OmegaConfBaseException as error:
        raise ConfigError("hydra.sweep.dir", "interpolation", first_line(error)) from None
    reason = unwritable_reason(Path(folder))
    if reason is not None:
        raise ConfigError("hydra.sweep.dir", folder, f"a folder that can be written ({reason})")
    return Path(folder)


def check(arguments: Sequence[str]) -> Request:
    """Check a sim-plan command line before anything runs.

    Raises:
        ConfigError: the first mistake.
    """
    plan, overrides = _plan_values(arguments)
    knobs = read_knobs(_items(plan, "vary"), _items(plan, "monotone"))
    _refuse_what_the_plan_sets(overrides, knobs)
    first = _check_values(knobs, overrides)
    spec = plan_spec(
        _items(plan, "vary"),
        _items(plan, "slo"),
        plan.get("minimize", DEFAULT_OBJECTIVE),
        plan.get("replications", "1"),
        _items(plan, "monotone"),
        metrics=_probe_metrics(overrides, first),
        screen=_screen(plan, overrides, first),
    )
    return Request(spec, tuple(overrides), _sweep_folder(overrides))


def _hydra_string(text: str) -> str:
    """`text` as one quoted value of a Hydra override.

    Raises:
        ConfigError: it holds both kinds of quote.
    """
    for quote in ("'", '"'):
        if quote not in text:
            return f"{quote}{text}{quote}"
    raise ConfigError("plan", text, "an item without both ' and \" in it")


def sim_arguments(request: Request) -> list[str]:
    """The ``sim`` command line that runs the plan: multirun, the plan's sweeper with the
    plan as its settings, and the sweep folder resolved once."""
    settings = request.spec.settings()

    def hydra_list(items: Sequence[str]) -> str:
        return "[" + ",".join(_hydra_string(item) for item in items) + "]"

    return [
        "-m",
        QUIET_HYDRA,
        *request.overrides,
        "hydra/sweeper=plan",
        f"hydra.sweeper.vary={hydra_list(settings['vary'])}",
        f"hydra.sweeper.slo={hydra_list(settings['slo'])}",
        f"hydra.sweeper.minimize={settings['minimize']}",
        f"hydra.sweeper.replications={settings['replications']}",
        f"hydra.sweeper.monotone={hydra_list(settings['monotone'])}",
        f"hydra.sweeper.screen={settings['screen']}",
        f"hydra.sweep.dir={_hydra_string(str(request.sweep))}",
    ]


def _disconnect_from_ray() -> None:
    """Leave the Ray instance the Ray launcher joined, if it did: Ray relays its workers'
    output to this process in the background, and a line relayed late would land after
    the report's last line, which machines read."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()


def report(spec: PlanSpec, sweep: Path) -> int:
    """Print the answer read back from ``plan.csv``, the frontier, draw ``plan.png`` and
    print the last line; the exit status."""
    try:
        runs = read_plan_csv(spec, (sweep / PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"sim-plan: no plan to report in {sweep}: {error}", file=sys.stderr)
        return EXIT_NO_ANSWER
    confirmed = [run for run in runs if run.fidelity == REQUESTS]
    points = point_records(spec, confirmed)
    best = choose(spec, points)
    screened = sum(run.fidelity == FLUID for run in runs)
    how = (
        f" ({screened} in the fluid mode, {len(confirmed)} in the request mode)" if screened else ""
    )
    print(
        f"plan: {len(runs)} runs{how} over {len(point_records(spec, runs))} of "
        f"{spec.grid_size} points, in {sweep}"
    )
    if best is None:
        print("answer: no point meets every objective")
    else:
        print(f"answer: {describe(spec, best.point)} ({metric_text(spec, best)})")
    for line in frontier_lines(spec, points):
        print(line)
    try:
        from sim.batch.plan.figure import draw_plan

        draw_plan(spec, points, best, sweep / FIGURE_FILE)
        print(f"figure: {sweep / FIGURE_FILE}")
    except OSError as error:
        print(f"sim-plan: figure not drawn: {error}", file=sys.stderr)
    print(best_line(spec, best, len(runs)))
    return 0 if best is not None else EXIT_NO_ANSWER


def main() -> None:
    """The ``sim-plan`` console script (an interrupt ends it with one line, 130 or 143)."""
    with interruptible():
        _main()


def _main() -> None:
    arguments = sys.argv[1:]
    if "-h" in arguments or "--help" in arguments:
        print(USAGE)
        return
    try:
        request = check(arguments)
        hydra_arguments = sim_arguments(request)
    except ConfigError as error:
        print(error.line(), file=sys.stderr)
        sys.exit(EXIT_CONFIG_ERROR)
    sys.argv[1:] = hydra_arguments
    sim_cli.main()
    _disconnect_from_ray()
    sys.exit(report(request.spec, request.sweep))
