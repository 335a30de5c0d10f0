"""A 10,000-asset project: the API and the pages ship one page, never every asset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import client_class

MANY = """\
from catchment import multi_asset
from catchment.keys import AssetKey
from catchment.specs import AssetDep, AssetSpec

specs = [
    AssetSpec(key=AssetKey(f"a{i}"), deps=(AssetDep(AssetKey(f"a{i - 1}")),) if i % 100 else (),
              group=f"g{i % 10}", metadata={"columns": [f"c{i}"]})
    for i in range(10_000)
]

@multi_asset(specs=specs, name="many")
def many(context):
    yield from ()
"""


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from catchment.ui.app import create_app
    from catchment.ui.state import UiState

    root = tmp_path_factory.mktemp("big")
    (root / "catchment.yaml").write_text(
        "project: {name: big}\ncomponents:\n"
        "  - {type: python, name: many, attributes: {module: many.py}}\n"
    )
    (root / "many.py").write_text(MANY)
    state = UiState(Path(root))
    state.load()
    assert state.status == "ready", state.error
    with client_class()(create_app(state, start=False)) as c:
        yield c


def test_the_catalog_api_ships_one_page(big: Any) -> None:
    data = big.get("/api/assets").json()
    assert data["total"] == 10_000
    assert len(data["assets"]) == 50
    assert data["pages"] == 200
    last = big.get("/api/assets", params={"page": 50, "per_page": 200}).json()
    assert len(last["assets"]) == 200
    too_many = big.get("/api/assets", params={"per_page": 10_000})
    assert too_many.status_code == 400
    assert "per_page=10000 is out of range" in too_many.json()["error"]


def test_the_catalog_page_renders_one_page_of_rows(big: Any) -> None:
    html = big.get("/assets", params={"group": "g3"}).text
    assert html.count('<tr><td><a href="/assets/') == 50
    assert "1000 assets · page 1 of 20" in html


def test_the_graph_api_ships_at_most_its_limit(big: Any) -> None:
    data = big.get("/api/graph").json()
    assert data["total"] == 10_000
    assert len(data["nodes"]) == 1000
    small = big.get("/api/graph", params={"select": "a5+2"}).json()
    assert [n["key"] for n in small["nodes"]] == ["a5", "a6", "a7"]
