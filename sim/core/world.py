"""What a run had, as opposed to what happened in it: the facts no event carries.

The event log says that a layer was extracted on ``node-1`` or that a replica was
scheduled there; drawing that (the replay page, `sim.teach.replay`) also needs what
those things were: how large each host is and what it cost per hour, which layers make
each image and which image's build step added each one (so that layers of a shared base
are recognised as such), which registry mirrors which, what one replica of an app asks
for, and what a platform's replicas keep on a host's disk. The scenario collects these
facts when a run with ``log: full`` ends (`World`); the results write them as
``world.json`` beside the event log.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HostFacts:
    """One host that existed during the run: its size and its billed life.

    Attributes:
        name: the host's name, as events give it.
        vcpu: its vCPUs.
        memory_bytes: its memory.
        disk_bytes: its disk.
        overhead_vcpu: what node reserves and DaemonSets take of its vCPUs.
        overhead_memory_bytes: what they take of its memory.
        instance_type: the priced instance type it is billed as ("" when none).
        zone: its availability zone ("" when none).
        usd_per_hour: what it costs per hour.
        launched_s: when it was launched (0 for a pool's host).
        terminated_s: when it stopped being billed (None: it ran to the end).
    """

    name: str
    vcpu: float
    memory_bytes: int
    disk_bytes: int
    overhead_vcpu: float
    overhead_memory_bytes: int
    instance_type: str
    zone: str
    usd_per_hour: float
    launched_s: float
    terminated_s: float | None


@dataclass(frozen=True, slots=True)
class LayerFacts:
    """One read-only layer of the image catalog.

    Attributes:
        layer: the 12 hex digits events and ``docker pull`` name it by.
        size_bytes: its size on disk, extracted.
        compressed_bytes: its size in transit.
        image: the catalog image whose build step added it (for a layer of a base
            image, the base: every image built ``FROM`` it shares the layer).
        created_by: the step that made it (``RUN pip install ...``).
    """

    layer: str
    size_bytes: int
    compressed_bytes: int
    image: str
    created_by: str


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """One image of the catalog.

    Attributes:
        name: its catalog name (``web``).
        reference: ``repository:tag``, as events name it.
        registry: the registry that publishes it.
        parent: the catalog image it is built ``FROM`` ("" for none).
        image_id: the digest of its configuration (``docker images``' IMAGE ID).
        layers: its layers bottom-up, by `LayerFacts.layer`.
    """

    name: str
    reference: str
    registry: str
    parent: str
    image_id: str
    layers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RegistryFacts:
    """One registry: its kind, what it mirrors, its egress and its prices.

    Attributes:
        name: its name.
        kind: ``public``, ``private``, ``mirror``, ``quota``.
        upstream: the registry a mirror fetches its misses from ("" for none).
        bandwidth_bytes_s: its egress link.
        stored_bytes: the blob bytes it held at the end of the run.
        storage_usd_per_gb_month: its storage price.
        egress_usd_per_gb: its egress price.
    """

    name: str
    kind: str
    upstream: str
    bandwidth_bytes_s: float
    stored_bytes: int
    storage_usd_per_gb_month: float
    egress_usd_per_gb: float


@dataclass(frozen=True, slots=True)
class AppFacts:
    """One app: its image and what one replica requests."""

    name: str
    image: str
    vcpu: float
    memory_bytes: int


@dataclass(frozen=True, slots=True)
class PlatformFacts:
    """One platform: its kind and what its replicas keep on a host's disk.

    Attributes:
        name: the platform's name (``container``, ``microvm``).
        kind: its kind (``container``, ``vm``, ``beanstalk-docker``, ``fargate``).
        writable_layer_bytes: a container's thin writable layer (0: no containers).
        vm_clone_base_bytes: a cloned VM's base disk image, written once per host and
            kept there (0: VMs copy their whole disk, or run as instances).
    """

    name: str
    kind: str
    writable_layer_bytes: int
    vm_clone_base_bytes: int


@dataclass(frozen=True, slots=True)
class World:
    """The facts of a run that no event carries (see the module's doc)."""

    hosts: tuple[HostFacts, ...]
    images: tuple[ImageFacts, ...]
    layers: tuple[LayerFacts, ...]
    registries: tuple[RegistryFacts, ...]
    mirrors: tuple[tuple[str, str], ...]
    """(origin registry, the mirror its images come through)."""
    apps: tuple[AppFacts, ...]
    platforms: tuple[PlatformFacts, ...]
    billing_minimum_s: float
