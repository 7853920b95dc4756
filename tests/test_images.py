"""Images: content addressing, OCI ChainIDs, FROM inheritance, metadata-only steps."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.errors import ConfigError
from sim.model.images.image import BuildStep, ImageSpec, build_catalog, chain_ids, make_layer


def spec(name: str, *steps: BuildStep, registry: str = "hub") -> ImageSpec:
    return ImageSpec(name, f"library/{name}", "1", registry, steps)


def run(text: str, size: int = 1000, compressed: int = 400) -> BuildStep:
    return BuildStep("RUN", text, size, compressed)


BASE = spec("base", BuildStep("ADD", "rootfs /", 5000, 2000), BuildStep("CMD", '["sh"]'))


def test_chain_ids_follow_the_oci_formula() -> None:
    def sha(text: str) -> str:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    first, second, third = "sha256:" + "a" * 64, "sha256:" + "b" * 64, "sha256:" + "c" * 64
    expected_second = sha(f"{first} {second}")
    assert chain_ids([first, second, third]) == (
        first,
        expected_second,
        sha(f"{expected_second} {third}"),
    )


def test_from_inherits_the_parents_layers_and_config() -> None:
    app = spec("app", BuildStep("FROM", "base"), run("pip install"), BuildStep("EXPOSE", "8000"))
    catalog = build_catalog({"app": app, "base": BASE})
    assert catalog["app"].layers[:1] == catalog["base"].layers
    assert catalog["app"].chain_ids[:1] == catalog["base"].chain_ids
    assert len(catalog["app"].layers) == 2
    assert catalog["app"].config.cmd == ("sh",)
    assert catalog["app"].config.exposed_ports == ("8000",)
    assert catalog["app"].parent == "base"
    assert list(catalog) == ["app", "base"]


def test_metadata_instructions_add_no_layer() -> None:
    steps = [
        BuildStep(instruction, argument)
        for instruction, argument in [
            ("LABEL", "team=shop"),
            ("WORKDIR", "/app"),
            ("EXPOSE", "80 443"),
            ("ENTRYPOINT", '["python"]'),
            ("CMD", '["app.py"]'),
            ("ENV", "A=1 B=2"),
        ]
    ]
    image = build_catalog({"base": BASE, "app": spec("app", BuildStep("FROM", "base"), *steps)})[
        "app"
    ]
    assert image.layers == build_catalog({"base": BASE})["base"].layers
    assert image.config.labels == (("team", "shop"),)
    assert image.config.workdir == "/app"
    assert image.config.exposed_ports == ("80", "443")
    assert image.config.entrypoint == ("python",)
    assert image.config.cmd == ("app.py",)
    assert image.config.env == (("A", "1"), ("B", "2"))
    assert image.image_id != build_catalog({"base": BASE})["base"].image_id


def test_same_step_same_layer_but_other_parent_other_chain() -> None:
    other_base = spec("other", BuildStep("ADD", "alpine /", 3000, 1000))
    catalog = build_catalog(
        {
            "base": BASE,
            "other": other_base,
            "a": spec("a", BuildStep("FROM", "base"), run("install tool")),
            "b": spec("b", BuildStep("FROM", "other"), run("install tool")),
        }
    )
    assert catalog["a"].layers[1] == catalog["b"].layers[1]
    assert catalog["a"].chain_ids[1] != catalog["b"].chain_ids[1]


def test_digests_are_deterministic_and_size_dependent() -> None:
    assert make_layer(run("x")) == make_layer(run("x"))
    assert make_layer(run("x", size=1001)).diff_id != make_layer(run("x")).diff_id
    assert make_layer(run("x", compressed=401)).digest != make_layer(run("x")).digest
    assert make_layer(run("x")).digest.startswith("sha256:")
    assert len(make_layer(run("x")).short_id) == 12


def test_sizes_add_up() -> None:
    app = build_catalog(
        {"base": BASE, "app": spec("app", BuildStep("FROM", "base"), run("a", 700, 300))}
    )["app"]
    assert app.size_bytes == 5700
    assert app.compressed_bytes == 2300
    assert app.reference == "library/app:1"


@pytest.mark.parametrize(
    ("specs", "key"),
    [
        ({"a": spec("a", BuildStep("FROM", "missing"), run("x"))}, "images.a.steps[0]"),
        (
            {
                "a": spec("a", BuildStep("FROM", "b"), run("x")),
                "b": spec("b", BuildStep("FROM", "a"), run("y")),
            },
            "images.a.steps[0]",
        ),
        ({"a": spec("a", run("x"), BuildStep("FROM", "scratch"))}, "images.a.steps[1]"),
        ({"a": spec("a", BuildStep("LABEL", "x=1"))}, "images.a.steps"),
        ({"a": spec("a", BuildStep("FROB", "x"), run("x"))}, "images.a.steps[0]"),
    ],
)
def test_bad_catalogs_name_the_step(specs: dict[str, ImageSpec], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        build_catalog(specs)
    assert raised.value.key == key


@given(
    st.lists(st.text(max_size=8), max_size=3),
    st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=3),
    st.lists(st.integers(0, 10**6), max_size=12),
)
def test_a_running_image_id_is_the_sha256_of_the_config_json(
    command: list[str], env: list[tuple[str, str]], layers: list[int]
) -> None:
    """The image ID kept open and extended a layer at a time equals the sha256 of the
    whole image config's JSON, for any configuration (non-ASCII included)."""
    from sim.model.images.image import ImageConfig, ImageIdDigest, _config_json, sha256_digest

    config = ImageConfig(cmd=tuple(command), env=tuple(env), labels=tuple(env))
    diff_ids = [sha256_digest(str(layer)) for layer in layers]
    running = ImageIdDigest(config, diff_ids[:1])
    for diff_id in diff_ids[1:]:
        running = running.extended(diff_id)
    expected = sha256_digest(_config_json(config, diff_ids))
    assert ImageIdDigest(config, diff_ids).image_id() == expected
    if diff_ids:
        assert running.image_id() == expected
