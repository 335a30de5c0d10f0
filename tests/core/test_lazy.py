"""Lazy exports: a package's public names import their module on first use, once."""

from __future__ import annotations

import importlib
import sys
import types

import pytest
from catchment.lazy import lazy_exports, resolve_export

ADAPTERS = ("dbt", "dlt", "modal", "sling", "snowflake", "spark")


@pytest.fixture
def package(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A package ``fakepkg`` exporting ``dumps`` from json and ``Path`` from pathlib."""
    module = types.ModuleType("fakepkg")
    exports = {"dumps": "json", "Path": "pathlib"}
    module.__all__ = [*exports, "VERSION"]  # type: ignore[attr-defined]
    module.__getattr__, module.__dir__ = lazy_exports("fakepkg", exports)  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "fakepkg", module)
    return module


def test_a_name_resolves_to_its_module_object_and_is_kept(package: types.ModuleType) -> None:
    import json

    assert "dumps" not in vars(package)
    assert package.dumps is json.dumps
    assert vars(package)["dumps"] is json.dumps  # the next lookup is a plain attribute


def test_an_unknown_name_is_an_attribute_error_naming_the_package(
    package: types.ModuleType,
) -> None:
    with pytest.raises(AttributeError, match="module 'fakepkg' has no attribute 'nope'"):
        _ = package.nope
    assert not hasattr(package, "loads")  # hasattr works: unknown names raise AttributeError


def test_dir_lists_the_public_names(package: types.ModuleType) -> None:
    assert dir(package) == ["Path", "VERSION", "dumps"]


def test_resolve_export_is_what_the_getattr_does(package: types.ModuleType) -> None:
    import pathlib

    assert resolve_export("fakepkg", {"Path": "pathlib"}, "Path") is pathlib.Path
    with pytest.raises(AttributeError):
        resolve_export("fakepkg", {}, "Path")


@pytest.mark.parametrize("tool", ADAPTERS)
def test_every_public_name_of_every_adapter_resolves(tool: str) -> None:
    """A typo in an adapter's export table would only fail at a user's first use."""
    package = importlib.import_module(f"catchment_{tool}")
    missing = [name for name in package.__all__ if getattr(package, name, None) is None]
    assert missing == []
    assert set(package.__all__) <= set(dir(package))
