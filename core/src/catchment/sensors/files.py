"""The built-in ``files`` sensor: new partition folders or files under a path become runs of
the matching partitions.

``pattern`` is a ``strftime`` pattern of the path below ``path`` (``%Y/%m/%d/%H`` for hourly
folders such as ``2025/08/01/03``); the time it names is the start of the partition window,
formatted with the target's partition key format. ``path`` is a local folder or, through
fsspec, an object store prefix (``s3://bucket/landing``). With ``ready_marker`` a folder
counts only once that file is in it. The cursor remembers the keys seen within
``lookback_hours`` of the newest, so a folder that lands late is still picked up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from catchment.errors import ConfigError
from catchment.runs.request import RunRequest
from catchment.sensors.definition import SensorContext, SensorResult

DEFAULT_LOOKBACK_HOURS = 24.0


def _entries(path: str, depth: int, root: Path) -> Iterator[tuple[str, bool, Any]]:
    """(relative path, is a folder, handle) of every entry ``depth`` levels below ``path``."""
    if "://" in path and not path.startswith("file://"):
        try:
            import fsspec  # type: ignore[import-untyped]
        except ImportError:
            raise ConfigError(
                f"the files sensor needs fsspec to watch {path}",
                hint="pip install fsspec and the filesystem's package (s3fs, gcsfs, adlfs)",
            ) from None
        fs, base = fsspec.core.url_to_fs(path)
        base = base.rstrip("/")
        for found in fs.glob(base + "/" + "/".join(["*"] * depth), detail=True).values():
            name = str(found["name"]).rstrip("/")
            yield name[len(base) + 1 :], found.get("type") == "directory", (fs, name)
        return
    local = Path(path.removeprefix("file://")).expanduser()
    local = local if local.is_absolute() else root / local
    if not local.is_dir():
        raise ConfigError(
            f"the watched folder {local} does not exist",
            hint="create it, or fix `path` in the sensor's settings",
        )
    for found in local.glob("/".join(["*"] * depth)):
        yield found.relative_to(local).as_posix(), found.is_dir(), found


def _ready(handle: Any, is_dir: bool, marker: str | None) -> bool:
    if not marker or not is_dir:
        return True
    if isinstance(handle, Path):
        return (handle / marker).exists()
    fs, name = handle
    return bool(fs.exists(f"{name}/{marker}"))


def files_sensor(context: SensorContext) -> SensorResult:
    """List the entries matching ``pattern`` and request a run for each new one."""
    config = context.config
    path = config.get("path")
    pattern = config.get("pattern")
    if not isinstance(path, str) or not isinstance(pattern, str):
        raise ConfigError("the files sensor needs `path` and `pattern`")
    key_format = config.get("partition_format")
    lookback = timedelta(hours=float(config.get("lookback_hours", DEFAULT_LOOKBACK_HOURS)))
    state = json.loads(context.cursor) if context.cursor else {}
    seen: set[str] = set(state.get("seen", []))
    newest = datetime.fromisoformat(state["newest"]) if state.get("newest") else None
    depth = pattern.strip("/").count("/") + 1
    found: dict[str, datetime] = {}
    for rel, is_dir, handle in _entries(path, depth, Path(context.project_root)):
        try:
            moment = datetime.strptime(rel, pattern.strip("/"))
        except ValueError:
            continue  # not a partition entry (a stray file, a temp folder)
        if _ready(handle, is_dir, config.get("ready_marker")):
            found[rel] = moment
    # The first tick (no cursor) requests the entries within the lookback of the newest one,
    # not a year of history.
    reference = newest if newest is not None else max(found.values(), default=None)
    horizon = reference - lookback if reference is not None else None
    fresh = sorted(
        (m, rel)
        for rel, m in found.items()
        if rel not in seen and (horizon is None or m >= horizon)
    )
    requests = []
    for moment, rel in fresh:
        key = moment.strftime(key_format) if key_format else None
        requests.append(
            RunRequest(
                partition_keys=(key,) if key else (),
                run_key=key or rel,
                tags={"sensor_path": rel},
                reason=f"new {'partition ' + key if key else 'entry'} at {rel}",
                origin=f"sensor:{context.sensor_name}",
            )
        )
    all_times = [*found.values(), *([newest] if newest else [])]
    latest = max(all_times) if all_times else None
    keep_after = latest - lookback if latest is not None else None
    kept = sorted(rel for rel, m in found.items() if keep_after is None or m >= keep_after)
    cursor = json.dumps({"newest": latest.isoformat() if latest else None, "seen": kept})
    skip = None if requests else f"no new entries matching {pattern} under {path}"
    return SensorResult(run_requests=requests, cursor=cursor, skip_reason=skip)
