"""The documentation site builds with ``mkdocs build --strict``: every page in the nav,
every link and anchor resolving, the API reference rendered from docstrings that
griffe reads without a warning. And the repository's top level holds only what it
should."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pages import DOCS, ROOT

TOP_LEVEL = {
    ".ci",
    ".gitignore",
    "CHANGELOG.md",
    "LICENSE",
    "README.md",
    "configs",
    "docs",
    "experiments",
    "mkdocs.yml",
    "pyproject.toml",
    "sim",
    "tests",
}


def nav_pages(nav: Any) -> list[str]:
    """Every page a nav names, in order."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    return []


def site_config() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert isinstance(config, dict)
    return config


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
    )
    warnings = [line for line in completed.stderr.splitlines() if "WARNING" in line]
    assert completed.returncode == 0 and warnings == [], completed.stderr
    return folder


def test_every_page_is_in_the_nav_once() -> None:
    named = nav_pages(site_config()["nav"])
    assert len(named) == len(set(named))
    pages = sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))
    assert sorted(named) == pages


def test_the_site_builds_strictly_with_a_page_for_each(site: Path) -> None:
    for page in nav_pages(site_config()["nav"]):
        assert (site / page).with_suffix(".html").stat().st_size > 0, page
    assert (site / "figures" / "startup_cdf.png").exists()
    assert (site / "search" / "search_index.json").exists()


def test_the_api_reference_documents_the_public_api(site: Path) -> None:
    documented = set()
    for page in (site / "reference").glob("*.html"):
        documented |= set(re.findall(r'id="(sim(?:\.\w+)+)"', page.read_text(encoding="utf-8")))
    assert {
        "sim.load_config",
        "sim.simulate",
        "sim.api.parameters",
        "sim.output.results.Result",
        "sim.output.summary.Summary",
        "sim.core.records.Event",
        "sim.core.errors.ConfigError",
        "sim.batch.study.run_study",
        "sim.policies.autoscaling.protocol.ScalingPolicy",
        "sim.policies.placement.PlacementPolicy",
        "sim.policies.build",
    } <= documented


def test_the_site_loads_nothing_from_the_network(site: Path) -> None:
    """System fonts, no outside script or style sheet: the pages read offline."""
    outside = set()
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        outside |= set(re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', text))
    assert outside == set()


def test_the_top_level_holds_only_what_it_should() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.splitlines()
    assert {path.split("/", 1)[0] for path in tracked} <= TOP_LEVEL
