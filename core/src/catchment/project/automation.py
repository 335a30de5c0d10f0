"""Automation settings in ``catchment.yaml``, for every component type alike.

A component may say when the daemon materializes its assets, which partitions it keeps
current and how old they may get; ``assets:`` overrides that per asset (a key or a glob such
as ``marts/daily_*``)::

    components:
      - type: dbt
        name: marts
        attributes: {project_dir: dbt}
        automation_condition: "{{ automation_condition.eager() }}"
        freshness: 36h
        assets:
          marts/daily_*:
            automation_condition: "{{ automation_condition.on_cron('0 3 * * *') }}"
            partition_scope: last 3

An asset override wins over what the adapter or the Python code set on the spec, which wins
over the component's setting. The project's ``freshness:`` section gives policies by
selection (a group, tags, or the whole project with ``*``); a later entry overrides an
earlier one, and a policy on the asset itself wins over the section. Every bad value (an
unknown operand, a bad cron string) is a problem naming the file and line.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from catchment.automation.conditions import AutomationCondition
from catchment.automation.expression import parse_condition
from catchment.automation.policy import FreshnessPolicy, as_freshness_policy
from catchment.errors import CatchmentError
from catchment.extra_deps import ExtraDepsFields, parse_extra_deps, with_extra_deps
from catchment.partitions import PartitionScope, as_partition_scope
from catchment.specs import AssetDep
from catchment.tables import TableRef

if TYPE_CHECKING:
    from catchment.definitions import AssetsDefinition
    from catchment.graph import AssetGraph
    from catchment.specs import AssetSpec

__all__ = ["AssetSettings", "Settings", "apply_freshness_rules", "apply_settings"]

Where = Callable[[Sequence[str | int]], str]
"""``file:line`` of a path in the project file."""
Report = Callable[[Sequence[str | int], str, str | None], None]
"""Record a problem at a path: ``(path, message, hint)``."""
Render = Callable[[Any, Sequence[str | int]], Any]

FIELDS = ("automation_condition", "partition_scope", "freshness")

CONDITION_HELP = (
    'when the daemon materializes the assets, e.g. "{{ automation_condition.eager() }}" '
    "or \"{{ automation_condition.on_cron('0 3 * * *') }}\""
)
SCOPE_HELP = "which partitions automation and plan keep current: latest, last N or all"
FRESHNESS_HELP = "how old the data may get: a duration (36h) or {max_lag, cron, timezone}"


class AssetSettings(ExtraDepsFields):
    """The settings YAML may give a component or one of its assets (automation; for an
    asset also extra ``deps`` and ``reads``)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    automation_condition: str | None = Field(default=None, description=CONDITION_HELP)
    partition_scope: str | int | None = Field(default=None, description=SCOPE_HELP)
    freshness: str | int | float | dict[str, Any] | None = Field(
        default=None, description=FRESHNESS_HELP
    )


@dataclass(frozen=True)
class Settings:
    """Parsed settings (None: not set here)."""

    automation: AutomationCondition | None = None
    partition_scope: PartitionScope | None = None
    freshness: FreshnessPolicy | None = None
    deps: tuple[AssetDep, ...] = ()
    reads: tuple[TableRef, ...] = ()

    @property
    def empty(self) -> bool:
        return (
            self.automation is None
            and self.partition_scope is None
            and self.freshness is None
            and not self.deps
            and not self.reads
        )


@dataclass
class ComponentSettings:
    """A component's own settings and its per-asset overrides (pattern -> settings, path)."""

    own: Settings = field(default_factory=Settings)
    assets: list[tuple[str, Settings, tuple[str | int, ...]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.own.empty and not self.assets


def parse_settings(
    raw: AssetSettings,
    path: Sequence[str | int],
    render: Render,
    where: Where,
    report: Report,
    warehouse: Path | None = None,
) -> Settings:
    """Render and parse one settings block; a bad field is reported and left unset."""
    values: dict[str, Any] = {}
    if raw.deps or raw.reads:
        at = (*path, "deps" if raw.deps else "reads")
        try:
            values["deps"], values["reads"] = parse_extra_deps(
                render(raw.deps, at), render(raw.reads, at), warehouse or Path(), where(at)
            )
        except CatchmentError as exc:
            report(at, exc.message, exc.hint)
    for name in FIELDS:
        value = getattr(raw, name)
        if value is None:
            continue
        at = (*path, name)
        try:
            rendered = render(value, at)
            if name == "automation_condition":
                values["automation"] = parse_condition(str(rendered), where(at))
            elif name == "partition_scope":
                values["partition_scope"] = as_partition_scope(rendered)
            else:
                values["freshness"] = as_freshness_policy(rendered, where(at))
        except CatchmentError as exc:
            report(at, exc.message, exc.hint)
    return Settings(**values)


def component_settings(
    component: Any,
    path: tuple[str | int, ...],
    render: Render,
    where: Where,
    report: Report,
    warehouse: Path | None = None,
) -> ComponentSettings:
    """The settings of one validated component entry (its own, and under ``assets:``)."""
    # The component's fields were validated with these very types: constructing the block
    # skips building AssetSettings' validator (~5 ms at every load) for nothing new.
    block = AssetSettings.model_construct(**{k: getattr(component, k) for k in FIELDS})
    out = ComponentSettings(own=parse_settings(block, path, render, where, report))
    for pattern, settings in component.assets.items():
        at = (*path, "assets", str(pattern))
        parsed = parse_settings(settings, at, render, where, report, warehouse)
        out.assets.append((str(pattern), parsed, at))
    return out


def apply_settings(
    definitions: Sequence[AssetsDefinition], settings: ComponentSettings, report: Report
) -> list[AssetsDefinition]:
    """``definitions`` with the component's settings on their specs (see the module for
    precedence); an ``assets:`` entry that matches none of them is reported."""
    if settings.empty:
        return list(definitions)
    used: set[str] = set()

    def override(spec: AssetSpec) -> AssetSpec:
        name = spec.key.to_string()
        exact = [s for p, s, _ in settings.assets if p == name]
        globbed = [s for p, s, _ in settings.assets if p != name and fnmatch.fnmatchcase(name, p)]
        for p, _, _ in settings.assets:
            if p == name or fnmatch.fnmatchcase(name, p):
                used.add(p)
        changes: dict[str, Any] = {}
        for attr in ("automation", "partition_scope", "freshness"):
            chosen = next(
                (getattr(s, attr) for s in [*exact, *globbed] if getattr(s, attr) is not None),
                None,
            )
            if chosen is None and getattr(spec, attr) is None:
                chosen = getattr(settings.own, attr)
            if chosen is not None:
                changes[attr] = chosen
        spec = spec.replace(**changes) if changes else spec
        for extra in [*exact, *globbed]:
            spec = with_extra_deps(spec, extra.deps, extra.reads)
        return spec

    out = [d.map_specs(override) for d in definitions]
    for pattern, _, at in settings.assets:
        if pattern not in used:
            keys = sorted(s.key.to_string() for d in definitions for s in d.specs)
            shown = ", ".join(keys[:5]) + (", ..." if len(keys) > 5 else "")
            report(
                at,
                f"assets: {pattern!r} matches no asset of this component",
                f"use an asset key or a glob; the component's assets: {shown or 'none'}",
            )
    return out


class FreshnessRule(BaseModel):
    """One entry of the project's ``freshness:`` section."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    select: str = Field(default="*", description="which assets: a selection, e.g. group:marts")
    max_lag: str | int | float | None = Field(default=None, description="e.g. 36h")
    cron: str | None = Field(default=None, description="a deadline, e.g. '0 9 * * *'")
    timezone: str = Field(default="UTC", description="the cron deadline's timezone")


def apply_freshness_rules(
    graph: AssetGraph,
    definitions: Sequence[AssetsDefinition],
    rules: Sequence[tuple[FreshnessRule, tuple[str | int, ...]]],
    where: Where,
    report: Report,
) -> list[AssetsDefinition] | None:
    """``definitions`` with the section's policies on the specs that set none (None when no
    rule applies to any asset, so the graph need not be rebuilt)."""
    chosen: dict[str, FreshnessPolicy] = {}
    for rule, at in rules:
        try:
            policy = as_freshness_policy(
                {"max_lag": rule.max_lag, "cron": rule.cron, "timezone": rule.timezone},
                where(at),
            )
            selected = graph.select(rule.select)
        except CatchmentError as exc:
            report(at, exc.message, exc.hint)
            continue
        assert policy is not None
        for key in selected:
            if graph.specs[key].freshness is None and not graph.is_external(key):
                chosen[key.to_string()] = policy
    if not chosen:
        return None

    def with_policy(spec: AssetSpec) -> AssetSpec:
        policy = chosen.get(spec.key.to_string())
        return spec.replace(freshness=policy) if policy is not None else spec

    return [d.map_specs(with_policy) for d in definitions]
