"""Shared fixtures: a throwaway project folder with the shop sources and JSON data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


class ShopProject:
    """A project folder holding ``shop_sources.py``, data files and a catchment.yaml."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True)
        shutil.copy(FIXTURES / "shop" / "shop_sources.py", root / "shop_sources.py")

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    def write(self, name: str, rows: list[dict]) -> None:
        (self.data / f"{name}.json").write_text(json.dumps(rows))

    def yaml(self, text: str) -> Path:
        path = self.root / "catchment.yaml"
        path.write_text(text)
        return path

    def query(self, sql: str) -> list[tuple]:
        import duckdb

        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()


def orders(ids: range) -> list[dict]:
    return [
        {"id": i, "updated_at": i, "customer": f"c{i % 2}", "lines": [{"sku": f"s{i}", "qty": i}]}
        for i in ids
    ]


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ShopProject:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("CATCHMENT_ADAPTERS", "dlt")  # other adapters in the venv may be mid-build
    project = ShopProject(tmp_path / "proj")
    project.write("orders", orders(range(1, 4)))
    project.write("customers", [{"id": "c0", "name": "Ann"}, {"id": "c1", "name": "Bo"}])
    project.write("events", [{"id": 1, "kind": "click", "tags": [{"t": "a"}, {"t": "b"}]}])
    return project


def shop_yaml(project: ShopProject, extra: list[dict] | None = None, **attributes: object) -> str:
    """A catchment.yaml with one dlt component ``shop`` (plus ``extra`` components)."""
    import yaml

    attrs = {"source": "shop_sources.py:shop", "args": {"data_dir": str(project.data)}}
    attrs.update({"dataset_name": "raw", **attributes})
    component = {"type": "dlt", "name": "shop", "attributes": attrs}
    data = {"project": {"name": "shop"}, "components": [component, *(extra or [])]}
    return yaml.safe_dump(data, sort_keys=False)


def load(project: ShopProject, text: str):  # type: ignore[no-untyped-def]
    """Write ``text`` as the project's catchment.yaml and load it with a fresh registry."""
    from catchment.plugins import reset_registry
    from catchment.project import load_project

    project.yaml(text)
    reset_registry()
    return load_project(project.root)
