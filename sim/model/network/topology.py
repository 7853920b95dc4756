"""Network topologies built from config: a star, or racks under a spine.

* ``star``: every host and registry hangs off one switch.
* ``two_tier``: hosts fill racks of ``hosts_per_rack``; each rack's top-of-rack switch
  connects to the spine by an uplink; registries hang off the spine.

A registry's access link carries its egress, so its bandwidth is the registry's.

Either topology may reach the internet through one ``egress`` link (a NAT gateway, or an
on-premises uplink): the registries it names hang off its far side, so everything the
cluster pulls from them shares that link. A public registry such as Docker Hub is a
content delivery network, far faster than any one cluster's way out to it, so in a pull
storm the egress link, not the registry, is the bottleneck; a mirror inside the cluster
is not behind it. (An AWS NAT gateway starts at 5 Gbit/s and scales to 100 Gbit/s;
an office or data-centre uplink is often 1 Gbit/s or less.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from sim.core.settings import setting
from sim.model.network.graph import Graph


class Endpoint(Protocol):
    """A registry as the topology sees it: a named node behind an access link."""

    @property
    def name(self) -> str: ...

    @property
    def bandwidth_bytes_s(self) -> float: ...

    @property
    def latency_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class LinkParams:
    """A link: the bandwidth of each direction (full duplex) and its one-way latency."""

    bandwidth_bytes_s: float = setting(unit="bandwidth", above=0, doc="each direction")
    latency_s: float = setting(0.0, unit="duration", doc="one way")


@dataclass(frozen=True, slots=True)
class EgressParams:
    """The cluster's way out to the internet and the registries beyond it."""

    bandwidth_bytes_s: float = setting(unit="bandwidth", above=0, doc="each direction")
    latency_s: float = setting(0.0, unit="duration", doc="one way")
    registries: tuple[str, ...] = setting((), doc="the registries reached through it")


@dataclass(frozen=True, slots=True)
class NetworkParams:
    """A topology preset and its links (SI units)."""

    topology: Literal["star", "two_tier"] = setting(
        doc="star: one switch; two_tier: racks under a spine"
    )
    host_link: LinkParams = setting(doc="each host's link to its switch")
    uplink: LinkParams = setting(
        default_factory=lambda: LinkParams(5e9, 0.0001), doc="a rack's link to the spine"
    )
    hosts_per_rack: int = setting(16, minimum=1, doc="two_tier: hosts under one rack switch")
    nat_gateways: int = setting(
        0, minimum=0, doc="egress IPs the hosts share (host n behind n mod k); 0: one each"
    )
    egress: EgressParams | None = setting(
        None, doc="a NAT gateway or uplink to the internet, and the registries beyond it"
    )


SWITCH = "switch"
SPINE = "spine"
EGRESS = "egress"


def host_attachment(params: NetworkParams, index: int) -> str:
    """The switch the `index`-th host (0-based) hangs off."""
    if params.topology == "star":
        return SWITCH
    return f"rack-{index // params.hosts_per_rack + 1}"


def build_topology(
    params: NetworkParams, hosts: Sequence[str], registries: Sequence[Endpoint]
) -> Graph:
    """The graph of switches, hosts and registries, with ``bandwidth_bytes_s`` and
    ``latency_s`` on every link."""
    graph = Graph()
    core = SWITCH if params.topology == "star" else SPINE
    graph.add_node(core, role="switch")
    for index, host in enumerate(hosts):
        switch = host_attachment(params, index)
        if switch not in graph:
            graph.add_node(switch, role="switch")
            _link(graph, switch, core, params.uplink)
        graph.add_node(host, role="host")
        _link(graph, host, switch, params.host_link)
    outside = set(params.egress.registries) if params.egress is not None else set()
    if params.egress is not None:
        graph.add_node(EGRESS, role="switch")
        _link(graph, core, EGRESS, params.egress)
    for registry in registries:
        graph.add_node(registry.name, role="registry")
        _link(graph, registry.name, EGRESS if registry.name in outside else core, registry)
    return graph


class _Link(Protocol):
    @property
    def bandwidth_bytes_s(self) -> float: ...

    @property
    def latency_s(self) -> float: ...


def _link(graph: Graph, u: str, v: str, link: _Link) -> None:
    graph.add_edge(u, v, bandwidth_bytes_s=link.bandwidth_bytes_s, latency_s=link.latency_s)
