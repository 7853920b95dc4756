"""The registry storm study (experiments/registry_storm.py), quick: its table, its
figures, and what must hold when N hosts pull one image from Docker Hub (a CDN) behind
one uplink, with and without a pull-through mirror, and with the hub's pull limit per
address."""

from __future__ import annotations

import csv
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from studies import load_study, run_quick

IMAGE_GB = 0.35  # storm-app: 200 + 100 + 50 MB, compressed as uncompressed
Rows = list[dict[str, Any]]
UPLINK = "1Gbps"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Rows, Path, ModuleType]:
    out = tmp_path_factory.mktemp("registry_storm")
    module = load_study("registry_storm")
    rows = run_quick(module, out)
    return rows, out, module


def _row(rows: Rows, mirror: str, hosts: int, limit: str = "per host") -> dict[str, Any]:
    (row,) = [
        r for r in rows if r["mirror"] == mirror and r["hosts"] == hosts and r["limit"] == limit
    ]
    return row


def test_writes_the_table_and_the_figures(study: tuple[Rows, Path, ModuleType]) -> None:
    rows, out, module = study
    combinations = {(r["mirror"], r["limit"], r["hosts"]) for r in rows}
    expected = {
        (mirror, limit, hosts)
        for mirror in module.MIRRORS
        for limit in (module.LIMITS if mirror == "none" else ("per host",))
        for hosts in module.HOSTS_QUICK
    }
    assert combinations == expected and len(rows) == len(expected)
    with open(out / "registry_storm.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["point"] for row in table] == [row["point"] for row in rows]
    for column in ("point", "hosts", "mirror", "egress", "limit", "runs", "replicas_started"):
        assert column in table[0]
    for column in module.COLUMNS:
        assert column in table[0]
    # A deterministic storm runs one seed: no interval to show.
    assert all(row["runs"] == 1 for row in rows)
    for name in (
        "registry_storm_p95.png",
        "registry_storm_traffic.png",
        "registry_storm_limits.png",
    ):
        assert (out / name).stat().st_size > 10_000


def test_with_its_own_address_every_host_pulls_once(
    study: tuple[Rows, Path, ModuleType],
) -> None:
    rows, _, module = study
    assert module.read_storm(module.COMMON).image_bytes == pytest.approx(IMAGE_GB * 1e9)
    for row in rows:
        if row["limit"] == "per host":
            assert row["pulls_failed"] == 0
            assert row["replicas_started"] == row["hosts"] and row["ready_share"] == 1
            assert row["gb_from_registry"] == pytest.approx(row["hosts"] * IMAGE_GB)


def test_the_uplink_carries_n_copies_without_a_mirror_and_one_with_it(
    study: tuple[Rows, Path, ModuleType],
) -> None:
    rows, _, _ = study
    for row in rows:
        copies = 1 if row["mirror"] != "none" else row["hosts"]
        if row["limit"] == "per host":
            assert row["gb_through_egress"] == pytest.approx(copies * IMAGE_GB)


def test_no_replica_beats_the_links(study: tuple[Rows, Path, ModuleType]) -> None:
    """The last replica waits at least for the bytes the busiest link carries."""
    rows, _, _ = study
    for row in rows:
        assert row["startup_s_max"] >= row["link_bound_s"]


def test_a_mirror_helps_by_its_bandwidth_not_by_the_copy_it_saves(
    study: tuple[Rows, Path, ModuleType],
) -> None:
    """A 10x faster mirror beats the hub from two hosts on; a mirror no faster than the
    uplink carries the same N copies over a link as fast, after storing each blob first:
    it is no faster than going without one."""
    rows, _, module = study
    for hosts in module.HOSTS_QUICK:
        direct = _row(rows, "none", hosts)["startup_s_p95"]
        assert _row(rows, "fast", hosts)["startup_s_p95"] < direct
        assert _row(rows, "equal", hosts)["startup_s_p95"] >= direct


def test_one_nat_address_at_10_an_hour_makes_the_11th_host_wait_an_hour(
    study: tuple[Rows, Path, ModuleType],
) -> None:
    rows, _, _ = study
    two = _row(rows, "none", 2, "one NAT IP, 10 per hour")
    assert two["pulls_failed"] == 0  # within the limit
    sixteen = _row(rows, "none", 16, "one NAT IP, 10 per hour")
    assert sixteen["pulls_failed"] > 0
    assert sixteen["startup_s_p95"] > 3600  # six hosts wait for the window to slide
    assert _row(rows, "none", 16, "one NAT IP, 100 per 6 h")["pulls_failed"] == 0
