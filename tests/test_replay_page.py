"""The replay page in a real browser (Debian's chromium through Playwright, `browser.py`).

Each demo's page loads with no error and no request outside itself; scrubbed to chosen
times it shows what the run's event log says (containers running, layers on a host,
replicas desired), checked against the `Result` here; it looks different at different
times; the keyboard drives it; and names from a config stay text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Browser, OpenPage

import sim
from sim.api import to_plain
from sim.core.records import Event, EventKind
from sim.output.results import Result
from sim.teach.demos import DEMOS, replay, run_demo
from sim.teach.replay import write_replay
from sim.teach.replay.timeline import FRAMES

READY = "body[data-ready='1']"
RUNNING = {"initializing", "ready", "in_service", "draining"}


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Result, Path]]]:
    folder = tmp_path_factory.mktemp("replays")
    pages = {}
    for name in DEMOS:
        scenario, result = run_demo(name)
        pages[name] = (result, replay(name, scenario, result, folder))
    yield pages


def opened(browser: Browser, page: Path) -> OpenPage:
    return browser.open(page, wait_for=READY)


def seek(page: OpenPage, time_s: float) -> None:
    page.page.evaluate(f"window.replay.seek({time_s!r})")


def stat(page: OpenPage, name: str) -> str:
    return str(page.page.inner_text(f"#stat-{name}"))


@pytest.mark.parametrize("name", list(DEMOS))
def test_each_demo_page_loads_cleanly(
    browser: Browser, demos: dict[str, tuple[Result, Path]], name: str
) -> None:
    result, path = demos[name]
    page = opened(browser, path)
    assert page.errors == [] and page.dialogs == []
    assert page.page.inner_text("#title") == DEMOS[name].title
    assert page.page.evaluate("window.replay.frames()") > 0
    seek(page, float(result.summary["sim_time_s"]))
    assert page.page.inner_text("#caption").strip()
    assert page.errors == []


def quiet_times(events: list[Event], end_s: float, count: int) -> list[float]:
    """Times at least a few frames away from every event: there the page must show
    exactly the state the log implies (a frame may show events up to its length late)."""
    margin_s = 4 * max(end_s / FRAMES, 0.001)
    times = sorted({event.time_s for event in events} | {end_s})
    gaps = [
        (after - before, (before + after) / 2)
        for before, after in zip(times, times[1:], strict=False)
    ]
    wide = sorted(middle for gap, middle in gaps if gap > 2 * margin_s)
    step = max(1, len(wide) // count)
    return wide[::step][:count]


def last_states(events: list[Event], time_s: float) -> dict[str, str]:
    states: dict[str, str] = {}
    for event in events:
        if event.time_s > time_s:
            break
        if event.kind == EventKind.REPLICA_STATE:
            states[event.source] = str(event.detail("state"))
    return states


def test_scrubbed_state_is_what_the_event_log_says(
    browser: Browser, demos: dict[str, tuple[Result, Path]]
) -> None:
    checked = 0
    for name in ("first-pull", "copy-on-write", "host-failure"):
        result, path = demos[name]
        events = list(result.events)
        platforms = {record.replica: record.platform for record in result.replicas}
        page = opened(browser, path)
        box = page.page.evaluate("window.replay.hostBox('node-1')")
        page.page.mouse.click(box["x"] + box["width"] - 20, box["y"] + 8)
        for time_s in quiet_times(events, float(result.summary["sim_time_s"]), 6):
            seek(page, time_s)
            states = last_states(events, time_s)
            containers = sum(
                state in RUNNING and platforms[replica] == "container"
                for replica, state in states.items()
            )
            layers = {
                event.detail("layer")
                for event in events
                if event.time_s <= time_s
                and event.source == "node-1"
                and event.kind == EventKind.LAYER_EXTRACTED
            }
            assert stat(page, "containers") == str(containers), (name, time_s)
            shown = page.page.inner_text("#details .layer-count")
            assert shown.startswith(f"{len(layers)} layers stored"), (name, time_s, shown)
            checked += 1
        assert page.errors == []
    assert checked >= 12


def test_scrubbed_desired_replicas_follow_the_autoscaler(
    browser: Browser, demos: dict[str, tuple[Result, Path]]
) -> None:
    result, path = demos["autoscaling"]
    events = list(result.events)
    page = opened(browser, path)
    seen = set()
    for time_s in quiet_times(events, float(result.summary["sim_time_s"]), 40):
        seek(page, time_s)
        desired = [
            int(str(event.detail("desired")))
            for event in events
            if event.kind == EventKind.DESIRED_CAPACITY and event.time_s <= time_s
        ]
        assert stat(page, "desired") == str(desired[-1]), time_s
        seen.add(desired[-1])
    assert seen == {1, 2, 4}


def test_three_times_look_different(
    browser: Browser, demos: dict[str, tuple[Result, Path]], tmp_path: Path
) -> None:
    page = opened(browser, demos["first-pull"][1])
    shots = []
    for time_s in (0.05, 1.0, 61.0):
        seek(page, time_s)
        shots.append(page.page.screenshot())
    assert len(set(shots)) == 3


def test_the_keyboard_plays_steps_and_jumps(
    browser: Browser, demos: dict[str, tuple[Result, Path]]
) -> None:
    result, path = demos["first-pull"]
    page = opened(browser, path)
    keyboard = page.page.keyboard
    time_now = "window.replay.time()"
    first_events = sorted({event.time_s for event in result.events})
    keyboard.press("ArrowRight")
    assert page.page.evaluate(time_now) == pytest.approx(first_events[1], abs=1e-6)
    keyboard.press("ArrowRight")
    keyboard.press("ArrowLeft")
    assert page.page.evaluate(time_now) == pytest.approx(first_events[1], abs=1e-6)
    keyboard.press("End")
    assert page.page.evaluate(time_now) == pytest.approx(result.summary["sim_time_s"], abs=1e-6)
    keyboard.press("Home")
    assert page.page.evaluate(time_now) == 0
    speed = page.page.evaluate("window.replay.speed()")
    keyboard.press("]")
    assert page.page.evaluate("window.replay.speed()") > speed
    keyboard.press(" ")
    assert page.page.evaluate("window.replay.playing()")
    page.page.wait_for_function("() => window.replay.time() > 0")
    keyboard.press(" ")
    assert not page.page.evaluate("window.replay.playing()")
    assert page.errors == []


EVIL_APP = "<img src=x onerror=alert(1)>"
EVIL_IMAGE = "</script><script>alert(2)</script>"


def test_names_from_a_config_are_shown_as_text_and_run_nothing(
    browser: Browser, tmp_path: Path
) -> None:
    config = to_plain(
        sim.load_config(
            ["platform=container", "cluster.pools.node.count=1", "cluster.scaler.enabled=false"]
        )
    )
    apps = config["workload"]["apps"]
    apps[EVIL_APP] = dict(apps["web"])
    config["images"]["web"]["repository"] = EVIL_IMAGE
    config["workload"]["deployments"] = [{"app": EVIL_APP, "replicas": 1, "platform": "container"}]
    result = sim.simulate(config)
    path = write_replay(result, tmp_path / "evil.html", title=EVIL_IMAGE, about=EVIL_APP)
    page = opened(browser, path)
    assert page.page.inner_text("#title") == EVIL_IMAGE
    assert page.page.inner_text("#about") == EVIL_APP
    seek(page, 0.0)
    assert f"Pulling from {EVIL_IMAGE}" in page.page.inner_text("#captions")
    replica = f"{EVIL_APP}-container-1"
    box = page.page.evaluate(f"window.replay.replicaBox({replica!r})")
    page.page.mouse.click(box["x"] + 5, box["y"] + 5)
    assert page.page.inner_text("#details h2").startswith(f"{replica}: ")
    assert "Start-up: requested at" in page.page.inner_text("#details")
    assert page.page.evaluate("document.querySelectorAll('img, script').length") == 2
    assert page.dialogs == [] and page.errors == []
