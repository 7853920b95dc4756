"""When traffic starts, and that every arrival is accounted for, before and after.

Traffic that waits for the fleet (``start: when_ready``) starts once as many replicas
have served as are desired, whatever the autoscaler or a crash loop did first; a trace's
rows before the start are dropped as ``not started``, so ``requests_total`` is the
number of rows before the horizon; a run whose traffic never starts says why.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.core.records import EventKind
from sim.output.results import Result


def run(*overrides: str) -> Result:
    return sim.simulate(sim.load_config(list(overrides)))


def started_at(result: Result) -> list[float]:
    return [e.time_s for e in result.events if e.kind == EventKind.TRAFFIC_STARTED]


def conserved(summary: dict) -> bool:
    return bool(
        summary["requests_total"]
        == summary["requests_served"]
        + summary["requests_in_flight"]
        + summary["requests_dropped"]
        + summary["requests_failed"]
    )


def test_a_scale_in_before_any_replica_serves_does_not_hold_traffic_back() -> None:
    """The README's flash crowd on Beanstalk with the HPA: one of two instances is in
    service at 212.5 s, the HPA asks for one replica at 330 s (cancelling the other,
    still in its health check): the fleet is ready then, and traffic starts."""
    result = run(
        "workload=flash_crowd", "autoscaler=hpa", "platform=beanstalk-docker", "horizon=15min"
    )
    assert started_at(result) == [330.0]
    assert result.summary["requests_total"] > 0
    assert conserved(result.summary)
    assert result.warnings == ()


def test_a_crash_loop_before_the_second_replica_serves_does_not_hold_traffic_back() -> None:
    """Each container crashes 0.5 s after it enters service: never two in service at
    once, yet both have served when the second enters service, and traffic starts."""
    result = run(
        "workload=constant",
        "platform=container",
        "horizon=5min",
        "+faults=[{kind: container-crash, target: web, mtbf: 500ms}]",
    )
    in_service = [
        e.time_s
        for e in result.events
        if e.kind == EventKind.REPLICA_STATE and dict(e.details).get("state") == "in_service"
    ]
    assert started_at(result) == [in_service[1]]
    summary = result.summary
    assert summary["requests_total"] > 0
    assert summary["requests_failed_container_crash"] > 0
    assert summary["availability"] is not None
    assert conserved(summary)


def test_traffic_that_never_starts_is_said_and_tabled(tmp_path: Path) -> None:
    """Beanstalk instances take minutes; a 2-minute horizon ends before any serves."""
    result = run("workload=constant", "platform=beanstalk-docker", "horizon=2min")
    assert started_at(result) == []
    assert result.serves_traffic
    assert result.summary["requests_total"] == 0
    (warning,) = result.warnings
    assert warning.startswith("traffic never started: web-beanstalk-docker waits")
    assert "0 of the 2 replicas desired had passed the health check" in warning
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "sim"),
            "workload=constant",
            "platform=beanstalk-docker",
            "horizon=2min",
            "progress=false",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0
    assert "0 arrived, 0 served, 0 in flight, 0 dropped" in completed.stdout
    assert completed.stderr.count("\n") == 1
    assert completed.stderr.startswith("warning: traffic never started: ")


def trace(tmp_path: Path, rows: list[float], *, bom: bool = False, crlf: bool = False) -> str:
    end = "\r\n" if crlf else "\n"
    text = end.join(["timestamp_s", *(repr(row) for row in rows)]) + end
    path = tmp_path / "trace.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return str(path)


def replay(path: str, *overrides: str) -> Result:
    return run(
        "workload=trace",
        "platform=container",
        "horizon=3min",
        "workload.traffic.arrivals={kind: trace, path: " + path + "}",
        *overrides,
    )


@pytest.mark.parametrize("mode", ["requests", "fluid"])
def test_trace_rows_before_traffic_starts_are_dropped_not_started(
    tmp_path: Path, mode: str
) -> None:
    """Traffic starts when the second replica enters service (about 25 s): the rows at 1
    and 2 s are dropped, not started; the others are served; all five are counted."""
    result = replay(
        trace(tmp_path, [1, 2, 30, 31, 100]), f"workload.traffic.mode={mode}", "horizon=3min"
    )
    (start_s,) = started_at(result)
    assert 2 < start_s < 30
    summary = result.summary
    assert summary["requests_total"] == 5
    assert summary["requests_dropped_not_started"] == 2
    assert summary["requests_dropped"] == 2
    assert summary["requests_served"] + summary["requests_in_flight"] == 3
    timeseries_drops = sum(row.get("dropped", 0) for row in result.timeseries)
    assert timeseries_drops == 2


def test_rows_at_one_instant_before_the_start_all_count(tmp_path: Path) -> None:
    summary = replay(trace(tmp_path, [3, 3, 3, 3])).summary
    assert summary["requests_total"] == 4
    assert summary["requests_dropped_not_started"] == 4


def test_rows_of_a_run_whose_traffic_never_starts_count_up_to_the_horizon(
    tmp_path: Path,
) -> None:
    result = replay(trace(tmp_path, [1, 2, 60, 200]), "platform=beanstalk-docker")
    summary = result.summary
    assert summary["requests_total"] == 3
    assert summary["requests_dropped_not_started"] == 3
    assert sum(row.get("dropped", 0) for row in result.timeseries) == 3
    assert result.warnings[0].startswith("traffic never started")


def test_a_trace_with_a_byte_order_mark_and_crlf_reads_as_without(tmp_path: Path) -> None:
    plain = replay(trace(tmp_path, [30, 31.5, 31.5])).summary
    marked = replay(trace(tmp_path, [30, 31.5, 31.5], bom=True, crlf=True)).summary
    assert marked == plain
    assert plain["requests_total"] == 3
