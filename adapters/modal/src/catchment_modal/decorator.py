"""``@asset_spec``: the function's author says which asset a Modal function builds.

Standard library only, so an app file that uses it imports nothing heavy (and a Modal container
needs no more than this package). The spec is stored as plain data and resolved into catchment
identities at discovery, against the project's warehouse. Stack it either way::

    @app.function(schedule=modal.Cron("0 6 * * *"))
    @asset_spec(key="ml/scores", reads=["duckdb:main.orders"], writes="duckdb:ml.scores")
    def score(): ...

    @asset_spec(key="ml/scores")          # outermost works too
    @app.function()
    def score(): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

ATTRIBUTE = "__catchment_asset_spec__"

F = TypeVar("F")

_REGISTRY: dict[tuple[str, str], AssetSpecData] = {}
"""Specs of plain functions by (module, qualname): a modal Function keeps no attributes of the
function it wraps, so discovery finds specs applied below ``@app.function`` here."""


@dataclass(frozen=True)
class AssetSpecData:
    """What ``@asset_spec`` recorded, unresolved: identities are strings, mappings or TableRefs."""

    key: str | tuple[str, ...] | None = None
    deps: tuple[str, ...] = ()
    reads: tuple[Any, ...] = ()
    writes: Any = None
    group: str | None = None
    owners: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    checks: tuple[Any, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    retry: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields that were set, in the shape of the YAML ``specs:`` entries."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value not in (None, (), {}):
                out[name] = list(value) if isinstance(value, tuple) and name != "key" else value
        return out


def asset_spec(
    key: str | Iterable[str] | None = None,
    *,
    deps: Iterable[str] = (),
    reads: Iterable[Any] = (),
    writes: Any = None,
    group: str | None = None,
    owners: Iterable[str] = (),
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    checks: Iterable[Any] = (),
    metadata: Mapping[str, Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
    retry: Mapping[str, Any] | None = None,
) -> Callable[[F], F]:
    """Mark a Modal function as an asset and declare what it is.

    ``key`` defaults to the function name; ``deps`` are upstream asset keys; ``reads`` and
    ``writes`` are physical identities (``"duckdb:raw.orders"``, a mapping with system /
    location / database / schema / name, or a ``TableRef``); ``checks`` are names or mappings
    (name, severity, description, blocking) of checks the function reports; ``kwargs`` are passed
    to the call; ``retry`` overrides ``max_retries`` / ``delay`` / ``backoff``.
    """
    data = AssetSpecData(
        key=key if key is None or isinstance(key, str) else tuple(key),
        deps=tuple(deps),
        reads=(reads,) if isinstance(reads, str | Mapping) else tuple(reads),
        writes=writes,
        group=group,
        owners=(owners,) if isinstance(owners, str) else tuple(owners),
        tags=dict(tags or {}),
        description=description,
        checks=(checks,) if isinstance(checks, str | Mapping) else tuple(checks),
        metadata=dict(metadata or {}),
        kwargs=dict(kwargs or {}),
        retry=dict(retry) if retry is not None else None,
    )

    def mark(fn: F) -> F:
        setattr(fn, ATTRIBUTE, data)
        module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
        if isinstance(module, str) and isinstance(qualname, str):
            _REGISTRY[(module, qualname)] = data
        return fn

    return mark


def spec_of(obj: Any, module: str, name: str) -> AssetSpecData | None:
    """The spec recorded for the Modal function ``obj`` bound to ``name`` in ``module``."""
    found = getattr(obj, ATTRIBUTE, None)
    if isinstance(found, AssetSpecData):
        return found
    return _REGISTRY.get((module, name))
