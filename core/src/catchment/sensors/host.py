"""The process a sensor runs in: ``python -m catchment.sensors.host`` reads one JSON job on
stdin (the function to call and its context), calls it, and prints the result as one marked
JSON line on stdout. The daemon kills the whole process group past the sensor's timeout, so
user code that hangs, exits or crashes never touches the daemon.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec

RESULT_MARK = "CATCHMENT_SENSOR_RESULT "
ERROR_MARK = "CATCHMENT_SENSOR_ERROR "


class SensorJob(msgspec.Struct, kw_only=True):
    """What the host is asked to run."""

    function: str
    context: dict[str, Any]
    project_root: str


def import_module_ref(module_ref: str, root: Path) -> ModuleType:
    """Import ``path/to/file.py`` (relative to ``root``) or ``dotted.module`` (importable
    from ``root``)."""
    if module_ref.endswith(".py") or "/" in module_ref:
        path = Path(module_ref)
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            raise FileNotFoundError(f"module {path} does not exist")
        name = f"catchment_module_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(module_ref)


def load_function(ref: str, root: Path) -> Any:
    """The object ``ref`` names: ``path/to/file.py:name`` or ``dotted.module:name``."""
    module_ref, sep, attr = ref.rpartition(":")
    if not sep or not module_ref or not attr:
        raise ValueError(f"{ref!r} is not MODULE:FUNCTION")
    module = import_module_ref(module_ref, root)
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise AttributeError(f"{module_ref} has no {attr!r}") from None
    return getattr(obj, "fn", obj)  # a @sensor keeps its function in .fn


def _origin(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def run_job(job: SensorJob) -> dict[str, Any]:
    """Call the job's function and return its result as plain data."""
    from catchment.sensors.definition import SensorContext, coerce_result

    root = Path(job.project_root)
    fn = load_function(job.function, root)
    context = msgspec.convert(job.context, SensorContext)
    result = coerce_result(fn(context), f"sensor {context.sensor_name}")
    data: dict[str, Any] = msgspec.to_builtins(result)
    return data


def main() -> None:
    """Read the job from stdin, print the marked result (or error) line, exit 0 (or 1)."""
    raw = sys.stdin.buffer.read()
    try:
        job = msgspec.json.decode(raw, type=SensorJob)
        data = run_job(job)
    except BaseException as exc:  # the sensor's failure is the tick's, reported as data
        if isinstance(exc, KeyboardInterrupt):
            raise
        message = str(exc) if str(exc) else type(exc).__name__
        from catchment.errors import CatchmentError

        if not isinstance(exc, CatchmentError):
            message = f"{type(exc).__name__}: {message}"
        payload = {"error": message, "where": _origin(exc)}
        sys.stdout.write("\n" + ERROR_MARK + json.dumps(payload) + "\n")
        sys.stdout.flush()
        sys.exit(1)
    sys.stdout.write("\n" + RESULT_MARK + json.dumps(data) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
