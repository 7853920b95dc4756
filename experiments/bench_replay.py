"""How large replay pages get and how fast they are: a 2,000-host registry storm and a day
of autoscaled traffic, each built into a page and opened in headless Chromium.

For each case it prints ``key=value`` lines:

* ``sim_s``: the simulation (not part of the page's cost);
* ``build_s``: turning the `Result` into the page (frames, transfers, narration, HTML);
* ``page_bytes``: the page's size (the issue asks for at most 10 MB);
* ``interactive_s``: from navigation to the page drawn and ready for input, in headless
  Chromium (``performance.now()`` when the page marks itself ready; the issue asks for
  at most 2 s);
* ``seek_ms``: the slowest of a few jumps across the whole run (back to the start
  replays every frame again);
* ``play_draws_per_s``: pictures drawn per second while playing (Chromium draws at most
  60 headless);
* ``frames``: the frames the run was aggregated into.

Each figure is the best of `runs` on a shared machine. Chromium is Debian's
(``/usr/bin/chromium``, or ``SIM_TEST_CHROMIUM``), driven by Playwright (the ``test``
extra). Run from the repository root: ``python experiments/bench_replay.py``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import sim
from sim.teach.replay import replay_page

CASES = {
    "storm_2000_hosts": ["+experiment=registry_storm", "cluster.pools.node.count=2000"],
    "day_autoscaled": [
        "workload=diurnal",
        "autoscaler=target_tracking",
        "platform=container",
        "workload.traffic.mode=fluid",
    ],
}
CHROMIUM = os.environ.get("SIM_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _only_the_page(route: Any) -> None:
    """The page is self-contained: anything it asks for elsewhere is refused."""
    if route.request.url.startswith("file:"):
        route.continue_()
    else:
        route.abort()


def measure_in_browser(page_path: Path, runs: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    best: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.route("**/*", _only_the_page)
            page.goto(page_path.resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']")
            ready_s = int(page.evaluate("document.body.dataset.readyMs")) / 1000
            best["frames"] = page.evaluate("window.replay.frames()")
            seek_ms = page.evaluate(
                """() => {
                    const end = window.replay.time() + 1e9;
                    let slowest = 0;
                    for (const fraction of [0.5, 1, 0.25, 0.75, 0]) {
                        const started = performance.now();
                        window.replay.seek(fraction * end);
                        slowest = Math.max(slowest, performance.now() - started);
                    }
                    return slowest;
                }"""
            )
            page.evaluate("window.replay.seek(0)")
            page.keyboard.press(" ")
            before = page.evaluate("window.replay.draws()")
            started = time.perf_counter()
            page.wait_for_timeout(2000)
            draws = (page.evaluate("window.replay.draws()") - before) / (
                time.perf_counter() - started
            )
            page.keyboard.press(" ")
            context.close()
            for key, value in (
                ("interactive_s", ready_s),
                ("seek_ms", seek_ms),
                ("play_draws_per_s", -draws),
            ):
                best[key] = min(best.get(key, value), value)
        browser.close()
    best["play_draws_per_s"] = -best["play_draws_per_s"]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="best of this many (default 3)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for case, overrides in CASES.items():
            started = time.perf_counter()
            result = sim.simulate(sim.load_config(overrides))
            sim_s = time.perf_counter() - started
            build_s = float("inf")
            text = ""
            for _ in range(arguments.runs):
                started = time.perf_counter()
                text = replay_page(result)
                build_s = min(build_s, time.perf_counter() - started)
            path = Path(folder) / f"{case}.html"
            path.write_text(text, encoding="utf-8")
            print(f"{case}.sim_s={sim_s:.2f}")
            print(f"{case}.build_s={build_s:.2f}")
            print(f"{case}.page_bytes={path.stat().st_size}")
            print(f"{case}.events={len(result.events)}")
            measured = measure_in_browser(path, arguments.runs)
            print(f"{case}.frames={measured['frames']:.0f}")
            print(f"{case}.interactive_s={measured['interactive_s']:.3f}")
            print(f"{case}.seek_ms={measured['seek_ms']:.1f}")
            print(f"{case}.play_draws_per_s={measured['play_draws_per_s']:.1f}")


if __name__ == "__main__":
    main()
