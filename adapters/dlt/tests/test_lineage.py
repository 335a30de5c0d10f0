"""Cross-tool lineage: readers of a dlt child table link to the dlt asset that writes it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from catchment.execution.project import run_project

from .conftest import FIXTURES, ShopProject, load, shop_yaml

pytestmark = pytest.mark.slow

READERS = {"type": "python", "name": "readers", "attributes": {"module": "readers.py"}}


def assets_list(root: Path, adapters: str = "dlt") -> dict[str, dict]:
    """``catchment assets list --json`` as a user runs it, by key."""
    env = {**os.environ, "CATCHMENT_ADAPTERS": adapters, "RUNTIME__DLTHUB_TELEMETRY": "false"}
    out = subprocess.run(
        [sys.executable, "-m", "catchment", "assets", "list", "--json", "--project", str(root)],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return {row["key"]: row for row in json.loads(out.stdout)}


def test_python_reader_of_child_tables_links_to_the_dlt_asset(shop: ShopProject) -> None:
    shutil.copy(FIXTURES / "readers.py", shop.root / "readers.py")
    shop.yaml(shop_yaml(shop, [READERS]))
    before = assets_list(shop.root)
    # declared from the resource's nested_hints: linked before anything ran
    assert before["line_report"]["deps"] == ["raw/orders/lines"]
    assert before["raw/orders/lines"]["deps"] == ["raw/orders"]
    assert before["raw/orders/lines"]["adapter"] == "dlt"
    # not declared anywhere yet: dlt only knows events__tags after normalizing
    assert before["tag_report"]["deps"] == ["external/duckdb/warehouse/raw/events__tags"]

    result = run_project(load(shop, shop_yaml(shop, [READERS])), "raw/events")
    assert result.success, result.failures

    after = assets_list(shop.root)
    assert after["tag_report"]["deps"] == ["raw/events/tags"]
    assert after["raw/events/tags"]["deps"] == ["raw/events"]
    assert after["raw/events/tags"]["table"]["name"] == "events__tags"
    assert not any(key.startswith("external/") for key in after)


def test_dbt_source_over_a_child_table_links_to_the_dlt_asset(
    shop: ShopProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("catchment_dbt")
    monkeypatch.setenv("CATCHMENT_ADAPTERS", "dlt,dbt")
    dbt_dir = shop.root / "dbt"
    shutil.copytree(FIXTURES / "shop_dbt", dbt_dir)
    (dbt_dir / "profiles.yml").write_text(
        "shop_dbt:\n  target: dev\n  outputs:\n    dev:\n"
        f"      type: duckdb\n      path: {shop.warehouse}\n      schema: main\n      threads: 1\n"
    )
    dbt = {"type": "dbt", "name": "marts", "attributes": {"project_dir": "dbt"}}
    shop.yaml(shop_yaml(shop, [dbt]))
    before = assets_list(shop.root, adapters="dlt,dbt")
    [line_totals] = [k for k in before if k.endswith("line_totals")]
    assert before[line_totals]["deps"] == ["raw/orders/lines"]

    result = run_project(load(shop, shop_yaml(shop, [dbt])), "raw/events")
    assert result.success, result.failures
    after = assets_list(shop.root, adapters="dlt,dbt")
    [tag_counts] = [k for k in after if k.endswith("tag_counts")]
    assert after[tag_counts]["deps"] == ["raw/events/tags"]
    assert after["raw/events/tags"]["adapter"] == "dlt"
