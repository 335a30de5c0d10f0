"""Importing a project's Python module: a dotted name from the project folder (this project's
copy, not another project's of the same name) or a ``.py`` file."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from catchment.components import ComponentContext
from catchment.errors import ConfigError


def import_project_module(module: str, context: ComponentContext) -> Any:
    """Import a dotted module (project folder on sys.path) or execute a .py file."""
    if module.endswith(".py") or "/" in module or "\\" in module:
        path = context.path(module)
        if not path.is_file():
            raise ConfigError(
                f"module file {module!r} does not exist",
                where=f"{context.source} attributes.module",
                hint=f"paths are relative to the project folder {context.root}",
            )
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
        name = f"catchment_project_{path.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has one
            raise ConfigError(f"cannot load {path}", where=context.source)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return mod
    root = str(context.root)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)  # first, so this project's module wins over another project's
    forget_foreign(module, context.root)
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            raise ConfigError(
                f"module {module!r} not found",
                where=f"{context.source} attributes.module",
                hint=f"use a dotted name importable from {context.root}, or a .py path",
            ) from None
        raise


def forget_foreign(module: str, root: Path) -> None:
    """Drop the cached package of ``module`` when this project provides that package but the
    cached one came from elsewhere (another project loaded in this process)."""
    top = module.partition(".")[0]
    cached = sys.modules.get(top)
    if cached is None or not ((root / f"{top}.py").is_file() or (root / top).is_dir()):
        return
    origin = getattr(cached, "__file__", None)
    places = [origin] if origin else list(getattr(cached, "__path__", []))
    if any(Path(p).resolve().is_relative_to(root) for p in places):
        return
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()
