"""Narration: what a run did, told in the words Docker itself prints.

A pull on a host becomes the lines ``docker pull`` shows — ``Pulling from``, ``Already
exists``, ``Pulling fs layer``, ``Downloading``, ``Download complete``, ``Extracting``,
``Pull complete``, ``Digest:``, ``Status: Downloaded newer image for`` — each stamped
with its simulated time, then a plain summary of what moved and where the time went.
Built from the event log only, so it tells any run, with the same words every time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from rich.console import Console
from rich.text import Text

from sim.core.records import DetailValue, Event, EventKind, PullRecord, ReplicaRecord, ReplicaState
from sim.core.units import format_duration, format_size

_LAYER_WORDS = {
    EventKind.LAYER_ALREADY_EXISTS: "Already exists",
    EventKind.LAYER_QUEUED: "Pulling fs layer",
    EventKind.LAYER_DOWNLOADING: "Downloading",
    EventKind.LAYER_DOWNLOADED: "Download complete",
    EventKind.LAYER_EXTRACTING: "Extracting",
    EventKind.LAYER_EXTRACTED: "Pull complete",
}
_REPLICA_WORDS = {
    "scheduled": "scheduled on {host}",
    "creating": "docker create: a thin writable layer over the image's read-only layers",
    "starting": "docker start",
    "initializing": "the app initialises",
    "ready": "ready",
    "provisioning": "VM provisioning (disk image: {disk_mode})",
    "booting": "guest OS booting",
    "failed": "failed: {reason}",
}
_FAULT_WORDS = {
    EventKind.HOST_FAILED: "host crashed ({fault}); replicas on it lost: {replicas_lost}",
    EventKind.HOST_RECOVERED: "host back ({how}){replaces}",
    EventKind.NODE_NOT_READY: "node NotReady ({fault}); its pods are evicted in {evict_in_s}",
    EventKind.SERVICE_RECOVERED: "recovered: as many replicas in service as before, "
    "{time_to_recover_s} after the fault",
    EventKind.SPOT_INTERRUPTION: "spot interruption notice: reclaimed in {notice_s}; "
    "cordoned, its replicas drain",
    EventKind.REGISTRY_DOWN: "registry down ({fault}): every request gets HTTP 503",
    EventKind.REGISTRY_UP: "registry serves again",
    EventKind.LINK_DOWN: "link down ({fault}): {flows_cut} transfers cut, routes recomputed",
    EventKind.LINK_UP: "link up again",
    EventKind.DISK_PRESSURE: "disk filled by {filled_bytes} B ({fault}); over the eviction "
    "threshold: {evicting}",
}


def _stamp(time_s: float) -> str:
    return f"[{time_s:9.3f} s] "


_STAMPED = re.compile(r"\[ *([0-9.]+) s\] (.*)", re.DOTALL)


def unstamped(line: str) -> tuple[float, str] | None:
    """A narrated line's time (as stamped, to the millisecond) and its words, or None for
    a line with no stamp (a header, a summary)."""
    match = _STAMPED.fullmatch(line)
    return None if match is None else (float(match.group(1)), match.group(2))


def narrate(events: Sequence[Event], host: str) -> list[str]:
    """The story of one host's pulls and of the replicas placed on it, line by line."""
    on_host = {
        event.source
        for event in events
        if event.kind == EventKind.REPLICA_STATE and event.detail_or("host") == host
    }
    lines: list[str] = []
    for event in events:
        if event.source == host:
            lines.extend(_stamp(event.time_s) + line for line in docker_lines(event))
        elif event.kind == EventKind.REPLICA_STATE and event.source in on_host:
            state = str(event.detail_or("state"))
            if state in _REPLICA_WORDS:
                text = _REPLICA_WORDS[state].format(
                    host=host,
                    disk_mode=event.detail_or("disk_mode"),
                    reason=event.detail_or("reason"),
                )
                lines.append(f"{_stamp(event.time_s)}{event.source}: {text}")
    return lines


def docker_lines(event: Event) -> list[str]:
    """What the Docker CLI prints for one of a host's events (none for most events)."""
    reference = str(event.detail_or("image", ""))
    repository, _, tag = reference.rpartition(":")
    if event.kind == EventKind.PULL_REQUESTED:
        return [f"$ docker pull {reference}", f"{tag}: Pulling from {repository}"]
    if event.kind in _LAYER_WORDS:
        words = _LAYER_WORDS[event.kind]
        if event.kind == EventKind.LAYER_DOWNLOADING:
            words += f" {format_size(float(str(event.detail('bytes'))))}"
        return [f"{event.detail('layer')}: {words}"]
    if event.kind == EventKind.PULL_COMPLETED:
        return [
            f"Digest: {event.detail('digest')}",
            f"Status: Downloaded newer image for {reference}",
        ]
    if event.kind == EventKind.PULL_FAILED:
        return [f"Error response from daemon: {event.detail('reason')}"]
    if event.kind == EventKind.IMAGE_PRESENT:
        return [f'Container image "{reference}" already present on machine']
    if event.kind == EventKind.IMAGE_REMOVED:
        freed = format_size(float(str(event.detail("disk_bytes_freed"))))
        return [f"image GC removed {event.detail('image')} (freed {freed} of disk)"]
    return []


_PHASES = ("wait", "provision", "boot", "pull_download", "pull_extract", "create", "start", "init")


def what_happened(pulls: Sequence[PullRecord], replicas: Sequence[ReplicaRecord]) -> list[str]:
    """Underneath the narration: bytes moved and where the time went, per replica."""
    lines = [
        f"pull of {pull.image} on {pull.host}: {pull.layers_already_exists} layers already "
        f"there, {pull.layers_downloaded} downloaded ({format_size(pull.bytes_downloaded)}); "
        f"download {format_duration(pull.download_s)}, extract {format_duration(pull.extract_s)}"
        for pull in pulls
    ]
    for replica in replicas:
        if replica.startup_s is None:
            continue
        spent = ", ".join(
            f"{name.replace('_', ' ')} {format_duration(seconds)}"
            for name in _PHASES
            if (seconds := getattr(replica, f"{name}_s")) > 0
        )
        lines.append(f"{replica.replica} ready in {format_duration(replica.startup_s)}: {spent}")
    return lines


# A scaled service: its autoscaler's decisions, its replicas coming and going, its load.

_SERVICE_REPLICA_WORDS = {
    "scheduled": "scheduled on {host}",
    "in_service": "in service: passed the load balancer's health checks, takes requests",
    "draining": "draining: no new requests, {in_flight} in flight to finish",
    "removed": "docker stop, docker rm (its writable layer goes with it)",
    "stopped": "stopped",
    "failed": "failed: {reason}",
    "lost": "lost with its host ({reason}); its requests in flight fail",
    "crash_loop_backoff": "container exited ({reason}); restart {backoff_s}",
}
_HOST_KINDS = (
    EventKind.PULL_REQUESTED,
    EventKind.PULL_COMPLETED,
    EventKind.PULL_FAILED,
    EventKind.IMAGE_PRESENT,
)
# Consecutive periods are told as one stretch while the load stays within these bounds of
# the stretch's first period (and replicas in service and drops do not change).
_RATE_SPREAD = 0.2
_CPU_SPREAD_PERCENT = 10.0


def service_story(
    events: Sequence[Event],
    timeseries: Sequence[Mapping[str, float | int]],
    fleet: str,
    notes: Sequence[tuple[float, str]] = (),
) -> list[str]:
    """The story of a scaled service, line by line, in time order.

    It tells the autoscaler's decisions with their reasons, each replica of `fleet` from
    placement to service and from draining to removal, the hosts' pulls in Docker's words,
    the load in stretches of similar periods (`load_lines`), and the given `notes` (such
    as when a flash crowd comes and goes). At one time, the load of the period just
    closed comes first, then the notes, then the events.
    """
    breaks = [time_s for time_s, _ in notes]
    breaks += [event.time_s for event in events if event.kind == EventKind.SCALING_ACTION]
    told = [(time_s, 0, line) for time_s, line in load_lines(timeseries, breaks)]
    told += [(time_s, 1, f"{_stamp(time_s)}{text}") for time_s, text in notes]
    told += [(time_s, 2, line) for time_s, line in _service_event_lines(events, fleet)]
    return [line for _, _, line in sorted(told, key=lambda entry: entry[:2])]


def _is_member(source: str, fleet: str) -> bool:
    return source.startswith(f"{fleet}-") and source[len(fleet) + 1 :].isdigit()


def _service_event_lines(events: Sequence[Event], fleet: str) -> list[tuple[float, str]]:
    lines: list[tuple[float, str]] = []
    requested_s: dict[str, float] = {}
    lost: set[str] = set()
    decided: tuple[float, DetailValue] | None = None
    for event in events:
        stamp = _stamp(event.time_s)
        if event.kind == EventKind.SCALING_ACTION:
            decided = (event.time_s, event.detail("desired"))
            lines.append((event.time_s, stamp + scaling_words(event)))
        elif event.kind == EventKind.DESIRED_CAPACITY and event.source == fleet:
            if decided != (event.time_s, event.detail("desired")):
                lines.append(
                    (
                        event.time_s,
                        f"{stamp}{fleet}: desired capacity {event.detail('desired')} "
                        f"({event.detail_or('reason')})",
                    )
                )
        elif event.kind == EventKind.TRAFFIC_STARTED and event.source == fleet:
            lines.append((event.time_s, f"{stamp}{fleet}: the load balancer opens to traffic"))
        elif event.kind in _FAULT_WORDS:
            lines.append((event.time_s, f"{stamp}{event.source}: {fault_words(event)}"))
        elif event.kind in _HOST_KINDS:
            said = docker_lines(event)
            text = said[-1] if event.kind == EventKind.PULL_COMPLETED else said[0]
            if event.kind == EventKind.PULL_COMPLETED:
                text += f" ({format_size(float(str(event.detail('bytes'))))})"
            lines.append((event.time_s, f"{stamp}{event.source}: {text}"))
        elif event.kind == EventKind.REPLICA_STATE and _is_member(event.source, fleet):
            state = str(event.detail_or("state"))
            if state == "requested":
                requested_s[event.source] = event.time_s
            elif state == "ready":
                since_s = event.time_s - requested_s.get(event.source, event.time_s)
                lines.append(
                    (
                        event.time_s,
                        f"{stamp}{event.source}: ready, {format_duration(since_s)} after launch",
                    )
                )
            elif state in ("removed", "stopped") and event.source in lost:
                continue
            elif state in _SERVICE_REPLICA_WORDS:
                if state == "lost":
                    lost.add(event.source)
                backoff_s = event.detail_or("backoff_s")
                text = _SERVICE_REPLICA_WORDS[state].format(
                    host=event.detail_or("host"),
                    in_flight=event.detail_or("in_flight"),
                    reason=event.detail_or("reason"),
                    backoff_s=(
                        f"in {format_duration(float(str(backoff_s)))} (CrashLoopBackOff)"
                        if backoff_s
                        else "at once (its first exit, or after a long run)"
                    ),
                )
                lines.append((event.time_s, f"{stamp}{event.source}: {text}"))
    return lines


def fault_words(event: Event) -> str:
    """A fault or a recovery in plain words."""
    details = dict(event.details)
    for key in ("time_to_recover_s", "notice_s", "evict_in_s"):
        if key in details:
            details[key] = format_duration(float(str(details[key])))
    replaces = details.get("replaces")
    details["replaces"] = f", in place of {replaces}" if replaces else ""
    return _FAULT_WORDS[event.kind].format(**details)


def cluster_words(event: Event) -> str:
    """A cluster scaler's decision in plain words."""
    if event.kind == EventKind.CLUSTER_SCALE_OUT:
        return (
            f"cluster scaler adds {event.detail('hosts')} host(s): "
            f"{event.detail_or('pending')} replica(s) fit nowhere"
        )
    return f"cluster scaler removes {event.detail('hosts')} idle host(s)"


def scaling_words(event: Event) -> str:
    """One autoscaler decision in plain words: which way, from and to, and why."""
    desired = int(str(event.detail("desired")))
    previous = int(str(event.detail("previous")))
    direction = "scales out" if desired > previous else "scales in"
    policy = event.source.removeprefix("autoscaler/")
    return (
        f"autoscaler ({policy}) {direction}: desired {previous} -> {desired}, "
        f"because {event.detail_or('reason')}"
    )


def load_lines(
    timeseries: Sequence[Mapping[str, float | int]], breaks: Iterable[float] = ()
) -> list[tuple[float, str]]:
    """The load, period by period, told in stretches of similar periods.

    Each line is stamped at the end of its stretch, when monitoring has the numbers, and
    gives over the stretch: requests per second, the replicas' CPU (the range of the
    periods' means when they differ), the replicas in service at its end, the mean
    latency and the requests dropped. A new stretch begins with the period in which a
    time of `breaks` falls (a decision, the start of a crowd), after a period with no
    request at all (which is left out), when the replicas in service change, when drops
    start or stop, or when the request rate or the CPU leaves a band around the
    stretch's first period.
    """
    break_times = sorted(breaks)
    stretches: list[list[tuple[float, Mapping[str, float | int]]]] = []
    end_s = 0.0
    broken = True
    for row in timeseries:
        start_s, end_s = end_s, float(row["time_s"])
        broken = broken or any(start_s <= time_s < end_s for time_s in break_times)
        if not (row["requests"] or row["completed"] or row["dropped"]):
            broken = True
            continue
        period = (start_s, row)
        if broken or not _alike(stretches[-1][0], period):
            stretches.append([period])
        else:
            stretches[-1].append(period)
        broken = False
    return [(float(stretch[-1][1]["time_s"]), _load_line(stretch)) for stretch in stretches]


def _rate_per_s(period: tuple[float, Mapping[str, float | int]]) -> float:
    start_s, row = period
    return float(row["requests"]) / max(float(row["time_s"]) - start_s, 1e-9)


def _alike(
    first: tuple[float, Mapping[str, float | int]], period: tuple[float, Mapping[str, float | int]]
) -> bool:
    first_row, row = first[1], period[1]
    first_rate = _rate_per_s(first)
    return (
        row["in_service"] == first_row["in_service"]
        and bool(row["dropped"]) == bool(first_row["dropped"])
        and abs(_rate_per_s(period) - first_rate) <= _RATE_SPREAD * first_rate
        and abs(float(row["cpu_percent_avg"]) - float(first_row["cpu_percent_avg"]))
        <= _CPU_SPREAD_PERCENT
    )


def _load_line(stretch: Sequence[tuple[float, Mapping[str, float | int]]]) -> str:
    rows = [row for _, row in stretch]
    end_s = float(rows[-1]["time_s"])
    span_s = end_s - stretch[0][0]
    requests = sum(int(row["requests"]) for row in rows)
    completed = sum(int(row["completed"]) for row in rows)
    cpu = sorted({f"{float(row['cpu_percent_avg']):.0f}" for row in rows}, key=float)
    cpu_text = cpu[0] if len(cpu) == 1 else f"{cpu[0]}-{cpu[-1]}"
    latency_s = (
        sum(float(row["latency_s_avg"]) * int(row["completed"]) for row in rows) / completed
        if completed
        else 0.0
    )
    dropped = sum(int(row["dropped"]) for row in rows)
    return (
        f"{_stamp(end_s)}load over the last {format_duration(span_s)}: "
        f"{requests / span_s:.1f} requests/s, CPU {cpu_text} %, "
        f"{rows[-1]['in_service']} in service, mean latency {format_duration(latency_s)}, "
        f"{dropped} dropped"
    )


def scaling_outcome(
    events: Sequence[Event], summary: Mapping[str, object], crowd_s: tuple[float, float]
) -> list[str]:
    """What a scaled service went through: requests, replicas and how long scaling took.

    Args:
        events: the run's events.
        summary: the run's summary (its ``requests_*`` keys).
        crowd_s: when the load rose and when it fell back: a scale-out is timed from
            the first, a scale-in from the second.
    """
    reasons = ", ".join(
        f"{count} {key.removeprefix('requests_dropped_').replace('_', ' ')}"
        for key, count in summary.items()
        if key.startswith("requests_dropped_") and count
    )
    lines = [
        f"requests: {summary['requests_total']} arrived, {summary['requests_served']} served, "
        f"{summary['requests_in_flight']} in flight at the end, "
        f"{summary['requests_dropped']} dropped" + (f" ({reasons})" if reasons else "")
    ]
    in_service = 0
    in_service_peak = 0
    desired_peak = 0
    serving: list[tuple[float, int]] = []
    for event in events:
        if event.kind == EventKind.DESIRED_CAPACITY:
            desired_peak = max(desired_peak, int(str(event.detail("desired"))))
        elif (
            event.kind == EventKind.REPLICA_STATE
            and event.detail_or("state") == ReplicaState.IN_SERVICE
        ):
            in_service += 1
            serving.append((event.time_s, in_service))
        elif (
            event.kind == EventKind.REPLICA_STATE
            and event.detail_or("state") == ReplicaState.DRAINING
        ):
            in_service -= 1
            serving.append((event.time_s, in_service))
        in_service_peak = max(in_service_peak, in_service)
    actions = [event for event in events if event.kind == EventKind.SCALING_ACTION]
    lines.append(
        f"replicas: at most {in_service_peak} in service (desired at most {desired_peak}); "
        f"{len(actions)} scaling actions"
    )
    for action in actions:
        desired = int(str(action.detail("desired")))
        previous = int(str(action.detail("previous")))
        if desired < previous:
            lines.append(
                f"scale-in {previous} -> {desired}: decided "
                f"{_relative(action.time_s - crowd_s[1])} the crowd left (at {action.time_s:g} s)"
            )
            continue
        reached_s = next(
            (time_s for time_s, count in serving if time_s >= action.time_s and count >= desired),
            None,
        )
        lines.append(
            f"scale-out {previous} -> {desired}: decided "
            f"{_relative(action.time_s - crowd_s[0])} the crowd began (at {action.time_s:g} s), "
            + (
                f"{desired} in service {_relative(reached_s - crowd_s[0])} it "
                f"(at {reached_s:.1f} s)"
                if reached_s is not None
                else f"never {desired} in service"
            )
        )
    return lines


def _relative(seconds: float) -> str:
    if seconds < 0:
        return f"{format_duration(-seconds)} before"
    return f"{format_duration(seconds)} after"


_STAMP = re.compile(r"\[ *[0-9.]+ s\] ")
_SCALING = re.compile(r"\bscales (out|in)\b|\bscale-(out|in)\b")
# Later patterns are drawn over earlier ones: a drop reason such as "no ready replica"
# stays red.
_WORD_STYLES = (
    (r"\$ docker .*", "bold"),
    (r"^Step [0-9]+/[0-9]+ :", "bold"),
    (
        r"\b(Pull complete|Download complete|Downloaded newer image|ready)\b"
        r"|^Successfully (built|tagged)\b",
        "green",
    ),
    (r"\bAlready exists\b|\balready present on machine\b|Using cache", "cyan"),
    (r"\b(Downloading|Extracting)\b", "yellow"),
    (r"Error response from daemon.*|\bfailed\b.*|\b[1-9][0-9]* dropped( \([^)]*\))?", "red"),
)


def styled(line: str) -> Text:
    """One printed line with Docker's words coloured; its plain text is `line` itself.

    Section headers are bold, timestamps dim, ``$ docker`` commands bold, finished steps
    green, layers found on the host cyan, layers in transit yellow, errors and dropped
    requests red, and the autoscaler's scale-outs and scale-ins magenta.
    """
    if line.startswith(("== ", "-- ")):
        return Text(line, style="bold")
    text = Text(line)
    stamp = _STAMP.match(line)
    body_start = stamp.end() if stamp else 0
    if stamp:
        text.stylize("dim", 0, body_start)
    if _SCALING.search(line):
        text.stylize("magenta", body_start)
    for pattern, style in _WORD_STYLES:
        text.highlight_regex(pattern, style)
    return text


def show(lines: Iterable[str], console: Console, style: str = "") -> None:
    """Print lines: Docker's words in colour on a terminal, as plain text otherwise.

    Plain also on a terminal with ``NO_COLOR`` set: rich then drops colours but would
    still print bold and dim, and NO_COLOR asks for neither.
    """
    colour = console.is_terminal and console.color_system is not None and not console.no_color
    texts = []
    for line in lines:
        text = styled(line) if colour else Text(line)
        if colour and style:
            text.stylize(style)
        texts.append(text)
    if texts:
        # One print for them all: rich's cost is per call (a 10,000-step build's output).
        console.print(Text("\n").join(texts), soft_wrap=True)
