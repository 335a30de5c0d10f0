"""The owner policy in docs/guides/platform-teams.md, run exactly as printed: installed as a
real distribution, it rejects assets without an owner and `catchment check` fails naming them."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from catchment.errors import GraphError
from catchment.plugins import PluginRegistry
from catchment.project import load_project

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "platform-teams.md"


def _policy_source() -> str:
    text = GUIDE.read_text()
    section = text.split("## Example: every asset must have an owner", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the guide's example code block is missing"
    return match.group(1)


def test_owner_policy_from_the_guide(tmp_path: Path, site: Path, kit: Any) -> None:
    kit.write_adapter(site, "policy", _policy_source(), dist="catchment-policy", version="1.0.0")
    registry = PluginRegistry(strict=True, allow=None)
    registry.load_entry_points(kit.entry_points_in(site))
    assert registry.record("policy").status == "ok"  # type: ignore[union-attr]

    (tmp_path / "catchment.yaml").write_text(
        "project: {name: shop}\n"
        "components: [{type: python, name: p, attributes: {module: assets.py}}]\n"
    )
    (tmp_path / "assets.py").write_text(
        textwrap.dedent(
            """
            from catchment import asset, table

            @asset(owners=["team:sales"], reads=[table("postgres", "orders", location="db:5432")])
            def owned():
                return 1

            @asset(key="raw/orders")
            def unowned(owned):
                return owned
            """
        )
    )
    project = load_project(tmp_path, registry=registry)
    assert [(p.kind, p.where) for p in project.problems] == [("graph", "adapter policy")]
    assert project.problems[0].message.startswith("asset raw/orders has no owner")
    with pytest.raises(GraphError, match="raw/orders has no owner"):
        project.require_graph()

    (tmp_path / "assets.py").write_text(
        (tmp_path / "assets.py")
        .read_text()
        .replace('key="raw/orders"', 'key="raw/orders", owners=["ana"]')
    )
    assert load_project(tmp_path, registry=registry).problems == []
