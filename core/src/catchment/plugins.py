"""Adapter discovery: entry points in ``catchment.adapters``, loaded once, each one isolated.

An adapter that fails to import, raises in a hook, returns the wrong type, needs a core API this
``catchment`` does not provide, or claims a component type another adapter already serves is
recorded (``AdapterRecord``) and skipped; every other adapter still loads.
``CATCHMENT_ADAPTERS=a,b`` limits which entry points are imported (the built-in adapter always
loads); ``CATCHMENT_STRICT=1`` re-raises the first failure, for adapter authors.

Each adapter's import and registration hooks run on one reusable worker thread with a deadline
(``CATCHMENT_ADAPTER_TIMEOUT`` seconds, default 30; see ``catchment.adapter_worker``): one that
never returns is recorded as failed ("timed out after 30 s while importing") and the others
load. Python cannot stop that thread; it is left behind as a daemon and never consulted again.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import pluggy

from catchment import hookspecs
from catchment.adapter_worker import _Hung, call_bounded
from catchment.components import ComponentType
from catchment.errors import CatchmentError
from catchment.hookspecs import CORE_API_VERSION, ENTRY_POINT_GROUP, AdapterInfo
from catchment.timeouts import format_seconds, parse_timeout

if TYPE_CHECKING:
    from catchment.adapter_index import AdapterIndex, IndexedAdapter
    from catchment.graph import AssetGraph

__all__ = [
    "ADAPTER_TIMEOUT_ENV",
    "AdapterError",
    "AdapterRecord",
    "IsolatedHooks",
    "PluginRegistry",
    "get_registry",
    "registry_for",
    "reset_registry",
]

log = logging.getLogger("catchment.plugins")

Status = Literal["ok", "failed", "incompatible", "disabled"]
BUILTIN = "builtin"
ADAPTER_TIMEOUT_ENV = "CATCHMENT_ADAPTER_TIMEOUT"
DEFAULT_ADAPTER_TIMEOUT = 30.0
_REGISTER_HOOKS = (
    "catchment_component_types",
    "catchment_resource_types",
    "catchment_io_manager_types",
)
_INDEX_HOOKS = frozenset({"catchment_adapter_info", *_REGISTER_HOOKS})
"""The hooks an adapter may implement and still be left unloaded by a project that names
none of its types (any other hook runs for every project)."""


class AdapterError(CatchmentError):
    """An adapter could not be loaded or misbehaved in a hook (raised only in strict mode)."""


@dataclass
class AdapterRecord:
    """What ``catchment plugins`` shows about one adapter: who it is and whether it loaded."""

    name: str
    distribution: str | None = None
    version: str | None = None
    api: str | None = None
    status: Status = "ok"
    component_types: list[str] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``catchment plugins --json``."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "api": self.api,
            "status": self.status,
            "component_types": list(self.component_types),
            "error": self.error,
        }

    @property
    def label(self) -> str:
        """How messages name this adapter: ``dbt (catchment-dbt 0.3.0)``."""
        dist = " ".join(p for p in (self.distribution, self.version) if p)
        return f"{self.name} ({dist})" if dist else self.name


class _Rejected(Exception):
    """Internal: an adapter broke the contract; the message says how."""

    def __init__(self, message: str, *, status: Status = "failed", hint: str | None = None):
        super().__init__(message)
        self.status: Status = status
        self.hint = hint


def _describe(exc: BaseException) -> str:
    """``ErrorType: message`` plus the file:line for syntax errors."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"SyntaxError: {exc.msg} ({exc.filename}:{exc.lineno})"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _name_and_version(dist: metadata.Distribution | None) -> tuple[str | None, str | None]:
    """Name and version from the METADATA header, without the (slow) email parser that
    ``dist.name`` / ``dist.version`` run on every access."""
    if dist is None:
        return None, None
    name = version = None
    for line in (dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "").splitlines():
        if not line:
            break
        if line.startswith("Name:"):
            name = line[5:].strip()
        elif line.startswith("Version:"):
            version = line[8:].strip()
    if name is None or version is None:
        return dist.name, dist.version
    return name, version


def _allowlist() -> frozenset[str] | None:
    raw = os.environ.get("CATCHMENT_ADAPTERS")
    if raw is None or not raw.strip():
        return None
    return frozenset(p.strip() for p in raw.split(",") if p.strip())


def _adapter_timeout() -> float:
    """Seconds one adapter may take to import, and again to register
    (``$CATCHMENT_ADAPTER_TIMEOUT``, default 30; an unreadable value keeps the default)."""
    raw = os.environ.get(ADAPTER_TIMEOUT_ENV)
    try:
        return parse_timeout(raw) or DEFAULT_ADAPTER_TIMEOUT
    except CatchmentError:
        log.warning(
            "%s=%r is not a duration; using %g s", ADAPTER_TIMEOUT_ENV, raw, DEFAULT_ADAPTER_TIMEOUT
        )
        return DEFAULT_ADAPTER_TIMEOUT


def _bounded(fn: Callable[[], Any], seconds: float, doing: str, name: str) -> Any:
    """``fn()`` on the adapter worker thread; its result or exception, or ``_Hung`` after
    ``seconds`` ("timed out after 30 s while importing")."""
    return call_bounded(
        fn,
        seconds,
        label=f"adapter-{name}-{doing}",
        hung=f"timed out after {format_seconds(seconds)} s while {doing}",
    )


def _strict() -> bool:
    return os.environ.get("CATCHMENT_STRICT", "").strip().lower() in {"1", "true", "yes", "on"}


_RELEASE = re.compile(r"\d+(?:\.\d+)*")
_CLAUSE = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+)*)\s*")


def _release_order(a: str, b: str) -> int:
    """-1, 0 or 1 as release ``a`` is below, equal to or above ``b`` (PEP 440: missing
    trailing parts are zeros)."""
    x, y = [int(p) for p in a.split(".")], [int(p) for p in b.split(".")]
    n = max(len(x), len(y))
    x += [0] * (n - len(x))
    y += [0] * (n - len(y))
    return (x > y) - (x < y)


def _simple_api_check(spec: str, version: str) -> bool | None:
    """What ``SpecifierSet(spec).contains(version, prereleases=True)`` answers, when
    ``version`` is a plain release and every clause of ``spec`` compares with one (what
    adapters declare: ``>=1.0,<2``), without importing ``packaging``; None otherwise. For a
    final release the pre-, post-release and local rules of PEP 440 never apply, so each
    clause is a comparison of zero-padded release numbers."""
    if not _RELEASE.fullmatch(version):
        return None
    ok = True
    for clause in spec.split(","):
        m = _CLAUSE.fullmatch(clause)
        if m is None:
            return None
        order = _release_order(version, m.group(2))
        ok = ok and _OPS[m.group(1)](order)
    return ok


_OPS: dict[str, Callable[[int], bool]] = {
    ">=": lambda o: o >= 0,
    "<=": lambda o: o <= 0,
    ">": lambda o: o > 0,
    "<": lambda o: o < 0,
    "==": lambda o: o == 0,
    "!=": lambda o: o != 0,
}


def _api_supported(spec: str) -> bool:
    simple = _simple_api_check(spec, CORE_API_VERSION)
    if simple is not None:
        return simple
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    try:
        return SpecifierSet(spec).contains(Version(CORE_API_VERSION), prereleases=True)
    except InvalidSpecifier:
        raise _Rejected(
            f"declares an invalid core API range {spec!r}",
            hint="AdapterInfo.api is a PEP 440 specifier, e.g. '>=1.0,<2'",
        ) from None


class IsolatedHooks:
    """Life-cycle hook calls where each adapter's implementation runs on its own.

    ``hooks.catchment_run_started(run=info)`` calls every implementation; one that raises is
    logged with its adapter's name (and kept in ``errors``) and the others still run. Returns
    the non-None results as ``(adapter name, result)`` pairs.
    """

    def __init__(self, pm: pluggy.PluginManager, strict: bool = False):
        self._pm = pm
        self._strict = strict
        self.errors: list[tuple[str, str, str]] = []  # (adapter, hook, error)

    def call(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call ``hook_name`` on every adapter, isolating failures."""
        caller = getattr(self._pm.hook, hook_name)
        results: list[tuple[str, Any]] = []
        # pluggy calls the last registered implementation first; keep that order.
        for impl in reversed(caller.get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue
            name = impl.plugin_name
            try:
                result = impl.function(*(kwargs[a] for a in impl.argnames))
            except (Exception, SystemExit) as exc:  # an adapter must not end the command
                if self._strict:
                    raise
                error = _describe(exc)
                self.errors.append((name, hook_name, error))
                log.warning("adapter %s raised in %s: %s", name, hook_name, error)
                continue
            if result is not None:
                results.append((name, result))
        return results

    def __getattr__(self, hook_name: str) -> Callable[..., list[tuple[str, Any]]]:
        if not hook_name.startswith("catchment_"):
            raise AttributeError(hook_name)
        if not hasattr(self._pm.hook, hook_name):
            raise AttributeError(f"no hook named {hook_name!r}")

        def call(**kwargs: Any) -> list[tuple[str, Any]]:
            return self.call(hook_name, **kwargs)

        return call


class PluginRegistry:
    """The adapters of this process and what they registered.

    Build with :func:`get_registry` (entry points, cached). Tests and embedders may build one
    directly and add plugin objects with :meth:`add_plugin`.
    """

    def __init__(
        self,
        *,
        strict: bool | None = None,
        allow: Iterable[str] | None = None,
        adapter_timeout: float | None = None,
    ):
        self.strict = _strict() if strict is None else strict
        self.allow = _allowlist() if allow is None else frozenset(allow)
        self.adapter_timeout = adapter_timeout or _adapter_timeout()
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.adapters: list[AdapterRecord] = []
        self.component_types: dict[str, ComponentType] = {}
        self.resource_types: dict[str, type[Any]] = {}
        self.io_manager_types: dict[str, Callable[..., Any]] = {}
        self.owners: dict[str, str] = {}  # "component:<type>" etc. -> adapter name
        self.hook = IsolatedHooks(self.pm, strict=self.strict)
        self._values: dict[str, str] = {}  # entry point name -> its value (module path)
        self._loaded: dict[str, object] = {}  # entry point name -> the plugin it loaded
        self._deferred: dict[str, IndexedAdapter] = {}  # indexed, not imported yet
        self._order: dict[str, int] = {}  # adapter name -> position in a full load

    # -- discovery -------------------------------------------------------------------------
    def load_entry_points(self, entry_points: Iterable[metadata.EntryPoint] | None = None) -> None:
        """Load every adapter entry point (the built-in first, then by name)."""
        eps = list(
            metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
        )
        seen: set[str] = set()
        for ep in sorted(eps, key=lambda e: (e.name != BUILTIN, e.name)):
            if ep.name in seen:  # the same distribution found twice on sys.path
                continue
            seen.add(ep.name)
            distribution, version = _name_and_version(getattr(ep, "dist", None))
            self._load_one(ep, AdapterRecord(ep.name, distribution, version))

    def _load_one(self, ep: metadata.EntryPoint, record: AdapterRecord) -> None:
        """Import and register one entry point (or record why not)."""
        self._values[ep.name] = ep.value
        if not self._allowed(record):
            record.status = "disabled"
            record.error = "not listed in CATCHMENT_ADAPTERS"
            self.adapters.append(record)
            return
        try:
            plugin = _bounded(ep.load, self.adapter_timeout, "importing", ep.name)
        except _Hung as exc:
            self._fail(record, exc, hint=_hung_hint(record))
            return
        except (Exception, SystemExit) as exc:
            self._fail(record, exc, hint=f"fix the import of {ep.value!r} or uninstall it")
            return
        self._loaded[ep.name] = plugin
        self._register(plugin, record)

    # -- loading only what a project names (``catchment.adapter_index``) --------------------
    def load_indexed(self, needs: Collection[str], index_file: Path | None) -> None:
        """Load the adapters serving ``needs`` (``kind:name`` as in ``owners``, e.g.
        ``component type:dbt``) and every adapter with a life-cycle hook, as the index at
        ``index_file`` lists them; the others are recorded from the index and loaded on
        demand (:meth:`ensure`, :meth:`complete`). Without a current index, when a need is
        not in it or while an adapter fails, every entry point is loaded and the index
        rewritten."""
        from catchment.adapter_index import read_index

        index = None if self.strict or index_file is None else read_index(index_file)
        served = set() if index is None else {s for a in index.adapters for s in a.serves}
        # While an adapter fails, load them all: whether it fails can depend on the others
        # (a type another adapter already serves), so a partial load could judge it otherwise.
        if index is None or not served.issuperset(needs) or _any_broken(index):
            self._load_all_and_index(index_file)
            return
        self._order = {a.name: i for i, a in enumerate(index.adapters)}
        wanted = set(needs)
        for entry in index.adapters:
            if entry.status == "ok" and (entry.always or not wanted.isdisjoint(entry.serves)):
                self._load_indexed_one(entry)
                continue
            record = AdapterRecord(entry.name, entry.distribution, entry.version, entry.api)
            record.status = "ok" if entry.status == "ok" else "disabled"
            record.error, record.hint = entry.error, entry.hint
            record.component_types = entry.component_types
            self.adapters.append(record)
            if entry.status == "ok":
                self._deferred[entry.name] = entry
        self._sort_records()

    def _load_indexed_one(self, entry: IndexedAdapter) -> None:
        record = AdapterRecord(entry.name, entry.distribution, entry.version)
        self._load_one(metadata.EntryPoint(entry.name, entry.value, ENTRY_POINT_GROUP), record)

    def ensure(self, needs: Collection[str]) -> None:
        """Load the deferred adapters serving ``needs`` (all of them when one is unknown)."""
        entries = [e for e in self._deferred.values() if not set(needs).isdisjoint(e.serves)]
        served = {s for e in self._deferred.values() for s in e.serves} | set(self.owners)
        if any(n not in served for n in needs):
            self.complete()
            return
        self._load_deferred(entries)

    def complete(self) -> None:
        """Load every adapter still deferred, so the registry holds all installed adapters."""
        self._load_deferred(list(self._deferred.values()))

    def _load_deferred(self, entries: list[IndexedAdapter]) -> None:
        if not entries:
            return
        names = {e.name for e in entries}
        self.adapters = [r for r in self.adapters if r.name not in names]
        for entry in entries:
            del self._deferred[entry.name]
            self._load_indexed_one(entry)
        self._sort_records()

    def _sort_records(self) -> None:
        order = self._order
        self.adapters.sort(key=lambda r: order.get(r.name, len(order)))

    def _load_all_and_index(self, index_file: Path | None) -> None:
        from catchment.adapter_index import write_index

        self.load_entry_points()
        self._order = {r.name: i for i, r in enumerate(self.adapters)}
        entries = tuple(self._indexed(r) for r in self.adapters)
        if index_file is not None and None not in entries:
            write_index(index_file, cast("tuple[IndexedAdapter, ...]", entries))

    def _indexed(self, record: AdapterRecord) -> IndexedAdapter | None:
        """``record`` as an index entry; None when it cannot be indexed (no entry point)."""
        from catchment.adapter_index import IndexedAdapter

        value = self._values.get(record.name)
        if value is None:
            return None  # added as an object, not through an entry point
        plugin = self._loaded.get(record.name)
        always, code = False, None
        if plugin is not None and record.status == "ok":
            hooks = {n for n in self._hook_names() if self._impls(plugin, n)}
            always = bool(hooks - _INDEX_HOOKS) or record.name == BUILTIN
            code = None if always else _code_folder(value)
            if code is None:
                always = True
        return IndexedAdapter(
            name=record.name,
            value=value,
            distribution=record.distribution,
            version=record.version,
            api=record.api,
            status=record.status,
            error=record.error,
            hint=record.hint,
            serves=tuple(k for k, owner in self.owners.items() if owner == record.name),
            always=always,
            code=code,
        )

    def _hook_names(self) -> list[str]:
        return [n for n in dir(hookspecs) if n.startswith("catchment_")]

    def add_plugin(self, plugin: object, name: str | None = None) -> AdapterRecord:
        """Register a plugin object (a module or any object with hook implementations)
        exactly as if an entry point had named it. Returns its record."""
        label = name or str(getattr(plugin, "__name__", None) or type(plugin).__name__)
        record = AdapterRecord(name=label)
        self._register(plugin, record)
        return record

    def _allowed(self, record: AdapterRecord) -> bool:
        if self.allow is None or record.name == BUILTIN:
            return True
        return record.name in self.allow or (record.distribution or "") in self.allow

    def _fail(self, record: AdapterRecord, exc: BaseException, hint: str | None = None) -> None:
        if isinstance(exc, _Hung):
            record.status, record.error, record.hint = "failed", str(exc), hint
        elif isinstance(exc, _Rejected):
            record.status, record.error, record.hint = exc.status, str(exc), exc.hint
        else:
            record.status, record.error, record.hint = "failed", _describe(exc), hint
        self.adapters.append(record)
        log.warning("adapter %s skipped: %s", record.label, record.error)
        if self.strict:
            if isinstance(exc, _Rejected | _Hung):
                raise AdapterError(
                    record.error, where=f"adapter {record.label}", hint=record.hint
                ) from exc
            raise exc

    def _register(self, plugin: object, record: AdapterRecord) -> None:
        try:
            self.pm.register(plugin, name=record.name)
        except Exception as exc:
            self._fail(record, exc, hint="check the @hookimpl names and arguments in hookspecs")
            return
        try:
            self._check_unknown_hooks(plugin)
            info = _bounded(
                lambda: self._adapter_info(plugin, record),
                self.adapter_timeout,
                "registering",
                record.name,
            )
            record.api = info.api
            if record.version is None:
                record.version = info.version
            if not _api_supported(info.api):
                raise _Rejected(
                    f"needs core API {info.api}, this catchment provides {CORE_API_VERSION}",
                    status="incompatible",
                    hint=f"install a version of {record.distribution or record.name} that "
                    f"supports core API {CORE_API_VERSION}, or upgrade catchment",
                )
            found = _bounded(
                lambda: self._collect(plugin, record),
                self.adapter_timeout,
                "registering",
                record.name,
            )
        except (Exception, SystemExit) as exc:
            self.pm.unregister(plugin)
            hint = (
                _hung_hint(record)
                if isinstance(exc, _Hung)
                else "run with CATCHMENT_STRICT=1 to see the traceback"
            )
            self._fail(record, exc, hint=hint)
            return
        self._commit(record, *found)

    def _check_unknown_hooks(self, plugin: object) -> None:
        known = {n for n in dir(hookspecs) if n.startswith("catchment_")}
        for attr in dir(plugin):
            if attr.startswith("catchment_") and attr not in known:
                fn = getattr(plugin, attr, None)
                if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT_NAME}_impl"):
                    raise _Rejected(
                        f"implements unknown hook {attr!r}",
                        hint="hook names are listed in docs/reference/hooks.md",
                    )

    def _impls(self, plugin: object, hook_name: str) -> list[Any]:
        caller = getattr(self.pm.hook, hook_name)
        return [i for i in caller.get_hookimpls() if i.plugin is plugin]

    def _adapter_info(self, plugin: object, record: AdapterRecord) -> AdapterInfo:
        impls = self._impls(plugin, "catchment_adapter_info")
        if not impls:
            raise _Rejected(
                "does not implement catchment_adapter_info",
                hint="add `@hookimpl def catchment_adapter_info(): return AdapterInfo(...)`",
            )
        info = impls[0].function()
        if not isinstance(info, AdapterInfo):
            raise _Rejected(
                f"catchment_adapter_info returned {type(info).__name__}, expected AdapterInfo",
                hint="return catchment.AdapterInfo(name=..., version=..., api='>=1.0,<2')",
            )
        return info

    def _collect(
        self, plugin: object, record: AdapterRecord
    ) -> tuple[list[ComponentType], dict[str, type[Any]], dict[str, Callable[..., Any]]]:
        components: list[ComponentType] = []
        resources: dict[str, type[Any]] = {}
        io_managers: dict[str, Callable[..., Any]] = {}

        def register_component(ct: ComponentType) -> None:
            _check_component_type(ct)
            if not ct.adapter:
                ct = replace(ct, adapter=record.name)
            components.append(ct)

        def register_resource(name: str, cls: type[Any]) -> None:
            if not isinstance(name, str) or not isinstance(cls, type):
                raise _Rejected(
                    "catchment_resource_types: register(name, cls) needs a str and a class, "
                    f"got {type(name).__name__}, {type(cls).__name__}"
                )
            resources[name] = cls

        def register_io_manager(name: str, factory: Callable[..., Any]) -> None:
            if not isinstance(name, str) or not callable(factory):
                raise _Rejected(
                    "catchment_io_manager_types: register(name, factory) needs a str and a "
                    f"callable, got {type(name).__name__}, {type(factory).__name__}"
                )
            io_managers[name] = factory

        callbacks: Mapping[str, Callable[..., None]] = {
            "catchment_component_types": register_component,
            "catchment_resource_types": register_resource,
            "catchment_io_manager_types": register_io_manager,
        }
        for hook_name in _REGISTER_HOOKS:
            for impl in self._impls(plugin, hook_name):
                try:
                    impl.function(*([callbacks[hook_name]] if impl.argnames else []))
                except _Rejected:
                    raise
                except (Exception, SystemExit) as exc:
                    raise _Rejected(f"{hook_name} raised {_describe(exc)}") from exc
        for kind, names in (
            ("component type", [c.name for c in components]),
            ("resource type", list(resources)),
            ("IO manager type", list(io_managers)),
        ):
            for n in names:
                owner = self.owners.get(f"{kind}:{n}")
                if owner is not None:
                    raise _Rejected(
                        f"{kind} {n!r} is already served by adapter {owner!r}",
                        hint=f"uninstall one of the two, or limit loading with "
                        f"CATCHMENT_ADAPTERS (e.g. CATCHMENT_ADAPTERS={owner})",
                    )
        return components, resources, io_managers

    def _commit(
        self,
        record: AdapterRecord,
        components: list[ComponentType],
        resources: dict[str, type[Any]],
        io_managers: dict[str, Callable[..., Any]],
    ) -> None:
        for ct in components:
            self.component_types[ct.name] = ct
            self.owners[f"component type:{ct.name}"] = record.name
        for n, cls in resources.items():
            self.resource_types[n] = cls
            self.owners[f"resource type:{n}"] = record.name
        for n, factory in io_managers.items():
            self.io_manager_types[n] = factory
            self.owners[f"IO manager type:{n}"] = record.name
        record.component_types = [c.name for c in components]
        record.status = "ok"
        self.adapters.append(record)

    # -- queries ---------------------------------------------------------------------------
    def record(self, name: str) -> AdapterRecord | None:
        """The record of adapter ``name`` (entry point name), if any."""
        return next((r for r in self.adapters if r.name == name), None)

    @property
    def broken(self) -> list[AdapterRecord]:
        """Adapters that failed or are incompatible (disabled ones are not broken)."""
        return [r for r in self.adapters if r.status in ("failed", "incompatible")]

    def graph_rejections(self, graph: AssetGraph) -> list[tuple[str, str]]:
        """Ask every adapter's ``catchment_graph_built``; ``(adapter, reason)`` for each
        rejection. An adapter that raises or returns something else is a rejection too, so
        a broken policy never passes silently."""
        before = len(self.hook.errors)
        out: list[tuple[str, str]] = []
        for name, result in self.hook.call("catchment_graph_built", graph=graph):
            if isinstance(result, str):
                result = [result]
            if not isinstance(result, list | tuple) or not all(isinstance(r, str) for r in result):
                out.append(
                    (
                        name,
                        f"catchment_graph_built returned {type(result).__name__}, expected "
                        "a list of reasons (str) or None",
                    )
                )
                continue
            out.extend((name, reason) for reason in result)
        for name, _hook, error in self.hook.errors[before:]:
            out.append((name, f"catchment_graph_built raised {error}"))
        return out


def _any_broken(index: AdapterIndex) -> bool:
    return any(a.status in ("failed", "incompatible") for a in index.adapters)


def _code_folder(value: str) -> str | None:
    """The folder of the (imported) top-level package of entry point ``value``, whose
    Python files stamp the adapter index; None when it has no single folder."""
    import sys

    module = sys.modules.get(value.partition(":")[0].strip().split(".")[0])
    paths = list(getattr(module, "__path__", None) or [])
    if len(paths) == 1:
        return str(paths[0])
    return None


def _hung_hint(record: AdapterRecord) -> str:
    return (
        f"leave it out with CATCHMENT_ADAPTERS (list the adapters to load), or raise "
        f"{ADAPTER_TIMEOUT_ENV} if {record.name} is only slow; report it to its authors"
    )


def _check_component_type(ct: object) -> None:
    if not isinstance(ct, ComponentType):
        raise _Rejected(
            "catchment_component_types: register() needs a catchment.ComponentType, "
            f"got {type(ct).__name__}"
        )
    from pydantic import BaseModel

    if not isinstance(ct.name, str) or not ct.name:
        raise _Rejected("catchment_component_types: ComponentType.name must be a non-empty str")
    if not (isinstance(ct.attributes, type) and issubclass(ct.attributes, BaseModel)):
        raise _Rejected(
            f"component type {ct.name!r}: attributes must be a pydantic model class, "
            f"got {type(ct.attributes).__name__}"
        )
    if not callable(ct.build):
        raise _Rejected(f"component type {ct.name!r}: build must be callable")


_registry: PluginRegistry | None = None


def get_registry() -> PluginRegistry:
    """The process-wide registry with every installed adapter, scanning entry points on
    first use (and loading those a project-scoped load left out)."""
    global _registry
    if _registry is None:
        registry = PluginRegistry()
        registry.load_entry_points()
        _registry = registry
    else:
        _registry.complete()
    return _registry


def registry_for(needs: Collection[str]) -> PluginRegistry:
    """The process-wide registry holding at least the adapters that serve ``needs``
    (``kind:name``, e.g. ``component type:dbt``) and those with life-cycle hooks, found
    through this environment's adapter index (``PluginRegistry.load_indexed``)."""
    global _registry
    if _registry is None:
        from catchment.adapter_index import default_index_path

        registry = PluginRegistry()
        registry.load_indexed(needs, default_index_path())
        _registry = registry
    else:
        _registry.ensure(needs)
    return _registry


def reset_registry() -> None:
    """Forget the cached registry (tests; after installing an adapter in-process)."""
    global _registry
    _registry = None
