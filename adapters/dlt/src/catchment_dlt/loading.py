"""Find and call the user's dlt source function named by ``module:function``.

The module is either importable (``my_pkg.sources:shop``) or a ``.py`` file relative to the
project folder (``sources/shop.py:shop``). Calling the function only builds the source object
(dlt resources are lazy); nothing is extracted until a pipeline runs it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from catchment.errors import ConfigError


def resolve_function(ref: str, *, root: Path, where: str) -> Callable[..., Any]:
    """Import ``module:function`` (or ``path/to/file.py:function``) and return the callable."""
    module_ref, sep, attr = ref.rpartition(":")
    if not sep or not module_ref or not attr:
        raise ConfigError(
            f"source {ref!r} is not of the form 'module:function'",
            where=where,
            hint="e.g. 'my_sources.shop:shop_source' or 'sources/shop.py:shop_source'",
        )
    module = _import(module_ref, root=root, where=where)
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ConfigError(
                f"source {ref!r}: module {module_ref!r} has no attribute {attr!r}",
                where=where,
                hint=f"check the function name; {module_ref!r} defines: {_functions(module)}",
            )
        target = getattr(target, part)
    if not callable(target):
        raise ConfigError(
            f"source {ref!r} is a {type(target).__name__}, not a function",
            where=where,
            hint="point at a function decorated with @dlt.source (or one returning a source)",
        )
    return target  # type: ignore[no-any-return]


def call_source(fn: Callable[..., Any], args: Mapping[str, Any], *, ref: str, where: str) -> Any:
    """Call the source function with ``args`` and check that it returned a dlt source.

    A function returning a single ``DltResource`` is wrapped into a source named after it, so
    ``@dlt.resource`` functions work too.
    """
    from dlt.extract.resource import DltResource
    from dlt.extract.source import DltSource

    try:
        inspect.signature(fn).bind(**args)
    except TypeError as exc:
        raise ConfigError(
            f"source {ref!r} does not accept args {sorted(args)}: {exc}",
            where=where,
            hint=f"its signature is {ref.rpartition(':')[2]}{_signature(fn)}",
        ) from None
    try:
        value = fn(**args)
    except Exception as exc:
        raise ConfigError(
            f"source {ref!r} raised while building the source: {type(exc).__name__}: {exc}",
            where=where,
            hint="building a dlt source should not need the network; move requests into "
            "the resources, which only run when the pipeline runs",
        ) from exc
    if isinstance(value, DltResource):
        import dlt

        name = value.name
        value = dlt.source(lambda: value, name=name)()
    if not isinstance(value, DltSource):
        raise ConfigError(
            f"source {ref!r} returned a {type(value).__name__}, not a dlt source",
            where=where,
            hint="decorate the function with @dlt.source (or @dlt.resource), or return "
            "dlt.source/dlt.resource objects",
        )
    return value


def _functions(module: Any) -> str:
    names = [
        n
        for n, v in sorted(vars(module).items())
        if not n.startswith("_")
        and callable(v)
        and not isinstance(v, type)
        and getattr(v, "__module__", module.__name__) == module.__name__
    ]
    return ", ".join(names)[:300] or "no functions"


def _signature(fn: Callable[..., Any]) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"


def _import(module_ref: str, *, root: Path, where: str) -> Any:
    if module_ref.endswith(".py") or "/" in module_ref or "\\" in module_ref:
        return _import_file(module_ref, root=root, where=where)
    added = _add_to_path(root)
    try:
        return importlib.import_module(module_ref)
    except ModuleNotFoundError as exc:
        if exc.name and (module_ref == exc.name or module_ref.startswith(exc.name + ".")):
            raise ConfigError(
                f"source module {module_ref!r} cannot be imported (no module {exc.name!r})",
                where=where,
                hint="install the package, or name a .py file relative to the project "
                f"folder ({root}), e.g. 'sources/shop.py:shop'",
            ) from None
        raise _import_error(module_ref, exc, where) from exc
    except Exception as exc:
        raise _import_error(module_ref, exc, where) from exc
    finally:
        if added:
            sys.path.remove(str(root))


def _import_file(module_ref: str, *, root: Path, where: str) -> Any:
    path = Path(module_ref).expanduser()
    path = (path if path.is_absolute() else root / path).resolve()
    if not path.is_file():
        raise ConfigError(
            f"source file {module_ref!r} does not exist ({path})",
            where=where,
            hint="paths are relative to the project folder",
        )
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
    name = f"catchment_dlt_sources.{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load {path} as a Python module", where=where)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    added = _add_to_path(path.parent)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise _import_error(str(path), exc, where) from exc
    finally:
        if added:
            sys.path.remove(str(path.parent))
    return module


def _add_to_path(folder: Path) -> bool:
    if str(folder) in sys.path:
        return False
    sys.path.insert(0, str(folder))
    return True


def _import_error(module_ref: str, exc: BaseException, where: str) -> ConfigError:
    return ConfigError(
        f"importing source module {module_ref!r} failed: {type(exc).__name__}: {exc}",
        where=where,
        hint="fix the module so that `python -c 'import ...'` works",
    )
