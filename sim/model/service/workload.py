"""The served workload's parameters: the service, and what each request asks of a replica.

A `RequestSpec` holds two distributions, drawn once per request by the traffic driver.
When requests arrive is an arrival process (`sim.model.service.arrivals`). The parameters live
apart from the service's machinery (`sim.model.service.service`), so reading a config that serves
nothing loads none of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.core.distributions import Constant, Distribution, parse_distribution
from sim.core.errors import ConfigError
from sim.core.units import parse_size

if TYPE_CHECKING:
    from sim.model.service.fleet import FleetParams


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """What one request asks of the replica that serves it.

    Attributes:
        cpu_s: seconds of one worker (one vCPU) the request keeps busy: its service time.
        response_bytes: the size of its response (a distribution with unit
            ``"number"``: a plain count of bytes, not rounded to whole bytes).
    """

    cpu_s: Distribution
    response_bytes: Distribution


REQUEST_KEYS = ("cpu", "response_bytes")

_SIZE_PARAMETERS = ("value", "low", "high", "mean", "sd", "median", "min", "max")


def _sizes_as_bytes(spec: object, key: str) -> object:
    """`spec` with sizes (``20kB``) in place of byte counts: a constant as bytes, and in
    a distribution mapping every parameter but ``dist`` and ``sigma``."""
    if not isinstance(spec, Mapping):
        return parse_size(spec, key)
    return {
        name: parse_size(value, f"{key}.{name}") if name in _SIZE_PARAMETERS else value
        for name, value in spec.items()
    }


def parse_request_spec(spec: Mapping[str, object], key: str) -> RequestSpec:
    """The request a config section describes.

    Args:
        spec: a mapping with ``cpu``, a duration distribution (``50ms``, or
            ``{dist: exponential, mean: 50ms}``), and ``response_bytes``, a size
            (``20kB``, or a bare number of bytes) or a distribution whose parameters are
            sizes (``{dist: lognormal, median: 20kB, sigma: 1.0}``).
        key: the config key of the section, named in errors.

    Raises:
        ConfigError: a missing or unknown key, or a malformed duration, size or
            distribution.
    """
    for name in spec:
        if name not in REQUEST_KEYS:
            raise ConfigError(f"{key}.{name}", spec[name], f"one of {', '.join(REQUEST_KEYS)}")
    for name in REQUEST_KEYS:
        if name not in spec:
            raise ConfigError(f"{key}.{name}", "(missing)", "required")
    cpu_s = parse_distribution(spec["cpu"], f"{key}.cpu", "duration")
    size_key = f"{key}.response_bytes"
    size_spec = _sizes_as_bytes(spec["response_bytes"], size_key)
    if isinstance(size_spec, int):
        return RequestSpec(cpu_s, Constant(float(size_spec), "number"))
    return RequestSpec(cpu_s, parse_distribution(size_spec, size_key, "number"))


@dataclass(frozen=True, slots=True)
class ServiceParams:
    """An application served behind a load balancer, and the traffic it gets."""

    app: str
    platform: str
    initial_replicas: int
    fleet: FleetParams
    balancer: str
    arrivals: Any  # the parameters of a kind of sim.model.service.arrivals.ARRIVALS
    request: RequestSpec
    start_traffic: str = "when_ready"
    mode: str = "requests"
    """How requests are simulated: a kind of `TRAFFIC_MODES`."""
