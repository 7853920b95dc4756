"""``sim-kinds``: every kind of every family, with each setting's default as a config
writes it — a default it shows reads back to the dataclass's own."""

from __future__ import annotations

import dataclasses
import typing

import pytest
import yaml

from sim.cli.kinds import FAMILIES, command_name, main
from sim.config.reference import settings_rows
from sim.core.schema import convert
from sim.core.settings import config_key, default_of, has_default, setting_of


def test_every_family_and_kind_is_listed_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    sections = [part.splitlines() for part in capsys.readouterr().out.split("\n\n")]
    assert [lines[0].split(":")[0] for lines in sections] == [f.name for f in FAMILIES]
    for family, lines in zip(FAMILIES, sections, strict=True):
        kinds = [
            line.split(" - ")[0].strip()
            for line in lines
            if line.startswith("  ") and not line.startswith("    ")
        ]
        assert kinds == list(family.kinds)


def test_a_family_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["placement"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("placement: ")
    assert "platform:" not in out and "  spread - " in out and "  binpack - " in out


def test_an_unknown_family_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["platforms"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "sim-kinds: family: 'platforms': one of "
        + ", ".join(command_name(family) for family in FAMILIES)
        + ", cluster\n"
    )


def test_the_cluster_section_shows_reserves_and_daemonsets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cluster"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("cluster: ")
    assert [line.split()[0] for line in lines if line.strip().startswith("reserved")] == [
        "reserved",
        "reserved",
    ]
    daemonsets = next(i for i, line in enumerate(lines) if line.split()[0] == "daemonsets")
    assert [line.split()[:2] for line in lines[daemonsets + 1 : daemonsets + 4]] == [
        ["name", "(required)"],
        ["vcpu", "0"],
        ["memory", "0"],
    ]
    assert "cluster.pools.<name>: a pool of identical hosts" in lines


@pytest.mark.parametrize(
    ("family", "kind"),
    [(family, name) for family in FAMILIES for name in family.kinds],
    ids=lambda value: value if isinstance(value, str) else command_name(value),
)
def test_each_default_shown_reads_back_to_the_default(family: object, kind: str) -> None:
    params = family.kinds[kind].params  # type: ignore[attr-defined]
    shown = {key: default for key, default, _ in settings_rows(params)}
    hints = typing.get_type_hints(params)
    for field in dataclasses.fields(params):
        meta = setting_of(field)
        if not field.init or meta.entry_name or meta.derived:
            continue
        written = shown[config_key(field)]
        if not has_default(field):
            assert written == "(required)"
            continue
        default = default_of(field)
        if written == "(as below)":
            assert dataclasses.is_dataclass(default)
            continue
        read = convert(hints[field.name], yaml.safe_load(written), config_key(field), meta)
        assert read == default, (config_key(field), written)


def test_the_mirror_shows_whether_it_coalesces_misses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["registry"]) == 0
    [line] = [row for row in capsys.readouterr().out.splitlines() if "coalesce_misses" in row]
    assert line.split()[:2] == ["coalesce_misses", "true"]
