"""Every adapter has the template's shape, so a newcomer who copies any of them copies the same
thing: ``COMPONENT_TYPE`` and ``build`` in ``component.py``, the YAML model in
``attributes.py``, asset construction in ``assets.py``, the run in ``execution.py`` and a light
``hooks.py``. An adapter that serves no component type (only life-cycle hooks, such as
catchment-openlineage) needs the light ``hooks.py`` alone. Checked on the source (no import),
for each adapter under ``adapters/`` and for an adapter freshly rendered from the template."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ADAPTERS, REPO, package_of

SHAPE = ("__init__.py", "hooks.py", "component.py", "attributes.py", "assets.py", "execution.py")
HOOKS_ONLY_SHAPE = ("__init__.py", "hooks.py")
HOOKS_MAY_IMPORT = ("__future__", "collections.abc", "typing", "catchment.hookspecs")
"""What ``hooks.py`` may import at module level besides its own package's ``__init__``: the
entry point imports it whenever catchment starts, so it must not pull in pydantic or the tool."""
DEFAULT_API = ">=1.0,<2"


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _top_level_imports(tree: ast.Module) -> list[tuple[str, int]]:
    """(module, line) of each import that runs when the module is imported (not the ones under
    ``if TYPE_CHECKING:`` or inside functions)."""
    found: list[tuple[str, int]] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(("." * node.level + (node.module or ""), node.lineno))
    return found


def shape_problems(root: Path) -> list[str]:
    """What in the adapter at ``root`` departs from the template's shape (empty: none)."""
    package = package_of(root)
    name = package.name
    hooks_only = (package / "hooks.py").is_file() and (
        "def catchment_component_types(" not in (package / "hooks.py").read_text()
    )
    shape = HOOKS_ONLY_SHAPE if hooks_only else SHAPE
    missing = [f for f in (*shape, "py.typed") if not (package / f).is_file()]
    if missing:
        return [f"{name}: missing {', '.join(missing)}"]
    if hooks_only:
        return _hooks_problems(package)
    problems: list[str] = []

    component = _tree(package / "component.py")
    defined = {n.name for n in component.body if isinstance(n, ast.FunctionDef)}
    if "build" not in defined:
        problems.append(f"{name}/component.py: no top-level def build(attributes, context)")
    assigned = {
        t.id: n.value
        for n in component.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    component_type = assigned.get("COMPONENT_TYPE")
    if not (
        isinstance(component_type, ast.Call)
        and isinstance(component_type.func, ast.Name)
        and component_type.func.id == "ComponentType"
    ):
        problems.append(f"{name}/component.py: no COMPONENT_TYPE = ComponentType(...)")
    else:
        given = {k.arg: k.value for k in component_type.keywords}
        build = given.get("build")
        if not (isinstance(build, ast.Name) and build.id == "build"):
            problems.append(f"{name}/component.py: COMPONENT_TYPE's build is not build")
        attributes = given.get("attributes")
        from_attributes = {
            alias.asname or alias.name
            for n in component.body
            if isinstance(n, ast.ImportFrom) and n.module == f"{name}.attributes"
            for alias in n.names
        }
        if not (isinstance(attributes, ast.Name) and attributes.id in from_attributes):
            problems.append(
                f"{name}/component.py: COMPONENT_TYPE's attributes do not come from attributes.py"
            )

    attributes_tree = _tree(package / "attributes.py")
    if not any(m == "pydantic" for m, _ in _top_level_imports(attributes_tree)):
        problems.append(f"{name}/attributes.py: the YAML model is not a pydantic model")

    return problems + _hooks_problems(package)


def _hooks_problems(package: Path) -> list[str]:
    """What in ``hooks.py`` departs from the template: module-level imports beyond the light
    ones, an ``api=`` that restates the default."""
    name = package.name
    problems: list[str] = []
    hooks = _tree(package / "hooks.py")
    for module, line in _top_level_imports(hooks):
        if module not in (*HOOKS_MAY_IMPORT, name):
            problems.append(
                f"{name}/hooks.py:{line}: imports {module} at module level "
                "(import it inside the hook that needs it)"
            )
    for node in ast.walk(hooks):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AdapterInfo":
            api = next((k.value for k in node.keywords if k.arg == "api"), None)
            if isinstance(api, ast.Constant) and api.value == DEFAULT_API:
                problems.append(f"{name}/hooks.py: api={DEFAULT_API!r} restates the default")
    return problems


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_each_adapter_has_the_template_shape(adapter: str) -> None:
    assert shape_problems(REPO / "adapters" / adapter) == []


def test_the_rendered_template_has_the_shape_it_teaches(rendered: Path) -> None:
    assert shape_problems(rendered) == []


def test_the_check_sees_a_departure(rendered: Path, tmp_path: Path) -> None:
    """Guard against a vacuous pass: break a copy of the rendered adapter three ways."""
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(rendered, broken)
    package = package_of(broken)
    (package / "execution.py").unlink()
    assert shape_problems(broken) == ["catchment_acme: missing execution.py"]
    (package / "execution.py").write_text("")
    hooks = package / "hooks.py"
    hooks.write_text(
        "from pydantic import BaseModel\n"
        + hooks.read_text().replace("api=CORE_API", f"api={DEFAULT_API!r}")
    )
    component = package / "component.py"
    component.write_text(component.read_text().replace("COMPONENT_TYPE =", "THE_TYPE ="))
    problems = shape_problems(broken)
    assert "catchment_acme/component.py: no COMPONENT_TYPE = ComponentType(...)" in problems
    assert any("hooks.py:1: imports pydantic at module level" in p for p in problems)
    assert f"catchment_acme/hooks.py: api={DEFAULT_API!r} restates the default" in problems


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_importing_an_adapters_hooks_imports_neither_pydantic_nor_its_tool(adapter: str) -> None:
    """What the AST check promises, measured: the entry point module alone stays light."""
    tools = {"pydantic", adapter, "pyspark", "sqlglot", "duckdb", "pandas", "pyarrow"}
    code = (
        f"import sys, json, catchment_{adapter}.hooks\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert sorted(tools & set(json.loads(out.stdout))) == []
