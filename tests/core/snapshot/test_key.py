"""The snapshot key leaves out the data catchment.yaml names (files a source's glob matches,
a filesystem IO manager's folder, the warehouse) but never code: new data keeps the snapshot
current, an edited module or YAML file inside those paths still rebuilds it."""

from __future__ import annotations

import os
from pathlib import Path

from catchment.snapshot import load_read_only
from catchment.snapshot.key import data_paths, project_key

ASSETS = """
from catchment import asset

@asset(deps=["landing/orders"])
def orders():
    return [1]
"""

PROJECT = """\
project: {name: shop}
defaults: {warehouse: data/shop.wh}
io_managers: {default: {type: filesystem, config: {base_dir: values}}}
components: [{type: python, name: core, attributes: {module: shop_assets.py}}]
sources:
  - {key: landing/orders, observe: {glob: "landing/**/*"}}
  - {key: landing/templated, observe: {glob: "{{ env('OBS18_NOWHERE') }}/*.csv"}}
"""


def _project(root: Path) -> Path:
    (root / "catchment.yaml").write_text(PROJECT)
    (root / "shop_assets.py").write_text(ASSETS)
    for folder in ("landing/eu", "values", "data"):
        (root / folder).mkdir(parents=True)
    (root / "landing" / "eu" / "a.csv").write_text("id\n1\n")
    (root / "landing" / "readme.txt").write_text("drops land here\n")
    (root / "values" / "orders").write_bytes(b"1")
    (root / "data" / "shop.wh").write_bytes(b"wh")
    for p in root.rglob("*"):  # older than the racy window: the key is by stat alone
        if p.is_file():
            os.utime(p, (p.stat().st_atime - 60, p.stat().st_mtime - 60))
    return root


def test_new_data_in_the_named_paths_keeps_the_snapshot(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert not load_read_only(root).from_snapshot
    (root / "landing" / "eu" / "a.csv").write_text("id\n1\n2\n")  # changed
    (root / "landing" / "eu" / "b.csv").write_text("id\n3\n")  # new, in a subfolder
    (root / "landing" / "readme.txt").unlink()
    (root / "values" / "revenue").write_bytes(b"2")  # what the filesystem IO manager writes
    (root / "data" / "shop.wh").write_bytes(b"more")  # the warehouse, whatever its suffix
    assert load_read_only(root).from_snapshot


def test_code_inside_the_named_paths_still_rebuilds_it(tmp_path: Path) -> None:
    root = _project(tmp_path)
    load_read_only(root)
    (root / "landing" / "eu" / "helpers.py").write_text("X = 1\n")  # a glob matches it: code
    assert not load_read_only(root).from_snapshot
    assert load_read_only(root).from_snapshot
    (root / "values" / "schema.yaml").write_text("a: 1\n")
    assert not load_read_only(root).from_snapshot
    assert load_read_only(root).from_snapshot
    (root / "shop_assets.py").write_text(ASSETS + "\n@asset\ndef extra():\n    return 2\n")
    project = load_read_only(root)
    assert not project.from_snapshot
    assert "extra" in (project.graph or ())


def test_data_paths_never_cover_the_project_root_or_templated_values(tmp_path: Path) -> None:
    text = (
        b"io_managers: {default: {type: filesystem, config: {base_dir: .}}}\n"
        b"sources: [{key: x, observe: {glob: '{{ env(\"D\") }}/*'}}, {key: y, observe: "
        b"{glob: ../outside/*.csv}}]\n"
    )
    assert not data_paths(tmp_path, text)
    assert not data_paths(tmp_path, b"sources: [unclosed")  # the load reports it


def test_a_source_file_changing_changes_nothing_else_in_the_key(tmp_path: Path) -> None:
    root = _project(tmp_path)
    before = project_key(root / "catchment.yaml")
    (root / "landing" / "eu" / "a.csv").write_text("id\n9\n9\n9\n")
    assert project_key(root / "catchment.yaml") == before
    (root / "notes.txt").write_text("not data catchment.yaml names\n")
    assert project_key(root / "catchment.yaml") != before


def test_what_tools_write_in_the_project_changes_nothing(tmp_path: Path) -> None:
    """An output folder Spark (re)writes, its local warehouse and Derby metastore, a Delta
    table's log, dbt's anonymous id: data, not definitions. A module written there counts."""
    root = _project(tmp_path)
    before = project_key(root / "catchment.yaml")
    out = root / "features" / "customer_features"
    out.mkdir(parents=True)
    (out / "part-00000-1b2c-c000.snappy.parquet").write_bytes(b"PAR1")
    (out / ".part-00000-1b2c-c000.snappy.parquet.crc").write_bytes(b"crc")
    (out / "_SUCCESS").write_bytes(b"")
    (out / "._SUCCESS.crc").write_bytes(b"crc")
    for folder in ("spark-warehouse/t", "metastore_db/seg0", "delta/_delta_log"):
        (root / folder).mkdir(parents=True)
        (root / folder / "00000000000000000000.json").write_text("{}")
    (root / ".user.yml").write_text("id: 5d7c2a0e\n")
    assert project_key(root / "catchment.yaml") == before
    (out / "helpers.py").write_text("X = 1\n")
    assert project_key(root / "catchment.yaml") != before
