"""The data the figures draw (not their pixels): what `plots` computes from a run; and
how the plot functions behave: no backend or pyplot state, the axes or figure given,
files only when asked, in the format asked, the same bytes every time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import sim
from sim.core.records import REGISTRY_BYTES_COLUMN
from sim.output.plots import (
    PHASE_COLOURS,
    egress_series,
    registry_egress,
    run_figures,
    save_figure,
    serving_spans,
    sweep_figure,
    sweep_metrics,
    timeline,
    topology,
)
from sim.output.results import Result


@pytest.fixture(scope="module")
def run() -> Result:
    """The default scenario: a hub, its mirror and a private registry; every pull is
    done within the first minute (the first sample period)."""
    return sim.simulate(sim.load_config(["registry=default"]))


def test_the_egress_series_has_one_step_per_registry_over_every_period(run: Result) -> None:
    series = egress_series(run)
    assert [s.registry for s in series] == ["ecr", "hub", "mirror"]
    times = tuple(float(row["time_s"]) for row in run.timeseries)
    for one in series:
        assert one.edges_s == times and times[0] == 0.0
        assert len(one.rates_mb_s) == len(times) - 1


def test_a_pull_in_the_first_period_shows_in_the_first_period(run: Result) -> None:
    """Every pull ends by 60 s: all the bytes are in the step from 0 to 60 s, at bytes
    / 60 s (the old figure drew that step at 60 s only, as a spike)."""
    assert max(pull.finished_s for pull in run.pulls) < 60.0
    first = run.timeseries[1]
    assert first["time_s"] == 60.0
    for one in egress_series(run):
        sent = first[REGISTRY_BYTES_COLUMN + one.registry]
        assert sent > 0
        assert one.rates_mb_s[0] == pytest.approx(sent / 60.0 / 1e6, rel=1e-12)
        assert all(rate == 0.0 for rate in one.rates_mb_s[1:])


def test_each_registrys_steps_add_up_to_what_it_sent(run: Result) -> None:
    last = run.timeseries[-1]
    total = 0.0
    for one in egress_series(run):
        widths = [b - a for a, b in zip(one.edges_s, one.edges_s[1:], strict=False)]
        sent = sum(r * 1e6 * w for r, w in zip(one.rates_mb_s, widths, strict=True))
        assert sent == pytest.approx(last[REGISTRY_BYTES_COLUMN + one.registry], rel=1e-9)
        total += sent
    # The hub sent what the mirror fetched from it; all three sum to the total column.
    assert total == pytest.approx(last["registry_bytes_served"], rel=1e-9)
    assert (
        last["registry_bytes_served"]
        == run.summary["bytes_from_registry"] + (run.summary["bytes_from_upstream"])
    )


def test_importing_and_drawing_leave_the_backend_and_pyplot_alone(tmp_path: Path) -> None:
    """A notebook's backend stays the one it chose, and a drawing leaves no figure in
    pyplot's list (the old module switched every importer to Agg, so ``plt.show()``
    showed nothing)."""
    code = (
        "import sys, matplotlib\n"
        "matplotlib.use('pdf')\n"
        "import sim\n"
        "from sim.output.plots import run_figures, timeline\n"
        "result = sim.simulate(sim.load_config())\n"
        "figure = timeline(result)\n"
        f"run_figures(result, __import__('pathlib').Path({str(tmp_path)!r}))\n"
        "pyplot = sys.modules.get('matplotlib.pyplot')\n"  # networkx's drawing imports it
        "print(matplotlib.get_backend(), pyplot.get_fignums() if pyplot else [],"
        " type(figure).__name__)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert output == ["pdf", "[]", "Figure"]


def test_a_plot_without_a_path_writes_nothing_and_returns_its_figure(
    run: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for draw in (timeline, topology, registry_egress):
        assert isinstance(draw(run), Figure)
    assert list(tmp_path.iterdir()) == []


def test_a_timeline_draws_into_the_axes_it_is_given(run: Result) -> None:
    """One bar per phase that took time, and one per span in service, all on the
    caller's axes; the caller's figure is returned and gets no figure-level legend."""
    figure = Figure()
    left, right = figure.subplots(1, 2)
    assert timeline(run, ax=right) is figure
    phases = sum(
        1 for r in run.replicas if r.host for phase in PHASE_COLOURS if getattr(r, phase) > 0
    )
    spans = len(serving_spans(run))
    assert len(right.patches) == phases + spans
    assert len(left.patches) == 0 and figure.legends == []
    assert right.get_legend() is not None


def test_a_plot_given_a_figure_adds_its_axes_to_it(run: Result) -> None:
    figure = Figure()
    assert registry_egress(run, fig=figure) is figure
    (axes,) = figure.axes
    assert [line.get_label() for line in axes.patches] == ["ecr", "hub", "mirror"]


def test_a_sweep_figure_has_one_bar_per_point_at_its_mean() -> None:
    report = [
        {"platform": "vm", "runs": 3, "cost_usd_mean": 2.5, "cost_usd_ci95": 0.5},
        {"platform": "container", "runs": 3, "cost_usd_mean": 1.0, "cost_usd_ci95": None},
    ]
    axes = sweep_figure(report, "cost_usd").axes[0]
    assert [bar.get_height() for bar in axes.patches] == [2.5, 1.0]
    assert [label.get_text() for label in axes.get_xticklabels()] == ["vm", "container"]
    assert sweep_metrics(report) == ["cost_usd"]


@pytest.mark.parametrize("suffix", ["png", "svg", "pdf"])
def test_a_saved_figure_has_its_format_and_the_same_bytes_every_time(
    run: Result, tmp_path: Path, suffix: str
) -> None:
    first = save_figure(timeline(run), tmp_path / f"a.{suffix}", dpi=60).read_bytes()
    second = save_figure(timeline(run), tmp_path / f"b.{suffix}", dpi=60).read_bytes()
    assert first == second
    assert first.startswith({"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[suffix])
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"a.{suffix}", f"b.{suffix}"]


def test_run_figures_writes_each_figure_in_the_format_asked(run: Result, tmp_path: Path) -> None:
    written = run_figures(run, tmp_path, "svg")
    assert [p.name for p in written] == ["timeline.svg", "topology.svg", "registry_egress.svg"]
    assert all(p.read_bytes().startswith(b"<?xml") for p in written)
