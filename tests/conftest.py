"""Test settings. Hypothesis never times an example (speed is measured by the benchmarks,
and this machine is shared); on CI (``CI`` set, as `.ci/run` does) it draws the same
examples every run, so a CI result is reproducible. Each study's tests share a worker."""

from __future__ import annotations

import os

import pytest
from browser import browser  # noqa: F401  (the fixture of the page tests)
from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep each study's tests on one worker (``--dist loadgroup``): their module-scoped
    fixture runs the study's quick variant, tens of seconds, once per worker that needs
    it."""
    for item in items:
        module = item.path.stem
        if module.startswith("test_study_"):
            item.add_marker(pytest.mark.xdist_group(module))
