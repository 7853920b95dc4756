"""The data the figures draw (not their pixels): what `plots` computes from a run."""

from __future__ import annotations

import pytest

import sim
from sim.core.records import REGISTRY_BYTES_COLUMN
from sim.output.plots import egress_series
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
