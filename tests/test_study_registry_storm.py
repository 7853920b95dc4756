"""The registry storm study (experiments/registry_storm.py), quick: its table, its
figures, and what must hold when N hosts pull one image from the hub, with and without
a pull-through mirror."""

from __future__ import annotations

import csv
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from studies import load_study, run_quick

IMAGE_GB = 0.35  # storm-app: 200 + 100 + 50 MB, compressed as uncompressed
Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Rows, Path, ModuleType]:
    out = tmp_path_factory.mktemp("registry_storm")
    module = load_study("registry_storm")
    rows = run_quick(module, out)
    return rows, out, module


def _row(rows: Rows, mirror: bool, bandwidth: str, hosts: int) -> dict[str, Any]:
    (row,) = [
        r
        for r in rows
        if r["mirror"] == mirror and r["hub_bandwidth"] == bandwidth and r["hosts"] == hosts
    ]
    return row


def test_writes_the_table_and_the_figures(study: tuple[Rows, Path, ModuleType]) -> None:
    rows, out, module = study
    combinations = {(r["mirror"], r["hub_bandwidth"], r["hosts"]) for r in rows}
    assert combinations == {
        (mirror, bandwidth, hosts)
        for mirror in (False, True)
        for bandwidth in module.HUB_BANDWIDTHS
        for hosts in module.HOSTS_QUICK
    }
    assert len(rows) == len(combinations)
    with open(out / "registry_storm.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["point"] for row in table] == [row["point"] for row in rows]
    for column in ("point", "hosts", "mirror", "hub_bandwidth", "runs", "replicas_started"):
        assert column in table[0]
    for column in module.COLUMNS:
        assert column in table[0]
        if column != "link_bound_s":
            assert f"{column}_ci95" in table[0]
    assert all(row["runs"] == 2 for row in rows)
    for name in ("registry_storm_p95.png", "registry_storm_traffic.png"):
        assert (out / name).stat().st_size > 10_000


def test_every_host_starts_its_replica_and_pulls_once(
    study: tuple[Rows, Path, ModuleType],
) -> None:
    """The hub's anonymous limit is per client address and each host pulls once: no 429s."""
    rows, _, module = study
    assert module.read_storm(module.COMMON).image_bytes == pytest.approx(IMAGE_GB * 1e9)
    for row in rows:
        assert row["pulls_failed"] == 0
        assert row["replicas_started"] == row["hosts"]
        assert row["gb_from_registry"] == pytest.approx(row["hosts"] * IMAGE_GB)


def test_the_mirror_fetches_the_image_from_the_hub_once(
    study: tuple[Rows, Path, ModuleType],
) -> None:
    rows, _, _ = study
    for row in rows:
        if row["mirror"]:
            assert row["gb_from_upstream"] == pytest.approx(IMAGE_GB)
            assert row["gb_from_hub"] == pytest.approx(IMAGE_GB)
        else:
            assert row["gb_from_upstream"] == 0
            assert row["gb_from_hub"] == pytest.approx(row["hosts"] * IMAGE_GB)


def test_no_replica_beats_the_registry_links(study: tuple[Rows, Path, ModuleType]) -> None:
    """The last replica waits at least for the bytes the busiest registry link carries."""
    rows, _, _ = study
    for row in rows:
        assert row["startup_s_max"] >= row["link_bound_s"]


def test_start_up_grows_with_hosts_without_a_mirror(
    study: tuple[Rows, Path, ModuleType],
) -> None:
    rows, _, module = study
    for bandwidth in module.HUB_BANDWIDTHS:
        p95 = [_row(rows, False, bandwidth, n)["startup_s_p95"] for n in module.HOSTS_QUICK]
        assert p95 == sorted(p95)


def test_a_slower_hub_is_never_faster(study: tuple[Rows, Path, ModuleType]) -> None:
    rows, _, module = study
    fast, slow = module.HUB_BANDWIDTHS
    for mirror in (False, True):
        for hosts in module.HOSTS_QUICK:
            assert (
                _row(rows, mirror, slow, hosts)["startup_s_p95"]
                >= _row(rows, mirror, fast, hosts)["startup_s_p95"]
            )


def test_the_mirror_helps_from_two_hosts_on(study: tuple[Rows, Path, ModuleType]) -> None:
    """With a 10x faster mirror, one upstream copy plus N local ones beats N hub copies
    for N >= 2 (at N = 1 the mirror's store-and-forward costs a little)."""
    rows, _, module = study
    for bandwidth in module.HUB_BANDWIDTHS:
        for hosts in module.HOSTS_QUICK:
            assert hosts >= 2
            assert (
                _row(rows, True, bandwidth, hosts)["startup_s_p95"]
                < _row(rows, False, bandwidth, hosts)["startup_s_p95"]
            )
