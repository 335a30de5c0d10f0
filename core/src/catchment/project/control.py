"""The ``schedules:`` and ``sensors:`` sections of ``catchment.yaml``.

Each entry declares one schedule or sensor, or names a Python module (``module: x.py``)
whose top-level ``schedule(...)`` values and ``@sensor`` functions are taken. A bad cron,
an unknown timezone, an unknown sensor type or a missing setting is a problem naming
``file:line`` and the field; the rest of the project still loads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catchment.errors import CatchmentError, ConfigError
from catchment.schedules import ScheduleDefinition
from catchment.sensors.definition import (
    DEFAULT_INTERVAL,
    DEFAULT_TIMEOUT,
    SENSOR_TYPES,
    DeclaredSensor,
    SensorDefinition,
)

if TYPE_CHECKING:
    from catchment.graph import AssetGraph

_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}

# the settings each built-in sensor type takes (beyond the common ones)
SENSOR_SETTINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # sensor type -> (required settings, optional settings)
    "python": (("function",), ()),
    "files": (("path", "pattern"), ("ready_marker", "lookback_hours")),
    "asset": (("asset",), ("event",)),
}


def parse_duration(value: float | str, what: str) -> float:
    """Seconds from ``30``, ``"30s"``, ``"5m"``, ``"1h"``, ``"250ms"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ValueError(f"{what} {value!r} is not a duration such as 30s, 5m or 1h")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"{what} must be positive")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")


class _ModuleEntry(_Strict):
    module: str = Field(min_length=1, description="a .py path or dotted module")


class _ScheduleEntry(_Strict):
    name: str = Field(pattern=_NAME, description="a unique name")
    cron: str = Field(description="five-field cron, e.g. '0 3 * * *', or @daily")
    timezone: str = Field(default="UTC", description="IANA timezone of the cron")
    select: str | None = Field(default=None, description="a selection expression")
    assets: list[str] = Field(default_factory=list, description="asset keys")
    partitions: Literal["last_window", "all"] = Field(
        default="last_window", description="which partitions of time-partitioned assets run"
    )
    tags: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True
    description: str | None = None


class _SensorEntry(_Strict):
    name: str = Field(pattern=_NAME, description="a unique name")
    type: str = Field(default="python", description=f"one of {', '.join(SENSOR_TYPES)}")
    function: str | None = Field(default=None, description="python: MODULE:FUNCTION")
    select: str | None = Field(default=None, description="a selection expression")
    assets: list[str] = Field(default_factory=list, description="asset keys")
    interval: float | str = Field(default=DEFAULT_INTERVAL, description="e.g. 30s, 5m")
    timeout: float | str = Field(default=DEFAULT_TIMEOUT, description="e.g. 60s")
    tags: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True
    description: str | None = None
    path: str | None = Field(default=None, description="files: folder or fsspec URL")
    pattern: str | None = Field(default=None, description="files: strftime, e.g. %Y/%m/%d/%H")
    ready_marker: str | None = Field(default=None, description="files: e.g. _SUCCESS")
    lookback_hours: float | None = Field(default=None, description="files: late arrivals")
    asset: str | None = Field(default=None, description="asset: the asset to watch")
    event: Literal["materialization", "check_failed"] | None = Field(
        default=None, description="asset: materialization (default) or check_failed"
    )


Report = Callable[[Sequence[str | int], str, str | None], None]


class ControlLoader:
    """Reads both sections of one project file, reporting problems through ``report``."""

    def __init__(
        self,
        data: Mapping[str, Any],
        root: Path,
        where: Callable[[Sequence[str | int]], str],
        report: Report,
        render: Callable[[Any, Sequence[str | int]], Any],
    ):
        self.data = data
        self.root = root
        self.where = where
        self.report = report
        self.render = render

    def _entries(self, key: str) -> list[tuple[tuple[str | int, ...], Any]]:
        raw = self.data.get(key) or []
        if not isinstance(raw, list):
            self.report((key,), f"{key} must be a list", f"e.g. {key}: [{{name: ..., ...}}]")
            return []
        out = []
        for i, entry in enumerate(raw):
            path: tuple[str | int, ...] = (key, i)
            try:
                out.append((path, self.render(entry, path)))
            except ConfigError as exc:
                self.report(path, exc.message, exc.hint)
        return out

    def _invalid(self, exc: ValidationError, path: Sequence[str | int], subject: str) -> None:
        for err in exc.errors(include_input=False, include_url=False, include_context=False):
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc)
            self.report((*path, *loc), f"{subject}{field}: {err['msg']}", None)

    def _module(self, path: Sequence[str | int], entry: Any) -> list[Any] | None:
        if not (isinstance(entry, dict) and "module" in entry):
            return None
        try:
            ref = _ModuleEntry.model_validate(entry).module
        except ValidationError as exc:
            self._invalid(exc, path, "")
            return []
        from catchment.sensors.host import import_module_ref

        try:
            module = import_module_ref(ref, self.root)
        except CatchmentError as exc:
            self.report((*path, "module"), f"module {ref}: {exc.message}", exc.hint)
            return []
        except Exception as exc:
            self.report(
                (*path, "module"),
                f"module {ref} failed to import: {type(exc).__name__}: {exc}",
                "fix the module, or run it with python to see the traceback",
            )
            return []
        return list(vars(module).values())

    def schedules(self) -> list[ScheduleDefinition]:
        """Every schedule the section declares, directly or in modules."""
        out: list[ScheduleDefinition] = []
        for path, entry in self._entries("schedules"):
            found = self._module(path, entry)
            if found is not None:
                out.extend(v for v in found if isinstance(v, ScheduleDefinition))
                continue
            try:
                e = _ScheduleEntry.model_validate(entry)
            except ValidationError as exc:
                self._invalid(exc, path, "schedule: ")
                continue
            definition = ScheduleDefinition(
                name=e.name,
                cron=e.cron,
                timezone=e.timezone,
                selection=e.select,
                asset_keys=tuple(e.assets),
                partitions=e.partitions,
                tags=e.tags,
                enabled=e.enabled,
                description=e.description,
                source=self.where(path),
            )
            try:
                definition.cron_schedule()
            except ConfigError as exc:
                field = "timezone" if "timezone" in exc.message else "cron"
                self.report((*path, field), exc.message, exc.hint)
                continue
            out.append(definition)
        return self._unique(out, "schedules")

    def sensors(self) -> list[SensorDefinition]:
        """Every sensor the section declares, directly or in modules."""
        out: list[SensorDefinition] = []
        for path, entry in self._entries("sensors"):
            found = self._module(path, entry)
            if found is not None:
                out.extend(v.definition for v in found if isinstance(v, DeclaredSensor))
                continue
            try:
                e = _SensorEntry.model_validate(entry)
            except ValidationError as exc:
                self._invalid(exc, path, "sensor: ")
                continue
            definition = self._sensor(path, e)
            if definition is not None:
                out.append(definition)
        return self._unique(out, "sensors")

    def _sensor(self, path: Sequence[str | int], e: _SensorEntry) -> SensorDefinition | None:
        subject = f"sensor {e.name!r}"
        if e.type not in SENSOR_SETTINGS:
            self.report(
                (*path, "type"),
                f"{subject}: unknown sensor type {e.type!r}",
                f"known sensor types: {', '.join(SENSOR_TYPES)}",
            )
            return None
        required, optional = SENSOR_SETTINGS[e.type]
        values = e.model_dump(exclude_unset=True)
        ok = True
        for name in required:
            if values.get(name) is None:
                takes = ", ".join((*required, *optional))
                self.report(
                    path,
                    f"{subject} ({e.type}): `{name}` is required",
                    f"{e.type} sensors take: {takes}",
                )
                ok = False
        type_fields = {f for r, o in SENSOR_SETTINGS.values() for f in (*r, *o)}
        for name in sorted(type_fields - set(required) - set(optional)):
            if values.get(name) is not None:
                self.report(
                    (*path, name),
                    f"{subject} ({e.type}): `{name}` is not a setting of {e.type} sensors",
                    f"{e.type} sensors take: {', '.join((*required, *optional))}",
                )
                ok = False
        try:
            interval = parse_duration(e.interval, "interval")
            timeout = parse_duration(e.timeout, "timeout")
        except ValueError as exc:
            self.report(path, f"{subject}: {exc}", "write 30s, 5m or 1h")
            ok = False
        if not ok:
            return None
        config = {f: values[f] for f in optional + required if values.get(f) is not None}
        function = config.pop("function", None)
        return SensorDefinition(
            name=e.name,
            type=e.type,  # type: ignore[arg-type]
            function=function,
            interval=interval,
            timeout=timeout,
            selection=e.select,
            asset_keys=tuple(e.assets),
            config=config,
            tags=e.tags,
            enabled=e.enabled,
            description=e.description,
            source=self.where(path),
        )

    def _unique(self, items: list[Any], key: str) -> list[Any]:
        seen: dict[str, Any] = {}
        for item in items:
            if item.name in seen:
                self.report(
                    (key,),
                    f"{key[:-1]} {item.name!r} is declared twice ({seen[item.name].source} and "
                    f"{item.source})",
                    "names are unique in a project; rename one",
                )
                continue
            seen[item.name] = item
        return list(seen.values())


def check_targets(
    graph: AssetGraph, items: Sequence[ScheduleDefinition | SensorDefinition]
) -> list[tuple[str, str, str]]:
    """(where, message, hint) for each schedule or sensor whose target names no asset."""
    from catchment.schedules import selected

    out = []
    for item in items:
        targets = [item.selection] if item.selection else []
        watched = item.config.get("asset") if isinstance(item, SensorDefinition) else None
        try:
            if item.selection or item.asset_keys:
                selected(graph, item.selection, item.asset_keys)
            if watched:
                selected(graph, None, [watched])
        except CatchmentError as exc:
            kind = "schedule" if isinstance(item, ScheduleDefinition) else "sensor"
            what = f" ({', '.join(targets)})" if targets else ""
            out.append(
                (item.source or "", f"{kind} {item.name!r}{what}: {exc.message}", exc.hint or "")
            )
    return out
