"""What a sensor is (``SensorDefinition``), what it receives (``SensorContext``) and what it
returns (``SensorResult``), and the ``@sensor`` decorator."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import msgspec

from catchment.errors import ConfigError
from catchment.runs.request import RunRequest

SensorType = Literal["python", "files", "asset"]
SENSOR_TYPES: tuple[str, ...] = ("python", "files", "asset")

DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 60.0


class SensorDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """A sensor: its name and type, how often and how long it may run, what it targets.

    ``function`` (``module.py:name`` or ``package.module:name``) is the code a ``python``
    sensor runs; ``config`` holds a built-in type's settings (``files``: path, pattern...;
    ``asset``: asset, on). ``selection`` / ``asset_keys`` are the default target of the run
    requests (a request that names no assets runs them). ``source`` is where it was declared.
    """

    name: str
    type: SensorType = "python"
    function: str | None = None
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    selection: str | None = None
    asset_keys: tuple[str, ...] = ()
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    enabled: bool = True
    description: str | None = None
    source: str | None = None

    @property
    def target(self) -> str:
        """What the sensor runs, for listings."""
        parts = [*self.asset_keys, *([self.selection] if self.selection else [])]
        return ", ".join(parts) or "(what its requests name)"


class SensorContext(msgspec.Struct, kw_only=True):
    """What a sensor function receives: its cursor (None on the first tick), the time of the
    tick, its name and settings, and the project folder."""

    sensor_name: str
    cursor: str | None = None
    now: float = 0.0
    last_tick_at: float | None = None
    project_root: str = "."
    config: dict[str, Any] = msgspec.field(default_factory=dict)


class SensorResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What a sensor answers: runs to request, the cursor to keep (None keeps the old one),
    new keys of dynamic partition sets (set name -> keys), and why it requested nothing."""

    run_requests: list[RunRequest] = msgspec.field(default_factory=list)
    cursor: str | None = None
    dynamic_partitions: dict[str, list[str]] = msgspec.field(default_factory=dict)
    skip_reason: str | None = None


def coerce_result(value: Any, what: str) -> SensorResult:
    """A sensor's return value as a ``SensorResult``: a result, a run request, a list of run
    requests, or None; anything else is a ``ConfigError`` naming what it got."""
    if value is None:
        return SensorResult()
    if isinstance(value, SensorResult):
        return value
    if isinstance(value, RunRequest):
        return SensorResult(run_requests=[value])
    if isinstance(value, list | tuple) and all(isinstance(v, RunRequest) for v in value):
        return SensorResult(run_requests=list(value))
    raise ConfigError(
        f"{what} returned {type(value).__name__}, expected a SensorResult, a RunRequest, a "
        "list of RunRequest or None",
        hint="return SensorResult(run_requests=[RunRequest(...)], cursor=...)",
    )


class DeclaredSensor:
    """What ``@sensor`` returns: still callable as the function, with its ``definition``."""

    def __init__(self, definition: SensorDefinition, fn: Callable[[SensorContext], Any]):
        self.definition = definition
        self.fn = fn

    def __call__(self, context: SensorContext) -> Any:
        return self.fn(context)

    def __repr__(self) -> str:
        return f"<sensor {self.definition.name}>"


def sensor(
    fn: Callable[[SensorContext], Any] | None = None,
    *,
    name: str | None = None,
    select: str | None = None,
    asset_keys: Iterable[str] = (),
    interval: float = DEFAULT_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
) -> Any:
    """Declare a Python function as a sensor. It takes a ``SensorContext`` and returns a
    ``SensorResult`` (or run requests, or None). The daemon runs it every ``interval``
    seconds in a subprocess that may take at most ``timeout`` seconds."""

    def decorate(func: Callable[[SensorContext], Any]) -> DeclaredSensor:
        if interval <= 0 or timeout <= 0:
            raise ConfigError(
                f"sensor {name or func.__name__}: interval and timeout must be positive"
            )
        code = getattr(func, "__code__", None)
        module = inspect.getmodule(func)
        file = getattr(module, "__file__", None)
        ref = f"{file}:{func.__name__}" if file else f"{func.__module__}:{func.__name__}"
        definition = SensorDefinition(
            name=name or func.__name__,
            type="python",
            function=ref,
            interval=float(interval),
            timeout=float(timeout),
            selection=select,
            asset_keys=tuple(asset_keys),
            tags=dict(tags or {}),
            description=description or inspect.getdoc(func),
            source=f"{code.co_filename}:{code.co_firstlineno}" if code else None,
        )
        return DeclaredSensor(definition, func)

    return decorate(fn) if fn is not None else decorate
