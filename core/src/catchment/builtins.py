"""The built-in adapter: plain Python modules of assets, and the built-in IO managers.

It is registered through the same entry point group and hooks as every other adapter
(``builtin = "catchment.builtins"``), so the core exercises its own plugin API.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catchment import __version__
from catchment.components import ComponentContext, ComponentType, ProjectDefaults
from catchment.context import StepContext
from catchment.definitions import AssetsDefinition
from catchment.errors import ConfigError
from catchment.hookspecs import AdapterInfo, hookimpl
from catchment.keys import AssetKey
from catchment.results import CheckResult, StepResult
from catchment.specs import AssetDep, AssetSpec, CheckSpec, split_check_id


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """The built-in adapter ships with the core, so it supports exactly this API."""
    return AdapterInfo(
        name="builtin",
        version=__version__,
        api=">=1.0,<2",
        description="Python modules of @asset functions; memory, filesystem and DuckDB IO managers",
    )


# -- component type `python` ----------------------------------------------------------------
class PythonAttributes(BaseModel):
    """Attributes of a ``python`` component: which module holds the assets, and how to name them."""

    model_config = ConfigDict(extra="forbid")

    module: str = Field(
        description="dotted module name (importable from the project folder) or a .py path "
        "relative to the project folder",
        min_length=1,
    )
    group: str | None = Field(default=None, description="group for assets that set none")
    key_prefix: str | list[str] | None = Field(
        default=None, description="prefix added to every asset key of the module"
    )


def _import(module: str, context: ComponentContext) -> Any:
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
    _forget_foreign(module, context.root)
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


def _forget_foreign(module: str, root: Path) -> None:
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


class _Renaming:
    """The module's own keys and their prefixed names, both ways (other keys stay as they are)."""

    def __init__(self, prefix: tuple[str, ...], own: frozenset[AssetKey]):
        self.new = {k: AssetKey((*prefix, *k.path)) for k in own}
        self.old = {v: k for k, v in self.new.items()}

    def to_new(self, key: AssetKey) -> AssetKey:
        return self.new.get(key, key)

    def to_old(self, key: AssetKey) -> AssetKey:
        return self.old.get(key, key)

    def check_id(self, check_id: str, rename: Callable[[AssetKey], AssetKey]) -> str:
        asset, name = split_check_id(check_id)
        return f"{rename(asset)}:{name}"


class _RenamedContext:
    """A step context in the module's own (unprefixed) keys, so a compute written for them
    works unchanged; prefixed keys are accepted too."""

    def __init__(self, inner: StepContext, names: _Renaming):
        self._inner = inner
        self._names = names

    @property
    def selected_keys(self) -> frozenset[AssetKey]:
        return frozenset(self._names.to_old(k) for k in self._inner.selected_keys)

    @property
    def selected_checks(self) -> frozenset[str]:
        names = self._names
        return frozenset(names.check_id(c, names.to_old) for c in self._inner.selected_checks)

    def spec(self, key: AssetKey) -> AssetSpec:
        return self._inner.spec(self._names.to_new(AssetKey.parse(key)))

    def check_spec(self, check_id: str) -> CheckSpec:
        return self._inner.check_spec(self._names.check_id(check_id, self._names.to_new))

    def load_input(self, key: AssetKey) -> Any:
        return self._inner.load_input(self._names.to_new(AssetKey.parse(key)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _rename_result(result: StepResult, to_new: Callable[[AssetKey], AssetKey]) -> StepResult:
    import msgspec

    if isinstance(result, CheckResult):
        return msgspec.structs.replace(result, asset_key=to_new(result.asset_key))
    return msgspec.structs.replace(result, key=to_new(result.key))


def _with_prefix(d: AssetsDefinition, names: _Renaming) -> AssetsDefinition:
    """Prefix the keys of ``d`` (and its deps and checks on this module's assets)."""
    rename = names.to_new
    specs = tuple(
        s.replace(
            key=rename(s.key),
            deps=tuple(AssetDep(rename(dep.key), dep.partition_mapping) for dep in s.deps),
            checks=tuple(_rename_check(c, rename) for c in s.checks),
        )
        for s in d.specs
    )
    checks = tuple(_rename_check(c, rename) for c in d.check_specs)
    inner = d.compute

    def compute(context: StepContext) -> Iterator[StepResult]:
        renamed: Any = _RenamedContext(context, names)
        for result in inner(renamed):
            yield _rename_result(result, rename)

    name = d.name
    if len(d.specs) == 1 and d.name == d.specs[0].key.to_string():
        name = specs[0].key.to_string()
    elif not d.specs and len(d.check_specs) == 1 and d.name == d.check_specs[0].id:
        name = checks[0].id
    return d.replace(name=name, specs=specs, check_specs=checks, compute=compute)


def _rename_check(c: CheckSpec, rename: Callable[[AssetKey], AssetKey]) -> CheckSpec:
    import msgspec

    return msgspec.structs.replace(c, asset=rename(c.asset))


def build_python(attributes: PythonAttributes, context: ComponentContext) -> list[AssetsDefinition]:
    """Import the module and collect every ``AssetsDefinition`` at its top level (assets,
    multi-assets and checks), in definition order."""
    module = _import(attributes.module, context)
    found: list[AssetsDefinition] = []
    seen: set[int] = set()
    for value in vars(module).values():
        if isinstance(value, AssetsDefinition) and id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    if attributes.key_prefix:
        prefix = (
            (attributes.key_prefix,)
            if isinstance(attributes.key_prefix, str)
            else tuple(attributes.key_prefix)
        )
        AssetKey(prefix)  # validates the segments
        own = frozenset(k for d in found for k in d.keys)
        names = _Renaming(prefix, own)
        found = [_with_prefix(d, names) for d in found]
    if attributes.group:
        group = attributes.group
        found = [d.map_specs(lambda s: s if s.group else s.replace(group=group)) for d in found]
    return [d if d.component else d.replace(component=context.name) for d in found]


@hookimpl
def catchment_component_types(register: Callable[[ComponentType], None]) -> None:
    """Serve ``type: python``."""
    register(
        ComponentType(
            name="python",
            attributes=PythonAttributes,
            build=build_python,
            description="a Python module of @asset / @multi_asset / @asset_check definitions",
        )
    )


# -- IO managers ----------------------------------------------------------------------------
class _FilesystemConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_dir: str = ".catchment/storage"


class _DuckDBConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = None
    schema_: str = Field(default="main", alias="schema")


def _resolve(root: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (root / p).resolve()


def memory_io_manager(config: dict[str, Any], defaults: ProjectDefaults) -> Any:
    """Keep values in this process (tests, notebooks)."""
    from catchment.io_managers import MemoryIOManager

    if config:
        raise ConfigError("the memory IO manager takes no config", hint="remove `config:`")
    return MemoryIOManager()


def filesystem_io_manager(config: dict[str, Any], defaults: ProjectDefaults) -> Any:
    """Pickle values under ``base_dir`` (relative to the project folder)."""
    from catchment.io_managers import FilesystemIOManager

    cfg = _FilesystemConfig.model_validate(config)
    return FilesystemIOManager(_resolve(defaults.root, cfg.base_dir))


def duckdb_io_manager(config: dict[str, Any], defaults: ProjectDefaults) -> Any:
    """Store dataframes as tables of a DuckDB file (the project's warehouse by default)."""
    from catchment.io_managers import DuckDBIOManager

    cfg = _DuckDBConfig.model_validate(config)
    path = _resolve(defaults.root, cfg.path) if cfg.path else defaults.warehouse
    return DuckDBIOManager(path, default_schema=cfg.schema_)


@hookimpl
def catchment_io_manager_types(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Serve IO manager types ``memory``, ``filesystem`` and ``duckdb``."""
    register("memory", memory_io_manager)
    register("filesystem", filesystem_io_manager)
    register("duckdb", duckdb_io_manager)


__all__: Sequence[str] = (
    "PythonAttributes",
    "build_python",
    "duckdb_io_manager",
    "filesystem_io_manager",
    "memory_io_manager",
)
