"""Limits on how big a run may be, checked from its config before anything is built.

A config can ask for more than a machine holds or a lifetime allows: ten million hosts,
a microsecond's sample period over an hour, a horizon of 1e300 seconds, a rate of a
billion requests per second. Each of those is predicted from the config alone, before a
host, a replica or a row exists, and refused in one line that names the setting, the
limit and how to raise it (the root key ``limits``: ``limits.hosts=200000``). The
predictions are upper bounds or close estimates, so a config under every limit runs;
one above a limit that the machine could still hold runs once the limit is raised.

The defaults keep a run within a few gigabytes of memory: about 10 kB a host, 5 kB a
replica, 200 B an event kept in the log, 2 kB a time-series row; and within hours of
CPU: about 130,000 requests a second in the requests mode.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.config.defaults import duration
from sim.core.errors import ConfigError
from sim.core.settings import setting

EVENTS_PER_REPLICA = 10
"""Events a replica's start-up records besides its pull's layers (states, the pull)."""
EVENTS_PER_LAYER = 5
"""Events each layer a pull fetches records (queued, downloading, downloaded,
extracting, extracted)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """The largest run a config may ask for (the root key ``limits``)."""

    hosts: int = setting(
        100_000, minimum=1, doc="hosts: every pool's count plus the cluster scaler's max_hosts"
    )
    replicas: int = setting(
        200_000,
        minimum=1,
        doc="replicas asked for at once: deployments (per_host: one per host), service",
    )
    events: int = setting(
        5_000_000,
        minimum=1,
        doc="events kept with log: full, predicted from the replicas and their layers",
    )
    timeseries_rows: int = setting(
        1_000_000, minimum=1, doc="rows of timeseries.csv: horizon / sample_period"
    )
    requests: int = setting(
        1_000_000_000,
        minimum=1,
        doc="requests simulated one by one (requests mode): highest arrival rate x horizon",
    )
    horizon_s: float = setting(366 * 86400.0, unit="duration", above=0, doc="simulated time")


def _refuse(
    key: str, value: object, allowed: str, name: str, needed: object, alternative: str = ""
) -> ConfigError:
    """The error for a run over limit `name`: what is allowed, and how to raise it."""
    raise_it = f"limits.{name}={needed}" + (f", or {alternative}" if alternative else "")
    return ConfigError(key, value, f"at most {allowed} (limits.{name}; to allow it: {raise_it})")


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _whole(count: float) -> str:
    """A count to raise a limit to: the whole number, or ``<n>`` when it has no sane one."""
    return str(math.ceil(count)) if count < 1e15 else "<n>"


def check_length(horizon_s: float, sample_period_s: float, limits: Limits) -> None:
    """The run's simulated time and its number of time-series rows.

    Raises:
        ConfigError: naming ``horizon`` or ``sample_period``.
    """
    if horizon_s > limits.horizon_s:
        needed = duration(horizon_s) if horizon_s < 1e15 else "<duration>"
        raise _refuse(
            "horizon", _seconds(horizon_s), str(duration(limits.horizon_s)), "horizon", needed
        )
    rows = horizon_s / sample_period_s
    if rows > limits.timeseries_rows:
        raise _refuse(
            "sample_period",
            _seconds(sample_period_s),
            f"{limits.timeseries_rows} rows of timeseries.csv, not {rows:.3g} "
            f"(horizon {_seconds(horizon_s)} / sample_period)",
            "timeseries_rows",
            _whole(rows),
            "a longer sample_period",
        )


def check_hosts(pool_counts: Iterable[int], scaler_max_hosts: int, limits: Limits) -> int:
    """The hosts a cluster may reach: its pools' and its scaler's; returns how many.

    Raises:
        ConfigError: naming ``cluster.pools``.
    """
    hosts = sum(pool_counts) + scaler_max_hosts
    if hosts > limits.hosts:
        raise _refuse(
            "cluster.pools",
            f"{hosts} hosts",
            f"{limits.hosts} hosts, the scaler's max_hosts included",
            "hosts",
            hosts,
        )
    return hosts


def check_replicas(
    replicas_by_layers: Mapping[int, int], log: str, hosts: int, limits: Limits
) -> None:
    """The replicas asked for at once, and the events their start-ups would keep.

    Args:
        replicas_by_layers: how many replicas start from an image of so many layers.
        log: the run's ``log`` setting (``summary`` keeps no events).
        hosts: the cluster's hosts (each records a few events of its own).

    Raises:
        ConfigError: naming ``workload.deployments``.
    """
    replicas = sum(replicas_by_layers.values())
    if replicas > limits.replicas:
        raise _refuse(
            "workload.deployments",
            f"{replicas} replicas",
            f"{limits.replicas} replicas, the service's included",
            "replicas",
            replicas,
        )
    events = 2 * hosts + sum(
        count * (EVENTS_PER_REPLICA + EVENTS_PER_LAYER * layers)
        for layers, count in replicas_by_layers.items()
    )
    if log == "full" and events > limits.events:
        raise _refuse(
            "workload.deployments",
            f"{replicas} replicas",
            f"{limits.events} events in events.csv, not about {events:.3g}",
            "events",
            events,
            "log=summary, which keeps none",
        )


def peak_rate_per_s(arrivals: Any) -> float:
    """The highest arrival rate an arrival process's parameters name: its rates (every
    setting named ``*_per_s``), or a trace's recorded requests or highest rate."""
    loaded = getattr(arrivals, "loaded", None)
    if loaded is not None:
        times_s = getattr(loaded, "times_s", None)
        if times_s is not None:
            return float(len(times_s))  # every row at once: a bound on the requests
        return max(loaded.rates_per_s, default=0.0)
    rates: list[float] = []
    for field in dataclasses.fields(arrivals):
        if field.name.endswith("_per_s"):
            value = getattr(arrivals, field.name)
            rates += list(value) if isinstance(value, tuple) else [value]
    return max(rates, default=0.0)


def check_requests(arrivals: Any, mode: str, horizon_s: float, limits: Limits) -> None:
    """The requests a run would simulate one by one (the fluid mode simulates none).

    Raises:
        ConfigError: naming ``workload.traffic.arrivals``.
    """
    if mode != "requests":
        return
    rate_per_s = peak_rate_per_s(arrivals)
    loaded = getattr(arrivals, "loaded", None)
    if loaded is not None and getattr(loaded, "times_s", None) is not None:
        requests = rate_per_s
    else:
        requests = rate_per_s * horizon_s
    if requests > limits.requests:
        raise _refuse(
            "workload.traffic.arrivals",
            f"{rate_per_s:g} per s",
            f"{limits.requests} requests, not up to {requests:.3g} (highest rate x horizon)",
            "requests",
            _whole(requests),
            "workload.traffic.mode=fluid",
        )


__all__ = ["Limits", "check_hosts", "check_length", "check_replicas", "check_requests"]
