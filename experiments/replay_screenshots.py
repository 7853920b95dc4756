"""The screenshots of the demos' replay pages in ``docs/img/`` (``docs/replay.md`` shows
them): each demo's page, written as ``sim-demo <demo> --html`` writes it, opened in
headless Chromium at 1280 x 800 and scrubbed to the moment its story is about.

Run from the repository root after installing it with the ``test`` extra (Playwright)
and Debian's chromium: ``python experiments/replay_screenshots.py [FOLDER]`` (default
``docs/img``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from sim.teach.demos import replay, run_demo

MOMENTS = {
    "first-pull": 0.13,  # the first layer extracting while two more download
    "shared-base": 60.03,  # web's pull finds worker's base layers: Already exists
    "copy-on-write": 30.0,  # three containers ready over one image; three VMs provisioning
    "vm-vs-container": 20.0,  # the container serves while the VM still copies its disk
    "autoscaling": 870.0,  # two replicas in service, two more on their way
    "host-failure": 651.0,  # node-1 down, its pod evicted: the replacement pulling on node-4
}
CHROMIUM = os.environ.get("SIM_TEST_CHROMIUM", "/usr/bin/chromium")


def main() -> None:
    from playwright.sync_api import sync_playwright

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as pages, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        for name, time_s in MOMENTS.items():
            scenario, result = run_demo(name)
            page_path = replay(name, scenario, result, Path(pages))
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(page_path.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']")
            page.evaluate(f"window.replay.seek({time_s})")
            shot = folder / f"replay-{name}.png"
            page.screenshot(path=str(shot))
            context.close()
            print(f"wrote {shot}")
        browser.close()


if __name__ == "__main__":
    main()
