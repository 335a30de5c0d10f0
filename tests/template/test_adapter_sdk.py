"""Adapters import only the declared SDK: the core modules in ``SDK_MODULES``, and of each only
the names in its ``__all__``. Checked on the source of every adapter under ``adapters/`` and of
a freshly rendered template (the code newcomers copy), and shown in the adapter guide."""

from __future__ import annotations

import ast
import importlib
import shutil
from pathlib import Path

import pytest
from catchment.hookspecs import SDK_MODULES

from .conftest import ADAPTERS, REPO, package_of


def _core_module(name: str) -> bool:
    return name == "catchment" or name.startswith("catchment.")


def sdk_violations(package: Path) -> list[str]:
    """Each import in ``package`` of a core module outside the SDK, or of a name its SDK module
    does not list in ``__all__`` (empty: the package keeps to the SDK)."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        where = f"{package.name}/{path.relative_to(package).as_posix()}"
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _core_module(alias.name) and alias.name not in SDK_MODULES:
                        found.append(f"{where}:{node.lineno}: imports {alias.name}")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if not _core_module(node.module):
                    continue
                if node.module not in SDK_MODULES:
                    found.append(f"{where}:{node.lineno}: imports from {node.module}")
                    continue
                public = set(importlib.import_module(node.module).__all__)
                found += [
                    f"{where}:{node.lineno}: {node.module}.{alias.name} is not in its __all__"
                    for alias in node.names
                    if alias.name not in public
                ]
    return found


@pytest.mark.parametrize("module", SDK_MODULES)
def test_every_sdk_module_declares_its_public_names(module: str) -> None:
    loaded = importlib.import_module(module)
    assert loaded.__doc__, f"{module} says nothing about what it is"
    public = getattr(loaded, "__all__", None)
    assert public, f"{module} has no __all__"
    assert [n for n in public if getattr(loaded, n, None) is None] == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_each_adapter_imports_only_the_sdk(adapter: str) -> None:
    assert sdk_violations(package_of(REPO / "adapters" / adapter)) == []


def test_the_rendered_template_imports_only_the_sdk(rendered: Path) -> None:
    assert sdk_violations(package_of(rendered)) == []


def test_the_check_sees_a_reach_past_the_sdk(rendered: Path, tmp_path: Path) -> None:
    """Guard against a vacuous pass: a private module and a private name are both caught."""
    package = tmp_path / "catchment_acme"
    shutil.copytree(package_of(rendered), package)
    (package / "reach.py").write_text(
        "from catchment.graph import AssetGraph\nfrom catchment.tables import _norm\n"
    )
    assert sdk_violations(package) == [
        "catchment_acme/reach.py:1: imports from catchment.graph",
        "catchment_acme/reach.py:2: catchment.tables._norm is not in its __all__",
    ]


def test_the_adapter_guide_lists_the_sdk() -> None:
    guide = (REPO / "docs" / "guides" / "adapter-authoring.md").read_text()
    assert "<!-- catchment:sdk -->" in guide  # expanded from SDK_MODULES at build time
