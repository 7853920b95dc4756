"""Test settings. Hypothesis never times an example (speed is measured by the benchmarks,
and this machine is shared); on CI (``CI`` set, as `.ci/run` does) it draws the same
examples every run, so a CI result is reproducible."""

from __future__ import annotations

import os

from browser import browser  # noqa: F401  (the fixture of the page tests)
from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
