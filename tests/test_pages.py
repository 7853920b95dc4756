"""``report.html`` for a run and a sweep, checked as markup and in a real browser: it
loads with no errors and nothing from outside, shows its tables and figures, sorts, and
shows hostile names from a config as text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import Browser

import sim
from sim.api import to_plain
from sim.output.markup import escape, json_script
from sim.output.pages import PAGE_NAME, REPLAY_NAME, write_run_page
from sim.output.results import Result

HOSTILE = "<script>alert(1)</script>"
CLOSER = "</script><script>alert(2)</script><!--"


def hostile_result() -> Result:
    """A served app named `HOSTILE` whose image is named `CLOSER`: names a config may
    hold, which the page must show as text."""
    config = to_plain(sim.load_config(["workload=poisson", "platform=container"]))
    config["horizon"] = "3min"
    web = config["workload"]["apps"].pop("web")
    config["workload"]["apps"][HOSTILE] = web
    config["workload"]["service"]["app"] = HOSTILE
    config["images"][CLOSER] = config["images"][web["image"]]
    web["image"] = CLOSER
    return sim.simulate(config)


@pytest.fixture(scope="module")
def run_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    facts = [("sim", "0.1.0"), ("seed", "42"), ("overrides", f"app={HOSTILE}")]
    config = f"apps:\n  {HOSTILE}: {{image: {CLOSER}}}\n"
    return write_run_page(hostile_result(), folder, facts, config)


def test_every_hostile_string_is_escaped_in_the_markup(run_page: Path) -> None:
    text = run_page.read_text()
    assert HOSTILE not in text and CLOSER not in text and "<script>alert" not in text
    assert text.count("<script") == 2  # the page's data and its sorting script
    assert f"{escape(HOSTILE)} / container / 0 s" in text
    data = re.search(r'<script type="application/json" id="sim-data">(.*?)</script>', text, re.S)
    assert data is not None and "<" not in data.group(1)
    parsed = json.loads(data.group(1))
    assert parsed["facts"]["overrides"] == f"app={HOSTILE}"
    assert HOSTILE + " / container / 0 s" in json.dumps(parsed["tables"])


def test_embedded_json_cannot_end_its_script_or_break_a_line() -> None:
    element = json_script("d", {"x": "</script><!-- & \u2028\u2029 >"})
    inner = element.removeprefix('<script type="application/json" id="d">').removesuffix(
        "</script>"
    )
    assert not set(inner) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(inner) == {"x": "</script><!-- & \u2028\u2029 >"}


def test_a_page_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    result = sim.simulate(sim.load_config())
    first = write_run_page(result, tmp_path / "a" / "run", [("seed", "42")], "seed: 42\n")
    second = write_run_page(result, tmp_path / "b" / "run", [("seed", "42")], "seed: 42\n")
    assert first.read_bytes() == second.read_bytes()


def test_a_run_page_links_its_replay_when_there_is_one(tmp_path: Path) -> None:
    result = sim.simulate(sim.load_config())
    assert REPLAY_NAME not in write_run_page(result, tmp_path, [], "").read_text()
    (tmp_path / REPLAY_NAME).write_text("<!doctype html>")
    assert f'href="{REPLAY_NAME}"' in write_run_page(result, tmp_path, [], "").read_text()


def test_the_run_page_in_a_browser(browser: Browser, run_page: Path, tmp_path: Path) -> None:
    opened = browser.open(run_page)
    page = opened.page
    assert opened.errors == [] and opened.dialogs == []
    assert page.locator("table").count() == 4  # start-up, pulls, service, every metric
    assert HOSTILE + " / container / 0 s" in page.inner_text("#startup")
    assert f"app={HOSTILE}" in page.inner_text("#run")
    assert f"{HOSTILE}: {{image: {CLOSER}}}" in page.inner_text("#config")
    images = page.locator("#figures img")
    assert images.count() == 3
    for index in range(images.count()):
        assert images.nth(index).evaluate("image => image.complete && image.naturalWidth") > 300
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000


def test_a_table_sorts_by_the_column_pressed(browser: Browser, run_page: Path) -> None:
    page = browser.open(run_page).page
    table = "#summary table"

    def values() -> list[str]:
        return page.locator(f"{table} tbody tr td:nth-child(2)").all_inner_texts()

    def numbers() -> list[float]:
        return [float(v) for v in values() if re.match(r"^-?\d", v)]

    header = page.locator(f"{table} thead th").nth(1)
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    assert numbers() == sorted(numbers()) and len(numbers()) > 40
    assert values()[-1] == "-"  # words after numbers
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert numbers() == sorted(numbers(), reverse=True)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep of two configurations, two runs each, its page written at its end."""
    folder = tmp_path_factory.mktemp("sweep")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "-m",
            "workload=poisson",
            "platform=container",
            "horizon=3min",
            "cluster.pools.node.count=2,3",
            "replications=2",
            "progress=false",
            "report=html",
            f"hydra.sweep.dir={folder}",
        ],
        check=True,
        capture_output=True,
        cwd=folder,
    )
    return folder


def test_a_sweep_writes_its_page_and_each_runs(sweep: Path) -> None:
    assert (sweep / PAGE_NAME).exists()
    assert all((sweep / str(run) / PAGE_NAME).exists() for run in range(4))


def test_each_run_of_the_sweep_has_its_replay_linked_from_its_page(sweep: Path) -> None:
    """report=html also writes the run's replay page (sim.teach.replay), and the run's
    report links it."""
    for run in range(4):
        replay = sweep / str(run) / "replay.html"
        assert replay.read_text(encoding="utf-8").startswith("<!doctype html>")
        assert 'href="replay.html"' in (sweep / str(run) / PAGE_NAME).read_text(encoding="utf-8")


def test_the_sweep_page_in_a_browser(browser: Browser, sweep: Path, tmp_path: Path) -> None:
    opened = browser.open(sweep / PAGE_NAME)
    page = opened.page
    assert opened.errors == []
    points = page.locator("#points tbody tr").all_inner_texts()
    assert len(points) == 2 and points[0].split("\t")[:2] == ["2", "2"]
    assert page.locator("#runs tbody tr").count() == 4
    assert page.locator("#figures img").count() >= 4
    links = page.locator("#runs a")
    assert links.count() == 4
    links.first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/0/{PAGE_NAME}")
    assert page.locator("#startup table").count() == 1
    assert opened.errors == []


def test_sim_report_rewrites_the_same_pages(sweep: Path, tmp_path: Path) -> None:
    before = {path: path.read_bytes() for path in sweep.rglob(PAGE_NAME)}
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "sim-report"), "--html", str(sweep)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert completed.stdout.splitlines()[-1] == f"sweep page in {sweep / PAGE_NAME}"
    after = {path: path.read_bytes() for path in sweep.rglob(PAGE_NAME)}
    assert after[sweep / PAGE_NAME] == before[sweep / PAGE_NAME]
    run = subprocess.run(
        [str(Path(sys.executable).parent / "sim-report"), "--html", str(sweep / "1")],
        check=True,
        capture_output=True,
        text=True,
    )
    assert run.stdout.strip() == f"run page in {sweep / '1' / PAGE_NAME}"
