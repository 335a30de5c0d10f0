"""Bad input: a source that cannot be found or is not a dlt source names the component."""

from __future__ import annotations

from .conftest import ShopProject, load, shop_yaml


def _problem(shop: ShopProject, **attrs: object) -> str:
    project = load(shop, shop_yaml(shop, **attrs))
    assert len(project.problems) == 1, project.problems
    problem = project.problems[0]
    assert problem.kind == "component"
    return f"{problem.where}: {problem.message} | {problem.hint}"


def test_missing_module(shop: ShopProject) -> None:
    text = _problem(shop, source="no_such_module:shop")
    assert "component 'shop'" in text
    assert "'no_such_module' cannot be imported" in text


def test_missing_file(shop: ShopProject) -> None:
    text = _problem(shop, source="sources/missing.py:shop")
    assert "component 'shop'" in text
    assert "does not exist" in text


def test_missing_function(shop: ShopProject) -> None:
    text = _problem(shop, source="shop_sources.py:nope")
    assert "component 'shop'" in text
    assert "has no attribute 'nope'" in text
    assert "shop" in text.split("|")[1]


def test_not_a_dlt_source(shop: ShopProject) -> None:
    text = _problem(shop, source="shop_sources.py:not_a_source")
    assert "component 'shop'" in text
    assert "returned a list, not a dlt source" in text


def test_malformed_reference_and_bad_args(shop: ShopProject) -> None:
    assert "not of the form 'module:function'" in _problem(shop, source="shop_sources")
    text = _problem(shop, args={"data_dir": "x", "colour": "red"})
    assert "does not accept args" in text
    assert "data_dir" in text


def test_a_broken_component_does_not_stop_the_others(shop: ShopProject) -> None:
    extra = [
        {"type": "dlt", "name": "broken", "attributes": {"source": "shop_sources.py:not_a_source"}}
    ]
    project = load(shop, shop_yaml(shop, extra))
    assert [p.message.split(":")[0] for p in project.problems] == [
        "component 'broken' (dlt) failed to build"
    ]
    assert any(str(k) == "raw/orders" for k in project.require_graph().specs)
