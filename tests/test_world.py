"""What a run had that no event says (`World`, ``world.json``), and a run folder read back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sim
from sim.core.records import EventKind
from sim.output.reading import cell_value
from sim.output.results import WORLD_FILE, Result, _format
from sim.teach.demos import run_demo


@pytest.fixture(scope="module")
def first_pull() -> Result:
    return run_demo("first-pull")[1]


def test_the_world_of_a_demo(first_pull: Result) -> None:
    world = first_pull.world
    assert world is not None
    (host,) = world.hosts
    assert (host.name, host.vcpu, host.memory_bytes, host.disk_bytes) == (
        "node-1",
        8.0,
        32 * 2**30,
        100_000_000_000,
    )
    assert (host.instance_type, host.usd_per_hour, host.launched_s) == ("m5.2xlarge", 0.384, 0)
    images = {image.name: image for image in world.images}
    owners = {layer.layer: layer.image for layer in world.layers}
    # web is FROM python-3.12, itself FROM debian-12: each layer belongs to the image
    # whose own step added it.
    assert [owners[layer] for layer in images["web"].layers] == [
        "debian-12",
        *["python-3.12"] * 3,
        *["web"] * 3,
    ]
    assert images["web"].layers[:4] == images["worker"].layers[:4]
    assert images["web"].reference == "shop/web:1.4.2" and images["web"].parent == "python-3.12"
    sizes = {layer.layer: layer.compressed_bytes for layer in world.layers}
    downloads = first_pull.events
    assert {
        str(e.detail("layer")): e.detail("bytes")
        for e in downloads
        if e.kind == EventKind.LAYER_DOWNLOADING
    } == {layer: sizes[layer] for layer in images["web"].layers}
    assert {(r.name, r.kind, r.upstream) for r in world.registries} == {
        ("hub", "public", ""),
        ("ecr", "private", ""),
        ("mirror", "mirror", "hub"),
    }
    assert world.mirrors == (("hub", "mirror"),)
    assert {(p.name, p.kind, p.writable_layer_bytes) for p in world.platforms} == {
        ("container", "container", 1_000_000),
        ("vm", "vm", 0),
    }


def test_a_run_folder_reads_back_as_written(first_pull: Result, tmp_path: Path) -> None:
    first_pull.write(tmp_path)
    back = sim.read_result(tmp_path)
    assert back.world == first_pull.world
    assert tuple(back.links) == tuple(first_pull.links)
    assert list(back.timeseries) == list(first_pull.timeseries)
    assert list(back.replicas) == list(first_pull.replicas)
    assert list(back.pulls) == list(first_pull.pulls)
    assert back.summary == first_pull.summary
    assert len(back.events) == len(first_pull.events)
    for read, made in zip(back.events, first_pull.events, strict=True):
        assert (read.time_s, read.source, read.kind) == (made.time_s, made.source, made.kind)
        # Details come back as the values the file's text reads as (sim.read_result).
        assert read.details == tuple(
            (key, cell_value(_format(value))) for key, value in made.details
        )
    back.write(tmp_path / "again")
    for name in ("events.csv", "timeseries.csv", "replicas.csv", "pulls.csv", WORLD_FILE):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / name).read_bytes()


def test_a_run_that_keeps_no_events_has_no_world(tmp_path: Path) -> None:
    result = sim.simulate(sim.load_config(["log=summary"]))
    assert result.world is None
    (tmp_path / WORLD_FILE).write_text("left by an earlier run")
    result.write(tmp_path)
    assert not (tmp_path / WORLD_FILE).exists()
    assert sim.read_result(tmp_path).world is None


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("events.csv", "time,what\n", "events.csv: does not read back (not an events.csv"),
        (
            "events.csv",
            "time_s,source,kind,details\n1.0,a,no_such_kind,\n",
            "events.csv: does not read back ('no_such_kind' is not a valid EventKind)",
        ),
        ("timeseries.csv", "time_s\nsoon\n", "timeseries.csv: does not read back (not a time"),
        ("replicas.csv", "replica\n", "replicas.csv: does not read back (not a table of"),
        (WORLD_FILE, '{"hosts": []}', "world.json: not a world.json (KeyError"),
        ("summary.json", "[1, 2]", "summary.json: does not read back (not a mapping"),
    ],
)
def test_a_file_that_does_not_read_back_is_named(
    first_pull: Result, tmp_path: Path, name: str, text: str, message: str
) -> None:
    first_pull.write(tmp_path)
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match="^" + re.escape(str(tmp_path / message))):
        sim.read_result(tmp_path)
