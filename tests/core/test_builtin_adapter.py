"""The built-in ``python`` component: which module it imports, and prefixed keys at run time."""

from __future__ import annotations

import textwrap
from pathlib import Path

from catchment.execution.project import run_project
from catchment.project import load_project
from catchment.storage.sqlite import SqliteStorage

from .project.conftest import make_registry

PROJECT = """
project: {name: NAME}
components:
  - {type: python, name: code, attributes: {module: MODULE, key_prefix: PREFIX}}
io_managers:
  default: {type: memory}
"""


def _project(root: Path, module: str, files: dict[str, str], prefix: str = "null") -> Path:
    root.mkdir(parents=True)
    text = PROJECT.replace("NAME", root.name).replace("MODULE", module)
    (root / "catchment.yaml").write_text(text.replace("PREFIX", prefix))
    for name, body in files.items():
        (root / name).write_text(textwrap.dedent(body))
    return root


def test_two_projects_with_the_same_module_name_each_get_their_own(tmp_path: Path) -> None:
    """A dotted module another project already imported is not reused for this one."""
    name = "same_name_assets"
    first = _project(
        tmp_path / "one",
        name,
        {f"{name}.py": "from catchment import asset\n@asset\ndef alpha():\n    return 1\n"},
    )
    second = _project(
        tmp_path / "two",
        name,
        {f"{name}.py": "from catchment import asset\n@asset\ndef beta():\n    return 2\n"},
    )
    registry = make_registry()
    keys_one = [str(k) for k in load_project(first, registry=registry).require_graph()]
    keys_two = [str(k) for k in load_project(second, registry=registry).require_graph()]
    keys_one_again = [str(k) for k in load_project(first, registry=registry).require_graph()]
    assert (keys_one, keys_two, keys_one_again) == (["alpha"], ["beta"], ["alpha"])


MULTI = """
from catchment import AssetKey, MaterializeResult, multi_asset, spec

@multi_asset(specs=[spec("x"), spec("y", deps=["x"])])
def both(context):
    for name in ("x", "y"):
        key = AssetKey(name)
        if key in context.selected_keys:
            context.spec(key)
            yield MaterializeResult(key=key)
"""


def test_prefixed_multi_asset_sees_its_own_keys(tmp_path: Path) -> None:
    """With ``key_prefix``, a compute written for its own keys still builds what was selected."""
    root = _project(tmp_path / "proj", "multi.py", {"multi.py": MULTI}, prefix="eu")
    project = load_project(root, registry=make_registry())
    result = run_project(project, "eu/y", storage=SqliteStorage(":memory:"))
    assert result.success, [e.data for e in result.failures]
    assert [str(k) for k in result.materialized_keys] == ["eu/y"]


NESTED_CHECKS = """
from catchment import AssetKey, CheckResult, CheckSpec, MaterializeResult, multi_asset, spec

CHECKS = [
    CheckSpec(name="named", asset=AssetKey("x")),
    CheckSpec(name="inferred", asset=AssetKey("y")),
]

@multi_asset(specs=[spec("x"), spec("y")], check_specs=CHECKS)
def both(context):
    named = CheckResult(asset_key="x", check_name="named", passed=True)
    yield MaterializeResult(key="x", check_results=[named])
    inferred = CheckResult(check_name="inferred", passed=True)
    yield MaterializeResult(key="y", check_results=[inferred])
"""


def test_prefixed_check_results_in_a_materialize_result_land_on_the_prefixed_keys(
    tmp_path: Path,
) -> None:
    """A check result the compute names by its own key, or by none, is the prefixed asset's."""
    root = _project(tmp_path / "proj", "nested.py", {"nested.py": NESTED_CHECKS}, prefix="eu")
    project = load_project(root, registry=make_registry())
    result = run_project(project, None, storage=SqliteStorage(":memory:"))
    assert result.success, [e.data for e in result.failures]
    verdicts = sorted((str(c.asset_key), c.check_name, c.passed) for c in result.check_results)
    assert verdicts == [("eu/x", "named", True), ("eu/y", "inferred", True)]


LOOP_CHECKS = """
from catchment import asset, asset_check

TABLES = ["orders", "payments", "customers", "events", "refunds", "stores"]


@asset
def orders():
    return [1]


@asset
def payments():
    return [1]


@asset
def customers():
    return [1]


@asset
def events():
    return [1]


@asset
def refunds():
    return [1]


@asset
def stores():
    return [1]


def _landing(table, hour):
    @asset_check(asset=table, name=f"landed_{hour:02d}")
    def check(value):
        return len(value) > 0

    return check


LANDING = [_landing(t, h) for t in TABLES for h in range(7)]
BY_TABLE = {t: _landing(t, 99) for t in TABLES}
SINGLE = _landing("orders", 42)
"""


def test_checks_built_in_a_loop_and_held_in_containers_are_collected(tmp_path: Path) -> None:
    """Issue 25: checks made in a loop and kept in a list (or dict) are definitions too."""
    root = _project(tmp_path / "loops", "loop_checks.py", {"loop_checks.py": LOOP_CHECKS})
    project = load_project(root, registry=make_registry())
    assert project.problems == []
    graph = project.require_graph()
    checks = sorted(c.id for k in graph.specs for c in graph.checks_for(k))
    assert len(checks) == 6 * 7 + 6 + 1  # 49: the list, the dict's values, the single one
    assert "stores:landed_06" in checks
    assert "refunds:landed_99" in checks
    result = run_project(project, "*")
    assert result.success, result.failures
    assert len(result.check_results) == 49
