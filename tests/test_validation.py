"""The validation report (experiments/validation.py), quick: every published case agrees,
and the report prints one table row per case and exits 0; the measured distributions are
printed beside the simulated ones with their distance, whatever it is."""

from __future__ import annotations

import pytest
from studies import load_study


def test_every_quick_case_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    validation = load_study("validation")
    assert validation.main(["--quick"]) == 0
    out = capsys.readouterr().out
    verification = out.split("Measured against simulated")[0]
    table = [line for line in verification.splitlines() if line.startswith("| ")]
    assert table[0] == "| case | source | expected | simulated | ok |"
    rows = table[1:]
    assert len(rows) >= 20
    assert all(row.endswith("| ok |") for row in rows), [r for r in rows if "FAIL" in r]
    assert f"\n{len(rows)} of {len(rows)} cases agree\n" in out
    measured_table = out.split("Measured against simulated")[1]
    lines = [line for line in measured_table.splitlines() if line.startswith("| ")]
    assert lines[0].startswith("| quantity | measured (source, n) |")
    assert len(lines[1:]) >= 2  # at least two public datasets
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        distance, critical = cells[5].replace("(", "").replace(")", "").split()
        assert 0.0 <= float(distance) <= 1.0 and 0.0 < float(critical) < 1.0
        assert cells[6] == ("consistent" if float(distance) <= float(critical) else "differs")


def test_a_failing_case_makes_the_exit_status_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    validation = load_study("validation")
    wrong = validation.Row("a case", "a source", "1", "2", False)
    monkeypatch.setattr(validation, "rows", lambda full: [wrong])
    assert validation.main(["--quick"]) == 1
    assert "| a case | a source | 1 | 2 | FAIL |" in capsys.readouterr().out


def test_the_ks_distance_is_the_largest_gap_between_the_two_ecdfs() -> None:
    measured = load_study("measured")
    assert measured.ks_distance([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == 1.0
    assert measured.ks_distance([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == 0.0
    # ECDFs at 2: 2/4 against 0; at 4: 1 against 2/4.
    assert measured.ks_distance([1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0]) == 0.5
    # Ties across the samples step together.
    assert measured.ks_distance([1.0, 1.0, 2.0], [1.0, 2.0, 2.0]) == pytest.approx(1 / 3)


def test_the_measured_data_are_read_as_published() -> None:
    measured = load_study("measured")
    ec2 = measured.measured_ec2_launch_s()
    assert len(ec2) == 11 and min(ec2) == 22.162 and max(ec2) == 23.703
    fargate = measured.measured_fargate_start_s()
    # Ten tasks less the repeated row; durations from the timestamps.
    assert len(fargate) == 9 and min(fargate) == pytest.approx(53.209)
    assert max(fargate) == pytest.approx(61.711)
