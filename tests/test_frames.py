"""A run's results as DataFrames, its typed summary, its short views, and a run folder
read back: each table holds exactly what the run recorded."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import typing
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.core.records import REGISTRY_BYTES_COLUMN
from sim.output.columns import TIMESERIES_COLUMNS, column_doc
from sim.output.results import Result
from sim.output.run_summary import RunSummary
from sim.output.summary import Summary, key_doc, keys

FAULTS = (
    "+experiment=resilience",
    "horizon=40min",
    "+faults=[{kind: host-crash, target: node-1, at: 5min, duration: 10min}]",
    "+slo={latency_p95: 2s, drop_ratio: 0.01}",
)
"""A served app under faults, with an SLO: every time-series column a run can write."""


@pytest.fixture(scope="module")
def runs() -> dict[str, Result]:
    return {
        "default": sim.simulate(sim.load_config()),
        "faults": sim.simulate(sim.load_config(list(FAULTS))),
    }


def test_the_typed_summary_has_every_key_with_its_type_in_order() -> None:
    hints = typing.get_type_hints(Summary)
    expected: dict[str, object] = {}
    for key in keys():
        if key.startswith("startup_s_"):
            expected[key] = float | None
        elif key.startswith(("requests_dropped_", "requests_failed_")):
            expected[key] = int
        else:
            expected[key] = hints[key]
    assert typing.get_type_hints(RunSummary) == expected
    assert list(typing.get_type_hints(RunSummary)) == keys()


def test_the_summary_frame_is_the_summary_with_units_and_meanings(runs: dict[str, Result]) -> None:
    summary = runs["default"].summary
    frame = runs["default"].frames().summary
    assert list(frame.index) == list(summary) and frame.index.name == "metric"
    assert list(frame.columns) == ["value", "unit", "meaning"]
    assert frame["value"].tolist() == list(summary.values())
    assert frame.loc["startup_s_p95_vm", "unit"] == "s"
    assert frame.loc["cost_usd", "unit"] == "USD"
    assert frame.loc["bytes_from_registry", "meaning"] == key_doc("bytes_from_registry").meaning
    assert all(frame["meaning"] != "")


def test_every_time_series_column_is_documented_and_the_rows_kept(
    runs: dict[str, Result],
) -> None:
    for result in runs.values():
        frame = result.frames().timeseries
        assert list(frame.columns) == list(result.timeseries[0])
        assert frame.to_dict("records") == [dict(row) for row in result.timeseries]
        for name in frame.columns:
            doc = column_doc(name)
            assert frame.attrs["units"][name] == doc.unit
            assert frame.attrs["kinds"][name] == doc.kind
    faulted = set(runs["faults"].timeseries[0])
    plain = {name for name in faulted if not name.startswith(REGISTRY_BYTES_COLUMN)}
    assert plain == set(TIMESERIES_COLUMNS)


def test_counters_never_fall_and_period_values_start_at_zero(runs: dict[str, Result]) -> None:
    """What each kind promises holds in the runs: a counter is a running total, a
    period value describes the period its row closes (none before the first)."""
    for result in runs.values():
        frame = result.frames().timeseries
        kinds = frame.attrs["kinds"]
        for name, kind in kinds.items():
            if kind in ("counter", "time"):
                assert frame[name].is_monotonic_increasing, name
            if kind == "period":
                assert frame[name].iloc[0] == 0, name
    faults = runs["faults"].frames().timeseries
    assert faults["hosts_failed"].iloc[-1] > 0 and faults["hosts_down"].max() > 0
    assert faults["requests"].sum() == runs["faults"].summary["requests_total"]


def test_the_columns_table_says_unit_kind_and_meaning(runs: dict[str, Result]) -> None:
    columns = runs["default"].frames().columns
    assert columns.loc["registry_bytes_served:hub"].tolist() == [
        "B",
        "counter",
        "bytes registry hub has sent",
    ]
    assert columns.loc["requests", "kind"] == "period"
    assert columns.loc["hosts", "kind"] == "gauge"


def test_the_replicas_frame_has_each_start_up_time(runs: dict[str, Result]) -> None:
    result = runs["faults"]
    frame = result.frames().replicas
    assert len(frame) == len(result.replicas)
    names = [field.name for field in dataclasses.fields(type(result.replicas[0]))]
    assert list(frame.columns) == [*names[:6], "startup_s", *names[6:]]
    for record, startup in zip(result.replicas, frame["startup_s"], strict=True):
        if record.startup_s is None:
            assert math.isnan(startup)
        else:
            assert startup == record.ready_s - record.requested_s  # type: ignore[operator]
    assert frame["startup_s"].isna().sum() == sum(r.ready_s is None for r in result.replicas)


def test_the_pulls_frame_has_a_row_per_pull(runs: dict[str, Result]) -> None:
    result = runs["default"]
    frame = result.frames().pulls
    assert frame.to_dict("records") == [dataclasses.asdict(pull) for pull in result.pulls]


def test_the_events_frame_puts_each_detail_in_its_own_column(runs: dict[str, Result]) -> None:
    result = runs["default"]
    frame = result.frames().events
    assert len(frame) == len(result.events)
    assert list(frame.columns[:3]) == ["time_s", "source", "kind"]
    for index, event in enumerate(result.events):
        row = frame.iloc[index]
        assert (row["time_s"], row["source"], row["kind"]) == (
            event.time_s,
            event.source,
            str(event.kind),
        )
        details = dict(event.details)
        for name in frame.columns[3:]:
            if name in details and details[name] is not None:
                assert row[name] == details[name], (index, name)
            else:
                assert pd.isna(row[name]), (index, name)
    layers = frame[frame["kind"] == "layer_downloaded"]
    assert layers["bytes"].notna().all() and len(layers) == result.summary["layers_downloaded"]


def test_a_result_shows_itself_in_one_line_and_as_tables_in_a_notebook(
    runs: dict[str, Result],
) -> None:
    result = runs["default"]
    line = repr(result)
    assert "\n" not in line and len(line) < 200
    assert line == (
        f"<Result seed=42 sim_time_s={result.summary['sim_time_s']:g}: 12 of 12 replicas "
        f"ready, 8 pulls, {len(result.events)} events, {len(result.timeseries)} samples>"
    )
    page = result._repr_html_()
    assert page.count("<table") == 2 and "web / vm / 0 s" in page


def test_a_notebook_view_escapes_names_from_the_config() -> None:
    config = sim.api.to_plain(sim.load_config(["workload=poisson", "platform=container"]))
    config["horizon"] = "2min"
    config["workload"]["apps"] = {"<b>x</b>": config["workload"]["apps"]["web"]}
    config["workload"]["service"]["app"] = "<b>x</b>"
    page = sim.simulate(config)._repr_html_()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt; / container" in page


def test_a_run_folder_reads_back_as_the_result_that_wrote_it(
    runs: dict[str, Result], tmp_path: Path
) -> None:
    for name, result in runs.items():
        back = sim.read_result(result.write(tmp_path / name))
        assert back.summary == result.summary
        assert back.replicas == tuple(result.replicas)
        assert back.pulls == tuple(result.pulls)
        assert [dict(row) for row in back.timeseries] == [dict(r) for r in result.timeseries]
        assert list(back.events) == list(result.events)


def test_a_folder_that_holds_no_run_is_named_with_what_it_lacks(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a run folder .no summary.json"):
        sim.read_result(tmp_path)
    Result({}, (), (), (), ()).write(tmp_path)  # type: ignore[arg-type]
    (tmp_path / "pulls.csv").write_text("host\nx\n")
    with pytest.raises(ValueError, match="pulls.csv: does not read back"):
        sim.read_result(tmp_path)


def test_importing_sim_loads_no_pandas_and_frames_say_how_to_get_it() -> None:
    code = (
        "import sys\n"
        "import sim\n"
        "sim.__version__, sim.Result, sim.RunSummary\n"
        "print('pandas' in sys.modules)\n"
        "sys.modules['pandas'] = None\n"
        "result = sim.Result({}, (), (), (), ())\n"
        "try:\n"
        "    result.frames()\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert output == ["False", "DataFrames need pandas: pip install 'sim[analysis]'"]


def test_sim_exports_its_public_names() -> None:
    assert sim.Result is Result and sim.RunSummary is RunSummary
    assert sorted(sim.__all__) == sim.__all__
    for name in sim.__all__:
        assert getattr(sim, name) is not None
    from importlib.metadata import version

    assert sim.__version__ == version("sim")
