"""Asset definitions: specs bound to ONE compute that can materialize any subset of them.

``@asset`` turns a plain function into a one-asset definition whose parameters name upstream
assets; ``@multi_asset`` serves many specs from one compute (how dbt, dlt and Sling run);
``@asset_check`` adds a check to an existing asset.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeAlias

import msgspec

from catchment.automation.conditions import AutomationCondition
from catchment.automation.expression import as_condition
from catchment.automation.policy import FreshnessPolicy
from catchment.context import StepContext
from catchment.errors import ConfigError, DefinitionError
from catchment.keys import AssetKey, CoercibleToKey
from catchment.partitions import PartitionScope, PartitionsDefinition
from catchment.results import (
    AssetFailure,
    AssetSkipped,
    CheckResult,
    MaterializeResult,
    Output,
    StepResult,
)
from catchment.specs import AssetDep, AssetSpec, CheckSpec, RetryPolicy, Severity, spec
from catchment.tables import TableRef
from catchment.timeouts import parse_timeout

__all__ = [
    "AssetsDefinition",
    "Compute",
    "asset",
    "asset_check",
    "code_version_of",
    "location_free",
    "multi_asset",
]

Compute: TypeAlias = Callable[[StepContext], Iterable[StepResult]]


def _pool_slots(value: int, where: str | None) -> int:
    """``pool_slots`` checked: a whole number of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"pool_slots must be a whole number >= 1, got {value!r}", where=where)
    return value


class AssetsDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """One compute and the specs (and checks) it can materialize.

    ``name`` is unique in a graph and names the step that runs it. ``can_subset`` says whether
    the compute can build any subset of its specs (otherwise a plan takes all of them).
    ``source`` says where it was defined (``file:line`` or ``catchment.yaml:12 (component x)``)
    so errors can point there.
    """

    name: str
    specs: tuple[AssetSpec, ...]
    compute: Compute
    check_specs: tuple[CheckSpec, ...] = ()
    can_subset: bool = False
    required_resources: frozenset[str] = frozenset()
    retry: RetryPolicy | None = None
    source: str | None = None
    component: str | None = None
    adapter: str = "python"
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)
    timeout: float | None = None  # seconds one attempt of the step may run (None: no limit)
    pool: str | None = None  # the pool whose slots the step holds while it runs
    pool_slots: int = 1  # how many of them (heavier steps take more)
    observers: tuple[Any, ...] = ()  # catchment.observation.Observer: its tables and sources
    # parameter name -> upstream key whose value the compute loads through an IO manager (an
    # @asset's or @asset_check's parameters): the graph refuses one that writes its own data
    inputs: Mapping[str, AssetKey] = msgspec.field(default_factory=dict)

    @property
    def keys(self) -> tuple[AssetKey, ...]:
        """The keys of the specs this compute materializes."""
        return tuple(s.key for s in self.specs)

    @property
    def all_check_specs(self) -> tuple[CheckSpec, ...]:
        """Checks this compute evaluates: those on its specs and those declared on it."""
        out = [c for s in self.specs for c in s.checks]
        out.extend(self.check_specs)
        return tuple(out)

    @property
    def label(self) -> str:
        """How errors name this definition."""
        where = self.source or self.component
        return f"{self.name} ({where})" if where else self.name

    def replace(self, **changes: Any) -> AssetsDefinition:
        """A copy with ``changes`` applied (definitions are immutable)."""
        return msgspec.structs.replace(self, **changes)

    def map_specs(self, fn: Callable[[AssetSpec], AssetSpec]) -> AssetsDefinition:
        """A copy whose specs are ``fn(spec)`` (adapters use it to set groups, tables...)."""
        return self.replace(specs=tuple(fn(s) for s in self.specs))


def code_version_of(fn: Callable[..., Any]) -> str | None:
    """A short hash of a function's source, so editing the code makes its asset stale."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return None
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def location_free(text: str, root: str | os.PathLike[str]) -> str:
    """``text`` with the project folder ``root`` written as ``<project>``: what an adapter
    hashes into a code version must not change when the project is copied or moved."""
    folder = os.fspath(root)
    for form in {os.path.realpath(folder), os.path.abspath(folder)}:
        if form and form != os.sep:
            text = text.replace(form, "<project>")
    return text


def _where(fn: Callable[..., Any]) -> str | None:
    code = getattr(fn, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code else None


_RESERVED_PARAMS = frozenset({"context"})


def asset(
    fn: Callable[..., Any] | None = None,
    *,
    key: CoercibleToKey | None = None,
    key_prefix: str | Sequence[str] | None = None,
    ins: Mapping[str, CoercibleToKey] | None = None,
    deps: Iterable[CoercibleToKey | AssetDep | AssetsDefinition] = (),
    description: str | None = None,
    group: str | None = None,
    owners: Iterable[str] = (),
    tags: Mapping[str, str] | None = None,
    kinds: Iterable[str] = ("python",),
    metadata: Mapping[str, Any] | None = None,
    code_version: str | None = None,
    partitions: PartitionsDefinition | None = None,
    io_manager_key: str | None = None,
    resources: Iterable[str] = (),
    table: TableRef | None = None,
    reads: Iterable[TableRef] = (),
    retry: RetryPolicy | None = None,
    timeout: float | str | None = None,
    pool: str | None = None,
    pool_slots: int = 1,
    automation: AutomationCondition | str | None = None,
    partition_scope: PartitionScope | str | int | None = None,
    freshness: FreshnessPolicy | str | float | Mapping[str, Any] | None = None,
    check_specs: Sequence[CheckSpec] = (),
) -> Any:
    """Declare a plain Python function as an asset.

    Each parameter names an upstream asset whose value the IO manager loads (``ins`` maps a
    parameter to another key); ``context`` receives the step context; parameters named in
    ``resources`` receive those resources. The return value is stored by the IO manager, unless
    the function returns a ``MaterializeResult`` (whose ``key`` it may leave out). A function
    annotated ``-> MaterializeResult`` or ``-> None`` writes its own data: without ``table=``
    it gets no IO-manager table, and downstream assets name it in ``deps``, not as a
    parameter. ``deps`` adds upstreams whose value is not loaded. The code version defaults to
    a hash of the function's source. ``timeout`` (seconds or ``"30m"``) limits each attempt of
    the step. ``automation`` (a condition such as ``eager()``), ``partition_scope`` and
    ``freshness`` tell the daemon when to materialize it and how old it may get.
    ``check_specs`` declares checks the function evaluates itself, returned as
    ``MaterializeResult(check_results=[CheckResult(check_name=..., passed=...)])`` (with one
    check declared, ``check_name`` may be left out).
    """

    def decorate(func: Callable[..., Any]) -> AssetsDefinition:
        limit = parse_timeout(timeout, where=_where(func))
        prefix: tuple[str, ...] = (
            ()
            if key_prefix is None
            else (key_prefix,)
            if isinstance(key_prefix, str)
            else tuple(key_prefix)
        )
        asset_key = AssetKey.parse(key) if key is not None else AssetKey((*prefix, func.__name__))
        resource_names = frozenset(resources)
        params = list(inspect.signature(func).parameters.values())
        input_keys: dict[str, AssetKey] = {}
        for p in params:
            if p.name in _RESERVED_PARAMS or p.name in resource_names:
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise DefinitionError(
                    f"@asset {func.__name__}: *args/**kwargs cannot name upstream assets",
                    where=_where(func),
                )
            target = (ins or {}).get(p.name)
            input_keys[p.name] = (
                AssetKey.parse(target) if target is not None else AssetKey((*prefix, p.name))
            )
        unknown_ins = set(ins or {}) - {p.name for p in params}
        if unknown_ins:
            raise DefinitionError(
                f"@asset {func.__name__}: ins names unknown parameters {sorted(unknown_ins)}",
                where=_where(func),
            )
        all_deps: list[CoercibleToKey | AssetDep] = [
            *input_keys.values(),
            *(_key_of(d, f"@asset {func.__name__}: deps") for d in deps),
        ]
        own_data = _own_data_annotation(func)
        the_spec = spec(
            asset_key,
            deps=all_deps,
            description=description or inspect.getdoc(func),
            group=group,
            owners=owners,
            tags=tags,
            kinds=kinds,
            metadata=metadata,
            code_version=code_version or code_version_of(func),
            partitions=partitions,
            io_manager_key=io_manager_key,
            table=table,
            reads=reads,
            automation=automation,
            partition_scope=partition_scope,
            freshness=freshness,
        )
        if own_data is not None:
            the_spec = the_spec.replace(writes_own_data=True)
        wants_context = any(p.name == "context" for p in params)

        def compute(context: StepContext) -> Iterator[StepResult]:
            kwargs: dict[str, Any] = {n: context.load_input(k) for n, k in input_keys.items()}
            kwargs.update({n: context.resources[n] for n in resource_names})
            if wants_context:
                kwargs["context"] = context
            value = func(**kwargs)
            if own_data is not None:
                yield _own_result(asset_key, value, own_data, func)
            else:
                yield from _results_of(asset_key, value)

        return AssetsDefinition(
            name=asset_key.to_string(),
            specs=(the_spec,),
            compute=compute,
            required_resources=resource_names,
            retry=retry,
            source=_where(func),
            metadata={"python_function": f"{func.__module__}.{func.__qualname__}"},
            timeout=limit,
            pool=pool,
            pool_slots=_pool_slots(pool_slots, _where(func)),
            inputs=input_keys,
            check_specs=tuple(check_specs),
        )

    return decorate(fn) if fn is not None else decorate


# Return annotations (as written, not evaluated) that say a function writes its own data.
_OWN_DATA_ANNOTATIONS = frozenset(
    {"MaterializeResult", "catchment.MaterializeResult", "catchment.results.MaterializeResult"}
)


def _own_data_annotation(func: Callable[..., Any]) -> str | None:
    """``"MaterializeResult"`` or ``"None"`` when ``func`` is annotated to return that (the
    Dagster rule: such an asset writes its data itself and hands nothing to an IO manager);
    ``None`` for any other or no annotation. Strings (``from __future__ import annotations``)
    are read as text, never evaluated."""
    annotation = getattr(func, "__annotations__", {}).get("return", inspect.Parameter.empty)
    if annotation is None or annotation is type(None):
        return "None"
    if annotation is MaterializeResult:
        return "MaterializeResult"
    if isinstance(annotation, str):
        text = annotation.strip().strip("'\"")  # -> "MaterializeResult" quoted, too
        if text == "None":
            return "None"
        if text in _OWN_DATA_ANNOTATIONS:
            return text
    return None


def _own_result(key: AssetKey, value: Any, annotation: str, func: Callable[..., Any]) -> StepResult:
    """What an asset that writes its own data returned, as its result: a ``MaterializeResult``
    (its key filled in), a failure or skip, or nothing (materialized, no metadata). A value
    for an IO manager is refused: the asset has none that would store it."""
    if value is None:
        return MaterializeResult(key=key)
    if isinstance(value, MaterializeResult | AssetFailure | AssetSkipped):
        return value if value.key is not None else msgspec.structs.replace(value, key=key)
    raise DefinitionError(
        f"asset {key} returned a {type(value).__name__} value, but its return annotation "
        f"-> {annotation} says it writes its own data: no IO manager stores a returned value",
        where=_where(func),
        hint="write the data in the function and return MaterializeResult(metadata={...}), "
        "or annotate the value's type so the IO manager stores it",
    )


def _results_of(key: AssetKey, value: Any) -> Iterator[StepResult]:
    if isinstance(value, MaterializeResult | AssetFailure | AssetSkipped | Output):
        yield value if value.key is not None else msgspec.structs.replace(value, key=key)
    elif inspect.isgenerator(value):
        yield from value
    else:
        yield Output(key=key, value=value)


def multi_asset(
    *,
    specs: Sequence[AssetSpec],
    name: str | None = None,
    can_subset: bool = True,
    check_specs: Sequence[CheckSpec] = (),
    resources: Iterable[str] = (),
    retry: RetryPolicy | None = None,
    adapter: str = "python",
    timeout: float | str | None = None,
    automation: AutomationCondition | str | None = None,
    pool: str | None = None,
    pool_slots: int = 1,
) -> Callable[[Compute], AssetsDefinition]:
    """Bind many specs to one compute ``fn(context)`` that yields a result per selected asset
    (``timeout``: seconds or ``"30m"`` for each attempt of the step; ``automation``: the
    condition of every spec that declares none of its own)."""

    def decorate(func: Compute) -> AssetsDefinition:
        _check_specs(specs, f"@multi_asset {name or func.__name__}", _where(func))
        limit = parse_timeout(timeout, where=_where(func))
        condition = as_condition(automation, _where(func))
        return AssetsDefinition(
            name=name or func.__name__,
            specs=tuple(
                s.replace(automation=condition)
                if condition is not None and s.automation is None
                else s
                for s in specs
            ),
            compute=func,
            check_specs=tuple(check_specs),
            can_subset=can_subset,
            required_resources=frozenset(resources),
            retry=retry,
            source=_where(func),
            adapter=adapter,
            timeout=limit,
            pool=pool,
            pool_slots=_pool_slots(pool_slots, _where(func)),
        )

    return decorate


def _check_specs(specs: Sequence[AssetSpec], label: str, where: str | None) -> None:
    """``AssetSpec(key="orders")`` type-checks loosely at runtime; catch it here, not as a
    traceback deep in the graph."""
    hint = "build specs with catchment.spec('raw/orders', deps=[...]), which parses keys"
    for s in specs:
        if not isinstance(s, AssetSpec):
            raise DefinitionError(
                f"{label}: specs must be AssetSpec objects, got a {type(s).__name__}",
                where=where,
                hint=hint,
            )
        if not isinstance(s.key, AssetKey):
            raise DefinitionError(
                f"{label}: spec key {s.key!r} is a {type(s.key).__name__}, not an AssetKey",
                where=where,
                hint=hint,
            )
        bad = [d for d in s.deps if not isinstance(d, AssetDep)]
        if bad:
            raise DefinitionError(
                f"{label}: spec {s.key} has deps {bad!r} that are not AssetDep objects",
                where=where,
                hint=hint,
            )


def _key_of(
    value: CoercibleToKey | AssetDep | AssetsDefinition, label: str
) -> CoercibleToKey | AssetDep:
    """The key an asset definition stands for where a key is expected (``deps=[orders]``,
    ``@asset_check(asset=orders)``, as in Dagster); anything else unchanged."""
    if not isinstance(value, AssetsDefinition):
        return value
    if len(value.keys) != 1:
        raise DefinitionError(
            f"{label}: {value.name!r} materializes {len(value.keys)} assets, so it names no "
            "single one",
            where=value.source,
            hint='name the asset by its key instead, e.g. "raw/orders"',
        )
    return value.keys[0]


def asset_check(
    fn: Callable[..., Any] | None = None,
    *,
    asset: CoercibleToKey | AssetsDefinition,
    name: str | None = None,
    severity: Severity = "error",
    description: str | None = None,
    blocking: bool = True,
    resources: Iterable[str] = (),
    timeout: float | str | None = None,
) -> Any:
    """Declare a check on ``asset``. The function receives the asset's value (first parameter,
    unless it is ``context``; an asset writing its own data has none, so takes no parameter) and
    returns a bool or a ``CheckResult`` (whose ``asset_key`` and ``check_name`` it may leave
    out: they are this check's)."""

    def decorate(func: Callable[..., Any]) -> AssetsDefinition:
        target = _key_of(asset, f"@asset_check {name or func.__name__}: asset")
        asset_key = AssetKey.parse(target) if not isinstance(target, AssetDep) else target.key
        check = CheckSpec(
            name=name or func.__name__,
            asset=asset_key,
            severity=severity,
            description=description or inspect.getdoc(func),
            blocking=blocking,
        )
        resource_names = frozenset(resources)
        params = [p.name for p in inspect.signature(func).parameters.values()]
        value_params = [p for p in params if p != "context" and p not in resource_names]
        if len(value_params) > 1:
            raise DefinitionError(
                f"@asset_check {check.name}: takes at most one value parameter, got {value_params}",
                where=_where(func),
            )

        def compute(context: StepContext) -> Iterator[StepResult]:
            kwargs: dict[str, Any] = {n: context.resources[n] for n in resource_names}
            if "context" in params:
                kwargs["context"] = context
            if value_params:
                kwargs[value_params[0]] = context.load_input(asset_key)
            outcome = func(**kwargs)
            if isinstance(outcome, CheckResult):
                yield outcome
            else:
                yield CheckResult(
                    asset_key=asset_key,
                    check_name=check.name,
                    passed=bool(outcome),
                    severity=severity,
                )

        return AssetsDefinition(
            name=check.id,
            specs=(),
            compute=compute,
            check_specs=(check,),
            required_resources=resource_names,
            source=_where(func),
            timeout=parse_timeout(timeout, where=_where(func)),
            inputs={value_params[0]: asset_key} if value_params else {},
        )

    return decorate(fn) if fn is not None else decorate
