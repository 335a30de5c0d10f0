"""Run one Modal function for one asset, locally or on Modal, and turn what it reports into results.

Both modes speak the external-compute protocol (catchment pipes): the function may call
``open_pipes()`` and report its materialization and checks. ``local`` calls ``fn.local()`` in
this process with the pipes context in the environment and reads the messages file afterwards.
``remote`` calls the deployed function (``modal.Function.from_name``) with the context in its
container environment (``with_options(env=...)``); the remote writes messages to stdout, which
come back through the call's logs. A function that never opens pipes is judged by its return
value: a dict is the materialization's metadata, None an empty one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec
from catchment.context import StepContext
from catchment.errors import ExecutionError
from catchment.keys import AssetKey
from catchment.pipes import (
    CONTEXT_ENV,
    INLINE_CONTEXT_LIMIT,
    STDOUT_PREFIX,
    LineSplitter,
    PipesSession,
)
from catchment.results import AssetFailure, MaterializeResult, StepResult

Mode = Literal["local", "remote"]

_ENV_LOCK = threading.Lock()
"""``local`` mode sets process environment variables for the call: one call at a time."""

_TOKEN_HINT = (
    "set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET in the environment (or run `modal token new`), "
    "or use mode: local to run the function in this process"
)


@dataclass(frozen=True)
class Invocation:
    """How to call one function for its asset: which, where, with what."""

    function_name: str
    function: Any
    key: AssetKey
    where: str
    mode: Mode = "local"
    app_name: str | None = None
    environment: str | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    extras: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    log_wait: float = 10.0

    @property
    def label(self) -> str:
        return f"modal function {self.function_name}"


def run_function(context: StepContext, inv: Invocation) -> Iterator[StepResult]:
    """Run ``inv`` for ``context``'s selected asset and yield its results (one per asset and
    selected check); the function's exception becomes the asset's failure."""
    if inv.mode == "remote":
        yield from _run_remote(context, inv)
    else:
        yield from _run_local(context, inv)


# -- local ---------------------------------------------------------------------------------


def _run_local(context: StepContext, inv: Invocation) -> Iterator[StepResult]:
    session = PipesSession(context, label=inv.label, extras=inv.extras)
    value: Any = None
    raised: BaseException | None = None
    with tempfile.TemporaryDirectory(prefix="catchment-modal-") as tmp:
        messages = Path(tmp) / "messages.jsonl"
        messages.touch()
        env = session.env(messages, Path(tmp))
        with _ENV_LOCK, _environ(env):
            try:
                value = inv.function.local(**inv.kwargs)
            except Exception as exc:
                raised = exc
        splitter = LineSplitter(session.max_message_bytes)
        data = messages.read_bytes()
        for line in [*splitter.feed(data), *splitter.flush()]:
            yield from session.handle_line(line)
    yield from _conclude(session, inv, value, raised)


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, old in saved.items():
            if old is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = old


# -- remote --------------------------------------------------------------------------------


def has_modal_token() -> bool:
    """True when Modal credentials are configured (environment or ~/.modal.toml profile)."""
    from modal.config import config

    return bool(config.get("token_id") and config.get("token_secret"))


def _run_remote(context: StepContext, inv: Invocation) -> Iterator[StepResult]:
    if not has_modal_token():  # before any network call: nothing can hang
        raise ExecutionError(
            f"cannot run {inv.label} on Modal: no Modal token is configured",
            where=inv.where,
            hint=_TOKEN_HINT,
        )
    if not inv.app_name:
        raise ExecutionError(
            f"cannot run {inv.label} on Modal: the app has no name to look its deployment up by",
            where=inv.where,
            hint='name the app (modal.App("name")) or set app_name: in the component',
        )
    fn = _lookup(inv)
    session = PipesSession(context, label=inv.label, extras=inv.extras)
    payload = json.dumps(session.context_payload(), default=str)
    if len(payload) > INLINE_CONTEXT_LIMIT:
        raise ExecutionError(
            f"the pipes context for {inv.label} is {len(payload)} bytes, over "
            f"{INLINE_CONTEXT_LIMIT} (a container environment variable cannot carry it)",
            where=inv.where,
            hint="pass less in extras",
        )
    value: Any = None
    raised: BaseException | None = None
    try:
        call = fn.with_options(env={CONTEXT_ENV: payload}).spawn(**inv.kwargs)
    except Exception as exc:
        raise ExecutionError(
            f"Modal did not accept the call of {inv.label}: {type(exc).__name__}: {exc}",
            where=inv.where,
            hint="check the function's arguments (kwargs:) and the deployment",
        ) from exc
    try:
        value = call.get(timeout=inv.timeout)
    except TimeoutError as exc:  # builtin: get() gave up waiting
        raised = exc
        with contextlib.suppress(Exception):
            call.cancel()
    except Exception as exc:  # the function raised (re-raised here), or Modal failed it
        raised = exc
    yield from _remote_messages(session, call, inv.log_wait)
    yield from _conclude(session, inv, value, raised)


def _lookup(inv: Invocation) -> Any:
    """The deployed function, hydrated, or one clear error saying why not."""
    import modal
    from modal import exception as modal_errors

    app = inv.app_name
    env = f" in environment {inv.environment!r}" if inv.environment else ""
    try:
        fn = modal.Function.from_name(str(app), inv.function_name, environment_name=inv.environment)
        fn.hydrate()
    except modal_errors.NotFoundError as exc:
        raise ExecutionError(
            f"Modal has no deployed function {inv.function_name!r} in app {app!r}{env}: {exc}",
            where=inv.where,
            hint="deploy the app first (`modal deploy <app file>`), or check app_name and "
            "environment",
        ) from None
    except modal_errors.AuthError as exc:
        raise ExecutionError(
            f"Modal rejected the credentials: {exc}", where=inv.where, hint=_TOKEN_HINT
        ) from None
    except (modal_errors.ConnectionError, OSError) as exc:
        raise ExecutionError(
            f"cannot reach Modal to look up app {app!r}: {exc}",
            where=inv.where,
            hint="check the network, or use mode: local",
        ) from None
    return fn


def _remote_messages(session: PipesSession, call: Any, wait: float) -> Iterator[StepResult]:
    """Feed the remote's prefixed stdout lines (from the call's logs) to the session, waiting
    up to ``wait`` seconds for the log to show the channel closed."""
    deadline = time.monotonic() + wait
    handled = 0
    while True:
        try:
            text = "".join(
                e.message for e in call.logs.fetch(source="stdout", search_text=STDOUT_PREFIX)
            )
        except Exception as exc:
            session.context.log.warning("%s", f"{session.label}: cannot fetch its logs: {exc}")
            return
        lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
        for raw in lines[handled:]:
            results = session.handle_stdout_line(raw.encode())
            if results:
                yield from results
        handled = len(lines)
        if session.closed or time.monotonic() > deadline:
            return
        time.sleep(1.0)


# -- both ----------------------------------------------------------------------------------


def _conclude(
    session: PipesSession, inv: Invocation, value: Any, raised: BaseException | None
) -> Iterator[StepResult]:
    """What the function left unreported: its return value, or its exception."""
    if raised is not None:
        tb = "".join(traceback.format_exception(raised))[-8000:]
        if session.exception:  # raised inside open_pipes(): the channel carried it
            yield from session.finish(1, output=tb)
        else:
            for result in session.finish(
                1,
                reason=f"{inv.label} raised {type(raised).__name__}",
                error=str(raised) or "(no message)",
                output=tb,
            ):
                if isinstance(result, AssetFailure):
                    result = msgspec.structs.replace(result, error_class=type(raised).__name__)
                yield result
        return
    for key in sorted(session.asset_keys - set(session.reported)):
        result = _returned(key, value)
        session.reported[key] = result
        yield result
    yield from session.finish(0)


def _returned(key: AssetKey, value: Any) -> MaterializeResult:
    """A return value as the materialization: dict -> metadata, None -> none, else a summary."""
    if isinstance(value, MaterializeResult):
        return MaterializeResult(key=key, metadata=value.metadata, data_version=value.data_version)
    if value is None:
        return MaterializeResult(key=key)
    if isinstance(value, Mapping):
        return MaterializeResult(
            key=key, metadata={str(k): _metadata_value(v) for k, v in value.items()}
        )
    text = repr(value)
    return MaterializeResult(
        key=key, metadata={"return_value": text if len(text) <= 200 else text[:197] + "..."}
    )


def _metadata_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.loads(json.dumps(value, default=str))
