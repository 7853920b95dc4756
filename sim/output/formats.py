"""What a run or a sweep writes besides its results, named apart from the code that
writes it, so that a program can check a request for figures or find a page without
importing matplotlib: the figures' formats and resolution, the pages' names."""

from __future__ import annotations

FIGURE_FORMATS = ("png", "svg", "pdf")
"""The formats a run's or a sweep's figures may be written in."""

DPI = 120.0
"""Dots per inch of a raster figure unless asked otherwise."""

PAGE_NAME = "report.html"
"""A run's or a sweep's page, in its folder."""

REPLAY_NAME = "replay.html"
"""A run's replay page (written beside the report by the teaching tools); the report
links to it when it is there."""
