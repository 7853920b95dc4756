"""ImageLocality against upstream's table
(``imagelocality/image_locality_test.go``, TestImageLocalityPriority), restated; then the
layer store's report of whole images, which is what the model's nodes tell the plugin."""

from __future__ import annotations

import pytest
from scheduling_helpers import make_node, make_pod, run_score

from sim.policies.scheduling.image_locality import ImageLocality, image_score
from sim.policies.scheduling.objects import NodeInfo

MB = 2**20
NODE_40_300_2000 = {"gcr.io/40": 40 * MB, "gcr.io/300": 300 * MB, "gcr.io/2000": 2000 * MB}
NODE_250_10 = {"gcr.io/250": 250 * MB, "gcr.io/10": 10 * MB}
NODE_600_40_900 = {"gcr.io/600": 600 * MB, "gcr.io/40": 40 * MB, "gcr.io/900": 900 * MB}
NODE_300_600_900 = {"gcr.io/300": 300 * MB, "gcr.io/600": 600 * MB, "gcr.io/900": 900 * MB}
NODE_4000_30 = {"gcr.io/4000": 4000 * MB, "gcr.io/30": 30 * MB}
NODE_20_30_40 = {"gcr.io/20": 20 * MB, "gcr.io/30": 30 * MB, "gcr.io/40": 40 * MB}


def image_nodes(*images: dict[str, int]) -> list[NodeInfo]:
    return [make_node(f"node{i + 1}", images=held) for i, held in enumerate(images)]


CASES = [
    (
        "two images spread on two nodes, prefer the larger image one",
        ("gcr.io/40", "gcr.io/250"),
        image_nodes(NODE_40_300_2000, NODE_250_10),
        [0, 5],
    ),
    (
        "two images on one node, prefer this node",
        ("gcr.io/40", "gcr.io/300"),
        image_nodes(NODE_40_300_2000, NODE_250_10),
        [7, 0],
    ),
    (
        "if exceed limit, use limit",
        ("gcr.io/10", "gcr.io/4000"),
        image_nodes(NODE_4000_30, NODE_250_10),
        [100, 0],
    ),
    (
        "if exceed limit, use limit (with node which has no images present)",
        ("gcr.io/10", "gcr.io/4000"),
        image_nodes(NODE_4000_30, NODE_250_10, {}),
        [66, 0, 0],
    ),
    (
        "pod with multiple large images, node2 is preferred",
        ("gcr.io/300", "gcr.io/600", "gcr.io/900"),
        image_nodes(NODE_600_40_900, NODE_300_600_900, {}),
        [32, 36, 0],
    ),
    (
        "pod with multiple small images",
        ("gcr.io/30", "gcr.io/40"),
        image_nodes(NODE_20_30_40, NODE_4000_30),
        [1, 0],
    ),
    # Upstream's init container counts as a second container (an image of 300 MB).
    (
        "include InitContainers: two images spread on two nodes, prefer the larger image one",
        ("gcr.io/30", "gcr.io/300"),
        image_nodes(NODE_40_300_2000, NODE_20_30_40),
        [6, 0],
    ),
]


@pytest.mark.parametrize(("name", "images", "nodes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_image_locality_priority(
    name: str, images: tuple[str, ...], nodes: list[NodeInfo], expected: list[int]
) -> None:
    assert list(run_score(ImageLocality(), make_pod(images=images), nodes).values()) == expected


def test_a_300_mib_image_on_every_node_earns_28_and_on_half_of_them_12() -> None:
    """One container: 100 x (300 MiB x spread - 23 MiB) / (1000 MiB - 23 MiB)."""
    assert image_score(300 * MB, 1) == 28
    assert image_score(150 * MB, 1) == 12
    assert image_score(0, 1) == 0


def test_a_node_reports_only_images_whose_every_layer_it_holds() -> None:
    """A partly pulled image — or one whose base layers are there because another image
    shares them — is not listed, as a runtime lists an image only once its pull completed;
    the store is what the model's nodes report to ImageLocality."""
    from worlds import layered_image

    from sim.model.images.image import build_catalog
    from sim.model.images.store import DiskAccount, LayerStore

    catalog = build_catalog(
        {
            "base": layered_image("base", [(100 * MB, 40 * MB)]),
            "app": layered_image("app", [(50 * MB, 20 * MB)], parent="base"),
        }
    )
    base, app = catalog["base"], catalog["app"]
    store = LayerStore(DiskAccount(10**12))
    reported = store.reported_images()
    store.add_layer(base.chain_ids[0], base.layers[0], None)
    store.tag_image(base, 0.0)

    assert dict(reported) == {"base": base.size_bytes}
    assert "app" not in reported  # its base layer is there, its own layer is not

    store.add_layer(app.chain_ids[1], app.layers[1], app.chain_ids[0])
    store.tag_image(app, 1.0)

    assert dict(reported) == {"base": base.size_bytes, "app": app.size_bytes}


def test_a_node_reports_its_50_largest_images() -> None:
    """The kubelet's nodeStatusMaxImages: 50 images, the largest first."""
    from worlds import layered_image

    from sim.model.images.image import build_catalog
    from sim.model.images.store import DiskAccount, LayerStore

    catalog = build_catalog(
        {f"i{n}": layered_image(f"i{n}", [((n + 1) * MB, MB)]) for n in range(60)}
    )
    store = LayerStore(DiskAccount(10**13))
    for image in catalog.values():
        store.add_layer(image.chain_ids[0], image.layers[0], None)
        store.tag_image(image, 0.0)
    reported = store.reported_images()

    assert sorted(reported, key=lambda name: int(name[1:])) == [f"i{n}" for n in range(10, 60)]
    assert "i9" not in reported and reported["i59"] == 60 * MB
