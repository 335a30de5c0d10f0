"""Lazy exports: a package names its public objects and the module of each, and imports that
module on first use, so importing the package (catchment, an adapter) stays fast.

Standard library only: ``catchment.pipes`` uses it, and its remote module must run anywhere.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports", "resolve_export"]


def resolve_export(package: str, exports: Mapping[str, str], name: str) -> Any:
    """Import ``name`` from the module ``exports`` gives for it, and keep it in ``package``
    (so the next lookup is a plain attribute); an unknown name is an ``AttributeError``."""
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    setattr(sys.modules[package], name, value)
    return value


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``, whose public names
    resolve through ``exports`` (name -> module) on first use::

        __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
    """

    def __getattr__(name: str) -> Any:
        return resolve_export(package, exports, name)

    def __dir__() -> list[str]:
        return sorted(getattr(sys.modules[package], "__all__", exports))

    return __getattr__, __dir__
