"""Load ``catchment.yaml`` into a ``Project``: definitions from every component that loads, the
asset graph, resources, IO managers, and a list of problems for everything that did not.

Only an unreadable file (missing, not YAML, not a mapping) raises ``ConfigError``; a broken
adapter, component, resource or graph becomes a ``Problem`` and the rest of the project loads.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from catchment.components import (
    ComponentContext,
    ComponentType,
    ProjectDefaults,
    QueueSettings,
)
from catchment.definitions import AssetsDefinition
from catchment.errors import CatchmentError, ConfigError, GraphError
from catchment.problems import Problem, ProblemKind
from catchment.project.automation import (
    CONDITION_HELP,
    FRESHNESS_HELP,
    SCOPE_HELP,
    AssetSettings,
    FreshnessRule,
    apply_freshness_rules,
    apply_settings,
    component_settings,
)
from catchment.project.templating import render_with
from catchment.project.yamlfile import Located, field_path, load_yaml
from catchment.timeouts import parse_kill_grace, parse_timeout

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.plugins import IsolatedHooks, PluginRegistry
    from catchment.schedules import ScheduleDefinition
    from catchment.sensors import SensorDefinition
    from catchment.specs import AssetSpec
    from catchment.tables import TableRef

__all__ = [
    "PROJECT_FILE",
    "Problem",
    "Project",
    "load_defaults",
    "load_observing",
    "load_project",
]

PROJECT_FILE = "catchment.yaml"


@dataclass
class Project:
    """A loaded project. ``graph`` is None when it could not be built (see ``problems``)."""

    root: Path
    file: Path
    name: str
    defaults: ProjectDefaults
    registry: PluginRegistry
    definitions: tuple[AssetsDefinition, ...] = ()
    graph: AssetGraph | None = None
    problems: list[Problem] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)
    io_managers: dict[str, Any] = field(default_factory=dict)
    components: dict[str, str] = field(default_factory=dict)  # component name -> type
    schedules: tuple[ScheduleDefinition, ...] = ()
    sensors: tuple[SensorDefinition, ...] = ()

    @property
    def hooks(self) -> IsolatedHooks:
        """Life-cycle hooks of the loaded adapters (each implementation isolated), relaying to
        the project's alert resources (``catchment.alerts``)."""
        from catchment.alerts import with_alerts

        return with_alerts(self.registry.hook, self.resources)  # type: ignore[no-any-return]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (what ``catchment check`` reports)."""
        return not self.problems

    def require_graph(self) -> AssetGraph:
        """The graph, or a ``GraphError`` listing why it cannot be used: it failed to build,
        or an adapter's policy (``catchment_graph_built``) rejected it."""
        graph_problems = [p for p in self.problems if p.kind == "graph"]
        if self.graph is None or graph_problems:
            raise GraphError(
                [f"{p.where}: {p.message}" for p in graph_problems] or ["the graph was not built"],
                hint="run `catchment check` to see every problem",
            )
        return self.graph


# -- the file's schema ------------------------------------------------------------------------
class _Strict(BaseModel):
    # defer_build: a model's validator is built when it first validates, so sections and
    # adapters a project does not use cost nothing (every installed adapter is imported).
    model_config = ConfigDict(defer_build=True, extra="forbid")


class _ProjectSection(_Strict):
    name: str = Field(min_length=1, description="the project's name")


class _Defaults(_Strict):
    warehouse: str = Field(
        default="warehouse.duckdb", description="DuckDB file, relative to the project folder"
    )
    storage: str | None = Field(
        default=None,
        description="run storage URL, default sqlite:///.catchment/runs.db (three slashes: "
        "relative to the project folder; four: absolute)",
    )
    timeout: float | str | None = Field(
        default=None,
        description="time limit of each step attempt: seconds or a duration like '30m', '2h'",
    )
    executor: _Executor | None = Field(
        default=None, description="where steps run (the --executor option overrides it)"
    )


class _Executor(_Strict):
    type: Literal["inprocess", "multiprocess", "dask"] = Field(
        description="where steps run: inprocess, multiprocess or dask"
    )
    address: str | None = Field(
        default=None,
        description="dask: the scheduler, e.g. tcp://host:8786 (default: a local cluster)",
    )
    workers: int | None = Field(
        default=None, ge=1, description="worker processes (multiprocess, local dask cluster)"
    )
    start_method: Literal["fork", "forkserver", "spawn"] | None = Field(
        default=None,
        description="dask local cluster: how worker processes start (default fork on Linux)",
    )
    kill_grace_seconds: Any = Field(  # read by ``executor()``: one clear problem, any value
        default=None,
        description="seconds a step may run past its last deadline before its worker is "
        "killed (multiprocess) or restarted (dask), or it is logged as stuck (inprocess); "
        "default 10",
    )


class _Component(_Strict):
    type: str = Field(min_length=1, description="a component type, see `catchment plugins`")
    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$", description="a unique name")
    attributes: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = Field(
        default=True,
        description="false skips the component; may be a template, e.g. "
        "\"{{ env('PG_URL', '') != '' }}\"",
    )
    timeout: float | str | None = Field(
        default=None,
        description="time limit of each step attempt of this component's assets: seconds or "
        "a duration like '30m', '2h' (default: defaults.timeout)",
    )
    automation_condition: str | None = Field(default=None, description=CONDITION_HELP)
    partition_scope: str | int | None = Field(default=None, description=SCOPE_HELP)
    freshness: str | int | float | dict[str, Any] | None = Field(
        default=None, description=FRESHNESS_HELP
    )
    assets: dict[str, AssetSettings] = Field(
        default_factory=dict,
        description="per asset (a key or a glob): automation_condition, partition_scope, "
        "freshness, deps, reads",
    )
    pool: str | None = Field(
        default=None, min_length=1, description="the pool whose slots its steps hold (pools:)"
    )
    pool_slots: int = Field(default=1, ge=1, description="slots each of its steps takes")


class _Typed(_Strict):
    type: str = Field(min_length=1)
    config: dict[str, Any] = Field(default_factory=dict)


class _Source(_Strict):
    key: str | None = Field(
        default=None, min_length=1, description="the source's asset key, e.g. landing/orders"
    )
    table: str | None = Field(
        default=None,
        min_length=1,
        description="the relation it stands for (schema.name in the warehouse, or "
        "system://location/database.schema.name): assets reading it depend on the source",
    )
    description: str | None = None
    group: str | None = None
    observe: dict[str, Any] | None = Field(
        default=None,
        description='how to observe it: {glob: "landing/*.csv"}, {sql: "select max(x) '
        'from t", connection: DuckDB file, connection_env: VAR with a PostgreSQL URL or '
        'resource: a name under resources:} or {python: "module:function"}',
    )


class _TagLimit(_Strict):
    key: str = Field(min_length=1, description="a run tag, e.g. team")
    value: str | None = Field(
        default=None, description="the tag value limited; omitted: each value separately"
    )
    limit: int = Field(ge=0, description="most runs with this tag value at once")


class _Queue(_Strict):
    max_concurrent_runs: int | None = Field(
        default=None, ge=0, description="most runs in progress at once (omitted: no limit)"
    )
    tag_limits: list[_TagLimit] = Field(
        default_factory=list, description="limits per tag value: [{key, value, limit}]"
    )
    pool_lease_seconds: float = Field(
        default=60.0, gt=0, description="seconds after which a dead run's pool slots are free"
    )


class _Pools(RootModel[dict[str, int]]):
    """``pools: {warehouse: 4}``: slot limits per pool name."""

    model_config = ConfigDict(defer_build=True)


def queue_settings(cfg: _Queue, pools: dict[str, int]) -> QueueSettings:
    """The run limits and pool slot limits of a validated ``queue:`` section and ``pools:``
    (shared with ``catchment.workspace.yaml``, whose ``queue:`` is this same model)."""
    from catchment.storage.queue import QueueLimits, TagLimit

    limits = QueueLimits(
        max_concurrent_runs=cfg.max_concurrent_runs,
        tag_limits=tuple(TagLimit(key=t.key, value=t.value, limit=t.limit) for t in cfg.tag_limits),
    )
    return QueueSettings(limits=limits, pools=pools, pool_lease_seconds=cfg.pool_lease_seconds)


_SECTIONS = (
    "project",
    "queue",
    "pools",
    "defaults",
    "components",
    "resources",
    "io_managers",
    "freshness",
    "schedules",
    "sensors",
    "sources",
)


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def _locate(path: Path | str | None) -> Path:
    p = Path.cwd() if path is None else Path(path).expanduser()
    if p.is_dir():
        for name in (PROJECT_FILE, "catchment.yml"):
            if (p / name).is_file():
                return (p / name).resolve()
        raise ConfigError(
            f"no {PROJECT_FILE} here",
            where=str(p),
            hint="run `catchment new project NAME`, or pass the project folder or file",
        )
    return p.resolve()


class _Loader:
    """One load: collects problems while building each part."""

    def __init__(self, located: Located, registry: PluginRegistry | None):
        self.located = located
        self._registry = registry
        self.root = located.file.parent
        self.problems: list[Problem] = []
        self.render = render_with(located, self.root)

    @property
    def registry(self) -> PluginRegistry:
        assert self._registry is not None, "this load reads no components"
        return self._registry

    def problem(
        self, kind: ProblemKind, path: Sequence[str | int], message: str, hint: str | None = None
    ) -> None:
        self.problems.append(Problem(kind, self.located.where(path), message, hint))

    def invalid(
        self,
        exc: ValidationError,
        kind: ProblemKind,
        base: Sequence[str | int],
        subject: str,
        model: type[BaseModel] | None = None,
        shown_from: int = 0,
    ) -> None:
        """One problem per pydantic error; input values are never shown (secrets)."""
        for err in exc.errors(include_input=False, include_url=False, include_context=False):
            loc = tuple(err["loc"])
            path = (*base, *loc)
            hint = None
            if model is not None and loc and isinstance(loc[0], str):
                info = model.model_fields.get(loc[0])
                if info is not None and info.description:
                    hint = f"{loc[0]}: {info.description}"
            if err["type"] == "extra_forbidden":
                known = ", ".join(model.model_fields) if model is not None else ""
                hint = f"known fields: {known}" if known else "remove it"
            shown = field_path(path[shown_from:]) or field_path(path)
            self.problem(kind, path, f"{subject}{shown}: {err['msg']}", hint)

    def section(self, data: Mapping[str, Any], key: str, model: type[BaseModel]) -> Any:
        raw = data.get(key)
        if raw is None and model is not _ProjectSection:
            # An absent section is its model's defaults, valid by construction: building the
            # model's validator just to check them cost a few ms per section at every load.
            if issubclass(model, RootModel):
                return model.model_construct({})
            return model.model_construct()
        if raw is None:
            raw = {}
        try:
            return model.model_validate(self.render(raw, (key,)))
        except ConfigError as exc:
            self.problems.append(Problem("project", exc.where or "", exc.message, exc.hint))
        except ValidationError as exc:
            self.invalid(exc, "project", (key,), "", model)
        return model.model_validate({}) if model is not _ProjectSection else None

    # -- parts ---------------------------------------------------------------------------
    def defaults(self, data: Mapping[str, Any]) -> ProjectDefaults:
        raw = data.get("defaults")
        storage = None
        if isinstance(raw, dict) and raw.get("storage") is not None:
            storage = raw["storage"]  # read on its own: a broken storage never falls back
            data = {**data, "defaults": {k: v for k, v in raw.items() if k != "storage"}}
        cfg: _Defaults = self.section(data, "defaults", _Defaults)
        base = ProjectDefaults.for_root(self.root)
        warehouse = Path(cfg.warehouse).expanduser()
        warehouse = warehouse if warehouse.is_absolute() else (base.root / warehouse).resolve()
        if warehouse.is_dir():
            self.problem(
                "project",
                ("defaults", "warehouse"),
                f"field defaults.warehouse: {warehouse} is a folder",
                "name a DuckDB file, e.g. warehouse.duckdb",
            )
        url, problem = (base.storage_url, None) if storage is None else self.storage(storage)
        return ProjectDefaults(
            root=base.root,
            warehouse=warehouse,
            storage_url=url,
            timeout=self.timeout(cfg.timeout, ("defaults", "timeout")),
            queue=self.queue(data),
            executor=self.executor(cfg.executor),
            storage_problem=problem,
        )

    def executor(self, cfg: _Executor | None) -> dict[str, Any] | None:
        """``defaults.executor`` as settings, its ``kill_grace_seconds`` read as seconds (a
        problem naming file:line and the field if it is no number or negative)."""
        if cfg is None:
            return None
        settings = cfg.model_dump()
        path = ("defaults", "executor", "kill_grace_seconds")
        try:
            settings["kill_grace_seconds"] = parse_kill_grace(settings["kill_grace_seconds"])
        except ConfigError as exc:
            said = exc.message.removeprefix("kill_grace_seconds ")
            self.problem("project", path, f"field {field_path(path)}: {said}", exc.hint)
            settings["kill_grace_seconds"] = None
        return settings

    def queue(self, data: Mapping[str, Any]) -> QueueSettings:
        """The ``queue:`` and ``pools:`` sections (the run limits and pool slot limits)."""
        cfg: _Queue = self.section(data, "queue", _Queue)
        pools: _Pools = self.section(data, "pools", _Pools)
        good = {}
        for name, slots in pools.root.items():
            if slots < 0:
                self.problem("project", ("pools", name), f"pools.{name}: must be 0 or more")
            else:
                good[name] = slots
        return queue_settings(cfg, good)

    def storage(self, value: Any) -> tuple[str, str | None]:
        """The run store URL of ``defaults.storage`` (a relative SQLite path made absolute
        against the project folder) checked without opening it, or ("", why) with a problem:
        a store that cannot be used is never replaced by the default one."""
        from catchment.storage import StorageError, check_storage_url, resolve_storage_url

        path = ("defaults", "storage")
        try:
            url = self.render(value, path)
        except ConfigError as exc:
            self.problems.append(Problem("project", exc.where or "", exc.message, exc.hint))
            return "", f"{exc.where}: {exc.message}"
        hint = "a URL: sqlite:///.catchment/runs.db or postgresql://user@host:5432/db"
        if not isinstance(url, str):
            message = f"must be a URL string, not {type(url).__name__}"
        elif not url.strip():
            message = "is empty"
            hint = "remove it to record in .catchment/runs.db, or set it to a URL"
        else:
            try:
                url = resolve_storage_url(url, self.root)
                check_storage_url(url)
                return url, None
            except StorageError as exc:
                message = f"{exc.message} ({exc.where})" if exc.where else exc.message
                hint = exc.hint or hint
        self.problem("project", path, f"field defaults.storage: {message}", hint)
        return "", f"{self.located.where(path)}: field defaults.storage: {message}"

    def timeout(self, value: float | str | None, path: Sequence[str | int]) -> float | None:
        """Seconds from a ``timeout:`` value; a problem naming file:line if it is no duration."""
        try:
            return parse_timeout(value)
        except ConfigError as exc:
            self.problem(
                "project" if path[0] == "defaults" else "component", path, exc.message, exc.hint
            )
            return None

    def typed_entries(self, data: Mapping[str, Any], key: str) -> dict[str, _Typed]:
        raw = data.get(key) or {}
        if not isinstance(raw, dict):
            self.problem("project", (key,), f"{key} must be a mapping of name -> {{type, config}}")
            return {}
        out: dict[str, _Typed] = {}
        for name, entry in raw.items():
            try:
                out[str(name)] = _Typed.model_validate(entry)
            except ValidationError as exc:
                self.invalid(exc, "project", (key, str(name)), f"{key} {name!r}: ", _Typed, 2)
        return out

    def _config(self, key: str, name: str, entry: _Typed) -> dict[str, Any] | None:
        try:
            config: dict[str, Any] = self.render(entry.config, (key, name, "config"))
        except ConfigError as exc:
            self.problems.append(Problem("project", exc.where or "", exc.message, exc.hint))
            return None
        return config

    def sources(self, data: Mapping[str, Any], defaults: ProjectDefaults) -> list[AssetsDefinition]:
        """The ``sources:`` section: declared external sources (``catchment.sources``)."""
        raw = data.get("sources") or []
        if not isinstance(raw, list):
            self.problem("project", ("sources",), "sources must be a list of {key, table, observe}")
            return []
        from catchment.extra_deps import parse_table_text
        from catchment.sources import external_source

        out: list[AssetsDefinition] = []
        for i, item in enumerate(raw):
            path = ("sources", i)
            entry: _Source | None = None
            try:
                entry = _Source.model_validate(self.render(item, path))
                table = (
                    parse_table_text(entry.table, defaults.warehouse, self.located.where(path))
                    if entry.table
                    else None
                )
                observe = _source_observe(entry.observe, defaults) if entry.observe else None
                out.append(
                    external_source(
                        entry.key,
                        table=table,
                        observe=observe,
                        description=entry.description,
                        group=entry.group,
                        source=self.located.where(path),
                    )
                )
            except ValidationError as exc:
                self.invalid(exc, "project", path, f"sources[{i}]", _Source, 2)
            except CatchmentError as exc:
                at = (*path, "observe") if entry is not None and entry.observe else path
                self.problems.append(
                    Problem("project", self.located.where(at), exc.message, exc.hint)
                )
        return out

    def source_resources(
        self, definitions: Sequence[AssetsDefinition], data: Mapping[str, Any]
    ) -> None:
        """A problem for each source whose query names a resource the project lacks (declared
        in YAML or in Python): caught at load, not at the first observation."""
        raw = data.get("resources")
        names = sorted(str(n) for n in raw) if isinstance(raw, dict) else []
        from catchment.graph import SOURCE_ADAPTER

        for definition in definitions:
            if definition.adapter != SOURCE_ADAPTER:
                continue
            for spec in definition.specs:
                how = spec.metadata.get("observe")
                name = how.get("resource") if isinstance(how, Mapping) else None
                if name and str(name) not in names:
                    self.problems.append(
                        Problem(
                            "project",
                            definition.source or self.located.display,
                            f"source {spec.key}: observe.resource names no resource {name!r}",
                            f"add {name} under resources: in catchment.yaml, or name one of: "
                            f"{', '.join(names) or '(none declared)'}",
                        )
                    )

    def _unknown_type(self, kind: str, known: Sequence[str]) -> str:
        return f"known {kind}s: {', '.join(sorted(known)) or '(none)'}"

    def resources(self, data: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, entry in self.typed_entries(data, "resources").items():
            path = ("resources", name)
            cls = self.registry.resource_types.get(entry.type)
            if cls is None:
                self.problem(
                    "project",
                    (*path, "type"),
                    f"resource {name!r}: unknown resource type {entry.type!r}",
                    self._missing_type_hint(
                        entry.type, "resource type", list(self.registry.resource_types)
                    ),
                )
                continue
            config = self._config("resources", name, entry)
            if config is None:
                continue
            try:
                validate = getattr(cls, "model_validate", None)
                out[name] = validate(config) if validate is not None else cls(**config)
            except ValidationError as exc:
                self.invalid(exc, "project", (*path, "config"), f"resource {name!r}: ", cls, 2)
            except Exception as exc:
                self._failed("project", path, f"resource {name!r}", exc)
        return out

    def io_managers(self, data: Mapping[str, Any], defaults: ProjectDefaults) -> dict[str, Any]:
        entries = self.typed_entries(data, "io_managers")
        out: dict[str, Any] = {}
        if "default" not in entries:
            entries = {"default": _Typed(type="duckdb"), **entries}
        for name, entry in entries.items():
            path = ("io_managers", name)
            factory = self.registry.io_manager_types.get(entry.type)
            if factory is None:
                self.problem(
                    "project",
                    (*path, "type"),
                    f"IO manager {name!r}: unknown IO manager type {entry.type!r}",
                    self._unknown_type("IO manager type", list(self.registry.io_manager_types)),
                )
                continue
            config = self._config("io_managers", name, entry)
            if config is None:
                continue
            try:
                out[name] = factory(config, defaults)
            except ValidationError as exc:
                self.invalid(exc, "project", (*path, "config"), f"IO manager {name!r}: ", None, 2)
            except Exception as exc:
                self._failed("project", path, f"IO manager {name!r}", exc)
        return out

    def _failed(
        self, kind: ProblemKind, path: Sequence[str | int], subject: str, exc: Exception
    ) -> None:
        if isinstance(exc, CatchmentError):
            where = self.located.where(path)
            if exc.where and exc.where.startswith(self.located.display):
                where = exc.where
            elif exc.where:
                where += f" ({exc.where})"
            self.problems.append(Problem(kind, where, f"{subject}: {exc.message}", exc.hint))
            return
        self.problem(
            kind,
            path,
            f"{subject}: {type(exc).__name__}: {exc}{_origin(exc)}",
            _install_hint(exc) or "run with CATCHMENT_DEBUG=1 for the traceback",
        )
        if os.environ.get("CATCHMENT_DEBUG"):
            raise exc

    def _exited(
        self, kind: ProblemKind, path: Sequence[str | int], subject: str, exc: BaseException
    ) -> None:
        """A problem for code that called ``sys.exit`` or raised ``KeyboardInterrupt`` while
        loading (not a Ctrl-C the user typed): it would otherwise end the command silently."""
        what = (
            f"called sys.exit({exc.code!r})"
            if isinstance(exc, SystemExit)
            else "raised KeyboardInterrupt"
        )
        self.problem(
            kind,
            path,
            f"{subject}: its code {what} while loading{_origin(exc)}",
            "a module must not exit at import; move that code under `if __name__ == '__main__':`",
        )

    def components(
        self,
        data: Mapping[str, Any],
        defaults: ProjectDefaults,
        resources: Mapping[str, Any],
        only: Collection[str] | None = None,
    ) -> tuple[list[AssetsDefinition], dict[str, str]]:
        """Build every enabled component (those named in ``only``, when given)."""
        raw = data.get("components") or []
        if not isinstance(raw, list):
            self.problem("project", ("components",), "components must be a list")
            return [], {}
        definitions: list[AssetsDefinition] = []
        names: dict[str, str] = {}
        for i, entry in enumerate(raw):
            path: tuple[str | int, ...] = ("components", i)
            if only is not None and not (isinstance(entry, dict) and entry.get("name") in only):
                continue
            if isinstance(entry, dict) and "enabled" in entry:
                try:
                    entry = {**entry, "enabled": self.render(entry["enabled"], (*path, "enabled"))}
                except ConfigError as exc:
                    self.problems.append(
                        Problem("component", exc.where or "", exc.message, exc.hint)
                    )
                    continue
            try:
                comp = _Component.model_validate(entry)
            except ValidationError as exc:
                self.invalid(exc, "component", path, f"component #{i + 1}: ", _Component, 2)
                continue
            if not comp.enabled:
                continue
            subject = f"component {comp.name!r}"
            if comp.name in names:
                self.problem(
                    "component",
                    (*path, "name"),
                    f"{subject} is defined twice",
                    "component names are unique in a project; rename one of the two",
                )
                continue
            ct = self.registry.component_types.get(comp.type)
            if ct is None:
                self.problem(
                    "component",
                    (*path, "type"),
                    f"{subject}: unknown component type {comp.type!r}",
                    self._missing_type_hint(
                        comp.type, "component type", list(self.registry.component_types)
                    ),
                )
                continue
            built = self._build(comp, ct, path, subject, defaults, resources)
            if built is not None and comp.timeout is not None:
                limit = self.timeout(comp.timeout, (*path, "timeout"))
                built = [d.replace(timeout=limit) for d in built] if limit else None
            if built is not None and comp.pool is not None:
                built = [  # an asset's own pool wins over its component's
                    d
                    if d.pool is not None
                    else d.replace(pool=comp.pool, pool_slots=comp.pool_slots)
                    for d in built
                ]
            if built is not None:
                names[comp.name] = comp.type
                definitions.extend(self._automation(comp, path, subject, built, defaults.warehouse))
        return definitions, names

    def _automation(
        self,
        comp: _Component,
        path: tuple[str | int, ...],
        subject: str,
        built: list[AssetsDefinition],
        warehouse: Path,
    ) -> list[AssetsDefinition]:
        """``built`` with the component's automation settings and its ``assets:`` overrides
        (automation, extra ``deps`` and ``reads``)."""

        def report(at: Sequence[str | int], message: str, hint: str | None) -> None:
            self.problem("component", at, f"{subject}: {message}", hint)

        settings = component_settings(
            comp, path, self.render, self.located.where, report, warehouse
        )
        return apply_settings(built, settings, report)

    def freshness_rules(
        self, data: Mapping[str, Any]
    ) -> list[tuple[FreshnessRule, tuple[str | int, ...]]]:
        """The project's ``freshness:`` section: a list of {select, max_lag, cron, timezone}."""
        raw = data.get("freshness")
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(
                "project",
                ("freshness",),
                "freshness must be a list of {select, max_lag, cron, timezone}",
                "e.g. freshness: [{select: 'group:marts', max_lag: 36h}]",
            )
            return []
        out: list[tuple[FreshnessRule, tuple[str | int, ...]]] = []
        for i, item in enumerate(raw):
            at: tuple[str | int, ...] = ("freshness", i)
            try:
                out.append((FreshnessRule.model_validate(self.render(item, at)), at))
            except ConfigError as exc:
                self.problems.append(Problem("project", exc.where or "", exc.message, exc.hint))
            except ValidationError as exc:
                self.invalid(exc, "project", at, "freshness: ", FreshnessRule, 0)
        return out

    def project_freshness(
        self,
        graph: AssetGraph,
        definitions: list[AssetsDefinition],
        rules: list[tuple[FreshnessRule, tuple[str | int, ...]]],
    ) -> list[AssetsDefinition] | None:
        def report(at: Sequence[str | int], message: str, hint: str | None) -> None:
            self.problem("project", at, f"freshness: {message}", hint)

        return apply_freshness_rules(graph, definitions, rules, self.located.where, report)

    def _missing_type_hint(self, type_name: str, kind: str, registered: Sequence[str]) -> str:
        """Why ``type_name`` is not served: its adapter's status, or how to install it."""
        known = self._unknown_type(kind, registered)
        tool = re.split(r"[._\-/]", type_name)[0].lower()
        dist = f"catchment-{tool}"
        for rec in self.registry.adapters:
            if rec.name == tool or rec.distribution == dist:
                if rec.status != "ok":
                    return f"adapter {rec.label} is {rec.status}: {rec.error} ({known})"
                return f"adapter {rec.name} does not serve it; {known}"
        return f"{known}; if it comes from an adapter, `pip install {dist}`"

    def _build(
        self,
        comp: _Component,
        ct: ComponentType,
        path: tuple[str | int, ...],
        subject: str,
        defaults: ProjectDefaults,
        resources: Mapping[str, Any],
    ) -> list[AssetsDefinition] | None:
        attr_path = (*path, "attributes")
        try:
            attrs_raw = self.render(comp.attributes, attr_path)
        except ConfigError as exc:
            self.problems.append(
                Problem("component", exc.where or "", f"{subject}: {exc.message}", exc.hint)
            )
            return None
        try:
            attrs = ct.attributes.model_validate(attrs_raw)
        except ValidationError as exc:
            self.invalid(
                exc, "component", attr_path, f"{subject} ({comp.type}): ", ct.attributes, 2
            )
            return None
        source = f"{self.located.where(path)} (component {comp.name})"
        context = ComponentContext(
            name=comp.name, project=defaults, source=source, resources=dict(resources)
        )
        try:
            result: Any = ct.build(attrs, context)
        except Exception as exc:
            self._failed("component", path, f"{subject} ({comp.type}) failed to build", exc)
            return None
        except (SystemExit, KeyboardInterrupt) as exc:
            if _SIGINT.typed:
                raise
            self._exited("component", path, f"{subject} ({comp.type}) failed to build", exc)
            return None
        adapter = ct.adapter or "unknown"
        if not isinstance(result, list | tuple):
            self.problem(
                "component",
                path,
                f"{subject}: adapter {adapter} returned {type(result).__name__} from build, "
                "expected a list of AssetsDefinition",
                "report this to the adapter's authors",
            )
            return None
        out: list[AssetsDefinition] = []
        for d in result:
            if not isinstance(d, AssetsDefinition):
                self.problem(
                    "component",
                    path,
                    f"{subject}: adapter {adapter} built a {type(d).__name__}, expected "
                    "AssetsDefinition",
                    "report this to the adapter's authors",
                )
                return None
            changes: dict[str, Any] = {}
            if not d.component:
                changes["component"] = comp.name
            if not d.source:
                changes["source"] = source
            out.append(d.replace(**changes) if changes else d)
        return out

    def graph(
        self, definitions: Sequence[AssetsDefinition], io_managers: Mapping[str, Any]
    ) -> AssetGraph | None:
        from catchment.graph import AssetGraph

        def io_tables(spec: AssetSpec) -> TableRef | None:
            manager = io_managers.get(spec.io_manager_key or "default")
            table_for = getattr(manager, "table_for", None)
            if table_for is None:
                return None
            try:
                table: TableRef | None = table_for(spec.key)
            except Exception:
                return None
            return table

        try:
            return AssetGraph.build(definitions, io_tables=io_tables)
        except GraphError as exc:
            for p in exc.problems:
                self.problems.append(Problem("graph", _display(self.located.file), p, exc.hint))
        except CatchmentError as exc:
            self.problems.append(
                Problem("graph", exc.where or _display(self.located.file), exc.message, exc.hint)
            )
        return None

    def control(
        self, data: Mapping[str, Any], graph: AssetGraph | None
    ) -> tuple[list[ScheduleDefinition], list[SensorDefinition]]:
        """The ``schedules:`` and ``sensors:`` sections (their targets checked on ``graph``)."""
        if not data.get("schedules") and not data.get("sensors"):
            return [], []
        from catchment.project.control import ControlLoader, check_targets

        def report(path: Sequence[str | int], message: str, hint: str | None) -> None:
            self.problem("project", path, message, hint)

        control = ControlLoader(data, self.root, self.located.where, report, self.render)
        schedules, sensors = control.schedules(), control.sensors()
        if graph is not None:
            for where, message, hint in check_targets(graph, [*schedules, *sensors]):
                self.problems.append(Problem("project", where, message, hint or None))
        return schedules, sensors


_EXTRAS = {"pandas": "pandas", "pyarrow": "pandas", "polars": "polars", "psycopg": "postgres"}


_PASSWORD = re.compile(r"://[^:@/\s]*:[^@/\s]+@")


def _source_observe(observe: Mapping[str, Any], defaults: ProjectDefaults) -> dict[str, Any]:
    """A source's ``observe`` as kept in its spec: a query without a connection reads the
    project's warehouse; a PostgreSQL URL comes from an environment variable (the spec is
    shown and cached: no password in it)."""
    out = dict(observe)
    if "sql" in out and not any(out.get(k) for k in ("connection", "connection_env", "resource")):
        out["connection"] = str(defaults.warehouse)
    if _PASSWORD.search(str(out.get("connection") or "")):
        raise ConfigError(
            "observe.connection holds a password",
            hint="put the URL in an environment variable and write connection_env: ITS_NAME",
        )
    return out


def _install_hint(exc: BaseException) -> str | None:
    """What to install when project code imports a package this environment lacks."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.partition(".")[0]
    extra = _EXTRAS.get(top)
    if extra is not None:
        return f"pip install 'catchment[{extra}]'"
    return f"install {top} into this environment (pip install {top})"


class _SigintWatch:
    """Tells a Ctrl-C the user typed during a load from a ``KeyboardInterrupt`` that project
    code raised itself: while installed, the SIGINT handler marks ``typed`` before raising."""

    def __init__(self) -> None:
        self.typed = False
        self.depth = 0

    def _handler(self, signum: int, frame: Any) -> None:
        self.typed = True
        raise KeyboardInterrupt

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Install the handler for the ``with`` block (main thread only; nesting is fine)."""
        if threading.current_thread() is not threading.main_thread() or self.depth:
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
            return
        previous = signal.getsignal(signal.SIGINT)
        if previous is not signal.default_int_handler:
            yield  # someone else owns Ctrl-C (a test runner, an embedding app): leave it
            return
        self.typed = False
        self.depth += 1
        signal.signal(signal.SIGINT, self._handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
            self.depth -= 1


_SIGINT = _SigintWatch()


def _origin(exc: BaseException) -> str:
    """`` (at file:line)`` of the innermost frame, to point at the user's code."""
    tb = exc.__traceback__
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" (at {exc.filename}:{exc.lineno})"
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f" (at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno})" if tb is not None else ""


def _read(path: Path | str | None) -> Located:
    """The project file at ``path``, parsed; a ``ConfigError`` unless it is a YAML mapping."""
    file = _locate(path)
    located = load_yaml(file, display=_display(file))
    if not isinstance(located.data, dict):
        raise ConfigError(
            f"{PROJECT_FILE} must be a mapping with `project:`, `components:`, ...",
            where=located.where(),
            hint="start from `catchment new project NAME`",
        )
    return located


def load_defaults(path: Path | str | None = None) -> ProjectDefaults:
    """Only the project's defaults (folder, warehouse, run store), read without importing
    adapters or building components: what commands that only read run records need.
    Like :func:`load_project`, a broken ``defaults:`` section falls back to the defaults."""
    located = _read(path)
    return _Loader(located, None).defaults(located.data)


def load_project(
    path: Path | str | None = None, *, registry: PluginRegistry | None = None
) -> Project:
    """Load the project at ``path`` (a folder or its ``catchment.yaml``; None = cwd).

    ``registry`` defaults to the process's adapters (:func:`catchment.plugins.get_registry`).
    Raises ``ConfigError`` only when the file cannot be read as a YAML mapping.
    """
    with _SIGINT.watching():
        return _load_project(path, registry)


def _named_types(data: Mapping[str, Any]) -> list[str]:
    """The types ``catchment.yaml`` names (``kind:name``, as the registry's ``owners`` spell
    them): what a load needs its adapters for."""
    out: list[str] = []
    components = data.get("components")
    for entry in components if isinstance(components, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("type"), str):
            out.append(f"component type:{entry['type']}")
    for section, kind in (("resources", "resource type"), ("io_managers", "IO manager type")):
        entries = data.get(section)
        for entry in entries.values() if isinstance(entries, dict) else ():
            if isinstance(entry, dict) and isinstance(entry.get("type"), str):
                out.append(f"{kind}:{entry['type']}")
    return out


def _registry_for(located: Located) -> PluginRegistry:
    """The process's adapters, at least those the project names (see ``adapter_index``)."""
    from catchment.plugins import registry_for

    return registry_for(_named_types(located.data))


def _load_project(path: Path | str | None, registry: PluginRegistry | None) -> Project:
    located = _read(path)
    file, data = located.file, located.data
    registry = registry or _registry_for(located)
    loader = _Loader(located, registry)
    for rec in registry.broken:
        loader.problems.append(
            Problem("adapter", f"adapter {rec.label}", f"{rec.status}: {rec.error}", rec.hint)
        )
    for key in data:
        if key not in _SECTIONS:
            loader.problem(
                "project", (str(key),), f"unknown section {key!r}", f"known: {', '.join(_SECTIONS)}"
            )
    name = _project_name(loader, data)
    defaults = loader.defaults(data)
    resources = loader.resources(data)
    io_managers = loader.io_managers(data, defaults)
    definitions, components = loader.components(data, defaults, resources)
    definitions = [*definitions, *loader.sources(data, defaults)]
    loader.source_resources(definitions, data)
    graph = loader.graph(definitions, io_managers)
    rules = loader.freshness_rules(data)
    if graph is not None and rules:
        with_policies = loader.project_freshness(graph, definitions, rules)
        if with_policies is not None:
            definitions = with_policies
            graph = loader.graph(definitions, io_managers)
    schedules, sensors = loader.control(data, graph)
    if graph is not None:
        for adapter, reason in registry.graph_rejections(graph):
            loader.problems.append(
                Problem(
                    "graph",
                    f"adapter {adapter}",
                    reason,
                    "a policy (catchment_graph_built) rejected the graph",
                )
            )
    return Project(
        root=loader.root,
        file=file,
        name=name,
        defaults=defaults,
        registry=registry,
        definitions=tuple(definitions),
        graph=graph,
        problems=loader.problems,
        resources=resources,
        io_managers=io_managers,
        components=components,
        schedules=tuple(schedules),
        sensors=tuple(sensors),
    )


def load_observing(
    path: Path | str | None, components: Collection[str], *, registry: PluginRegistry | None = None
) -> Project:
    """What observing needs besides a graph (which a definitions snapshot gives): the
    resources, the IO managers and the definitions of ``components`` only (those whose
    definitions carry observers). No graph is built; problems are collected as by
    :func:`load_project`."""
    with _SIGINT.watching():
        located = _read(path)
        data = located.data
        registry = registry or _registry_for(located)
        loader = _Loader(located, registry)
        defaults = loader.defaults(data)
        resources = loader.resources(data)
        io_managers = loader.io_managers(data, defaults)
        definitions, names = (
            loader.components(data, defaults, resources, only=components)
            if components
            else ([], {})
        )
        return Project(
            root=loader.root,
            file=located.file,
            name=_project_name(loader, data),
            defaults=defaults,
            registry=registry,
            definitions=tuple(definitions),
            problems=loader.problems,
            resources=resources,
            io_managers=io_managers,
            components=names,
        )


def _project_name(loader: _Loader, data: Mapping[str, Any]) -> str:
    raw = data.get("project")
    if isinstance(raw, str) and raw:
        return raw
    if raw is None:
        loader.problem("project", (), "missing `project:` section", "add `project: {name: NAME}`")
        return loader.root.name
    section: _ProjectSection | None = loader.section(data, "project", _ProjectSection)
    return section.name if section is not None else loader.root.name
