"""The validation report (experiments/validation.py), quick: every published case agrees,
and the report prints one table row per case and exits 0."""

from __future__ import annotations

import pytest
from studies import load_study


def test_every_quick_case_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    validation = load_study("validation")
    assert validation.main(["--quick"]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0] == "| case | source | expected | simulated | ok |"
    rows = table[1:]
    assert len(rows) >= 20
    assert all(row.endswith("| ok |") for row in rows), [r for r in rows if "FAIL" in r]
    assert out.rstrip().endswith(f"{len(rows)} of {len(rows)} cases agree")


def test_a_failing_case_makes_the_exit_status_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    validation = load_study("validation")
    wrong = validation.Row("a case", "a source", "1", "2", False)
    monkeypatch.setattr(validation, "rows", lambda full: [wrong])
    assert validation.main(["--quick"]) == 1
    assert "| a case | a source | 1 | 2 | FAIL |" in capsys.readouterr().out
