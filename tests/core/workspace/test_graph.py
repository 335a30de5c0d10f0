"""The merged graph: cross-project edges by table identity, collisions, the cross-project
policy, project:/team: selections and edges into a project that did not load."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.keys import AssetKey
from catchment.workspace import load_workspace

from tests.core.workspace.conftest import BUDGET_CODE, LEDGER_CODE, simple_workspace

pytestmark = pytest.mark.timeout(120)


def test_a_table_written_by_one_project_and_read_by_another_is_an_edge(tmp_path: Path) -> None:
    file = simple_workspace(
        tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE}
    )
    wsg = load_workspace(file)
    graph = wsg.require_graph()
    assert graph.upstream("budget") == {AssetKey("ledger")}
    assert wsg.cross_edges == [(AssetKey("ledger"), AssetKey("budget"))]
    assert wsg.problems == []
    assert graph.select("project:marketing") == {AssetKey("budget")}
    assert graph.select("team:team-finance") == {AssetKey("ledger")}
    assert graph.select("project:fin*") == {AssetKey("ledger")}
    assert graph.select("+project:marketing") == {AssetKey("ledger"), AssetKey("budget")}
    from catchment.errors import SelectionError

    with pytest.raises(SelectionError, match="no asset has project 'sales'"):
        graph.select("project:sales")


def test_the_policy_allows_cross_project_reads_only_of_tagged_assets(tmp_path: Path) -> None:
    policy = "policy:\n  cross_project: {require_tag: public}\n"
    file = simple_workspace(
        tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE}, policy
    )
    wsg = load_workspace(file)
    (problem,) = wsg.blocking
    assert problem.kind == "policy"
    assert problem.message == (
        "asset budget (project marketing) reads asset ledger of project finance, which is "
        "not tagged 'public'"
    )
    assert "tag ledger `public` in project finance" in (problem.hint or "")
    (tmp_path / "finance" / "assets.py").write_text(LEDGER_CODE.format(TAGS='{"public": ""}'))
    assert load_workspace(file).blocking == []


def test_colliding_asset_keys_are_reported_with_both_projects(tmp_path: Path) -> None:
    file = simple_workspace(tmp_path, {"one": BUDGET_CODE, "two": BUDGET_CODE})
    wsg = load_workspace(file)
    (problem,) = wsg.blocking
    assert problem.kind == "collision"
    assert "(two)" in problem.where
    assert "asset budget is also defined by project 'one'" in problem.message
    assert wsg.project_of[AssetKey("budget")] == "one"


def test_edges_into_a_project_that_did_not_load_are_unknown(tmp_path: Path) -> None:
    file = simple_workspace(
        tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE}
    )
    assert load_workspace(file).problems == []  # finance's last good snapshot is kept
    text = file.read_text().replace("    python: ", "    python: /nowhere/python\n    #", 1)
    file.write_text(text)
    wsg = load_workspace(file)
    assert [p.entry.name for p in wsg.failed] == ["finance"]
    graph = wsg.require_graph()
    (ext,) = graph.upstream("budget")
    assert graph.is_external(ext)
    assert wsg.unknown == {ext: ("finance",)}
    from catchment.workspace.listing import rows

    by_key = {r["key"]: r for r in rows(wsg, None)}
    assert by_key[str(ext)]["unknown"] == ["finance"]
    assert by_key["budget"]["project"] == "marketing"


def test_a_policy_plugin_judges_cross_project_edges_of_the_merged_graph(tmp_path: Path) -> None:
    from typing import Any

    from catchment import AdapterInfo, hookimpl
    from catchment.plugins import PluginRegistry
    from catchment.workspace.loading import load_projects
    from catchment.workspace.model import load_workspace_file

    class NoReadsFromFinance:
        @hookimpl
        def catchment_adapter_info(self) -> AdapterInfo:
            return AdapterInfo(name="policy", version="1")

        @hookimpl
        def catchment_graph_built(self, graph: Any) -> list[str]:
            def project(key: Any) -> Any:
                d = graph.definition_of(key)
                return d.metadata.get("workspace/project") if d is not None else None

            return [
                f"{down} may not read {up} of finance"
                for down in graph
                for up in graph.upstream(down)
                if project(up) == "finance" and project(down) != "finance"
            ]

    registry = PluginRegistry(strict=False, allow=None)
    registry.add_plugin(NoReadsFromFinance(), name="policy")
    file = simple_workspace(
        tmp_path,
        {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE},
        "policy:\n  cross_project: {hooks: true}\n",
    )
    from catchment.workspace.graph import build_workspace_graph

    ws = load_workspace_file(file)
    wsg = build_workspace_graph(ws, load_projects(ws), registry)
    (problem,) = wsg.blocking
    assert (problem.kind, problem.where) == ("policy", "adapter policy")
    assert problem.message == "budget may not read ledger of finance"
