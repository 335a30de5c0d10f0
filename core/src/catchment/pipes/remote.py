"""The remote side of catchment pipes: report materializations, checks and logs from any process.

Standard library only, one file: it runs in a Spark driver, a container or a plain subprocess
where catchment may not be installed. Import it as ``catchment.pipes.remote``, or copy this file
next to your script (e.g. as ``catchment_pipes.py``; spark-submit ships it with ``--py-files``)::

    from catchment_pipes import open_pipes

    with open_pipes() as pipes:
        pipes.log.info(f"building {pipes.asset_keys}")
        pipes.report_materialization("sales/daily", metadata={"rows": 42})
        pipes.report_check("not_empty", passed=True, asset_key="sales/daily")

The orchestrator passes the context in ``CATCHMENT_PIPES_CONTEXT`` (JSON, or a path to a JSON
file) and reads JSON-lines messages from the file named by ``CATCHMENT_PIPES_MESSAGES`` (or from
stdout, each line prefixed by ``__catchment_pipes__``, when that variable is unset). Every
message is ``{"catchment_pipes": 1, "method": ..., "params": {...}}``; see docs/reference/pipes.md.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import os
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import PurePath
from typing import IO, Any

PROTOCOL_VERSION = 1
CONTEXT_ENV = "CATCHMENT_PIPES_CONTEXT"
MESSAGES_ENV = "CATCHMENT_PIPES_MESSAGES"
STDOUT_PREFIX = "__catchment_pipes__ "
DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
LOG_LEVELS = ("debug", "info", "warning", "error")

__all__ = [
    "CONTEXT_ENV",
    "MESSAGES_ENV",
    "PROTOCOL_VERSION",
    "PipesContext",
    "PipesError",
    "is_pipes_process",
    "open_pipes",
]


class PipesError(RuntimeError):
    """The pipes channel cannot be opened or a report is invalid (the message says what to do)."""


def is_pipes_process() -> bool:
    """True when this process was started by catchment with a pipes context."""
    return CONTEXT_ENV in os.environ


def _jsonable(value: Any) -> Any:
    """Turn common non-JSON values (paths, dates, decimals, numpy scalars) into JSON ones."""
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    item = getattr(value, "item", None)  # numpy / pandas scalars
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    return str(value)


def _load_context(raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if raw is None:
        raw = os.environ.get(CONTEXT_ENV)
    if raw is None:
        raise PipesError(
            f"{CONTEXT_ENV} is not set: this process was not started by catchment pipes "
            "(run it through catchment, or pass open_pipes(context={...}) to try it by hand)"
        )
    if isinstance(raw, Mapping):
        data: Any = dict(raw)
    else:
        text = raw.strip()
        if not text.startswith("{"):
            try:
                with open(text, encoding="utf-8") as f:
                    text = f.read()
            except OSError as e:
                raise PipesError(f"{CONTEXT_ENV}: cannot read context file {text!r}: {e}") from e
        try:
            data = json.loads(text)
        except ValueError as e:
            raise PipesError(f"{CONTEXT_ENV}: context is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise PipesError(f"{CONTEXT_ENV}: context must be a JSON object")
    version = data.get("catchment_pipes")
    if version != PROTOCOL_VERSION:
        raise PipesError(
            f"{CONTEXT_ENV}: protocol version {version!r} is not supported by this remote "
            f"(speaks {PROTOCOL_VERSION}); use the catchment_pipes file of the orchestrator's "
            "catchment version"
        )
    return data


class _Writer:
    """Writes one JSON line per message, flushed at once so the orchestrator streams it."""

    def __init__(self, target: str | IO[str] | None, max_bytes: int):
        self._lock = threading.Lock()
        self._max_bytes = max_bytes
        self._prefix = ""
        self._owned = False
        if target is None:
            target = os.environ.get(MESSAGES_ENV) or None
        if target is None:
            self._stream: IO[str] = sys.stdout
            self._prefix = STDOUT_PREFIX
        elif isinstance(target, str):
            self._stream = open(target, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
            self._owned = True
        else:
            self._stream = target

    def write(self, method: str, params: Mapping[str, Any]) -> None:
        line = json.dumps(
            {"catchment_pipes": PROTOCOL_VERSION, "method": method, "params": params},
            default=_jsonable,
            separators=(",", ":"),
            allow_nan=True,
        )
        size = len(line.encode("utf-8"))
        if size > self._max_bytes:
            raise PipesError(
                f"{method} message is {size} bytes, over the limit of {self._max_bytes}: "
                "report less metadata (summaries, not data)"
            )
        with self._lock:
            self._stream.write(self._prefix + line + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._owned:
            self._stream.close()


class _Log:
    """``pipes.log.info("...")``: log lines that become ``log`` events of the run."""

    def __init__(self, writer: _Writer):
        self._writer = writer

    def __call__(self, message: str, level: str = "info") -> None:
        if level not in LOG_LEVELS:
            raise PipesError(f"log level {level!r} is not one of {', '.join(LOG_LEVELS)}")
        self._writer.write("log", {"level": level, "message": str(message)})

    def debug(self, message: str) -> None:
        self(message, "debug")

    def info(self, message: str) -> None:
        self(message, "info")

    def warning(self, message: str) -> None:
        self(message, "warning")

    def error(self, message: str) -> None:
        self(message, "error")


class PipesContext:
    """What the orchestrator asked this process to build, and how to report back."""

    def __init__(self, data: Mapping[str, Any], writer: _Writer):
        self._data = dict(data)
        self._writer = writer
        self.log = _Log(writer)
        self.closed = False

    @property
    def run_id(self) -> str:
        return str(self._data.get("run_id", ""))

    @property
    def step_key(self) -> str:
        return str(self._data.get("step_key", ""))

    @property
    def asset_keys(self) -> list[str]:
        """The asset keys (``a/b`` strings) this process must report on."""
        return list(self._data.get("asset_keys", []))

    @property
    def asset_key(self) -> str:
        """The only asset key of the step (an error when there are several)."""
        keys = self.asset_keys
        if len(keys) != 1:
            raise PipesError(f"this step has {len(keys)} assets {keys}: pass asset_key= explicitly")
        return keys[0]

    @property
    def check_ids(self) -> list[str]:
        """The checks to evaluate, as ``asset/key:check_name``."""
        return list(self._data.get("checks", []))

    @property
    def partition_key(self) -> str | None:
        value = self._data.get("partition_key")
        return None if value is None else str(value)

    @property
    def partition_keys(self) -> list[str]:
        return list(self._data.get("partition_keys", []))

    @property
    def extras(self) -> dict[str, Any]:
        """Free-form values the orchestrator passed (paths, tables, arguments)."""
        return dict(self._data.get("extras", {}))

    def get_extra(self, name: str, default: Any = None) -> Any:
        return self._data.get("extras", {}).get(name, default)

    def _key(self, asset_key: str | Sequence[str] | None) -> str:
        if asset_key is None:
            return self.asset_key
        return asset_key if isinstance(asset_key, str) else "/".join(asset_key)

    def report_materialization(
        self,
        asset_key: str | Sequence[str] | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        data_version: str | None = None,
    ) -> None:
        """Say the asset was written; metadata (rows, paths...) is recorded with it."""
        self._writer.write(
            "materialization",
            {
                "asset_key": self._key(asset_key),
                "metadata": dict(metadata or {}),
                "data_version": data_version,
            },
        )

    def report_check(
        self,
        check_name: str,
        passed: bool,
        *,
        asset_key: str | Sequence[str] | None = None,
        severity: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Report the outcome of a declared check on an asset of this step."""
        self._writer.write(
            "check",
            {
                "asset_key": self._key(asset_key),
                "check_name": check_name,
                "passed": bool(passed),
                "severity": severity,
                "description": description,
                "metadata": dict(metadata or {}),
            },
        )

    def report_failure(self, asset_key: str | Sequence[str] | None, message: str) -> None:
        """Say one asset failed while the others may still succeed."""
        self._writer.write("failure", {"asset_key": self._key(asset_key), "message": message})

    def _open(self) -> None:
        self._writer.write("opened", {"pid": os.getpid(), "python": sys.version.split()[0]})

    def _close(self, exc: BaseException | None) -> None:
        if self.closed:
            return
        params: dict[str, Any] = {}
        if exc is not None:
            params["exception"] = {
                "type": type(exc).__name__,
                "message": str(exc),
                "traceback": "".join(traceback.format_exception(exc))[-8000:],
            }
        self._writer.write("closed", params)
        self.closed = True
        self._writer.close()


@contextmanager
def open_pipes(
    context: str | Mapping[str, Any] | None = None,
    messages: str | IO[str] | None = None,
) -> Iterator[PipesContext]:
    """Open the channel to the orchestrator: read the context, send ``opened``, and ``closed``
    (with the exception, if the block raised) on exit. Arguments override the env variables."""
    data = _load_context(context)
    max_bytes = int(data.get("max_message_bytes") or DEFAULT_MAX_MESSAGE_BYTES)
    pipes = PipesContext(data, _Writer(messages, max_bytes))
    pipes._open()
    try:
        yield pipes
    except BaseException as exc:
        pipes._close(exc)
        raise
    else:
        pipes._close(None)
