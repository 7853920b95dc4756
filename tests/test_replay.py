"""The replay page's data: a run's state, aggregated per frame, and the page around it.

The browser tests (`test_replay_page.py`) check what the page shows; these check what it
is given, by decoding the frames the way the page applies them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim.core.records import EventKind
from sim.output.results import Result
from sim.teach.demos import main as sim_demo
from sim.teach.demos import run_demo
from sim.teach.replay import ReplayError, replay_page, write_replay
from sim.teach.replay.page import script_json
from sim.teach.replay.timeline import (
    DESIRED,
    FRAMES,
    HOST,
    IMAGE,
    LAYER,
    LAYER_STATUSES,
    REPLICA,
    USAGE,
    replay_data,
    shared_ends,
)

SIZES = {REPLICA: 4, LAYER: 4, HOST: 3, USAGE: 5, IMAGE: 4, DESIRED: 3}


def replay_at(data: dict[str, Any], time_s: float) -> dict[str, Any]:
    """The state the page shows at `time_s`: every frame up to it applied in order."""
    state: dict[str, Any] = {"replica": {}, "layer": {}, "host": {}, "usage": {}, "image": {}}
    state["desired"] = {}
    names = {REPLICA: "replica", LAYER: "layer", HOST: "host", USAGE: "usage", IMAGE: "image"}
    for frame_s, changes in zip(data["times"], data["changes"], strict=True):
        if frame_s > time_s:
            break
        index = 0
        while index < len(changes):
            kind = int(changes[index])
            size = SIZES[kind]
            values = changes[index + 1 : index + size]
            key_length = 2 if kind in (LAYER, IMAGE) else 1
            key = tuple(values[:key_length])
            target = state["desired"] if kind == DESIRED else state[names[kind]]
            target[key if len(key) > 1 else key[0]] = tuple(values[key_length:])
            index += size
    return state


@pytest.fixture(scope="module")
def first_pull() -> tuple[Result, dict[str, Any]]:
    result = run_demo("first-pull")[1]
    return result, replay_data(result)


def test_a_layer_goes_through_docker_s_steps_at_the_times_of_its_events(
    first_pull: tuple[Result, dict[str, Any]],
) -> None:
    result, data = first_pull
    layer = "7a6b21a6d90c"  # debian-12's rootfs, the first layer of shop/web
    index = [row[0] for row in data["layers"]].index(layer)
    steps = [
        (event.time_s, event.kind)
        for event in result.events
        if event.source == "node-1" and event.detail_or("layer") == layer
    ]
    assert [kind for _, kind in steps] == [
        EventKind.LAYER_QUEUED,
        EventKind.LAYER_DOWNLOADING,
        EventKind.LAYER_DOWNLOADED,
        EventKind.LAYER_EXTRACTING,
        EventKind.LAYER_EXTRACTED,
    ]
    # Queued and downloading in the same instant, and downloaded and extracting: one
    # frame each, the last step wins.
    seen = [LAYER_STATUSES[replay_at(data, time_s)["layer"][(0, index)][0]] for time_s, _ in steps]
    assert seen == ["downloading", "downloading", "extracting", "extracting", "present"]
    assert (0, index) not in replay_at(data, 0.02)["layer"]


def test_at_the_end_the_frames_hold_what_the_run_left(
    first_pull: tuple[Result, dict[str, Any]],
) -> None:
    result, data = first_pull
    end = replay_at(data, data["end_s"])
    assert [data["states"][state] for state, _ in end["replica"].values()] == [
        record.state for record in result.replicas
    ]
    web = next(image for image in data["images"] if image[1] == "shop/web:1.4.2")
    assert sorted(layer for (_, layer), _ in end["layer"].items()) == sorted(web[3])
    assert {status for (status,) in end["layer"].values()} == {LAYER_STATUSES.index("present")}
    assert end["image"] == {(0, data["images"].index(web)): (1,)}
    # Two web replicas: 1 vCPU and 1 GiB each, and a 1 MB writable layer each.
    assert end["usage"][0] == (2.0, 2 * 2**30, 2 * 1_000_000)


def test_frames_keep_one_change_per_key_and_no_more_frames_than_allowed() -> None:
    result = sim.simulate(
        sim.load_config(["+experiment=registry_storm", "cluster.pools.node.count=200"])
    )
    data = replay_data(result)
    assert len(data["times"]) <= FRAMES
    assert data["times"] == sorted(data["times"])
    for changes in data["changes"]:
        keys = []
        index = 0
        while index < len(changes):
            kind = int(changes[index])
            keys.append((kind, *changes[index + 1 : index + (3 if kind in (LAYER, IMAGE) else 2)]))
            index += SIZES[kind]
        assert len(keys) == len(set(keys))
    end = replay_at(data, data["end_s"])
    # Every host stored the storm image's three layers once, and ran its replica.
    assert len(end["layer"]) == 600
    assert {data["states"][state] for state, _ in end["replica"].values()} == {"ready"}
    assert len(data["downloads"]) == 600 and len(data["fills"]) == 3


def test_copy_on_write_holds_thin_layers_and_whole_vm_disks() -> None:
    result = run_demo("copy-on-write")[1]
    data = replay_data(result)
    vcpu, memory, other_disk = replay_at(data, data["end_s"])["usage"][0]
    scheduled = [
        float(str(event.detail("memory_bytes")))
        for event in result.events
        if event.detail_or("state") == "scheduled"
    ]
    assert vcpu == 6.0 and memory == sum(scheduled)
    assert other_disk == 3 * 1_000_000 + 3 * 8 * 2**30


def test_a_lost_replica_stays_lost_and_gives_back_what_it_held() -> None:
    result = run_demo("host-failure")[1]
    data = replay_data(result)
    names = [row[0] for row in data["replicas"]]
    after = replay_at(data, 301.0)
    state, host = after["replica"][names.index("web-container-1")]
    assert (data["states"][state], data["hosts"][int(host)][0]) == ("lost", "node-1")
    assert after["usage"][0] == (0.0, 0, 0)
    assert data["host_statuses"][after["host"][0][0]] == "down"
    assert data["host_statuses"][replay_at(data, 901.0)["host"][0][0]] == "up"
    assert [kind for _, kind, _ in data["marks"]] == ["fault", "recovery", "recovery"]


def test_desired_replicas_follow_the_autoscaler() -> None:
    result = run_demo("autoscaling")[1]
    data = replay_data(result)
    changes = [
        (event.time_s, int(str(event.detail("desired"))))
        for event in result.events
        if event.kind == EventKind.DESIRED_CAPACITY
    ]
    for time_s, desired in changes:
        assert replay_at(data, time_s)["desired"] == {0: (desired,)}
    assert [text.split(":")[0] for _, kind, text in data["marks"] if kind == "scale"] == [
        "autoscaler (target_tracking) scales out"
    ] * 2 + ["autoscaler (target_tracking) scales in"]


def test_the_cost_so_far_ends_at_the_run_s_bill(first_pull: tuple[Result, dict[str, Any]]) -> None:
    for result, data in (first_pull, (lambda r: (r, replay_data(r)))(run_demo("autoscaling")[1])):
        costs = data["series"]["cost_usd"]
        assert costs == sorted(costs)
        assert costs[-1] == pytest.approx(result.summary["cost_usd"], rel=1e-12)


def test_captions_are_the_narration_s_stamped_lines(
    first_pull: tuple[Result, dict[str, Any]],
) -> None:
    result, _ = first_pull
    story = ["== a title ==", "[    0.024 s] 7a6b21a6d90c: Pulling fs layer", "a summary"]
    data = replay_data(result, story=story)
    assert data["captions"] == [[0.024, "7a6b21a6d90c: Pulling fs layer"]]
    assert data["notes"] == ["== a title ==", "a summary"]
    told = replay_data(result)["captions"]
    assert told[:2] == [
        [0.0, "web-container-1: scheduled on node-1"],
        [0.0, "$ docker pull shop/web:1.4.2"],
    ]
    assert told[-1][1] == "web-container-2: ready"


def test_a_run_folder_gives_the_page_its_result_gives(
    first_pull: tuple[Result, dict[str, Any]], tmp_path: Path
) -> None:
    result, _ = first_pull
    result.write(tmp_path / "run")
    assert write_replay(tmp_path / "run", tmp_path / "run") == tmp_path / "run" / "replay.html"
    from_folder = (tmp_path / "run" / "replay.html").read_text(encoding="utf-8")
    assert from_folder == replay_page(result)


def test_a_run_that_kept_no_events_or_no_folder_is_refused_in_words(tmp_path: Path) -> None:
    summary_only = sim.simulate(sim.load_config(["log=summary"]))
    with pytest.raises(ReplayError, match=r"^the run kept no events \(log: summary\)"):
        replay_page(summary_only)
    with pytest.raises(ReplayError, match=r": not a run folder \(no summary.json, events.csv"):
        replay_page(tmp_path)
    summary_only.write(tmp_path / "run")
    with pytest.raises(ReplayError, match="run it with log=full$"):
        replay_page(tmp_path / "run")


def test_sim_demo_writes_its_page(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.argv", ["sim-demo", "first-pull", "--html", str(tmp_path)])
    sim_demo()
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {tmp_path / 'first-pull.html'}"
    page = (tmp_path / "first-pull.html").read_text(encoding="utf-8")
    assert "<title>First pull, then a second: the layer cache at work</title>" in page


@given(st.text())
def test_embedded_data_never_holds_markup(text: str) -> None:
    embedded = script_json({"name": text, "names": [text, "</script><!--"]})
    assert not re.search("[<>&\u2028\u2029]", embedded)
    assert json.loads(embedded) == {"name": text, "names": [text, "</script><!--"]}


def test_the_page_allows_only_its_own_script_and_style(
    first_pull: tuple[Result, dict[str, Any]],
) -> None:
    result, _ = first_pull
    page = replay_page(result, title="<b>a & b</b>")
    assert "<title>&lt;b&gt;a &amp; b&lt;/b&gt;</title>" in page
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    scripts = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    styles = re.findall(r"<style>(.*?)</style>", page, re.DOTALL)
    assert len(scripts) == 1 and len(styles) == 1

    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert policy.group(1) == (
        f"default-src 'none'; script-src 'sha256-{digest(scripts[0])}'; "
        f"style-src 'sha256-{digest(styles[0])}'; img-src data:"
    )


def _drain_alone(jobs: Sequence[tuple[float, float]], capacity: float) -> float:
    """When a link that never idles while work waits has sent every job: the latest,
    over the arrival times a, of a + (bytes arriving at or after a) / capacity."""
    return max(
        start + sum(size for other, size in jobs if other >= start) / capacity for start, _ in jobs
    )


def test_transfers_sharing_a_link_end_as_processor_sharing_says() -> None:
    # Three at once get a third each until the two small ones end; the big one then
    # sends its last 100 bytes alone.
    assert shared_ends([(0.0, 100.0), (0.0, 100.0), (0.0, 200.0)], 100.0) == [3.0, 3.0, 4.0]
    assert shared_ends([(0.0, 100.0), (0.5, 100.0)], 100.0) == [1.5, 2.0]
    assert shared_ends([(0.0, 100.0), (1.0, 100.0)], 100.0) == [1.0, 2.0]
    assert shared_ends([(5.0, 100.0)], 50.0) == [7.0]


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=100, allow_nan=False),
            st.floats(min_value=1, max_value=1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=12,
    ),
    st.floats(min_value=1, max_value=1e6, allow_nan=False),
)
def test_shared_transfers_conserve_work(jobs: list[tuple[float, float]], capacity: float) -> None:
    ends = shared_ends(jobs, capacity)
    for (start, size), end in zip(jobs, ends, strict=True):
        assert end >= start + size / capacity * (1 - 1e-9)
    assert max(ends) == pytest.approx(_drain_alone(jobs, capacity), rel=1e-9)
