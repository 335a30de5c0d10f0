"""The orchestrator's half of one pipes exchange, independent of transport.

A ``PipesSession`` builds the context a remote process receives, turns each message line it
sends into catchment results, and at the end fails every selected asset the process did not
report, with the reason. Transports (a subprocess, spark-submit, a Modal container) only move
bytes: they feed lines in and call :meth:`PipesSession.finish` with how the process ended.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from catchment.context import StepContext
from catchment.keys import AssetKey, CheckKey
from catchment.pipes.lines import Line, Oversized
from catchment.pipes.remote import (
    CONTEXT_ENV,
    DEFAULT_MAX_MESSAGE_BYTES,
    LOG_LEVELS,
    MESSAGES_ENV,
    PROTOCOL_VERSION,
    STDOUT_PREFIX,
    _jsonable,
)
from catchment.results import AssetFailure, CheckResult, MaterializeResult, StepResult

INLINE_CONTEXT_LIMIT = 32 * 1024
"""Contexts larger than this go to a file (environment strings are limited to 128 KiB)."""

_PREVIEW = 120


def _decode(line: bytes) -> Any:
    """msgspec's fast decoder; the standard library's for what only it accepts (NaN)."""
    try:
        return msgspec.json.decode(line)
    except msgspec.DecodeError:
        return json.loads(line)


def _preview(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return repr(text[:_PREVIEW] + ("..." if len(text) > _PREVIEW else ""))


class PipesSession:
    """Context out, messages in, results back, for one remote process of one step.

    ``label`` names the process in errors (e.g. the script path). Protocol errors (malformed
    lines, unknown assets, oversized messages) are logged at once and added to the failure
    reason of every asset left unreported; valid messages around them still count.
    """

    def __init__(
        self,
        context: StepContext,
        *,
        label: str = "remote process",
        extras: Mapping[str, Any] | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ):
        self.context = context
        self.label = label
        self.extras = dict(extras or {})
        self.max_message_bytes = max_message_bytes
        self.asset_keys = frozenset(context.selected_keys)
        self.check_ids = frozenset(context.selected_checks)
        self._by_text = {k.to_string(): k for k in self.asset_keys}
        self.opened = False
        self.closed = False
        self.exception: dict[str, Any] | None = None
        self.reported: dict[AssetKey, MaterializeResult | AssetFailure] = {}
        self.checks_reported: set[str] = set()
        self.errors: list[str] = []
        self._line = 0

    # -- context out ---------------------------------------------------------------------

    def context_payload(self) -> dict[str, Any]:
        """The JSON object the remote reads with ``open_pipes()``."""
        c = self.context
        return {
            "catchment_pipes": PROTOCOL_VERSION,
            "run_id": c.run_id,
            "step_key": c.step_key,
            "asset_keys": sorted(k.to_string() for k in self.asset_keys),
            "checks": sorted(self.check_ids),
            "partition_key": c.partition_key,
            "partition_keys": list(c.partition_keys),
            "attempt": c.attempt,
            "max_message_bytes": self.max_message_bytes,
            "extras": self.extras,
        }

    def env(self, messages_path: Path | None, scratch_dir: Path) -> dict[str, str]:
        """Environment variables for the remote: the context (inline, or a file in
        ``scratch_dir`` when large) and where to write messages (stdout when None)."""
        text = json.dumps(self.context_payload(), default=_jsonable)
        if len(text) > INLINE_CONTEXT_LIMIT:
            path = scratch_dir / "context.json"
            path.write_text(text, encoding="utf-8")
            text = str(path)
        env = {CONTEXT_ENV: text}
        if messages_path is not None:
            env[MESSAGES_ENV] = str(messages_path)
        return env

    # -- messages in ---------------------------------------------------------------------

    def handle_stdout_line(self, line: Line) -> list[StepResult] | None:
        """A stdout line: a prefixed message is handled (returns its results), anything else
        returns None so the transport can treat it as plain output."""
        prefix = STDOUT_PREFIX.encode()
        if isinstance(line, Oversized):
            return self.handle_line(line) if line.head.startswith(prefix) else None
        if not line.startswith(prefix):
            return None
        return self.handle_line(line[len(prefix) :])

    def handle_line(self, line: Line) -> list[StepResult]:
        """One message line; returns the results it means (often none)."""
        self._line += 1
        if isinstance(line, Oversized):
            return self._error(
                f"message of {line.size} bytes is over the limit of {self.max_message_bytes} "
                f"and was dropped (starts {_preview(line.head)}); report summaries, not data"
            )
        if not line.strip():
            return []
        try:
            message = _decode(line)
        except ValueError as e:
            return self._error(f"not valid JSON ({e}): {_preview(line)}")
        if not isinstance(message, dict) or "method" not in message:
            return self._error(f"not a pipes message (no 'method'): {_preview(line)}")
        version = message.get("catchment_pipes")
        if version != PROTOCOL_VERSION:
            return self._error(
                f"protocol version {version!r} is not supported (expected {PROTOCOL_VERSION}); "
                "use the remote module shipped with this catchment version"
            )
        params = message.get("params") or {}
        if not isinstance(params, dict):
            return self._error(f"'params' must be an object: {_preview(line)}")
        method = message["method"]
        handler = getattr(self, f"_on_{method}", None) if isinstance(method, str) else None
        if handler is None:
            return self._error(f"unknown method {method!r}")
        try:
            result: list[StepResult] = handler(params)
        except (KeyError, TypeError, ValueError) as e:
            return self._error(f"invalid {method} message ({type(e).__name__}: {e})")
        return result

    def _error(self, problem: str) -> list[StepResult]:
        text = f"{self.label}: message line {self._line}: {problem}"
        self.errors.append(text)
        self.context.log.error("%s", text)
        return []

    def _asset(self, params: Mapping[str, Any]) -> AssetKey | None:
        raw = params["asset_key"]
        key = self._by_text.get(raw) if isinstance(raw, str) else None
        if key is None:
            key = AssetKey.parse(raw)
        if key not in self.asset_keys:
            known = ", ".join(sorted(k.to_string() for k in self.asset_keys))
            self._error(f"asset {key} is not in this step (the step builds: {known})")
            return None
        return key

    def _on_opened(self, params: Mapping[str, Any]) -> list[StepResult]:
        self.opened = True
        return []

    def _on_log(self, params: Mapping[str, Any]) -> list[StepResult]:
        level = params.get("level", "info")
        log = getattr(self.context.log, level if level in LOG_LEVELS else "info")
        log("%s", str(params["message"]))
        return []

    def _on_materialization(self, params: Mapping[str, Any]) -> list[StepResult]:
        key = self._asset(params)
        if key is None:
            return []
        metadata = params.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise TypeError("metadata must be an object")
        version = params.get("data_version")
        if key in self.reported:
            self._error(f"asset {key} was reported twice; the first report counts")
            return []
        result = MaterializeResult(
            key=key, metadata=metadata, data_version=None if version is None else str(version)
        )
        self.reported[key] = result
        return [result]

    def _on_failure(self, params: Mapping[str, Any]) -> list[StepResult]:
        key = self._asset(params)
        if key is None:
            return []
        if key in self.reported:
            self._error(f"asset {key} was reported twice; the first report counts")
            return []
        failure = AssetFailure(key=key, message=str(params["message"]), where=self.label)
        self.reported[key] = failure
        return [failure]

    def _on_check(self, params: Mapping[str, Any]) -> list[StepResult]:
        key = self._asset(params)
        if key is None:
            return []
        raw = params.get("check_name")
        if raw is None or raw == "":
            # unlike a CheckResult in Python, a message names its check: the step's own
            # inference cannot see the session's bookkeeping of what was reported
            return self._error(self._nameless(key))
        name = str(raw)
        check_id = CheckKey(key, name).to_string()
        if check_id not in self.check_ids:
            known = ", ".join(sorted(self.check_ids)) or "none"
            self._error(
                f"check {check_id} is not selected in this step (selected checks: {known}); "
                "declare it on the asset"
            )
            return []
        if check_id in self.checks_reported:
            self._error(f"check {check_id} was reported twice; the first report counts")
            return []
        metadata = params.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise TypeError("metadata must be an object")
        severity = params.get("severity") or self.context.check_spec(check_id).severity
        if severity not in ("error", "warn"):
            raise ValueError(f"severity must be 'error' or 'warn', got {severity!r}")
        self.checks_reported.add(check_id)
        return [
            CheckResult(
                asset_key=key,
                check_name=name,
                passed=bool(params["passed"]),
                severity=severity,
                description=params.get("description"),
                metadata=metadata,
            )
        ]

    def _nameless(self, key: AssetKey) -> str:
        """Why a check message without ``check_name`` is refused, with the names to use."""
        names = sorted(c.name for c in map(CheckKey.parse, self.check_ids) if c.asset == key)
        example = names[0] if names else "row_count"
        return (
            f"check message on asset {key} has no check_name, so it cannot tell which check "
            f"it reports (this step's checks on {key}: {', '.join(names) or 'none'}); "
            f"name it, e.g. report_check({example!r}, passed, asset_key={str(key)!r})"
        )

    def _on_closed(self, params: Mapping[str, Any]) -> list[StepResult]:
        self.closed = True
        exc = params.get("exception")
        self.exception = exc if isinstance(exc, dict) else None
        return []

    # -- the end -------------------------------------------------------------------------

    def finish(
        self,
        returncode: int | None,
        *,
        reason: str | None = None,
        output: str | None = None,
        error: str | None = None,
    ) -> list[StepResult]:
        """Results for what the process left unreported, given how it ended: ``returncode``
        (None if unknown, negative for a signal), ``reason`` (e.g. a timeout) overrides the
        explanation, ``output`` (the tail of stderr) goes with every failure, ``error`` (the
        last exception line the process printed) is added to the reason."""
        why = reason or self._why(returncode)
        if error and not self.exception:
            why = f"{why}: {error}"
        elif not self.opened:
            why = f"{why} (did it call open_pipes()? see its output)"
        if self.errors:
            shown = "; ".join(self.errors[:5])
            more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
            why = f"{why}; protocol errors: {shown}{more}"
        detail = output or ""
        if self.exception and self.exception.get("traceback"):
            detail = f"{self.exception['traceback']}\n{detail}".strip()
        results: list[StepResult] = []
        missing = sorted(k for k in self.asset_keys if k not in self.reported)
        for key in missing:
            results.append(
                AssetFailure(
                    key=key,
                    message=why,
                    error_class=(self.exception or {}).get("type") or "PipesError",
                    where=self.label,
                    output=detail or None,
                )
            )
        if not missing and returncode not in (0, None):
            self.context.log.warning(
                "%s", f"{self.label} exited with code {returncode} after reporting every asset"
            )
        for check_id in sorted(self.check_ids - self.checks_reported):
            key, name = CheckKey.parse(check_id)
            if not isinstance(self.reported.get(key), MaterializeResult):
                continue  # the asset failed: its checks are not evaluated
            results.append(
                CheckResult(
                    asset_key=key,
                    check_name=name,
                    passed=False,
                    severity=self.context.check_spec(check_id).severity,
                    description=f"{self.label} did not report this check ({why})",
                )
            )
        return results

    def _why(self, returncode: int | None) -> str:
        exited = _exit_text(returncode)
        if not self.opened:
            return f"{self.label} {exited} before opening the catchment pipes channel"
        if self.exception:
            return (
                f"{self.label} raised {self.exception.get('type')}: {self.exception.get('message')}"
            )
        if returncode not in (0, None):
            return f"{self.label} {exited}"
        if not self.closed:
            return f"{self.label} {exited} without closing the pipes channel"
        return f"{self.label} finished without reporting this asset"


def _exit_text(returncode: int | None) -> str:
    if returncode is None:
        return "ended"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with code {returncode}"
