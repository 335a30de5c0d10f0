"""The functions of a Modal app as assets, one definition each.

```yaml
- type: modal
  name: ml_jobs
  attributes:
    app: jobs/ml_app.py:app          # or package.module:app
    mode: local                      # local (default) | remote
    functions: [score_customers]     # default: those marked with @asset_spec or under specs
    specs:
      score_customers:
        key: ml/customer_scores
        reads: [duckdb:main.mart_customer_ltv]
        writes: duckdb:ml.customer_scores
        group: ml
        owners: [ml@example.com]
        checks: [scores_in_range]
```
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from catchment.components import ComponentContext, ProjectDefaults
from catchment.context import StepContext
from catchment.definitions import AssetsDefinition
from catchment.errors import ConfigError
from catchment.keys import AssetKey
from catchment.results import StepResult
from catchment.specs import AssetSpec, CheckSpec, RetryPolicy, spec

from catchment_modal.attributes import Check, ModalAttributes, Retry
from catchment_modal.discovery import LoadedApp, ModalFunction, load_app
from catchment_modal.execution import Invocation, run_function
from catchment_modal.identity import resolve_identity

MODAL_INT_RETRY_DELAY = 1.0
"""Modal waits 1 s between retries given as an int (``retries=3``); ``Function.info()`` reports
only the count, so this is the default delay (override with ``retry:``)."""


def modal_definitions(
    attributes: ModalAttributes, context: ComponentContext
) -> list[AssetsDefinition]:
    """Declare the app's asset functions without calling them (discovery is offline)."""
    where = f"{context.source} attributes"
    loaded = load_app(attributes.app, root=context.root, where=f"{where}.app")
    names = _selected(attributes, loaded, where)
    if attributes.mode == "remote" and not (attributes.app_name or loaded.name):
        raise ConfigError(
            f"app {attributes.app!r} has no name, so its deployment cannot be looked up",
            where=f"{where}.app_name",
            hint='name the app (modal.App("name")) or set app_name:',
        )
    return [_definition(loaded.functions[n], attributes, loaded, context, where) for n in names]


def modal_assets(
    app: str,
    *,
    root: str | Path = ".",
    warehouse: str | Path | None = None,
    name: str = "modal",
    **attributes: Any,
) -> list[AssetsDefinition]:
    """The Python form of the component: ``modal_assets("jobs/app.py:app", mode="local")``.

    ``root`` is the project folder paths resolve against; ``warehouse`` the DuckDB file that
    ``duckdb:`` identities name (default: ``<root>/warehouse.duckdb``).
    """
    defaults = ProjectDefaults.for_root(Path(root))
    if warehouse is not None:
        defaults = ProjectDefaults(
            root=defaults.root,
            warehouse=Path(warehouse).expanduser().resolve(),
            storage_url=defaults.storage_url,
        )
    attrs = ModalAttributes.model_validate({"app": app, **attributes})
    context = ComponentContext(name=name, project=defaults, source=f"component {name}")
    return modal_definitions(attrs, context)


def _selected(attrs: ModalAttributes, loaded: LoadedApp, where: str) -> list[str]:
    available = sorted(loaded.functions)
    shown = ", ".join(available) or "none"
    unknown_specs = sorted(set(attrs.specs) - set(available))
    if unknown_specs:
        raise ConfigError(
            f"specs names {', '.join(unknown_specs)}, not a function of app {attrs.app!r} "
            f"(its functions: {shown})",
            where=f"{where}.specs.{unknown_specs[0]}",
            hint="use the names of functions defined with @app.function in the app's module",
        )
    if attrs.functions == "*":
        return available
    if attrs.functions is not None:
        missing = [n for n in attrs.functions if n not in loaded.functions]
        if missing:
            raise ConfigError(
                f"function {missing[0]!r} is not in app {attrs.app!r} (its functions: {shown})",
                where=f"{where}.functions",
                hint="list functions defined with @app.function in the app's module",
            )
        return list(dict.fromkeys(attrs.functions))
    marked = [n for n in available if loaded.functions[n].spec is not None or n in attrs.specs]
    if not marked:
        raise ConfigError(
            f"no function of app {attrs.app!r} is marked as an asset (its functions: {shown})",
            where=f"{where}.functions",
            hint="decorate them with @catchment_modal.asset_spec(...), list them under "
            "functions:, or give them specs:",
        )
    return marked


def _merged(fn: ModalFunction, attrs: ModalAttributes) -> dict[str, Any]:
    """The decorator's spec overlaid with the YAML one (fields set in YAML win)."""
    merged: dict[str, Any] = fn.spec.as_dict() if fn.spec is not None else {}
    override = attrs.specs.get(fn.name)
    if override is not None:
        for name in override.model_fields_set:
            value = getattr(override, name)
            merged[name] = (
                value.model_dump(exclude_unset=True) if name == "retry" and value else value
            )
    return merged


def _prefix(attrs: ModalAttributes) -> tuple[str, ...]:
    p = attrs.key_prefix
    return () if p is None else (p,) if isinstance(p, str) else tuple(p)


def _key(fn: ModalFunction, merged: Mapping[str, Any], attrs: ModalAttributes) -> AssetKey:
    raw = merged.get("key")
    base = AssetKey((fn.name,)) if raw is None else AssetKey.parse(raw)
    return AssetKey((*_prefix(attrs), *base.path))


def _checks(key: AssetKey, raw: Sequence[Any], where: str) -> list[CheckSpec]:
    out = []
    for item in raw:
        if not isinstance(item, str | Check | Mapping):
            raise ConfigError(f"check {item!r} is not a name or a mapping", where=where)
        try:
            check = (
                Check(name=item)
                if isinstance(item, str)
                else item
                if isinstance(item, Check)
                else Check.model_validate(item)
            )
        except ValueError as exc:
            raise ConfigError(f"check {item!r} is invalid: {exc}", where=where) from None
        out.append(
            CheckSpec(
                name=check.name,
                asset=key,
                severity=check.severity,
                description=check.description,
                blocking=check.blocking,
            )
        )
    return out


def _retry(fn: ModalFunction, merged: Mapping[str, Any], mode: str) -> RetryPolicy | None:
    """Modal's retries as the asset's policy (local mode); in remote mode Modal retries the
    call itself, so the engine retries only when ``retry:`` asks it to."""
    given = merged.get("retry")
    override = Retry.model_validate(given) if given is not None else None
    if mode == "remote" and override is None:
        return None
    max_retries = fn.max_retries or 0
    if override is not None and override.max_retries is not None:
        max_retries = override.max_retries
    if max_retries == 0:
        return None
    delay = override.delay if override and override.delay is not None else MODAL_INT_RETRY_DELAY
    backoff = override.backoff if override and override.backoff is not None else 1.0
    return RetryPolicy(max_retries=max_retries, delay=delay, backoff=backoff)


def _definition(
    fn: ModalFunction,
    attrs: ModalAttributes,
    loaded: LoadedApp,
    context: ComponentContext,
    where: str,
) -> AssetsDefinition:
    merged = _merged(fn, attrs)
    field_where = f"{where}.specs.{fn.name}"
    key = _key(fn, merged, attrs)
    root, warehouse = context.root, context.project.warehouse
    reads = tuple(
        resolve_identity(r, root=root, warehouse=warehouse, where=f"{field_where}.reads")
        for r in merged.get("reads") or ()
    )
    writes = merged.get("writes")
    table = (
        None
        if writes is None
        else resolve_identity(writes, root=root, warehouse=warehouse, where=f"{field_where}.writes")
    )
    metadata: dict[str, Any] = {
        "modal_app": attrs.app,
        "modal_function": fn.name,
        "modal_mode": attrs.mode,
        "modal_timeout": fn.timeout,
    }
    if fn.max_retries:
        metadata["modal_retries"] = fn.max_retries
    tags = dict(merged.get("tags") or {})
    if fn.schedule is not None:
        metadata["modal_schedule"] = fn.schedule.text
        metadata["automation"] = fn.schedule.as_metadata()
        tags.setdefault("schedule", fn.schedule.kind)
    metadata.update(merged.get("metadata") or {})
    if table is not None:
        metadata.setdefault("table", table.qualified_name)
    the_spec: AssetSpec = spec(
        key,
        deps=[AssetKey.parse(d) for d in merged.get("deps") or ()],
        description=merged.get("description") or fn.docstring,
        group=merged.get("group") or attrs.group,
        owners=merged.get("owners") or attrs.owners,
        tags=tags,
        kinds=("modal", table.system) if table is not None else ("modal",),
        metadata=metadata,
        code_version=fn.code_version,
        checks=_checks(key, merged.get("checks") or (), f"{field_where}.checks"),
        table=table,
        reads=reads,
    )
    invocation = Invocation(
        function_name=fn.name,
        function=fn.function,
        key=key,
        where=f"{context.source} function {fn.name}",
        mode=attrs.mode,
        app_name=attrs.app_name or loaded.name,
        environment=attrs.environment,
        kwargs=dict(merged.get("kwargs") or {}),
        extras={
            "function": fn.name,
            "asset_key": key.to_string(),
            "warehouse": str(warehouse),
            "project_root": str(root),
            "writes": table.to_dict() if table is not None else None,
            "reads": [r.to_dict() for r in reads],
        },
        timeout=attrs.timeout,
        log_wait=attrs.log_wait,
    )

    def compute(step: StepContext) -> Iterator[StepResult]:
        yield from run_function(step, invocation)

    return AssetsDefinition(
        name=f"{context.name}.{fn.name}",
        specs=(the_spec,),
        compute=compute,
        can_subset=False,
        retry=_retry(fn, merged, attrs.mode),
        source=f"{fn.where} (component {context.name})" if fn.where else context.source,
        component=context.name,
        adapter="modal",
        metadata={"app": attrs.app, "function": fn.name, "mode": attrs.mode},
    )
